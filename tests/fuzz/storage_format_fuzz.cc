// Fuzz harness: the storage format's parsers (spanserver/storage/format.h, over the key encodings
// of common/key_encoding.h) and WriteBatch (spanserver/storage/write_batch.h). The first byte
// picks what the rest is (seeds: fuzz_seed_gen). Properties, for every input:
//  - a parser returns OK or DATA_LOSS (key encodings: INVALID_ARGUMENT) and never crashes or
//    reads out of bounds;
//  - every format has one encoding per value: what parses re-encodes to the same bytes, and
//    parses back to the same value;
//  - WriteBatch, driven by the input as a list of writes, counts every write, its size grows with
//    each, and appending one batch to another adds their writes and bytes (less one header).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/check.h"
#include "common/key_encoding.h"
#include "spanserver/storage/format.h"
#include "spanserver/storage/write_batch.h"

namespace meridian::storage {
namespace {

void CheckDataLoss(const absl::Status& s) {
  CHECK_MSG(s.code() == absl::StatusCode::kDataLoss, s.ToString());
}

void FuzzDataKey(std::string_view in) {
  format::DataKeyParts parts;
  absl::Status s = format::ParseDataKey(in, &parts);
  if (!s.ok()) return CheckDataLoss(s);
  CHECK(format::DataKey(parts.tablet, parts.user_key, parts.ts) == in);
  const std::string prefix = format::UserKeyPrefix(parts.tablet, parts.user_key);
  CHECK(in.substr(0, prefix.size()) == prefix);
  CHECK(in.size() == prefix.size() + format::kTimestampBytes);
}

void FuzzDataValue(std::string_view in) {
  bool tombstone = false;
  std::string_view value;
  absl::Status s = format::ParseDataValue(in, &tombstone, &value);
  if (!s.ok()) return CheckDataLoss(s);
  CHECK((tombstone ? format::TombstoneValue() : format::PutValue(value)) == in);
}

void FuzzLogKey(std::string_view in) {
  uint64_t group = 0, index = 0;
  absl::Status s = format::ParseLogKey(in, &group, &index);
  if (!s.ok()) return CheckDataLoss(s);
  CHECK(format::LogKey(group, index) == in);
  CHECK(in.substr(0, 9) == format::GroupLogPrefix(group));
}

void FuzzTaggedKeys(std::string_view in) {
  uint64_t id = 0;
  absl::Status s = format::ParseHardStateKey(in, &id);
  if (s.ok()) {
    CHECK(format::HardStateKey(id) == in);
  } else {
    CheckDataLoss(s);
  }
  s = format::ParseHorizonKey(in, &id);
  if (s.ok()) {
    CHECK(format::HorizonKey(id) == in);
  } else {
    CheckDataLoss(s);
  }
  truetime::Timestamp horizon = 0;
  s = format::ParseHorizonValue(in, &horizon);
  if (s.ok()) {
    CHECK(format::HorizonValue(horizon) == in);
  } else {
    CheckDataLoss(s);
  }
}

// A key-encoded component list: each input byte past the first picks bytes, uint64, int64 or
// desc_int64 for the next component, until one fails to parse.
void FuzzKeyEncoding(std::string_view in) {
  std::string_view rest = in;
  while (!rest.empty()) {
    const uint8_t kind = static_cast<uint8_t>(rest[0]) % 4;
    rest.remove_prefix(1);
    std::string_view component = rest;
    absl::Status s;
    std::string out;
    if (kind == 0) {
      std::string value;
      s = keyenc::ConsumeBytes(&rest, &value);
      if (s.ok()) keyenc::AppendBytes(&out, value);
    } else if (kind == 1) {
      uint64_t value = 0;
      s = keyenc::ConsumeUint64(&rest, &value);
      if (s.ok()) keyenc::AppendUint64(&out, value);
    } else {
      int64_t value = 0;
      s = kind == 2 ? keyenc::ConsumeInt64(&rest, &value)
                    : keyenc::ConsumeDescendingInt64(&rest, &value);
      if (s.ok()) {
        kind == 2 ? keyenc::AppendInt64(&out, value) : keyenc::AppendDescendingInt64(&out, value);
      }
    }
    if (!s.ok()) {
      CHECK_MSG(s.code() == absl::StatusCode::kInvalidArgument, s.ToString());
      return;
    }
    CHECK(out == component.substr(0, component.size() - rest.size()));
  }
}

// Reads a length-prefixed field (one length byte) from the input; empty when it runs out.
std::string_view Field(std::string_view* in) {
  if (in->empty()) return {};
  size_t n = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  n = std::min(n, in->size());
  std::string_view field = in->substr(0, n);
  in->remove_prefix(n);
  return field;
}

uint64_t Number(std::string_view* in) {
  uint64_t v = 0;
  for (char c : Field(in)) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

void AddWrite(WriteBatch* batch, std::string_view* in) {
  const uint8_t op = static_cast<uint8_t>((*in)[0]) % 9;
  in->remove_prefix(1);
  const uint64_t id = Number(in);
  switch (op) {
    case 0: {
      const std::string_view key = Field(in);
      batch->Put(id, key, static_cast<int64_t>(Number(in)), Field(in));
      break;
    }
    case 1: {
      const std::string_view key = Field(in);
      batch->Delete(id, key, static_cast<int64_t>(Number(in)));
      break;
    }
    case 2:
      batch->AppendLog(id, Number(in), Field(in));
      break;
    case 3:
      batch->EraseLog(id, Number(in));
      break;
    case 4:
      batch->SaveHardState(id, Field(in));
      break;
    case 5:
      batch->SaveReplicaMarker(id, Field(in));
      break;
    case 6:
      batch->SaveGroupRecord('k', id, Field(in));
      break;
    case 7:
      batch->EraseGroupRecord('c', id);
      break;
    default: {
      const std::string_view key = Field(in);
      batch->PutRaw(key, Field(in));
      break;
    }
  }
}

void FuzzWriteBatch(std::string_view in) {
  WriteBatch first, second;
  const size_t empty_bytes = first.ApproximateBytes();
  for (int i = 0; !in.empty(); ++i) {
    WriteBatch* batch = i % 2 == 0 ? &first : &second;
    const size_t count = batch->Count(), bytes = batch->ApproximateBytes();
    AddWrite(batch, &in);
    CHECK(batch->Count() == count + 1 && batch->ApproximateBytes() > bytes);
  }
  const size_t count = first.Count() + second.Count();
  const size_t bytes = first.ApproximateBytes() + second.ApproximateBytes() - empty_bytes;
  first.Append(second);
  CHECK(first.Count() == count && first.ApproximateBytes() == bytes);
  WriteBatch moved(std::move(first));
  CHECK(moved.Count() == count && first.empty());
  moved.Clear();
  CHECK(moved.empty() && moved.ApproximateBytes() == empty_bytes);
}

}  // namespace
}  // namespace meridian::storage

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace s = meridian::storage;
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 7) {
    case 0:
      s::FuzzDataKey(in);
      break;
    case 1:
      s::FuzzDataValue(in);
      break;
    case 2:
      s::FuzzLogKey(in);
      break;
    case 3:
      s::FuzzTaggedKeys(in);
      break;
    case 4:
      s::FuzzKeyEncoding(in);
      break;
    case 5:
    case 6:
      s::FuzzWriteBatch(in);
      break;
  }
  return 0;
}
