// GroupCommitWriter: merges the writes of many callers (all tablets and Paxos groups of a
// spanserver) into one LevelDB write and one PaxosLog write, so one fsync makes a whole round of
// every group durable.
//
// A caller's write is a Round: a WriteBatch for LevelDB (MVCC data and group records) and a
// PaxosLogBatch for the Paxos log, each with its own sync flag (a Paxos round syncs its log; the
// data it applies is written without sync, as the log can replay it, except when it carries a
// checkpoint). One writer thread loops: it takes every round pending (up to max_group_bytes, at
// least one), merges their data and their log records in submission order, writes the data
// (synced if any of them asked for it) and then the log (likewise), and then runs every callback
// with the status. Submission order is write order, so a later write to a key wins over an
// earlier one's; and a round's data is written before its log records, so a checkpoint is durable
// before the log compaction that relies on it.
//
// Staging: Stage() admits a batch like Submit() but holds it back until Flush(), so that a caller
// that is about to produce more batches (the io thread, stepping many groups in a row) can hand
// them all to one write instead of having the writer, woken by the first, write it alone and the
// rest after another fsync. Staged batches enter the queue, in staging order, at Flush() (or at
// Shutdown, which writes them too).
//
// Flow control: the batches submitted and not yet completed are limited to max_pending_batches
// and max_pending_bytes (a single batch larger than the byte limit is admitted when nothing else
// is pending). Submit() never blocks: beyond the limit it returns RESOURCE_EXHAUSTED and does not
// run the callback. Write() blocks until there is room and the batch is written.
//
// A failed write fails the writer for good: every batch queued after it completes with the
// error of that write (`failure()`), without being written. LevelDB may keep part of a failed
// write in its log, a sync that failed may have lost pages of earlier writes, and after
// fsync(2) reports a write-back error once it may report success for the same lost pages: so
// nothing written after a failure could be trusted to be durable. The server restarts to
// recover (LevelDB's recovery reads what reached the disk).
//
// Shutdown() (or the destructor) refuses new batches with FAILED_PRECONDITION, lets the writer
// drain and complete everything already accepted, and joins the thread.
//
// Thread safety: Submit, Write and stats are thread-safe. Callbacks run on the writer thread, one
// after another; they must be short and must not call Write() or Shutdown() (they would wait for
// the thread that runs them). Submit() from a callback is fine. Shutdown must not race with the
// destructor.
#ifndef MERIDIAN_SPANSERVER_STORAGE_GROUP_COMMIT_WRITER_H_
#define MERIDIAN_SPANSERVER_STORAGE_GROUP_COMMIT_WRITER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/paxos_log.h"
#include "spanserver/storage/write_batch.h"

namespace meridian::storage {

struct GroupCommitOptions {
  size_t max_pending_batches = 4096;
  size_t max_pending_bytes = 64 << 20;
  // Upper bound on one merged LevelDB write (its latency grows with its size).
  size_t max_group_bytes = 4 << 20;
};

class GroupCommitWriter {
 public:
  using Callback = std::function<void(absl::Status)>;

  struct Stats {
    uint64_t batches = 0;                // caller batches completed
    uint64_t leveldb_writes = 0;         // merged writes issued
    uint64_t synced_leveldb_writes = 0;  // of which with sync
    uint64_t log_writes = 0;             // merged PaxosLog writes issued
    uint64_t synced_log_writes = 0;      // of which with sync
    uint64_t bytes = 0;                  // serialized bytes written
    uint64_t flushes = 0;                // Flush() calls that queued staged batches
  };

  // What one caller writes.
  struct Round {
    WriteBatch data;
    bool sync_data = false;
    PaxosLogBatch log;  // needs the writer to have a PaxosLog
    bool sync_log = false;
  };

  // `engine` and `log` are not owned and must outlive the writer; `log` may be null when no
  // caller writes Paxos log records. Starts the writer thread.
  explicit GroupCommitWriter(Engine* engine, GroupCommitOptions options = {})
      : GroupCommitWriter(engine, nullptr, options) {}
  GroupCommitWriter(Engine* engine, PaxosLog* log, GroupCommitOptions options = {});

  PaxosLog* paxos_log() const { return log_; }
  ~GroupCommitWriter();
  GroupCommitWriter(const GroupCommitWriter&) = delete;
  GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;

  // Queues `batch`. On OK, `done` runs exactly once, on the writer thread, with the status of the
  // LevelDB write that carried the batch (durable when it is OK and `sync` was asked). Otherwise
  // `done` never runs and `batch` is left as it was (to be submitted again): RESOURCE_EXHAUSTED
  // when the queue is full, FAILED_PRECONDITION after Shutdown.
  absl::Status Submit(WriteBatch&& batch, bool sync, Callback done);

  // Submit(), except that the batch waits in the staging area until Flush(). On OK, returns true
  // when the staging area was empty, i.e. the caller must arrange for Flush() to be called
  // (others staged meanwhile then ride along).
  absl::StatusOr<bool> Stage(WriteBatch&& batch, bool sync, Callback done);
  // Stage() for a Round. A round with log records on a writer without a PaxosLog is refused
  // with FAILED_PRECONDITION.
  absl::StatusOr<bool> StageRound(Round&& round, Callback done);
  // Queues every staged batch, in staging order, and wakes the writer.
  void Flush();

  // Queues `batch`, waiting for room, and returns once it is written: the write's status, or
  // FAILED_PRECONDITION after Shutdown.
  absl::Status Write(WriteBatch batch, bool sync);
  // Write() for a Round.
  absl::Status WriteRound(Round round);

  // Idempotent. See the file comment.
  void Shutdown();
  // OK until a write fails; then that write's error, for good (see the file comment).
  absl::Status failure() const;
  // failure() is not OK; cheap (for every timer tick of every group).
  bool failed() const { return failed_.load(std::memory_order_acquire); }

  Stats stats() const;

 private:
  struct Pending {
    Round round;
    size_t bytes = 0;
    Callback done;
  };
  // Writes one merged group of rounds: the data, then the log.
  absl::Status WriteGroup(std::vector<Pending>& group, bool* data_written, bool* data_synced,
                          bool* log_written, bool* log_synced);

  // Whether a batch of `bytes` may be queued now (waiting for room when asked): OK, or why not.
  absl::Status Admit(size_t bytes, bool wait_for_room) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Counts `pending` as accepted and appends it to the staging area or the queue.
  void Push(Pending pending, bool staged) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FlushLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool HasRoom(size_t bytes) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Run();

  Engine* const engine_;
  PaxosLog* const log_;
  const GroupCommitOptions options_;

  mutable absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  std::deque<Pending> staged_ ABSL_GUARDED_BY(mu_);  // admitted, not yet queued
  // Batches (and their bytes) accepted and not yet completed: queued or being written.
  size_t pending_batches_ ABSL_GUARDED_BY(mu_) = 0;
  size_t pending_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> failed_{false};  // set with failure_
  Stats stats_ ABSL_GUARDED_BY(mu_);

  std::thread thread_;  // started last in the constructor
};

}  // namespace meridian::storage

#endif  // MERIDIAN_SPANSERVER_STORAGE_GROUP_COMMIT_WRITER_H_
