// meridian::Client: the C++ SDK of Meridian. An application links meridian::client, connects to
// the placement driver and reads and writes single keys and key ranges.
//
//   auto client = meridian::Client::Connect({"127.0.0.1:7000"});
//   if (!client.ok()) ...
//   absl::Status s = (*client)->Put("greeting", "hello");
//   absl::StatusOr<std::optional<std::string>> v = (*client)->Get("greeting");
//
// Routing. The client caches where ranges live (range [start, end) -> group, generation, replica
// addresses, leader address), filled from placementd's Locate and GetTopology, and sends each call
// to the cached leader of the key's group. Placement calls go to the placement leader: a placement
// replica that is not the leader answers UNAVAILABLE with "meridian-leader" and the client
// follows it.
//
// Retries. Every call has one deadline (ClientOptions::deadline, counted from the call's start).
// Until it passes, the client retries with exponential backoff (seeded jitter) when:
//  - the server answered UNAVAILABLE with "meridian-leader" metadata: it is not the leader and
//    did not propose the write; the client retries at the named leader (or, when the value is
//    empty or names the same server, refreshes its cache and backs off);
//  - the server answered UNAVAILABLE with "meridian-stale-map": the cached range is stale; the
//    client refreshes it from placement and retries;
//  - the request was never sent: the connection to the server could not be established (refused,
//    unreachable, not ready within ClientOptions::attempt_timeout) or gRPC failed to pick a
//    connection ("failed to connect to all addresses");
//  - for reads (Get, Scan, topology) additionally on any other UNAVAILABLE, and on an attempt that
//    timed out (reads have a per-attempt timeout, ClientOptions::attempt_timeout).
// INVALID_ARGUMENT, FAILED_PRECONDITION and every other error are returned at once.
//
// Writes whose outcome is unknown. Put and Delete are retried ONLY in the cases listed above,
// where the write was certainly not proposed. A write that was sent and then failed without those
// markers — DEADLINE_EXCEEDED, a connection lost after sending, an UNAVAILABLE without
// "meridian-leader"/"meridian-stale-map" (e.g. the leader lost leadership after proposing), or
// CANCELLED — may or may not have been applied. It is returned at once, never as success, with
// its code (DEADLINE_EXCEEDED, UNAVAILABLE or CANCELLED), a message starting "outcome unknown",
// and IsOutcomeUnknown(status) true (meridian/errors.h; branch on that, not on the text).
// A write that ran out of deadline while every attempt was rejected before proposing is returned
// as UNAVAILABLE with a message saying it was not applied.
//
// Transactions. RunTransaction, Commit and ReadOnly are Meridian's transactions; their rules
// (retries of ABORTED transactions, "outcome unknown" commits, read timestamps) are in
// meridian/transaction.h.
//
// Batching. Put and Delete calls that threads make at once to one server share WriteBatch RPCs
// (ClientOptions::write_batches_in_flight); each write keeps its own result and the rules above.
// So threads of one process should share one Client.
//
// Thread safety: a Client is thread-safe; any number of threads may call it at once (calls run
// in parallel; the location cache and connections are shared under mutexes that are never held
// across an RPC). Destroy it only after every call has returned; the destructor also waits for
// write batches still in flight (a caller that gave up at its deadline leaves one behind).
#ifndef MERIDIAN_CLIENT_H_
#define MERIDIAN_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meridian/errors.h"
#include "meridian/transaction.h"

