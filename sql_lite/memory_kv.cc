#include "sql_lite/memory_kv.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace meridian::sql {
namespace {

int64_t WallClockMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// Reads at one timestamp; a transaction reads at "now" (it holds the global lock, so nothing
// commits under it) and buffers its writes.
class MemoryKvReader : public KvTransaction, public KvSnapshot {
 public:
  MemoryKvReader(MemoryKv* kv, int64_t read_ts, int attempt = 1)
      : kv_(kv), read_ts_(read_ts), attempt_(attempt) {}

  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) override {
    absl::MutexLock lock(&kv_->mu_);
    auto it = kv_->data_.find(key);
    if (it == kv_->data_.end()) return std::nullopt;
    return VisibleValue(it->second);
  }

  absl::StatusOr<std::vector<KvPair>> Scan(std::string_view start, std::string_view end,
                                           int64_t limit) override {
    absl::MutexLock lock(&kv_->mu_);
    std::vector<KvPair> out;
    for (auto it = kv_->data_.lower_bound(start); it != kv_->data_.end(); ++it) {
      if (!end.empty() && it->first >= end) break;
      if (limit > 0 && static_cast<int64_t>(out.size()) >= limit) break;
      std::optional<std::string> value = VisibleValue(it->second);
      if (value.has_value()) out.push_back({it->first, std::move(*value)});
    }
    return out;
  }

  void Put(std::string_view key, std::string_view value) override {
    writes_[std::string(key)] = std::string(value);
  }
  void Delete(std::string_view key) override { writes_[std::string(key)] = std::nullopt; }
  void LimitCommitTimestamp(int64_t max_ts) override {
    max_commit_ts_ = max_commit_ts_ == 0 ? max_ts : std::min(max_commit_ts_, max_ts);
  }
  int attempt() const override { return attempt_; }
  int64_t read_timestamp() const override { return read_ts_; }
  int64_t max_commit_ts() const { return max_commit_ts_; }

  const std::map<std::string, std::optional<std::string>>& writes() const { return writes_; }

 private:
  std::optional<std::string> VisibleValue(const MemoryKv::Versions& versions) const {
    auto it = versions.upper_bound(read_ts_);
    if (it == versions.begin()) return std::nullopt;
    return std::prev(it)->second;
  }

  MemoryKv* kv_;
  int64_t read_ts_;
  int attempt_;
  int64_t max_commit_ts_ = 0;  // 0: none
  std::map<std::string, std::optional<std::string>> writes_;
};

MemoryKv::MemoryKv(MemoryKvOptions options) : options_(std::move(options)) {
  if (!options_.now_us) options_.now_us = WallClockMicros;
  if (options_.max_attempts < 1) options_.max_attempts = 1;
}

absl::StatusOr<int64_t> MemoryKv::RunTransaction(const TransactionFn& fn) {
  absl::Status last;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    absl::StatusOr<int64_t> result = RunAttempt(fn, attempt + 1);
    if (result.ok() || !absl::IsAborted(result.status())) return result;
    last = result.status();
  }
  return absl::AbortedError(absl::StrCat("transaction aborted ", options_.max_attempts,
                                         " times; last: ", last.message()));
}

absl::StatusOr<int64_t> MemoryKv::RunAttempt(const TransactionFn& fn, int attempt) {
  std::lock_guard<std::mutex> txn_lock(txn_mu_);
  int64_t read_ts;
  {
    absl::MutexLock lock(&mu_);
    ++attempts_;
    read_ts = last_commit_ts_;
  }
  MemoryKvReader txn(this, read_ts, attempt);
  RETURN_IF_ERROR(fn(txn));
  absl::MutexLock lock(&mu_);
  if (injected_aborts_ > 0 || (attempt == 1 && options_.abort_every_first_attempt)) {
    if (injected_aborts_ > 0) --injected_aborts_;
    return absl::AbortedError("injected abort");
  }
  const int64_t commit_ts = std::max({last_commit_ts_ + 1, max_read_ts_ + 1, options_.now_us()});
  if (options_.commit_bounds && txn.max_commit_ts() != 0 && commit_ts > txn.max_commit_ts()) {
    return absl::AbortedError(absl::StrCat("commit timestamp ", commit_ts, " would pass the bound ",
                                           txn.max_commit_ts()));
  }
  for (const auto& [key, value] : txn.writes()) data_[key][commit_ts] = value;
  last_commit_ts_ = commit_ts;
  return commit_ts;
}

absl::StatusOr<int64_t> MemoryKv::PickReadTimestamp(const ReadBound& bound) {
  absl::MutexLock lock(&mu_);
  // Past every commit and every snapshot read so far: a snapshot at a future exact timestamp
  // moved this store's time there.
  const int64_t strong = std::max({last_commit_ts_, max_read_ts_, int64_t{1}});
  int64_t ts = strong;
  switch (bound.mode) {
    case ReadBound::Mode::kStrong:
      break;
    case ReadBound::Mode::kExactTimestamp:
      ts = bound.timestamp_us;
      break;
    case ReadBound::Mode::kMaxStaleness:
      ts = std::min(strong, std::max(options_.now_us(), strong) - bound.staleness_us);
      break;
  }
  if (ts <= 0 || ts < gc_horizon_ts_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "read timestamp ", ts, " is below the garbage-collection horizon ", gc_horizon_ts_));
  }
  max_read_ts_ = std::max(max_read_ts_, ts);
  return ts;
}

absl::StatusOr<int64_t> MemoryKv::RunReadOnly(const ReadBound& bound, const SnapshotFn& fn) {
  ASSIGN_OR_RETURN(const int64_t ts, PickReadTimestamp(bound));
  MemoryKvReader snapshot(this, ts);
  RETURN_IF_ERROR(fn(snapshot));
  return ts;
}

void MemoryKv::InjectAborts(int n) {
  absl::MutexLock lock(&mu_);
  injected_aborts_ = n;
}

void MemoryKv::SetGcHorizon(int64_t timestamp_us) {
  absl::MutexLock lock(&mu_);
  gc_horizon_ts_ = timestamp_us;
}

std::vector<KvPair> MemoryKv::Dump() {
  absl::MutexLock lock(&mu_);
  std::vector<KvPair> out;
  for (const auto& [key, versions] : data_) {
    if (!versions.empty() && versions.rbegin()->second.has_value()) {
      out.push_back({key, *versions.rbegin()->second});
    }
  }
  return out;
}

int64_t MemoryKv::attempts() {
  absl::MutexLock lock(&mu_);
  return attempts_;
}

}  // namespace meridian::sql
