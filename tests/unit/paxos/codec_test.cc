// Hostile and corrupt inputs to the Paxos log codecs (spanserver/paxos/codec.h). The round trips
// are in tests/unit/replication/group_log_storage_test.cc; tests/fuzz/paxos_codec_fuzz.cc fuzzes
// the same decoders.
#include "spanserver/paxos/codec.h"

#include <gtest/gtest.h>

#include <string>

namespace meridian::paxos {
namespace {

// A member count whose byte size wraps in 32 bits (0x20000003 * 8 = 0x1'0000'0018) once passed
// the length check with 24 bytes and made the decoder allocate 4 GiB (found by fuzz_paxos_codec;
// tests/fuzz/corpus/paxos_codec/regression-config-count-wraps).
TEST(CodecTest, AHugeCountIsDataLossNotAnAllocation) {
  const std::string count("\x03\x00\x00\x20", 4);
  const std::string ids(24, '\x01');
  EXPECT_EQ(DecodeConfig(count + ids).status().code(), absl::StatusCode::kDataLoss);

  std::string hs = EncodeHardState(HardState{Ballot{1, 1}, {}, {}, 0});
  hs.resize(1 + 16 + 8);  // version, promised, config_index: then the voters' count
  EXPECT_EQ(DecodeHardState(hs + count + ids).status().code(), absl::StatusCode::kDataLoss);
}

TEST(CodecTest, ACountThatFitsTheBytesStillDecodes) {
  const Config config{{1, 2, 3}, {}};
  auto decoded = DecodeConfig(EncodeConfig(config));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, config);
}

}  // namespace
}  // namespace meridian::paxos