namespace meridian {

// Mutual TLS (docs/operations.md, "Mutual TLS"): PEM files of the cluster's CA and of this
// client's certificate and key, which the servers verify. An admin certificate (`meridian certs
// create-client --admin`) may also call the admin operations (RemoveServer, DrainServer, MoveRange,
// SplitRange, SetPolicy); another client's get PERMISSION_DENIED. Empty ca_cert_file: plaintext,
// which only servers started with --insecure accept.
struct ClientTlsOptions {
  std::string ca_cert_file;
  std::string cert_file;
  std::string key_file;
  // DIR/ca.crt with DIR/client.crt and DIR/client.key, as `meridian certs create-client` writes
  // them (DIR/node.crt and DIR/node.key instead when DIR holds a node's certificate).
  static ClientTlsOptions FromDir(const std::string& dir);
};

struct ClientOptions {
  // The deadline of each call, from its start, including every retry.
  std::chrono::milliseconds deadline{10'000};
  // The longest a connection attempt, and one attempt of a read, may take before the client
  // tries again (bounded by the call's deadline). Writes are never cut by it once sent.
  std::chrono::milliseconds attempt_timeout{2'000};
  // Exponential backoff between retries: starts at backoff_initial, doubles up to backoff_max;
  // each sleep is drawn uniformly from [delay/2, delay] with a generator seeded by `seed`.
  std::chrono::milliseconds backoff_initial{10};
  std::chrono::milliseconds backoff_max{1'000};
  // The cap of that backoff while a call looks for its group's leader (the leader is unreachable
  // or no replica knows one): an election ends about one lease after a leader dies, and a client
  // asleep for backoff_max then would add up to that to the outage. Lower caps cost more Locate
  // calls to placement while no leader is known.
  std::chrono::milliseconds leader_backoff_max{100};
  uint64_t seed = 1;
  // Put and Delete calls that run at once and go to one server share WriteBatch RPCs: a call goes
  // out at once while fewer than this many batches are in flight to its server, and otherwise
  // waits for one to finish and goes with the calls that waited with it. Each write in a batch
  // still commits, fails and is retried on its own (it is not a transaction). At least 1.
  int write_batches_in_flight = 2;
  ClientTlsOptions tls;
};

// A snapshot of the cluster as placementd sees it (Client::GetTopology).
struct ServerInfo {
  uint64_t id = 0;
  std::string zone;
  std::string address;
  bool alive = false;
  std::string peer_address;  // where its peers send Paxos messages (TCP); "" if not registered
  // Removed by an operator (Client::RemoveServer): never alive again, its id never reused.
  bool removed = false;
  // Being drained (Client::DrainServer): its replicas move elsewhere.
  bool draining = false;
};
// A replica that its server refuses to start (its Paxos state is missing or not its own).
struct ReplicaRefusal {
  uint64_t server = 0;
  std::string reason;
};
// A live replica's Paxos log as its server last reported it.
struct ReplicaLog {
  uint64_t server = 0;
  uint64_t entries = 0;  // slots after the log's compaction point
  bool installing_snapshot = false;
};
// Where a group's replicas and its leader go (Client::SetPolicy). Policies are per group: every
// range takes the policy of the group that holds it. The default (nothing set) is what a group
// nobody configured does: it keeps the replicas it has, in any zones, any leader.
struct Policy {
  int replicas = 0;                // 3 or 5, each in its own zone; 0: keep the number it has
  std::vector<std::string> zones;  // the zones its replicas may be in; empty: any
  std::string leader_zone;         // the zone its leader should be in; empty: any
};
struct GroupInfo {
  uint64_t id = 0;
  std::vector<uint64_t> replicas;  // server ids; the first is the preferred leader
  uint64_t leader = 0;             // server id, 0 when none is known
  std::vector<ReplicaRefusal> refusals;
  std::vector<ReplicaLog> logs;
  Policy policy = {};
};
// A server that placement refused to register (a new or wiped data directory at the address of a
// known server), while it keeps trying.
struct RegistrationRefusal {
  std::string address;
  std::string zone;
  uint64_t bound_server = 0;  // the known server the address belongs to
  std::string reason;
};
struct RangeInfo {
  std::string start;
  std::string end;  // exclusive; empty = +infinity
  uint64_t group = 0;
  uint64_t generation = 0;
  // Its data on disk as its group's leader last measured it (every few seconds; data still in
  // memory not counted); nullopt when not reported.
  std::optional<uint64_t> approx_bytes = std::nullopt;
};
// A range move or split that placement recorded and has not finished (Client::MoveRange,
// Client::SplitRange, Topology::moves).
struct RangeMove {
  enum class Kind { kMove, kSplit };
  uint64_t id = 0;
  Kind kind = Kind::kMove;
  std::string start;
  std::string end;  // exclusive; empty = +infinity
  uint64_t from_group = 0;
  uint64_t to_group = 0;    // kMove
  std::string split_key;    // kSplit: the range becomes [start, split_key) and [split_key, end)
  uint64_t generation = 0;  // of the range(s) it makes
  // kMove: the map names to_group already; from_group is erasing its old copy.
  bool switched = false;
  std::string phase;  // the step under way, as the placement leader reports it
};
// Client::MoveRange's to_group for a new group, placed by placement.
inline constexpr uint64_t kNewGroup = 0;

struct Topology {
  bool bootstrapped = false;
  std::string placement_leader;  // address
  std::vector<std::string> zones;
  std::vector<ServerInfo> servers;
  std::vector<GroupInfo> groups;
  std::vector<RangeInfo> ranges;
  std::vector<RegistrationRefusal> refused_registrations;
  std::vector<RangeMove> moves;  // in progress, by id
};

// A server's own report of its health (Client::GetServerHealth).
struct PeerClockInfo {
  uint64_t server = 0;
  int64_t offset_us = 0;  // that peer's clock minus this server's, as measured
  int64_t bound_us = 0;   // the measurement's half-width (half the round trip plus its error)
  bool fresh = false;     // measured recently enough to count
};
struct ServerHealth {
  uint64_t id = 0;
  std::string address;
  std::string clock_source;    // e.g. "fixed(epsilon=1000us)"
  int64_t clock_error_us = 0;  // the source's own error bound
  // How far TrueTime widens the source's interval (the larger side) to agree with a majority of
  // its peers' clocks.
  int64_t clock_widening_us = 0;
  // Non-empty: the server's TrueTime is unavailable, and why. It then serves nothing (no lease
  // votes, no leadership, no timestamps) until its clock agrees with its peers again.
  std::string clock_unavailable;
  std::vector<PeerClockInfo> peer_clocks;
  // placementd's clock against this server's, from the heartbeats (reported only).
  std::optional<PeerClockInfo> placement_clock;
  std::vector<std::pair<uint64_t, std::string>> fenced_groups;  // group, why
};
// Renders servers' health as a table (id, address, clock source, error, widening, the largest
// measured offset to a peer, serving or why not) and one line per fenced group.
std::string FormatServerHealth(const std::vector<ServerHealth>& servers);

// Renders a topology as aligned text tables (zones, servers with their replica counts, groups,
// ranges, moves in progress), then what needs an operator (refused registrations and replicas,
// groups running short of replicas); keys are escaped with EscapeBytes.
std::string FormatTopology(const Topology& topology);
// The "Needs an operator" part of FormatTopology alone: one "  - " line per item, "" when none.
std::string FormatAttention(const Topology& topology);

// Renders bytes for a terminal: printable ASCII as is, backslash as "\\", newline, tab and
// carriage return as "\n", "\t", "\r", every other byte as "\xHH".
std::string EscapeBytes(std::string_view bytes);

class Client {
 public:
  // Checks the options and prepares connections to `placement_addresses` (HOST:PORT each). No RPC
  // is made here: an unreachable cluster shows up in the first call. INVALID_ARGUMENT for an
  // empty list, an empty address or a non-positive deadline, attempt timeout or backoff.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(
      std::vector<std::string> placement_addresses, ClientOptions options = {});

  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Writes `value` at `key`: a transaction of one write (it waits for transactions that hold the
  // key's lock). See "Writes whose outcome is unknown" above. ABORTED: transactions on the key
  // kept wounding it (the server retries a few times first); nothing was written.
  absl::Status Put(std::string_view key, std::string_view value);
  // The latest value of `key`, or nullopt when it has none (a strong read-only transaction at the
  // leader: it sees every write and transaction that committed before the call).
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key);
  // Removes `key` (succeeds when it had no value too). Retries as Put does.
  absl::Status Delete(std::string_view key);
  // Up to `limit` (> 0) key/value pairs with start <= key < end, in key order; an empty `end`
  // means the end of the key space. A scan that crosses range boundaries continues in the next
  // range; each range is read at its own timestamp, so the result is not one snapshot.
  // INVALID_ARGUMENT when limit is 0 or end is non-empty and not after start.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Scan(std::string_view start,
                                                                        std::string_view end,
                                                                        size_t limit);
  // The cluster's topology from the placement leader; also refreshes the location cache.
  absl::StatusOr<Topology> GetTopology();
  // What the server at `address` (ServerInfo::address) reports of itself: its clock against its
  // peers' and its fenced groups. UNAVAILABLE when it cannot be reached.
  absl::StatusOr<ServerHealth> GetServerHealth(const std::string& address);
  // Admin: removes server `server_id`, whose data is lost for good, from the cluster. Its id is
  // never used again and its address is free for a new server; its groups keep running on their
  // other replicas. FAILED_PRECONDITION while the server is alive, NOT_FOUND for an unknown id;
  // removing a removed server succeeds.
  absl::Status RemoveServer(uint64_t server_id);
  // Moves every replica off a live server (admin), or with `cancel` lets it hold replicas again.
  // FAILED_PRECONDITION when its zone would be left without a server for its groups.
  absl::Status DrainServer(uint64_t server_id, bool cancel = false);
  // Admin: starts moving the range that holds `key` to group `to_group` — kNewGroup: a new group
  // with one replica per zone on the least loaded servers — and returns the move as recorded;
  // placement copies the range in the background and switches the map (GetTopology's `moves`
  // shows it until done). NOT_FOUND for an unknown group; FAILED_PRECONDITION when the range is
  // the group's already, is being moved or split, or no servers can host a new group. Calling
  // again while the same move is in progress returns it; with kNewGroup a second call fails
  // FAILED_PRECONDITION naming the move.
  absl::StatusOr<RangeMove> MoveRange(std::string_view key, uint64_t to_group);
  // Admin: starts splitting the range that holds `key` into [start, key) and [key, end), in the
  // same group, and returns the split as recorded. INVALID_ARGUMENT for an empty key;
  // FAILED_PRECONDITION when `key` is a range boundary already or the range is being moved.
  absl::StatusOr<RangeMove> SplitRange(std::string_view key);
  // Admin: sets the policy of the group that holds `key` — policies are per group, and every
  // range of that group takes it — and returns the group's id. The whole policy is set: a field
  // left at its default takes the default. Placement then adds or removes replicas (one per
  // zone), moves them into the allowed zones and moves the leader into leader_zone, one step at
  // a time. INVALID_ARGUMENT for replicas other than 0, 3 or 5, an empty or repeated zone, or a
  // leader zone that is not among `zones`; FAILED_PRECONDITION for a zone no server registered
  // in, or a policy the live servers cannot meet (N replicas need N allowed zones with a live
  // server that is not draining). Nothing changes when refused; setting it again is harmless.
  absl::StatusOr<uint64_t> SetPolicy(std::string_view key, const Policy& policy);

  // Runs `fn` as a read-write transaction and commits it; the commit timestamp (0 when fn
  // neither read nor wrote). fn may run several times (transaction.h "Retries").
  absl::StatusOr<int64_t> RunTransaction(const std::function<absl::Status(Transaction&)>& fn,
                                         TransactionOptions options = {});
  // Applies `mutations` atomically (a transaction without reads; the last write of a key wins).
  absl::StatusOr<int64_t> Commit(std::vector<Mutation> mutations, TransactionOptions options = {});
  // Reads `keys` at one timestamp without locks (transaction.h "Read-only transactions").
  // INVALID_ARGUMENT for no keys, an empty key or bad options.
  absl::StatusOr<ReadResult> ReadOnly(std::vector<std::string> keys, ReadOnlyOptions options = {});
  // A read-only transaction for several reads (Gets and Scans) at one timestamp, chosen now
  // (transaction.h ReadOnlyTransaction); `options.deadline` bounds each read. INVALID_ARGUMENT
  // for bad options. The transaction must not outlive this Client.
  absl::StatusOr<std::unique_ptr<ReadOnlyTransaction>> BeginReadOnly(ReadOnlyOptions options = {});

 private:
  class Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace meridian

#endif  // MERIDIAN_CLIENT_H_
