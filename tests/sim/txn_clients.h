// TxnClients: the clients of the transaction workloads. Each client runs one transaction at a
// time, as the workload's planner describes it (TxnPlan), against the simulated groups:
//   * read-write: start timestamp = the client's own TT.now().latest (its priority, kept across
//     retries); Read at each group's leader (as the client believes it) under S locks, keepalives
//     to every group touched while the transaction is open; the planner turns the values read
//     into buffered writes (or refuses: abort, no retry); then commit: one group -> Commit with
//     no participants; several -> a random coordinator among them, Prepare at every other group
//     (its writes and the keys read there), Commit at the coordinator with the prepare
//     timestamps. ABORTED (or RESOURCE_EXHAUSTED, or a read/prepare that found no leader)
//     anywhere -> Abort to every touched group (the coordinator flag to the coordinator) and a
//     retry of the whole transaction with the same start timestamp and a new id, a bounded
//     number of times. A Commit that times out or answers UNAVAILABLE is recorded unknown and
//     never retried.
//   * read-only: all keys in one group -> ReadOnly at its leader (or, sometimes, a snapshot
//     read); else s_read = the client's TT.now().latest, or a random older timestamp (stale
//     reads), and SnapshotRead at a random replica of each group, retried at another replica
//     on UNAVAILABLE/DEADLINE_EXCEEDED.
// Calls to a node retry on UNAVAILABLE at the replica's leader hint (or a random replica) and on
// timeouts, with growing backoff. Range moves: each client routes every key by its own copy of
// the range map (range_map.h), which may be stale; a "stale map" refusal (txn::IsStaleMap) ends
// the call at once and refreshes the client's copy from the authoritative map: a read-write
// transaction aborts and retries (its keys routed anew), a read-only one starts again (both
// bounded by max_txn_attempts), a Commit's outcome is unknown as on any UNAVAILABLE. Sometimes a
// client vanishes mid-transaction (no Abort, no more keepalives): its locks must expire and its
// prepared participants must ask the coordinator; a fresh client takes its place later.
//
// Seed: plan choices come from the planner with the clients' Random; clocks, targets, backoffs,
// vanishing from that Random too. Workload: bank and append plans. Faults: messages travel
// through the faulty network (dropped, duplicated, delayed, cut). Checkers: one TxnRecord per
// transaction, the writes of every attempt that reached the commit phase. Bounded: one
// transaction per client, attempts capped, every call times out. Thread safety: none.
#ifndef MERIDIAN_TESTS_SIM_TXN_CLIENTS_H_
#define MERIDIAN_TESTS_SIM_TXN_CLIENTS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/random.h"
#include "tests/sim/txn_checkers.h"
#include "tests/sim/txn_cluster.h"
#include "tests/sim/txn_history.h"
#include "tests/sim/txn_swarm.h"
#include "truetime/truetime.h"

namespace meridian::sim {

// One transaction as a workload wants it run.
struct TxnPlan {
  bool read_only = false;
  std::string label;
  uint64_t tag = 0;               // the workload's handle, copied into the TxnRecord
  std::vector<std::string> keys;  // read-write: read first, under locks; read-only: read
  // Read-write only: the writes to buffer, given the values read; nullopt refuses (the client
  // aborts and does not retry).
  std::function<std::optional<KeyValues>(const KeyValues& reads)> decide;
};

struct TxnCounts {
  uint64_t committed = 0, failed = 0, unknown = 0, aborts = 0;  // read-write
  uint64_t read_only_ok = 0, read_only_failed = 0, vanished = 0;
  std::string ToString() const;
};

class TxnClients {
 public:
  using Planner = std::function<TxnPlan(Random& rng)>;

  // The clients start with the cluster's map (TxnCluster::SetInitialMap first).
  TxnClients(TxnCluster* cluster, const TxnSwarmParams& params, Random rng, Planner planner);

  // Runs `setup` (if any) on client 0 until it commits, then starts every client.
  void Start(std::optional<TxnPlan> setup);
  // Clients finish their current transaction but start no new one.
  void StopNewTxns() { stopped_ = true; }
  bool Idle() const;
  // True when a read-write transaction invoked at or after `t` that wrote in group `g` committed.
  bool CommittedSince(paxos::GroupId g, TrueUs t) const;
  bool setup_done() const { return setup_done_; }
  // A move's map switch (`ingest_ts`: the timestamps of the copies' Ingest records at the new
  // group): probe reads at each replica of the new group that lags (down, or not yet applied the
  // adoption), and at each other one with probability TxnSwarmParams::follower_read_p —
  // snapshot reads of the range's keys just below one of ingest_ts, at that replica (retries
  // too), by clients of their own (they run nothing else). A replica that serves such a read
  // before it applied the copies lacks versions; the range checks must make it wait for the
  // adoption. The plan comes from the probe planner (none: no probes).
  using ProbePlanner = std::function<std::optional<TxnPlan>(const SimRange& range)>;
  void set_probe_planner(ProbePlanner planner) { probe_planner_ = std::move(planner); }
  void Probe(const SimRange& range, const std::vector<txn::Timestamp>& ingest_ts);

