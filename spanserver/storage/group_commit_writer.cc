#include "spanserver/storage/group_commit_writer.h"

#include <pthread.h>

#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/metrics.h"
#include "common/status_macros.h"

namespace meridian::storage {
namespace {

// The merged LevelDB writes' latency; a synced one is the fsync that makes a round durable.
metrics::Histogram& WriteSeconds(bool synced) {
  static constexpr char kName[] = "meridian_storage_write_seconds";
  static constexpr char kHelp[] =
      "Latency of the group-commit writer's LevelDB writes (synced=\"true\": with fsync, what "
      "every Paxos round that persists waits for).";
  static metrics::Histogram& synced_writes = metrics::DefaultRegistry().AddHistogram(
      kName, kHelp, metrics::LatencyBuckets(), {{"synced", "true"}});
  static metrics::Histogram& unsynced_writes = metrics::DefaultRegistry().AddHistogram(
      kName, kHelp, metrics::LatencyBuckets(), {{"synced", "false"}});
  return synced ? synced_writes : unsynced_writes;
}

}  // namespace

GroupCommitWriter::GroupCommitWriter(Engine* engine, PaxosLog* log, GroupCommitOptions options)
    : engine_(engine), log_(log), options_(options), thread_([this] { Run(); }) {}

GroupCommitWriter::~GroupCommitWriter() { Shutdown(); }

void GroupCommitWriter::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

GroupCommitWriter::Stats GroupCommitWriter::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

bool GroupCommitWriter::HasRoom(size_t bytes) const {
  if (pending_batches_ == 0) return true;
  return pending_batches_ < options_.max_pending_batches &&
         pending_bytes_ + bytes <= options_.max_pending_bytes;
}

absl::Status GroupCommitWriter::Submit(WriteBatch&& batch, bool sync, Callback done) {
  const size_t bytes = batch.ApproximateBytes();
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Admit(bytes, /*wait_for_room=*/false));
  Round round;
  round.data = std::move(batch);
  round.sync_data = sync;
  Push(Pending{std::move(round), bytes, std::move(done)}, /*staged=*/false);
  return absl::OkStatus();
}

absl::StatusOr<bool> GroupCommitWriter::Stage(WriteBatch&& batch, bool sync, Callback done) {
  Round round;
  round.data = std::move(batch);
  round.sync_data = sync;
  absl::StatusOr<bool> staged = StageRound(std::move(round), std::move(done));
  if (!staged.ok()) batch = std::move(round.data);  // left as it was, to be submitted again
  return staged;
}

absl::StatusOr<bool> GroupCommitWriter::StageRound(Round&& round, Callback done) {
  if (log_ == nullptr && !round.log.empty()) {
    return absl::FailedPreconditionError("this group-commit writer has no Paxos log");
  }
  const size_t bytes = round.data.ApproximateBytes() + round.log.bytes();
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Admit(bytes, /*wait_for_room=*/false));
  Push(Pending{std::move(round), bytes, std::move(done)}, /*staged=*/true);
  return staged_.size() == 1;
}

void GroupCommitWriter::Flush() {
  absl::MutexLock lock(&mu_);
  FlushLocked();
}

void GroupCommitWriter::FlushLocked() {
  if (staged_.empty()) return;
  ++stats_.flushes;
  for (Pending& p : staged_) queue_.push_back(std::move(p));
  staged_.clear();
}

absl::Status GroupCommitWriter::Write(WriteBatch batch, bool sync) {
  Round round;
  round.data = std::move(batch);
  round.sync_data = sync;
  return WriteRound(std::move(round));
}

absl::Status GroupCommitWriter::WriteRound(Round round) {
  if (log_ == nullptr && !round.log.empty()) {
    return absl::FailedPreconditionError("this group-commit writer has no Paxos log");
  }
  absl::Notification written;
  absl::Status result;
  const size_t bytes = round.data.ApproximateBytes() + round.log.bytes();
  {
    absl::MutexLock lock(&mu_);
    RETURN_IF_ERROR(Admit(bytes, /*wait_for_room=*/true));
    auto done = [&](absl::Status s) {
      result = std::move(s);
      written.Notify();
    };
    Push(Pending{std::move(round), bytes, std::move(done)}, /*staged=*/false);
  }
  written.WaitForNotification();
  return result;
}

