// Fuzz harness: the Paxos log's byte codecs (spanserver/paxos/codec.h: entry, hard state,
// configuration; replica_marker.h: the replica marker). The first byte picks the decoder, the rest
// is its input (seeds: fuzz_seed_gen). Properties, for every input:
//  - a decoder returns a value or DATA_LOSS, and never crashes or reads out of bounds;
//  - what decodes re-encodes to a value that decodes to the same thing (decode(encode(x)) == x),
//    and the re-encoding is a fixed point (encode(decode(encode(x))) == encode(x));
//  - these formats have one encoding per value, so encode(decode(b)) == b, except a version-1
//    hard state, which re-encodes as version 2.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/check.h"
#include "spanserver/paxos/codec.h"
#include "spanserver/paxos/replica_marker.h"

namespace meridian::paxos {
namespace {

constexpr Index kSlot = 42;
constexpr GroupId kGroup = 7;

template <typename T>
void CheckFailure(const absl::StatusOr<T>& decoded) {
  CHECK_MSG(decoded.status().code() == absl::StatusCode::kDataLoss, decoded.status().ToString());
}

void FuzzEntry(std::string_view in) {
  absl::StatusOr<Entry> e = DecodeEntry(kSlot, in);
  if (!e.ok()) return CheckFailure(e);
  CHECK(e->index == kSlot);
  const std::string bytes = EncodeEntry(*e);
  CHECK(bytes == in);
  absl::StatusOr<Entry> again = DecodeEntry(kSlot, bytes);
  CHECK(again.ok() && *again == *e);
}

void FuzzHardState(std::string_view in) {
  absl::StatusOr<HardState> hs = DecodeHardState(in);
  if (!hs.ok()) return CheckFailure(hs);
  const std::string bytes = EncodeHardState(*hs);
  CHECK(bytes == in || (!in.empty() && in[0] == 1));
  absl::StatusOr<HardState> again = DecodeHardState(bytes);
  CHECK(again.ok() && *again == *hs);
  CHECK(EncodeHardState(*again) == bytes);
}

void FuzzConfig(std::string_view in) {
  absl::StatusOr<Config> config = DecodeConfig(in);
  if (!config.ok()) return CheckFailure(config);
  const std::string bytes = EncodeConfig(*config);
  CHECK(bytes == in);
  absl::StatusOr<Config> again = DecodeConfig(bytes);
  CHECK(again.ok() && *again == *config);
}

void FuzzMarker(std::string_view in) {
  absl::StatusOr<ReplicaMarker> marker = DecodeReplicaMarker(kGroup, in);
  if (!marker.ok()) return CheckFailure(marker);
  CHECK(marker->group == kGroup);
  const std::string bytes = EncodeReplicaMarker(*marker);
  CHECK(bytes == in);
  absl::StatusOr<ReplicaMarker> again = DecodeReplicaMarker(kGroup, bytes);
  CHECK(again.ok() && *again == *marker);
}

}  // namespace
}  // namespace meridian::paxos

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      meridian::paxos::FuzzEntry(in);
      break;
    case 1:
      meridian::paxos::FuzzHardState(in);
      break;
    case 2:
      meridian::paxos::FuzzConfig(in);
      break;
    case 3:
      meridian::paxos::FuzzMarker(in);
      break;
  }
  return 0;
}
