#include "tools/failover_workload.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/random.h"
#include "meridian/errors.h"

namespace meridian::tools {

void WorkloadMeter::Failed(const absl::Status& status) {
  errors_.fetch_add(1, std::memory_order_relaxed);
  const std::string kind =
      absl::StrCat(absl::StatusCodeToString(status.code()),
                   IsOutcomeUnknown(status) ? " (outcome unknown)" : " (not applied)");
  absl::MutexLock lock(&mu_);
  ErrorKind& k = error_kinds_[kind];
  if (k.count++ == 0) k.first = std::string(status.message());
}

std::string WorkloadMeter::DescribeErrors() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> kinds;
  for (const auto& [kind, k] : error_kinds_) {
    kinds.push_back(absl::StrCat(k.count, " ", kind, ", first: ", k.first));
  }
  return absl::StrJoin(kinds, "; ");
}

void AckLedger::Acknowledged(const std::string& key, const std::string& value) {
  absl::MutexLock lock(&mu_);
  records_[key].acknowledged = value;
}

void AckLedger::Unknown(const std::string& key, const std::string& value) {
  absl::MutexLock lock(&mu_);
  records_[key].unknown.push_back(value);
  ++unknown_writes_;
}

bool AckLedger::CorruptOneForTesting() {
  absl::MutexLock lock(&mu_);
  for (auto& [key, record] : records_) {
    if (!record.acknowledged.has_value()) continue;
    record.acknowledged = "never-written";
    return true;
  }
  return false;
}

std::string AckLedger::Check(const std::string& key, const std::optional<std::string>& read,
                             bool* lost) const {
  absl::MutexLock lock(&mu_);
  *lost = false;
  const auto it = records_.find(key);
  const Record empty;
  const Record& record = it == records_.end() ? empty : it->second;
  if (read == record.acknowledged) return "";
  if (read.has_value() &&
      std::find(record.unknown.begin(), record.unknown.end(), *read) != record.unknown.end()) {
    return "";
  }
  const std::string got = read.has_value() ? absl::StrCat("'", *read, "'") : "nothing";
  if (!record.acknowledged.has_value()) {
    return absl::StrCat("key '", EscapeBytes(key), "': holds ", got,
                        ", but no write of it was acknowledged or of unknown outcome");
  }
  *lost = true;
  return absl::StrCat("key '", EscapeBytes(key), "': LOST acknowledged value '",
                      *record.acknowledged, "', holds ", got);
}

int64_t AckLedger::unknown_writes() const {
  absl::MutexLock lock(&mu_);
  return unknown_writes_;
}

namespace {

// Strong reads of this many keys at once.
constexpr size_t kReadChunk = 100;
// Verify gives each chunk this long (several SDK deadlines) to be read.
constexpr absl::Duration kReadPatience = absl::Seconds(30);

class KvWorkload : public FailoverWorkload {
 public:
  KvWorkload(Client* client, const KvWorkloadOptions& options)
      : client_(client), options_(options) {}

  ~KvWorkload() override { Stop(); }

  std::string Describe() const override {
    return absl::StrCat("kv: ", threads_.size(), " clients Put fresh values into ", keys_total_,
                        " keys spread over ", ranges_, " ranges, one Put at a time each");
  }

  absl::Status Start(int threads, WorkloadMeter* meter) override {
    meter_ = meter;
    absl::StatusOr<Topology> topology = client_->GetTopology();
    if (!topology.ok()) return topology.status();
    std::vector<std::string> prefixes = RangePrefixes(*topology);
    if (prefixes.empty()) return absl::FailedPreconditionError("the topology has no ranges");
    ranges_ = prefixes.size();
    const int per_thread = std::max(1, options_.keys / threads);
    keys_.assign(static_cast<size_t>(threads), {});
    for (int t = 0; t < threads; ++t) {
      for (int j = 0; j < per_thread; ++j) {
        keys_[t].push_back(absl::StrCat(prefixes[static_cast<size_t>(j) % prefixes.size()],
                                        "failover/c", t, "/k", j));
      }
    }
    keys_total_ = static_cast<int64_t>(per_thread) * threads;
    Random seeds(options_.seed);
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back(&KvWorkload::RunClient, this, t, seeds.Next());
    }
    return absl::OkStatus();
  }

  void Stop() override {
    stop_.store(true);
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  absl::StatusOr<VerifyReport> Verify() override {
    if (options_.testing_corrupt_ack) ledger_.CorruptOneForTesting();
    VerifyReport report;
    report.unknown_writes = ledger_.unknown_writes();
    std::vector<std::string> all;
    for (const std::vector<std::string>& mine : keys_)
      all.insert(all.end(), mine.begin(), mine.end());
    for (size_t at = 0; at < all.size(); at += kReadChunk) {
      std::vector<std::string> chunk(
          all.begin() + static_cast<std::ptrdiff_t>(at),
          all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), at + kReadChunk)));
      absl::StatusOr<ReadResult> read = ReadPatiently(chunk);
      if (!read.ok()) return read.status();
      for (size_t i = 0; i < chunk.size(); ++i) {
        bool lost = false;
        std::string problem = ledger_.Check(chunk[i], read->values[i], &lost);
        if (!problem.empty()) report.problems.push_back(std::move(problem));
        report.lost += lost ? 1 : 0;
      }
      report.keys += static_cast<int64_t>(chunk.size());
    }
    return report;
  }

 private:
  // A key prefix inside each range: its start (a key just above the empty start of the first).
  static std::vector<std::string> RangePrefixes(const Topology& topology) {
    std::vector<std::string> prefixes;
    for (const RangeInfo& range : topology.ranges) {
      const std::string prefix = range.start.empty() ? std::string(1, '\x01') : range.start;
      const std::string probe = prefix + "failover/";
      if (range.end.empty() || probe + "\xff" < range.end) prefixes.push_back(prefix);
    }
    return prefixes;
  }

  void RunClient(int thread, uint64_t seed) {
    Random random(seed);
    const std::vector<std::string>& mine = keys_[static_cast<size_t>(thread)];
    for (int64_t seq = 0; !stop_.load(); ++seq) {
      const std::string& key = mine[random.Uniform(mine.size())];
      const std::string value = absl::StrCat("c", thread, "-", seq);
      const absl::Status status = client_->Put(key, value);
      const absl::Time now = absl::Now();
      if (status.ok()) {
        ledger_.Acknowledged(key, value);
        meter_->Committed(now);
        continue;
      }
      if (IsOutcomeUnknown(status)) ledger_.Unknown(key, value);
      meter_->Failed(status);
    }
  }

  // A strong read of `keys`, retried until kReadPatience has passed.
  absl::StatusOr<ReadResult> ReadPatiently(const std::vector<std::string>& keys) {
    const absl::Time give_up = absl::Now() + kReadPatience;
    while (true) {
      absl::StatusOr<ReadResult> read = client_->ReadOnly(keys, ReadOnlyOptions::Strong());
      if (read.ok() || absl::Now() >= give_up) return read;
      absl::SleepFor(absl::Milliseconds(200));
    }
  }

  Client* const client_;
  WorkloadMeter* meter_ = nullptr;
  const KvWorkloadOptions options_;
  AckLedger ledger_;
  std::vector<std::vector<std::string>> keys_;  // per client; written by Start only
  int64_t keys_total_ = 0;
  size_t ranges_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace

std::unique_ptr<FailoverWorkload> MakeKvWorkload(Client* client, const KvWorkloadOptions& options) {
  return std::make_unique<KvWorkload>(client, options);
}

}  // namespace meridian::tools
