// The prepare fan-out of a two-phase commit: the first attempt of every participant's Prepare goes
// out at once, asynchronously, from the calling thread, to the cached leader over a connected
// channel. The calls whose leaders are on one server travel in PrepareBatch RPCs (one per server,
// split past a size limit); a call alone at its server is a Prepare. So a many-group commit
// reaches its participants together, without a thread per participant.
//
// A call without a cached leader, or whose first attempt did not settle it (another leader named,
// a stale map, not sent, a server without PrepareBatch), is handed back for Prepare() with its
// full retry rules. A Prepare sent twice is harmless: the participant answers a duplicate with its
// first prepare timestamp.
//
// Thread safety: one fan-out runs on its caller's thread (gRPC's callbacks only count down); any
// number may run at once.
#ifndef MERIDIAN_CLIENT_SRC_PREPARE_FANOUT_H_
#define MERIDIAN_CLIENT_SRC_PREPARE_FANOUT_H_

#include <cstddef>
#include <functional>
#include <vector>

#include "client/src/router.h"
#include "client/src/txn_engine.h"

namespace meridian::client {

class ConnectionPool;

// Sends the first attempt of every call of `calls` and waits for their answers (until `deadline`
// at the latest). `sent`, when given, runs once every first attempt is on its way. Returns the
// indexes, ascending, of the calls that still need Prepare(); every other call has its status
// (as Prepare() would return it) and, when OK, its response.
std::vector<size_t> SendFirstPrepares(Router& router, ConnectionPool& pool,
                                      std::vector<PrepareCall>& calls, SteadyTime deadline,
                                      const std::function<void()>& sent);

}  // namespace meridian::client

#endif  // MERIDIAN_CLIENT_SRC_PREPARE_FANOUT_H_
