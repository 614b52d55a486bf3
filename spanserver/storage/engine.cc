#include "spanserver/storage/engine.h"

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "spanserver/storage/format.h"
#include "spanserver/storage/leveldb_util.h"
#include "spanserver/storage/prezeroed_log_env.h"
#include "spanserver/storage/sync_on_close_env.h"
#include "spanserver/storage/table_file_env.h"

namespace meridian::storage {

namespace internal {

absl::Status FromLevelDb(const leveldb::Status& status) {
  if (status.ok()) return absl::OkStatus();
  const std::string message = "leveldb: " + status.ToString();
  if (status.IsNotFound()) return absl::NotFoundError(message);
  if (status.IsCorruption()) return absl::DataLossError(message);
  if (status.IsIOError()) return absl::UnavailableError(message);
  if (status.IsNotSupportedError()) return absl::UnimplementedError(message);
  if (status.IsInvalidArgument()) return absl::InvalidArgumentError(message);
  return absl::InternalError(message);
}

}  // namespace internal

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(const std::string& path,
                                                     const EngineOptions& options) {
  leveldb::Options db_options;
  std::unique_ptr<leveldb::Env> table_env;
  std::unique_ptr<leveldb::Env> env;
  db_options.env = options.env;
  if (db_options.env == nullptr) {
    table_env = NewTableFileEnv(leveldb::Env::Default());
    db_options.env = table_env.get();
    if (options.prezeroed_log) {
      env = NewPrezeroedLogEnv(table_env.get(), PrezeroedLogOptions());
      db_options.env = env.get();
    }
  }
  std::unique_ptr<leveldb::Env> sync_env;
  if (!options.testing_unsynced_close) {
    sync_env = NewSyncOnCloseEnv(db_options.env);
    db_options.env = sync_env.get();
  }
  db_options.create_if_missing = options.create_if_missing;
  db_options.error_if_exists = options.error_if_exists;
  db_options.write_buffer_size = options.write_buffer_size;
  std::unique_ptr<leveldb::Cache> cache;
  if (options.block_cache_bytes > 0) {
    cache.reset(leveldb::NewLRUCache(options.block_cache_bytes));
    db_options.block_cache = cache.get();
  }
  leveldb::DB* raw_db = nullptr;
  RETURN_IF_ERROR_CTX(OpenParanoid(db_options, path, &raw_db), "opening storage at " + path);
  std::unique_ptr<Engine> engine(new Engine(std::move(table_env), std::move(env),
                                            std::move(sync_env), std::move(cache),
                                            std::unique_ptr<leveldb::DB>(raw_db)));
  RETURN_IF_ERROR_CTX(engine->CheckFormat(path), "storage at " + path);
  RETURN_IF_ERROR_CTX(engine->LoadHorizons(), "loading GC horizons at " + path);
  return engine;
}

// LevelDB's paranoid checks verify every block that a compaction reads (a damaged block is not
// copied on into new tables) and fail the DB at the first damage found. They also fail the
// recovery of a write-ahead log that holds a damaged record, and a crash can leave one: the
// record of a write that was cut short, which was never synced and so never acknowledged. Such a
// store is opened once without the checks, which drops the damaged records (and says so), and
// then again with them.
absl::Status Engine::OpenParanoid(leveldb::Options options, const std::string& path,
                                  leveldb::DB** db) {
  options.paranoid_checks = true;
  leveldb::Status s = leveldb::DB::Open(options, path, db);
  if (!s.IsCorruption()) return internal::FromLevelDb(s);
  std::fprintf(stderr,
               "storage at %s: %s; recovering without LevelDB's paranoid checks, which drops "
               "the damaged records of its write-ahead log (a crash leaves the record of a "
               "write it cut short; that write was not acknowledged)\n",
               path.c_str(), s.ToString().c_str());
  options.paranoid_checks = false;
  RETURN_IF_ERROR(internal::FromLevelDb(leveldb::DB::Open(options, path, db)));
  delete *db;  // the recovered records are in a table now, and the old log is gone
  *db = nullptr;
  options.paranoid_checks = true;
  return internal::FromLevelDb(leveldb::DB::Open(options, path, db));
}

absl::Status Engine::CheckFormat(const std::string& path) {
  ASSIGN_OR_RETURN(std::optional<std::string> value, GetOptional(format::FormatKey()));
  if (!value.has_value()) {
    // A new store is written in this binary's format; one that holds keys but no version was
    // written before the version was recorded: version 1.
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(internal::CheckedReads()));
    it->SeekToFirst();
    RETURN_IF_ERROR(internal::FromLevelDb(it->status()));
    return SetFormatVersion(it->Valid() ? 1 : format::kFormatVersion);
  }
  uint64_t version = 0;
  RETURN_IF_ERROR(format::ParseFormatValue(*value, &version));
  if (version > format::kFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the data at ", path, " has format version ", version, ", newer than this binary's (",
        format::kFormatVersion,
        "): a newer Meridian wrote it. Run that version or a newer one; this binary would "
        "misread it, so it does not start"));
  }
  format_version_ = version;
  return absl::OkStatus();
}

