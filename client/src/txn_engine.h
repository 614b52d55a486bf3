// The client side of Meridian transactions (transaction.h states the rules users see;
// proto/txn.proto the protocol): TxnEngine runs read-write transactions (attempts, commit through
// one group or two-phase commit, aborts, whole-transaction retries) and read-only transactions,
// over a TxnTransport — the Txn RPCs with the client's routing (location cache, leader following,
// per-call retries; GrpcTxnTransport in grpc_txn_transport.h implements it, tests with fakes).
//
// Thread safety: TxnEngine and KeepaliveSender are thread-safe (any number of concurrent
// transactions); a TxnAttempt belongs to one thread. A TxnTransport must be thread-safe.
#ifndef MERIDIAN_CLIENT_SRC_TXN_ENGINE_H_
#define MERIDIAN_CLIENT_SRC_TXN_ENGINE_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "client/src/keepalive_sender.h"
#include "client/src/location_cache.h"
#include "client/src/txn_buffer.h"
#include "common/random.h"
#include "meridian/errors.h"
#include "meridian/transaction.h"
#include "proto/txn.pb.h"

namespace meridian::client {

using SteadyTime = std::chrono::steady_clock::time_point;

// Aborts and keepalives are best effort: this long at most each.
inline constexpr std::chrono::milliseconds kBestEffortTimeout{1'000};

// --- Shared by the read paths (txn_engine.cc, txn_scan.cc).
std::optional<std::string> ValueOf(const proto::ValueOrNone& v);
// The keys of a read-only transaction by group: indexes into its keys, ascending (the routing key
// of a group is its first key).
using KeysByGroup = std::map<uint64_t, std::vector<size_t>>;
class TxnTransport;
absl::StatusOr<KeysByGroup> LocateKeys(TxnTransport* transport,
                                       const std::vector<std::string>& keys, SteadyTime deadline);
// The timestamp of a read-only read as the options give it (transaction.h "Read-only
// transactions"); 0 for a strong one, whose first server read picks its TT.now().latest (the
// client has no TrueTime of its own).
int64_t ClientReadTimestamp(const ReadOnlyOptions& options);
// Whether a read-only read at `read_ts` (0: strong, not chosen yet) goes to the group's leader
// before its other replicas: a strong read, and an exact-timestamp read of the last second. A
// follower's safe time trails the leader's by up to the interval between the leader's messages
// (tens of ms on an idle group), so it would wait for a timestamp that recent while the leader
// answers at once; an older or stale read is served by any replica without waiting.
bool ReadLeaderFirst(const ReadOnlyOptions& options, int64_t read_ts);

// One participant's Prepare in TxnTransport::PrepareAll.
struct PrepareCall {
  uint64_t group = 0;
  std::string key;  // a key of the group's writes: routes the call
  proto::TxnPrepareRequest request;
  proto::TxnPrepareResponse response;
  absl::Status status;  // as Prepare() would return it
};

// The RPCs of the Txn service with the client's routing (client.h "Routing", "Retries"). Calls
// "at the leader of `group`" go to the leader of the group holding `key`, set the request's range
// from the location used and return ABORTED without sending when the key is no longer in `group`
// (its range moved: the transaction must start over). Calls marked idempotent are retried after
// any transient error until `deadline`; Prepare and Commit only when certainly not received,
// and otherwise return DEADLINE_EXCEEDED / UNAVAILABLE / CANCELLED marked IsOutcomeUnknown.
class TxnTransport {
 public:
  virtual ~TxnTransport() = default;

  // The location of `key`: the cache, else placement.
  virtual absl::StatusOr<Location> Locate(const std::string& key, SteadyTime deadline) = 0;
  // Idempotent. `group` 0 = any (`*group_used` says which).
  virtual absl::Status Read(uint64_t group, const std::string& key, proto::TxnReadRequest& request,
                            proto::TxnReadResponse* response, SteadyTime deadline,
                            uint64_t* group_used) = 0;
  virtual absl::Status Prepare(uint64_t group, const std::string& key,
                               proto::TxnPrepareRequest& request,
                               proto::TxnPrepareResponse* response, SteadyTime deadline) = 0;
  // Prepare() for every call at once: each call's status and response are what Prepare()
  // gives. The default runs the calls on a thread each; the gRPC client sends them all from the
  // calling thread, so that a many-group commit reaches its participants together.
  // `sent`, when given, runs once, as soon as every call's first attempt is on its way (the
  // engine starts its Commit then: after the prepares, which are on the critical path).
  virtual void PrepareAll(std::vector<PrepareCall>& calls, SteadyTime deadline,
                          const std::function<void()>& sent = nullptr);
  virtual absl::Status Commit(uint64_t group, const std::string& key,
                              proto::TxnCommitRequest& request, proto::TxnCommitResponse* response,
                              SteadyTime deadline) = 0;
  // Commit() without waiting: Finish() gives what Commit() would have returned (call it once;
  // the destructor waits for the call too). `request` and `response` must outlive it. The
  // default runs Commit() on a thread; the gRPC client sends the first attempt from the
  // calling thread, as an asynchronous RPC, so that a Commit sent together with the prepares
  // neither waits for a thread to start nor wakes one to answer.
  class PendingCommit {
   public:
    virtual ~PendingCommit() = default;
    virtual absl::Status Finish() = 0;
  };
  virtual std::unique_ptr<PendingCommit> StartCommit(uint64_t group, const std::string& key,
                                                     proto::TxnCommitRequest& request,
                                                     proto::TxnCommitResponse* response,
                                                     SteadyTime deadline);
  // Idempotent.
  virtual absl::Status Abort(uint64_t group, const std::string& key,
                             proto::TxnAbortRequest& request, SteadyTime deadline) = 0;
  // Idempotent.
  virtual absl::Status Keepalive(uint64_t group, const std::string& key,
                                 proto::TxnKeepaliveRequest& request, SteadyTime deadline) = 0;
  // Idempotent.
  virtual absl::Status ReadOnly(uint64_t group, const std::string& key,
                                proto::ReadOnlyRequest& request,
                                proto::SnapshotReadResponse* response, SteadyTime deadline) = 0;
  // Idempotent; at any replica of the group: the leader first when `leader_first`, else last.
  virtual absl::Status SnapshotRead(uint64_t group, const std::string& key, bool leader_first,
                                    proto::SnapshotReadRequest& request,
                                    proto::SnapshotReadResponse* response, SteadyTime deadline) = 0;
};

// One call of a transaction's fn: its buffer, reads at the leaders, commit and abort.
class TxnAttempt {
 public:
  TxnAttempt(TxnTransport* transport, KeepaliveSender* keepalive, uint64_t id, int64_t start_ts,
             int attempt, SteadyTime deadline);
  ~TxnAttempt();  // stops its keepalives
  TxnAttempt(const TxnAttempt&) = delete;
  TxnAttempt& operator=(const TxnAttempt&) = delete;

  Transaction& handle() { return handle_; }

  // Transaction::Get, or GetForUpdate with `for_update`.
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key, bool for_update = false);
  // Transaction::GetMany.
  absl::StatusOr<std::vector<std::optional<std::string>>> GetMany(
      const std::vector<std::string>& keys, bool for_update);
  // Transaction::Scan (txn_scan.cc).
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Scan(std::string_view start,
                                                                        std::string_view end,
                                                                        size_t limit);
  void Put(std::string_view key, std::string_view value);
  void Delete(std::string_view key);
  void LimitCommitTimestamp(int64_t max_ts) {
    max_commit_ts_ = max_commit_ts_ == 0 ? max_ts : std::min(max_commit_ts_, max_ts);
  }

  // Commits what fn did (after fn returned OK). On error the attempt must be Aborted unless the
  // error IsOutcomeUnknown.
  absl::StatusOr<int64_t> Commit();
  // Best effort: tells every group touched to drop the transaction (the coordinator, once a
  // prepare was sent, logs an abort decision and informs the participants).
  void Abort();

  uint64_t id() const { return id_; }
  int64_t start_ts() const { return start_ts_; }
  int attempt() const { return attempt_; }

 private:
  proto::TxnRef Ref() const;
  // One locking read of keys[indexes] at `group`'s leader (0: the group the router finds for the
  // first key) into (*values)[indexes]; records the reads, or dooms the attempt.
  absl::Status ReadGroup(uint64_t group, const std::vector<std::string>& keys,
                         const std::vector<size_t>& indexes, bool for_update,
                         std::vector<std::optional<std::string>>* values);
  // Locates every written key and sets plan_.
  absl::Status Plan();
  // The Commit of `group`'s work in plan_ (no participants).
  proto::TxnCommitRequest CommitRequest(uint64_t group) const;
  // A commit through the one group involved.
  absl::StatusOr<int64_t> CommitOneGroup();
  // Two-phase commit: the participants' prepares and the coordinator's Commit.
  absl::StatusOr<int64_t> CommitTwoPhase();
  // The prepare of every group of plan_ but the coordinator, in group order.
  std::vector<PrepareCall> PrepareCalls() const;
  // The error that explains a failed two-phase commit best (an ABORTED first; an unconfirmed
  // prepare counts as ABORTED); OK when every prepare succeeded.
  static absl::Status FirstPrepareError(const std::vector<PrepareCall>& calls);
  // Best effort: aborts the transaction at the coordinator, naming the participants of `calls`.
  void AbortAtCoordinator(const std::vector<PrepareCall>& calls);

  TxnTransport* const transport_;
  KeepaliveSender* const keepalive_;
  const uint64_t id_;
  const int64_t start_ts_;
  const int attempt_;
  const SteadyTime deadline_;
  Transaction handle_{this};
  TxnBuffer buffer_;
  // The first error of a Get or Put: the attempt cannot commit.
  absl::Status doomed_;
  // Set by Commit: every group involved and, once a prepare was sent, the coordinator.
  std::map<uint64_t, TxnBuffer::GroupWork> plan_;
  std::optional<uint64_t> coordinator_;
  int64_t max_commit_ts_ = 0;  // LimitCommitTimestamp's; 0 = none
};

struct TxnEngineOptions {
  std::chrono::milliseconds backoff_initial{10};
  std::chrono::milliseconds backoff_max{1'000};
  std::chrono::milliseconds keepalive_interval{2'000};
  uint64_t seed = 1;
};

class TxnEngine {
 public:
  TxnEngine(TxnTransport* transport, const TxnEngineOptions& options);

  absl::StatusOr<int64_t> Run(const std::function<absl::Status(Transaction&)>& fn,
                              const TransactionOptions& options);
  absl::StatusOr<ReadResult> ReadOnly(const std::vector<std::string>& keys,
                                      const ReadOnlyOptions& options);
  // Client::BeginReadOnly (txn_scan.cc).
  absl::StatusOr<std::unique_ptr<ReadOnlyTransaction>> BeginReadOnly(
      const ReadOnlyOptions& options);

 private:
  uint64_t NewTxnId();
  Random ForkRandom();

  TxnTransport* const transport_;
  const TxnEngineOptions options_;
  // Mixed into every id so that clients with the same seed draw different ids.
  const uint64_t id_salt_;
  KeepaliveSender keepalive_;
  absl::Mutex mu_;
  Random random_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meridian::client

#endif  // MERIDIAN_CLIENT_SRC_TXN_ENGINE_H_
