// The write path of Put and Delete: every attempt of a single-key write goes through the write
// lanes (write_lanes.h), so the writes that threads make at once to one server share WriteBatch
// RPCs, and each still gets its own result, as a call of its own would have. Router::Call routes
// and retries the attempts; LaneWriter only sends them.
//
// Thread safety: thread-safe. The destructor waits for the batches still in flight (their
// callbacks use the LaneWriter); each ends by its deadline at the latest.
#ifndef MERIDIAN_CLIENT_SRC_LANE_WRITER_H_
#define MERIDIAN_CLIENT_SRC_LANE_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "client/src/retry_policy.h"
#include "client/src/router.h"
#include "client/src/write_lanes.h"

namespace meridian::proto {
class KvWrite;
}  // namespace meridian::proto

namespace meridian::client {

class ConnectionPool;

class LaneWriter {
 public:
  // At most `batches_in_flight` WriteBatch RPCs at once per server. `pool` outlives the writer.
  LaneWriter(int batches_in_flight, ConnectionPool* pool);
  ~LaneWriter();
  LaneWriter(const LaneWriter&) = delete;
  LaneWriter& operator=(const LaneWriter&) = delete;

  // One attempt of `write` at `address`, in the next WriteBatch to that server. Waits for the
  // answer until `deadline`: a write still queued then was never sent (sent = false), one in
  // flight has an unknown outcome (DEADLINE_EXCEEDED, sent).
  AttemptResult Write(const std::string& address, const proto::KvWrite& write, SteadyTime deadline);

 private:
  struct PendingWrite;
  struct Flight;
  struct FlightCount;

  // Sends the writes of `batch` in one WriteBatch; its callback hands each write its result and
  // sends the lane's next batch.
  void SendBatch(WriteLanes::Batch batch);
  // The RPC of `batch`: its writes, taken off the queue, with the latest of their deadlines.
  std::unique_ptr<Flight> Board(WriteLanes::Batch batch);
  // A batch to `address` finished: sends the writes that waited for it, if any.
  void SendNext(const std::string& address);

  ConnectionPool* const pool_;
  absl::Mutex mu_;
  WriteLanes lanes_ ABSL_GUARDED_BY(mu_);
  // The writes the lanes queue, by ticket, until they go out in a batch.
  absl::flat_hash_map<uint64_t, std::shared_ptr<PendingWrite>> queued_ ABSL_GUARDED_BY(mu_);
  uint64_t next_ticket_ ABSL_GUARDED_BY(mu_) = 1;
  // Shared with the batch callbacks, so that the last one to finish owns its mutex until it is
  // done with it (see ~LaneWriter).
  const std::shared_ptr<FlightCount> flights_;
};

}  // namespace meridian::client

#endif  // MERIDIAN_CLIENT_SRC_LANE_WRITER_H_
