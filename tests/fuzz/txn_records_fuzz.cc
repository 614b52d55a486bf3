// Fuzz harness: the transaction layer's durable records — the log records (txn/records.h), the
// transaction manager's checkpoint image (txn/checkpoint.h) — and a group's records beside its
// Paxos log (replication/group_records.h: the checkpoint record of replication/snapshot.h and the
// compaction point of replication/group_log_storage.h). The first byte picks the decoder, the
// rest is its input (seeds: fuzz_seed_gen). Properties, for every input:
//  - a decoder returns a value or DATA_LOSS, never crashes, and reads no byte out of bounds;
//  - what decodes re-encodes to bytes that decode to the same value, and re-encoding that is a
//    fixed point (protobuf accepts several encodings of one message, so the first re-encoding
//    may differ from the input; it must be stable from there on);
//  - the fixed-layout group records re-encode to exactly their input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/check.h"
#include "replication/group_log_storage.h"
#include "replication/snapshot.h"
#include "txn/checkpoint.h"
#include "txn/records.h"

namespace meridian {
namespace {

void CheckDataLoss(const absl::Status& s) {
  CHECK_MSG(s.code() == absl::StatusCode::kDataLoss, s.ToString());
}

void FuzzRecord(std::string_view in) {
  absl::StatusOr<txn::Record> record = txn::DecodeRecord(in);
  if (!record.ok()) return CheckDataLoss(record.status());
  txn::RecordToString(*record);
  const std::string bytes = txn::EncodeRecord(*record);
  absl::StatusOr<txn::Record> again = txn::DecodeRecord(bytes);
  CHECK_MSG(again.ok(), again.status().ToString());
  CHECK(*again == *record);
  CHECK(txn::EncodeRecord(*std::move(again)) == bytes);
}

void FuzzTxnCheckpoint(std::string_view in) {
  absl::StatusOr<txn::CheckpointImage> image = txn::DecodeCheckpoint(in);
  if (!image.ok()) return CheckDataLoss(image.status());
  const std::string bytes = txn::EncodeCheckpoint(*image);
  absl::StatusOr<txn::CheckpointImage> again = txn::DecodeCheckpoint(bytes);
  CHECK_MSG(again.ok(), again.status().ToString());
  CHECK(txn::EncodeCheckpoint(*again) == bytes);
}

void FuzzGroupCheckpoint(std::string_view in) {
  paxos::Index index = 0;
  std::string image;
  absl::Status s = replication::DecodeCheckpoint(in, &index, &image);
  if (!s.ok()) return CheckDataLoss(s);
  CHECK(replication::EncodeCheckpoint(index, image) == in);
}

void FuzzCompaction(std::string_view in) {
  absl::StatusOr<paxos::Index> upto = replication::DecodeLegacyCompaction(in);
  if (!upto.ok()) return CheckDataLoss(upto.status());
  CHECK(replication::EncodeLegacyCompaction(*upto) == in);
}

}  // namespace
}  // namespace meridian

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      meridian::FuzzRecord(in);
      break;
    case 1:
      meridian::FuzzTxnCheckpoint(in);
      break;
    case 2:
      meridian::FuzzGroupCheckpoint(in);
      break;
    case 3:
      meridian::FuzzCompaction(in);
      break;
  }
  return 0;
}
