// Engine, part five: range sizes and split points from LevelDB's approximate sizes.
#include <leveldb/db.h>
#include <leveldb/iterator.h>

#include <algorithm>
#include <cstdint>
#include <memory>

#include "common/key_encoding.h"
#include "common/status_macros.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/format.h"
#include "spanserver/storage/leveldb_util.h"

namespace meridian::storage {
namespace {

// Halving steps of the split-point search: 2^-24 of the key span is finer than any table.
constexpr int kSearchSteps = 24;

// The 8 bytes of `s` from `at` (missing bytes are 0) as a big-endian number.
uint64_t Word(const std::string& s, size_t at) {
  uint64_t w = 0;
  for (size_t i = 0; i < 8; ++i) {
    w = (w << 8) | (at + i < s.size() ? static_cast<uint8_t>(s[at + i]) : 0);
  }
  return w;
}

// A key between `a` and `b` (a < b), about halfway on the number line of their first differing
// 8 bytes; `a` itself when they are too close to have one in between at that precision.
std::string Between(const std::string& a, const std::string& b) {
  size_t common = 0;
  while (common < a.size() && common < b.size() && a[common] == b[common]) ++common;
  const uint64_t lo = Word(a, common);
  const uint64_t hi = Word(b, common);
  const uint64_t mid = lo + (hi - lo) / 2;
  std::string out = a.substr(0, common);
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((mid >> (8 * i)) & 0xff));
  return out;
}

}  // namespace

absl::StatusOr<Engine::RangeSize> Engine::MeasureRange(uint64_t tablet, std::string_view start,
                                                       std::string_view end,
                                                       uint64_t split_min_bytes) const {
  const std::string lo = format::UserKeyPrefix(tablet, start);
  const std::string hi = end.empty() ? keyenc::PrefixSuccessor(format::TabletDataPrefix(tablet))
                                     : format::UserKeyPrefix(tablet, end);
  auto size = [this, &lo](const std::string& upto) {
    const leveldb::Range range(internal::ToSlice(lo), internal::ToSlice(upto));
    uint64_t bytes = 0;
    db_->GetApproximateSizes(&range, 1, &bytes);
    return bytes;
  };
  RangeSize out;
  out.bytes = size(hi);
  if (out.bytes < split_min_bytes || out.bytes == 0) return out;
  // Bisect the raw key space for the point with half the bytes below it.
  std::string a = lo;
  std::string b = hi;
  for (int step = 0; step < kSearchSteps; ++step) {
    const std::string mid = Between(a, b);
    if (mid <= a || mid >= b) break;
    (size(mid) < out.bytes / 2 ? a : b) = mid;
  }
  // The first version at or after the point names the split key.
  leveldb::ReadOptions options = internal::CheckedReads();
  options.fill_cache = false;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(options));
  it->Seek(internal::ToSlice(b));
  if (!it->Valid() || internal::ToView(it->key()) >= hi) {
    RETURN_IF_ERROR(internal::FromLevelDb(it->status()));
    return out;
  }
  format::DataKeyParts parts;
  RETURN_IF_ERROR(format::ParseDataKey(internal::ToView(it->key()), &parts));
  if (parts.user_key > start && (end.empty() || parts.user_key < end)) {
    out.middle_key = std::move(parts.user_key);
  }
  return out;
}

}  // namespace meridian::storage