absl::Status GroupCommitWriter::Admit(size_t bytes, bool wait_for_room) {
  if (!shutting_down_ && !HasRoom(bytes)) {
    if (!wait_for_room) {
      return absl::ResourceExhaustedError(
          absl::StrCat("group-commit queue is full: ", pending_batches_, " batches, ",
                       pending_bytes_, " bytes pending (limits ", options_.max_pending_batches,
                       ", ", options_.max_pending_bytes, ")"));
    }
    auto room_or_shutdown = [this, bytes]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return shutting_down_ || HasRoom(bytes);
    };
    mu_.Await(absl::Condition(&room_or_shutdown));
  }
  if (shutting_down_) {
    return absl::FailedPreconditionError("group-commit writer is shut down");
  }
  return absl::OkStatus();
}

void GroupCommitWriter::Push(Pending pending, bool staged) {
  ++pending_batches_;
  pending_bytes_ += pending.bytes;
  (staged ? staged_ : queue_).push_back(std::move(pending));
}

absl::Status GroupCommitWriter::failure() const {
  absl::MutexLock lock(&mu_);
  return failure_;
}

void GroupCommitWriter::Run() {
  // For top -H and profiles. LevelDB starts its compaction thread from the first write, so that
  // thread inherits this name too: tell them apart by thread id.
  pthread_setname_np(pthread_self(), "gc-writer");
  for (;;) {
    std::vector<Pending> group;
    size_t group_bytes = 0;
    {
      absl::MutexLock lock(&mu_);
      auto work_or_shutdown = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !queue_.empty() || shutting_down_;
      };
      mu_.Await(absl::Condition(&work_or_shutdown));
      if (shutting_down_) FlushLocked();  // what was staged is written too
      if (queue_.empty()) return;         // shutting down and drained
      do {
        group_bytes += queue_.front().bytes;
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      } while (!queue_.empty() && group_bytes + queue_.front().bytes <= options_.max_group_bytes);
    }

    const auto write_start = std::chrono::steady_clock::now();
    absl::Status status = failed() ? failure() : absl::OkStatus();
    bool data_written = false, data_synced = false, log_written = false, log_synced = false;
    if (!status.ok()) {
      status = absl::Status(status.code(), "not written: an earlier write of this server failed (" +
                                               std::string(status.message()) + ")");
    } else {
      status = WriteGroup(group, &data_written, &data_synced, &log_written, &log_synced);
    }
    WriteSeconds(data_synced || log_synced)
        .Observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - write_start).count());

    {
      absl::MutexLock lock(&mu_);
      if (!status.ok() && failure_.ok()) {
        failure_ = status;
        failed_.store(true, std::memory_order_release);
      }
      pending_batches_ -= group.size();
      pending_bytes_ -= group_bytes;
      stats_.batches += group.size();
      stats_.leveldb_writes += data_written ? 1 : 0;
      stats_.synced_leveldb_writes += data_synced ? 1 : 0;
      stats_.log_writes += log_written ? 1 : 0;
      stats_.synced_log_writes += log_synced ? 1 : 0;
      stats_.bytes += group_bytes;
    }
    for (Pending& p : group) p.done(status);
  }
}

absl::Status GroupCommitWriter::WriteGroup(std::vector<Pending>& group, bool* data_written,
                                           bool* data_synced, bool* log_written, bool* log_synced) {
  bool sync_data = false, sync_log = false, any_data = false, any_log = false;
  for (const Pending& p : group) {
    sync_data = sync_data || p.round.sync_data;
    sync_log = sync_log || p.round.sync_log;
    any_data = any_data || !p.round.data.empty();
    any_log = any_log || !p.round.log.empty();
  }
  // The data first: a checkpoint in it must be durable before the log compaction after it.
  if (any_data || sync_data) {
    *data_written = true;
    *data_synced = sync_data;
    if (group.size() == 1) {
      RETURN_IF_ERROR(engine_->Write(group.front().round.data, sync_data));
    } else {
      WriteBatch merged;
      for (const Pending& p : group) merged.Append(p.round.data);
      RETURN_IF_ERROR(engine_->Write(merged, sync_data));
    }
  }
  if ((any_log || sync_log) && log_ != nullptr) {
    *log_written = true;
    *log_synced = sync_log;
    if (group.size() == 1) return log_->Write(group.front().round.log, sync_log);
    PaxosLogBatch merged;
    for (Pending& p : group) merged.Append(std::move(p.round.log));
    return log_->Write(merged, sync_log);
  }
  return absl::OkStatus();
}

}  // namespace meridian::storage
