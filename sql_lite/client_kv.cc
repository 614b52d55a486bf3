// ClientKvDatabase; see client_kv.h.
#include "sql_lite/client_kv.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/check.h"
#include "common/key_encoding.h"

namespace meridian::sql {
namespace {

// Rows per SDK scan call when the caller asked for all of them.
constexpr size_t kPage = 1000;

// The database's keys inside the cluster's key space (ClientKvOptions::key_prefix).
class Namespace {
 public:
  explicit Namespace(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string Key(std::string_view key) const { return prefix_ + std::string(key); }
  // The end of a scan: "" (+infinity) is the end of the prefix's keys.
  std::string End(std::string_view end) const {
    return end.empty() ? keyenc::PrefixSuccessor(prefix_) : Key(end);
  }
  std::string Strip(std::string key) const { return key.substr(prefix_.size()); }

 private:
  const std::string prefix_;
};

// Reads [start, end) through `scan` (an SDK scan of a positive limit), all of it when limit <= 0.
// The keys passed to `scan` and the ones in the result are the cluster's (prefixed).
template <typename ScanFn>
absl::StatusOr<std::vector<KvPair>> ScanAll(const Namespace& ns, std::string_view start,
                                            std::string_view end, int64_t limit, ScanFn&& scan) {
  std::vector<KvPair> out;
  std::string cursor = ns.Key(start);
  const std::string last = ns.End(end);
  while (true) {
    const size_t want = limit > 0 ? static_cast<size_t>(limit) - out.size() : kPage;
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> rows =
        scan(cursor, last, want);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return out;
    cursor = rows->back().first + std::string(1, '\0');
    const size_t got = rows->size();
    for (auto& [key, value] : *rows) {
      out.push_back(KvPair{ns.Strip(std::move(key)), std::move(value)});
    }
    if (got < want || (limit > 0 && out.size() >= static_cast<size_t>(limit))) return out;
  }
}

class SdkTransaction final : public KvTransaction {
 public:
  SdkTransaction(Transaction& txn, const Namespace& ns, Client* unlocked_reads)
      : txn_(txn), ns_(ns), unlocked_reads_(unlocked_reads) {}
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) override {
    if (unlocked_reads_ != nullptr) {
      absl::StatusOr<ReadResult> read = unlocked_reads_->ReadOnly({ns_.Key(key)});
      if (!read.ok()) return read.status();
      return std::move(read->values.at(0));
    }
    return txn_.Get(ns_.Key(key));
  }
  absl::StatusOr<std::optional<std::string>> GetForUpdate(std::string_view key) override {
    if (unlocked_reads_ != nullptr) return Get(key);
    return txn_.GetForUpdate(ns_.Key(key));
  }
  absl::StatusOr<std::vector<std::optional<std::string>>> GetMany(
      const std::vector<std::string>& keys) override {
    return ReadMany(keys, /*for_update=*/false);
  }
  absl::StatusOr<std::vector<std::optional<std::string>>> GetManyForUpdate(
      const std::vector<std::string>& keys) override {
    return ReadMany(keys, /*for_update=*/true);
  }
  absl::StatusOr<std::vector<KvPair>> Scan(std::string_view start, std::string_view end,
                                           int64_t limit) override {
    return ScanAll(ns_, start, end, limit,
                   [&](const std::string& from, const std::string& to, size_t want) {
                     return txn_.Scan(from, to, want);
                   });
  }
  void Put(std::string_view key, std::string_view value) override { txn_.Put(ns_.Key(key), value); }
  void Delete(std::string_view key) override { txn_.Delete(ns_.Key(key)); }
  void LimitCommitTimestamp(int64_t max_ts) override { txn_.LimitCommitTimestamp(max_ts); }
  int attempt() const override { return txn_.attempt(); }

 private:
  // One request per group (Transaction::GetMany).
  absl::StatusOr<std::vector<std::optional<std::string>>> ReadMany(
      const std::vector<std::string>& keys, bool for_update) {
    std::vector<std::string> full;
    full.reserve(keys.size());
    for (const std::string& key : keys) full.push_back(ns_.Key(key));
    if (unlocked_reads_ != nullptr) {
      absl::StatusOr<ReadResult> read = unlocked_reads_->ReadOnly(full);
      if (!read.ok()) return read.status();
      return std::move(read->values);
    }
    return txn_.GetMany(full, for_update);
  }

