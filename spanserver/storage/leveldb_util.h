// Internal helpers for the storage .cc files: LevelDB → absl status mapping, slices, and a
// snapshot guard. Includes LevelDB headers, so it must stay out of every public header.
// Thread safety: pure functions; a ReadSnapshot belongs to one read.
#ifndef MERIDIAN_SPANSERVER_STORAGE_LEVELDB_UTIL_H_
#define MERIDIAN_SPANSERVER_STORAGE_LEVELDB_UTIL_H_

#include <leveldb/db.h>
#include <leveldb/slice.h>
#include <leveldb/status.h>

#include <algorithm>
#include <cstddef>
#include <string_view>

#include "absl/status/status.h"

namespace meridian::storage::internal {

// Maps a LevelDB status as documented in engine.h, keeping LevelDB's message.
absl::Status FromLevelDb(const leveldb::Status& status);

// Whether `fname` names one of LevelDB's numbered files of one kind: its base name is a decimal
// number followed by `suffix` (".log" write-ahead logs, ".ldb" and ".sst" tables).
inline bool IsNumberedFile(std::string_view fname, std::string_view suffix) {
  const size_t slash = fname.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? fname : fname.substr(slash + 1);
  if (base.size() <= suffix.size() || !base.ends_with(suffix)) return false;
  return std::all_of(base.begin(), base.end() - static_cast<std::ptrdiff_t>(suffix.size()),
                     [](char c) { return c >= '0' && c <= '9'; });
}

inline leveldb::Slice ToSlice(std::string_view s) { return leveldb::Slice(s.data(), s.size()); }
inline std::string_view ToView(const leveldb::Slice& s) {
  return std::string_view(s.data(), s.size());
}

// Every read verifies the checksums of the blocks it reads from table files (a damaged block is
// an error, DATA_LOSS, not data). Blocks found in the block cache were verified when read.
inline leveldb::ReadOptions CheckedReads() {
  leveldb::ReadOptions options;
  options.verify_checksums = true;
  return options;
}

// A LevelDB snapshot released on destruction, plus CheckedReads() that read at it.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(leveldb::DB* db)
      : db_(db), snapshot_(db->GetSnapshot()), options_(CheckedReads()) {
    options_.snapshot = snapshot_;
  }
  ~ReadSnapshot() { db_->ReleaseSnapshot(snapshot_); }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

  const leveldb::ReadOptions& options() const { return options_; }

 private:
  leveldb::DB* db_;
  const leveldb::Snapshot* snapshot_;
  leveldb::ReadOptions options_;
};

}  // namespace meridian::storage::internal

#endif  // MERIDIAN_SPANSERVER_STORAGE_LEVELDB_UTIL_H_
