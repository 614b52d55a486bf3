#include "tests/unit/storage/storage_test_util.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace meridian::storage::testing {

std::string EnvKindName(EnvKind kind) { return kind == EnvKind::kMemory ? "Memory" : "Disk"; }

StoreLocation::StoreLocation(EnvKind kind) {
  static std::atomic<int> counter{0};
  if (kind == EnvKind::kMemory) {
    mem_env_.reset(leveldb::NewMemEnv(leveldb::Env::Default()));
    env_ = mem_env_.get();
    path_ = "/mem/db";
    return;
  }
  env_ = leveldb::Env::Default();
  dir_to_remove_ = absl::StrCat(::testing::TempDir(), "meridian_storage_test_", getpid(), "_",
                                counter.fetch_add(1));
  std::filesystem::remove_all(dir_to_remove_);
  std::filesystem::create_directories(dir_to_remove_);
  path_ = dir_to_remove_ + "/db";
}

StoreLocation::~StoreLocation() {
  if (!dir_to_remove_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_to_remove_, ignored);
  }
}

absl::StatusOr<std::unique_ptr<Engine>> StoreLocation::Open(leveldb::Env* env) const {
  EngineOptions options;
  options.env = env != nullptr ? env : env_;
  return Engine::Open(path_, options);
}

std::vector<std::string> FindLostWrites(const Engine& engine,
                                        const std::vector<AckedWrite>& acked) {
  std::vector<std::string> lost;
  for (const AckedWrite& w : acked) {
    const std::string where = absl::StrCat("tablet ", w.tablet, " key ", w.key, " @ ", w.ts);
    absl::StatusOr<std::optional<std::string>> got = engine.Get(w.tablet, w.key, w.ts);
    if (!got.ok()) {
      lost.push_back(where + ": " + got.status().ToString());
    } else if (!got->has_value()) {
      lost.push_back(where + ": missing");
    } else if (**got != w.value) {
      lost.push_back(where + ": value " + **got + " instead of " + w.value);
    }
  }
  return lost;
}

}  // namespace meridian::storage::testing
