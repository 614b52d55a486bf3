// The gRPC client's TxnTransport::StartCommit: the first attempt of a Commit goes out at once, as
// an asynchronous RPC from the calling thread, to the leader the cache names (when its channel is
// connected), so that a Commit sent together with the prepares neither waits for a thread to
// start nor wakes one to answer. Finish() waits for that answer; when the attempt was not sent or
// must go elsewhere (another leader named, a stale map), it carries on with the full Commit().
//
// Thread safety: a pending commit belongs to the thread that started it.
#ifndef MERIDIAN_CLIENT_SRC_PENDING_COMMIT_H_
#define MERIDIAN_CLIENT_SRC_PENDING_COMMIT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "client/src/router.h"
#include "client/src/txn_engine.h"

namespace meridian::client {

class ConnectionPool;

// Starts the Commit of `request` at the leader of `group` (routed by `key`). `commit` runs the
// whole Commit with its retry rules (TxnTransport::Commit), for when the first attempt did not
// settle it. `router`, `pool`, `request` and `response` must outlive the pending commit.
std::unique_ptr<TxnTransport::PendingCommit> StartPendingCommit(
    Router& router, ConnectionPool& pool, std::function<absl::Status()> commit, uint64_t group,
    std::string key, proto::TxnCommitRequest& request, proto::TxnCommitResponse* response,
    SteadyTime deadline);

}  // namespace meridian::client

#endif  // MERIDIAN_CLIENT_SRC_PENDING_COMMIT_H_