  const std::vector<TxnRecord>& records() const { return records_; }
  const AttemptMap& attempt_writes() const { return attempt_writes_; }
  const TxnCounts& counts() const { return counts_; }

 private:
  enum class Phase : uint8_t { kIdle, kReading, kPreparing, kCommitting, kBackoff, kReadOnly };
  struct Client {
    Addr addr = 0;
    std::unique_ptr<truetime::TrueTime> tt;
    std::map<paxos::GroupId, Addr> hint;  // whom it believes leads each group
    RangeMap map;                         // where it believes each key lives
    uint64_t gen = 0;                     // bumps when it vanishes: late callbacks are ignored
    Phase phase = Phase::kIdle;
    bool setup = false;
    size_t record = 0;
    TxnPlan plan;
    txn::TxnRef ref;
    int attempt = 0;
    std::map<paxos::GroupId, std::vector<std::string>> reads;     // keys read, per group
    std::map<paxos::GroupId, std::vector<txn::Mutation>> writes;  // buffered writes, per group
    std::set<paxos::GroupId> touched;
    paxos::GroupId coordinator = 0;
    KeyValues values;
    KeyValues buffered;
    std::vector<txn::ParticipantRef> prepared;
    size_t outstanding = 0;
    txn::Timestamp read_ts = 0;
    // This attempt's Commit went out with its prepares (TxnSwarmParams::concurrent_commit_p):
    // the Commit's answer is the outcome, whatever the prepares answer.
    bool concurrent_commit = false;
    Addr probe_at = -1;           // a probe client's target (Probe); -1: an ordinary client
    txn::Timestamp probe_ts = 0;  // and its read timestamp
  };
  enum class CallEnd : uint8_t { kReply, kGaveUp, kUnknown };
  struct CallResult {
    CallEnd end = CallEnd::kReply;
    txn::Reply reply;
    std::string why;
  };
  struct Call {
    size_t client = 0;
    paxos::GroupId group = 0;
    TxnRequest request;
    bool leader = true;   // to the leader (follow hints) or to any replica
    Addr at = -1;         // the first try goes to this node (a probe's target)
    bool commit = false;  // a timeout or UNAVAILABLE makes the outcome unknown
    int attempts_left = 1;
    int attempt = 0;
    Addr addr = 0;
    uint64_t seq = 0;
    std::function<void(const CallResult&)> done;
  };

  void AddClient();
  truetime::Interval Now(Client& c);
  paxos::GroupId GroupOf(size_t c, const std::string& key) const {
    return clients_[c].map.GroupOf(key);
  }
  void Next(size_t c, int64_t delay_us);
  void Begin(size_t c, TxnPlan plan);
  void Attempt(size_t c);
  void OnRead(size_t c, paxos::GroupId g, const std::vector<std::string>& keys,
              const CallResult& r);
  void Decide(size_t c);
  void SendCommit(size_t c);
  void OnCommit(size_t c, const CallResult& r);
  void AbortAndRetry(size_t c, const std::string& why);
  void SendAborts(size_t c);
  void Keepalives(size_t c, uint64_t gen, txn::TxnId txn);
  void ReadOnly(size_t c);
  // A read-only transaction's read failed: starts it again after a stale map (bounded), else
  // records the failure.
  void ReadOnlyFailed(size_t c, paxos::GroupId g, const CallResult& r);
  bool MaybeVanish(size_t c, const char* where);
  void Finish(size_t c, TxnOutcome outcome, txn::Timestamp ts, const std::string& note);
  // The callback guard: still the same incarnation of the client working on `txn`.
  bool Live(size_t c, uint64_t gen, txn::TxnId txn, Phase phase) const;

  void StartCall(Call call);
  void Send(uint64_t id);
  void OnReply(uint64_t id, uint64_t seq, Addr from, const txn::Reply& r, paxos::ReplicaId hint);
  void OnTimeout(uint64_t id, uint64_t seq);
  void RetryCall(uint64_t id, const std::string& why, Addr next);
  void EndCall(uint64_t id, CallResult result);
  Addr RandomNode(paxos::GroupId g, Addr other);

  TxnCluster* const cluster_;
  const TxnSwarmParams params_;
  Random rng_;
  const Planner planner_;
  bool stopped_ = false;
  bool setup_done_ = false;
  std::vector<Client> clients_;
  std::vector<TxnRecord> records_;
  AttemptMap attempt_writes_;
  std::map<paxos::GroupId, TrueUs> last_commit_invoke_;
  ProbePlanner probe_planner_;
  TxnCounts counts_;
  txn::TxnId next_txn_ = 0;
  uint64_t next_call_ = 1;
  uint64_t next_seq_ = 1;
  std::map<uint64_t, Call> calls_;
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_TXN_CLIENTS_H_
