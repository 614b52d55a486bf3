#include "spanserver/server/server_metrics.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "spanserver/paxos/replica.h"

namespace meridian::spanserver {
namespace {

metrics::Registry& Registry() { return metrics::DefaultRegistry(); }

constexpr char kAbortsHelp[] =
    "Transaction requests answered ABORTED (the client retries the whole transaction), by the "
    "stage the abort surfaced at: read (a locking read wounded or refused), prepare, commit.";

constexpr char kCommitsHelp[] =
    "Commits acknowledged by this server: kind=\"txn\" read-write transactions it coordinated, "
    "kind=\"write\" single-key writes (Kv Put, Delete, WriteBatch items).";

// Registered together, so that a scrape shows every one (at 0) before the first request.
struct ServerCounters {
  metrics::Counter& read_aborts =
      Registry().AddCounter("meridian_txn_aborts_total", kAbortsHelp, {{"stage", "read"}});
  metrics::Counter& prepare_aborts =
      Registry().AddCounter("meridian_txn_aborts_total", kAbortsHelp, {{"stage", "prepare"}});
  metrics::Counter& commit_aborts =
      Registry().AddCounter("meridian_txn_aborts_total", kAbortsHelp, {{"stage", "commit"}});
  metrics::Counter& txn_commits =
      Registry().AddCounter("meridian_commits_total", kCommitsHelp, {{"kind", "txn"}});
  metrics::Counter& write_commits =
      Registry().AddCounter("meridian_commits_total", kCommitsHelp, {{"kind", "write"}});
  metrics::Histogram& commit_latency = Registry().AddHistogram(
      "meridian_commit_latency_seconds",
      "Read-write transaction commits at their coordinator, from the Commit request's arrival "
      "to its acknowledgement (locks, Paxos, 2PC with the participants, commit wait).",
      metrics::LatencyBuckets());
  metrics::Histogram& commit_wait = Registry().AddHistogram(
      "meridian_commit_wait_seconds",
      "Commit wait after the commit record applied at the coordinator, until TT.after(s): the "
      "part the Paxos round did not hide (0 when it hid all of it).",
      metrics::LatencyBuckets());

  metrics::Counter& snapshot_bytes = Registry().AddCounter(
      "meridian_snapshot_bytes_received_total",
      "Bytes of keys and values this server's replicas received in snapshots from their leaders "
      "(it grows while meridian_group_installing_snapshot is 1).");
  metrics::Counter& snapshots = Registry().AddCounter(
      "meridian_snapshots_fetched_total", "Snapshots this server's replicas fetched whole.");

  metrics::Counter& group_messages_refused = Registry().AddCounter(
      "meridian_group_messages_refused_total",
      "Transaction group messages from a peer server dropped because that server does not host "
      "a replica of the group the message claims to come from (checked again at the next "
      "topology before the drop).");

  metrics::Counter& Aborts(TxnStage stage) {
    switch (stage) {
      case TxnStage::kRead:
        return read_aborts;
      case TxnStage::kPrepare:
        return prepare_aborts;
      case TxnStage::kCommit:
        return commit_aborts;
    }
    return commit_aborts;
  }
};

ServerCounters& Counters() {
  static ServerCounters* const counters = new ServerCounters();
  return *counters;
}

double Seconds(int64_t us) { return static_cast<double>(us) / 1e6; }

std::vector<metrics::Sample> PerGroup(
    const HostsFn& hosts, const std::function<double(const replication::GroupState&)>& value) {
  std::vector<metrics::Sample> samples;
  for (const auto& [group, host] : hosts()) {
    samples.push_back({{{"group", std::to_string(group)}}, value(host->state())});
  }
  return samples;
}

// The bytes of the files under `dir` (LevelDB's tables and logs, the identity file).
double DirectoryBytes(const std::string& dir) {
  std::error_code error;
  uint64_t bytes = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (it->is_regular_file(error)) bytes += it->file_size(error);
  }
  return static_cast<double>(bytes);
}

}  // namespace

void CountTxnAnswer(TxnStage stage, const absl::Status& status) {
  if (absl::IsAborted(status)) Counters().Aborts(stage).Increment();
}

void CountCommitAnswer(std::chrono::steady_clock::time_point received, const txn::Reply& reply) {
  CountTxnAnswer(TxnStage::kCommit, reply.status);
  if (!reply.status.ok()) return;
  Counters().txn_commits.Increment();
  Counters().commit_latency.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count());
  Counters().commit_wait.Observe(Seconds(reply.commit_wait_us));
}

void CountWriteCommitted() { Counters().write_commits.Increment(); }

void CountSnapshotBytes(size_t bytes) { Counters().snapshot_bytes.Increment(bytes); }

void CountSnapshotFetched() { Counters().snapshots.Increment(); }

void CountGroupMessagesRefused(uint64_t n) { Counters().group_messages_refused.Increment(n); }

std::vector<std::unique_ptr<metrics::Registry::CollectorHandle>> RegisterServerCollectors(
    HostsFn hosts, std::string data_dir) {
  using metrics::Type;
  Counters();
  std::vector<std::unique_ptr<metrics::Registry::CollectorHandle>> handles;
  auto gauge = [&](const char* name, const char* help,
                   std::function<double(const replication::GroupState&)> value) {
    handles.push_back(Registry().AddCollector(
        name, help, Type::kGauge,
        [hosts, value = std::move(value)] { return PerGroup(hosts, value); }));
  };
  gauge("meridian_group_leader", "1 when this server's replica of the group leads it with a lease.",
        [](const replication::GroupState& s) {
          return s.role == paxos::Role::kLeader && s.has_lease ? 1.0 : 0.0;
        });
  gauge("meridian_group_applied_index", "The last Paxos slot this replica applied, per group.",
        [](const replication::GroupState& s) { return static_cast<double>(s.applied); });
  gauge("meridian_group_log_entries",
        "Paxos log entries this replica keeps (last slot minus the compaction point), per group.",
        [](const replication::GroupState& s) {
          return static_cast<double>(s.last_index - std::min(s.last_index, s.compacted));
        });
  gauge("meridian_group_installing_snapshot",
        "1 while this replica fetches or installs a snapshot from its leader, per group.",
        [](const replication::GroupState& s) { return s.installing_snapshot ? 1.0 : 0.0; });
  gauge("meridian_group_fenced",
        "1 while this replica is fenced (serves nothing of the group until the server restarts: "
        "an entry it cannot apply, or failed storage; the reason is in the server's status), per "
        "group.",
        [](const replication::GroupState& s) { return s.fenced.empty() ? 0.0 : 1.0; });
  handles.push_back(Registry().AddCollector(
      "meridian_server_disk_bytes",
      "Bytes of this server's data directory (every group's data and Paxos logs: one LevelDB).",
      Type::kGauge, [data_dir = std::move(data_dir)] {
        return std::vector<metrics::Sample>{{{}, DirectoryBytes(data_dir)}};
      }));
  return handles;
}

}  // namespace meridian::spanserver
