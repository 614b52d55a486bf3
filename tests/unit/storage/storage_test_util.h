// Helpers shared by the storage tests: where an Engine lives (in memory or in a temporary
// directory on disk) and a checker for acknowledged writes. Thread safety: none needed; each test
// owns its StoreLocation.
#ifndef MERIDIAN_TESTS_UNIT_STORAGE_STORAGE_TEST_UTIL_H_
#define MERIDIAN_TESTS_UNIT_STORAGE_STORAGE_TEST_UTIL_H_

#include <leveldb/env.h>
#include <leveldb/helpers/memenv.h>

#include <memory>
#include <string>
#include <vector>

#include "spanserver/storage/engine.h"

namespace meridian::storage::testing {

enum class EnvKind { kMemory, kDisk };

std::string EnvKindName(EnvKind kind);

// A place to open Engines: an in-memory leveldb Env, or a fresh directory under the test temp
// directory (removed on destruction). `wrap`, when given, is layered over the base env.
class StoreLocation {
 public:
  explicit StoreLocation(EnvKind kind);
  ~StoreLocation();

  leveldb::Env* base_env() const { return env_; }
  const std::string& path() const { return path_; }
  // Opens an Engine at path() with `env` (default: base_env()).
  absl::StatusOr<std::unique_ptr<Engine>> Open(leveldb::Env* env = nullptr) const;

 private:
  std::unique_ptr<leveldb::Env> mem_env_;
  leveldb::Env* env_;
  std::string path_;
  std::string dir_to_remove_;
};

// One write acknowledged to its caller, and a checker that it is still there.
struct AckedWrite {
  uint64_t tablet = 0;
  std::string key;
  Timestamp ts = 0;
  std::string value;
};

// Descriptions ("tablet 1 key k7 @ 12: missing") of acknowledged writes the engine no longer
// returns when read at their own timestamp. Empty when all survived.
std::vector<std::string> FindLostWrites(const Engine& engine, const std::vector<AckedWrite>& acked);

}  // namespace meridian::storage::testing

#endif  // MERIDIAN_TESTS_UNIT_STORAGE_STORAGE_TEST_UTIL_H_