  Transaction& txn_;
  const Namespace& ns_;
  Client* const unlocked_reads_;  // ClientKvOptions::testing_unlocked_reads
};

class SdkSnapshot final : public KvSnapshot {
 public:
  SdkSnapshot(ReadOnlyTransaction& ro, const Namespace& ns) : ro_(ro), ns_(ns) {}
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) override {
    absl::StatusOr<std::vector<std::optional<std::string>>> values = ro_.Get({ns_.Key(key)});
    if (!values.ok()) return values.status();
    return std::move(values->at(0));
  }
  absl::StatusOr<std::vector<KvPair>> Scan(std::string_view start, std::string_view end,
                                           int64_t limit) override {
    return ScanAll(ns_, start, end, limit,
                   [&](const std::string& from, const std::string& to, size_t want) {
                     return ro_.Scan(from, to, want);
                   });
  }
  absl::StatusOr<std::vector<std::optional<std::string>>> GetMany(
      const std::vector<std::string>& keys) override {
    std::vector<std::string> full;
    for (const std::string& key : keys) full.push_back(ns_.Key(key));
    return ro_.Get(full);
  }
  int64_t read_timestamp() const override { return ro_.read_ts(); }

 private:
  ReadOnlyTransaction& ro_;
  const Namespace& ns_;
};

}  // namespace

ClientKvDatabase::ClientKvDatabase(Client* client, ClientKvOptions options)
    : client_(client), options_(std::move(options)) {
  CHECK_MSG(options_.key_prefix.size() <= kMaxKeyPrefixBytes,
            "a SQL database's key prefix is longer than kMaxKeyPrefixBytes");
}

absl::StatusOr<int64_t> ClientKvDatabase::RunTransaction(const TransactionFn& fn) {
  const Namespace ns(options_.key_prefix);
  return client_->RunTransaction(
      [&](Transaction& txn) {
        SdkTransaction kv(txn, ns, options_.testing_unlocked_reads ? client_ : nullptr);
        return fn(kv);
      },
      options_.transaction);
}

namespace {

ReadOnlyOptions ToReadOnlyOptions(const ReadBound& bound, std::chrono::milliseconds deadline) {
  ReadOnlyOptions options;
  switch (bound.mode) {
    case ReadBound::Mode::kStrong:
      options = ReadOnlyOptions::Strong();
      break;
    case ReadBound::Mode::kExactTimestamp:
      options = ReadOnlyOptions::AtTimestamp(bound.timestamp_us);
      break;
    case ReadBound::Mode::kMaxStaleness:
      options = ReadOnlyOptions::MaxStaleness(std::chrono::microseconds(bound.staleness_us));
      break;
  }
  options.deadline = deadline;
  return options;
}

}  // namespace

absl::StatusOr<KvPointReads> ClientKvDatabase::ReadKeys(const ReadBound& bound,
                                                        const std::vector<std::string>& keys) {
  const Namespace ns(options_.key_prefix);
  std::vector<std::string> full;
  for (const std::string& key : keys) full.push_back(ns.Key(key));
  absl::StatusOr<ReadResult> read =
      client_->ReadOnly(std::move(full), ToReadOnlyOptions(bound, options_.read_deadline));
  if (!read.ok()) return read.status();
  return KvPointReads{.values = std::move(read->values), .read_timestamp = read->read_ts};
}

absl::StatusOr<int64_t> ClientKvDatabase::RunReadOnly(const ReadBound& bound,
                                                      const SnapshotFn& fn) {
  const ReadOnlyOptions options = ToReadOnlyOptions(bound, options_.read_deadline);
  absl::StatusOr<std::unique_ptr<ReadOnlyTransaction>> ro = client_->BeginReadOnly(options);
  if (!ro.ok()) return ro.status();
  const Namespace ns(options_.key_prefix);
  SdkSnapshot snapshot(**ro, ns);
  if (absl::Status s = fn(snapshot); !s.ok()) return s;
  return (*ro)->read_ts();
}

}  // namespace meridian::sql
