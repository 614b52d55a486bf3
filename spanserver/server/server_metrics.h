// The spanserver's metrics beyond what its libraries count themselves (GroupHost: Paxos rounds,
// leader changes, leases; the group-commit writer: storage writes; TxnTablet: safe-time lag,
// lock waits):
//  - the transaction RPCs' outcomes (commits, aborts by the stage they surfaced at, commit latency
//    and the commit wait the coordinator's reply spent), and single-key writes through Kv;
//  - per-group gauges read from GroupHost::state() at scrape time (role, applied index, log
//    length, snapshot installs, fenced), and the bytes of the data directory (per server: LevelDB
//    keeps every group in one database, so a per-group figure is not cheap; placementd's
//    meridian_placement_group_bytes has LevelDB's estimate per group).
//
// Thread safety: the functions are thread-safe (atomics); a collector handle's destruction waits
// for a scrape that runs it.
#ifndef MERIDIAN_SPANSERVER_SERVER_SERVER_METRICS_H_
#define MERIDIAN_SPANSERVER_SERVER_SERVER_METRICS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/metrics.h"
#include "replication/group_host.h"
#include "txn/types.h"

namespace meridian::spanserver {

// Where in a transaction an ABORTED answer surfaced (its label `stage`).
enum class TxnStage { kRead, kPrepare, kCommit };

// A transaction RPC's answer: counts an ABORTED one.
void CountTxnAnswer(TxnStage stage, const absl::Status& status);
// The coordinator's answer to a Commit received at `received`: a commit (with its latency and
// commit wait) or an abort.
void CountCommitAnswer(std::chrono::steady_clock::time_point received, const txn::Reply& reply);
// A single-key write (Kv Put, Delete, or an item of a WriteBatch) that committed.
void CountWriteCommitted();
// Snapshot installs (progress): `bytes` of keys and values written from a fetched chunk; a
// snapshot fetched whole.
void CountSnapshotBytes(size_t bytes);
void CountSnapshotFetched();
// Group messages dropped because their sending server is not a member of their sending group
// (group_message_gate.h).
void CountGroupMessagesRefused(uint64_t n);

using HostsFn =
    std::function<std::vector<std::pair<uint64_t, std::shared_ptr<replication::GroupHost>>>()>;
// Registers the per-group gauges over the hosts `hosts` returns and the size of `data_dir`, in
// the default registry, until the handles are destroyed.
std::vector<std::unique_ptr<metrics::Registry::CollectorHandle>> RegisterServerCollectors(
    HostsFn hosts, std::string data_dir);

}  // namespace meridian::spanserver

#endif  // MERIDIAN_SPANSERVER_SERVER_SERVER_METRICS_H_