absl::Status Engine::SetFormatVersion(uint64_t version) {
  leveldb::WriteOptions options;
  options.sync = true;
  RETURN_IF_ERROR(
      internal::FromLevelDb(db_->Put(options, format::FormatKey(), format::FormatValue(version))));
  format_version_ = version;
  return absl::OkStatus();
}

Engine::Engine(std::unique_ptr<leveldb::Env> table_env, std::unique_ptr<leveldb::Env> env,
               std::unique_ptr<leveldb::Env> sync_env, std::unique_ptr<leveldb::Cache> cache,
               std::unique_ptr<leveldb::DB> db)
    : table_env_(std::move(table_env)),
      env_(std::move(env)),
      sync_env_(std::move(sync_env)),
      cache_(std::move(cache)),
      db_(std::move(db)) {}

Engine::~Engine() = default;

absl::Status Engine::Write(const WriteBatch& batch, bool sync) {
  leveldb::WriteOptions options;
  options.sync = sync;
  if (batch.rep_ == nullptr) {
    leveldb::WriteBatch empty;
    return internal::FromLevelDb(db_->Write(options, &empty));
  }
  return internal::FromLevelDb(db_->Write(options, batch.rep_.get()));
}

absl::Status Engine::Put(uint64_t tablet, std::string_view key, Timestamp ts,
                         std::string_view value, bool sync) {
  WriteBatch batch;
  batch.Put(tablet, key, ts, value);
  return Write(batch, sync);
}

absl::Status Engine::Delete(uint64_t tablet, std::string_view key, Timestamp ts, bool sync) {
  WriteBatch batch;
  batch.Delete(tablet, key, ts);
  return Write(batch, sync);
}

absl::Status Engine::LoadHorizons() {
  const std::string prefix(1, format::kHorizonTag);
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(internal::CheckedReads()));
  absl::MutexLock lock(&horizons_mu_);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    uint64_t tablet = 0;
    Timestamp horizon = 0;
    RETURN_IF_ERROR(format::ParseHorizonKey(internal::ToView(it->key()), &tablet));
    RETURN_IF_ERROR(format::ParseHorizonValue(internal::ToView(it->value()), &horizon));
    horizons_[tablet] = horizon;
  }
  return internal::FromLevelDb(it->status());
}

Timestamp Engine::GcHorizon(uint64_t tablet) const {
  absl::MutexLock lock(&horizons_mu_);
  auto it = horizons_.find(tablet);
  return it == horizons_.end() ? truetime::kMinTimestamp : it->second;
}

absl::Status Engine::CheckReadable(uint64_t tablet, Timestamp read_ts) const {
  const Timestamp horizon = GcHorizon(tablet);
  if (read_ts >= horizon) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("read timestamp ", read_ts,
                                                    " is below the garbage-collection horizon ",
                                                    horizon, " of tablet ", tablet));
}

}  // namespace meridian::storage
