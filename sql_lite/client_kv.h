// ClientKvDatabase: sql_lite's key-value seam (kv.h) over Meridian's C++ SDK — read-write runs are
// Client::RunTransaction (locking Gets and Scans, buffered writes, retried when aborted), read-only
// runs a ReadOnlyTransaction at the snapshot the bound names. This is what `meridian sql` and the
// SQL workloads use against a cluster; MemoryKvDatabase (memory_kv.h) stands in for it only in
// sql_lite's own tests.
//
// Thread safety: thread-safe, as the Client is. The Client must outlive this.
#ifndef MERIDIAN_SQL_LITE_CLIENT_KV_H_
#define MERIDIAN_SQL_LITE_CLIENT_KV_H_

#include <chrono>
#include <string>

#include "meridian/client.h"
#include "sql_lite/kv.h"

namespace meridian::sql {

struct ClientKvOptions {
  // Every key this database reads or writes starts with this (removed again from the keys it
  // returns), so that several SQL databases share one cluster without seeing each other.
  std::string key_prefix;
  TransactionOptions transaction;  // deadline and attempts of each read-write run
  std::chrono::milliseconds read_deadline{10'000};
  // Tests only (a planted bug, for `meridian workload append --sql
  // --testing_sql_unlocked_reads`): a read-write transaction's Get reads the latest committed
  // value without a lock, so concurrent read-modify-writes lose updates.
  bool testing_unlocked_reads = false;
};

class ClientKvDatabase : public KvDatabase {
 public:
  // options.key_prefix must be at most kMaxKeyPrefixBytes long (kv.h).
  explicit ClientKvDatabase(Client* client, ClientKvOptions options = {});

  absl::StatusOr<int64_t> RunTransaction(const TransactionFn& fn) override;
  absl::StatusOr<int64_t> RunReadOnly(const ReadBound& bound, const SnapshotFn& fn) override;
  // One Client::ReadOnly call: a strong read of keys that one group holds is one request to its
  // leader, which reads at its last commit's timestamp without waiting.
  absl::StatusOr<KvPointReads> ReadKeys(const ReadBound& bound,
                                        const std::vector<std::string>& keys) override;
  // The SDK's commits honour Transaction::LimitCommitTimestamp.
  bool commit_bounds() const override { return true; }

 private:
  Client* const client_;
  const ClientKvOptions options_;
};

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_CLIENT_KV_H_
