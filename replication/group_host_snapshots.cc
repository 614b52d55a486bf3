// GroupHostCore's compaction and snapshots (group_host.h; replication/snapshot.h).
#include <algorithm>
#include <boost/asio/post.hpp>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "replication/group_host_core.h"
#include "replication/group_records.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/write_batch.h"

namespace meridian::replication {
namespace {

namespace asio = boost::asio;
using paxos::Index;

}  // namespace

absl::StatusOr<Index> GroupHostCore::RestoreStateMachine() {
  return RestoreGroup(engine_, options_.paxos.group, state_machine_.get(),
                      [this](const std::string& line) { Log(line); });
}

void GroupHostCore::MaybeCheckpoint(storage::GroupCommitWriter::Round* round) {
  if (checkpoints_unsupported_ || installing_ || replica_->snapshot_needed()) return;
  const Index applied = replica_->applied();  // the round's last committed entry
  const bool due = (options_.compact_log_bytes > 0 &&
                    applied_bytes_since_checkpoint_ >= options_.compact_log_bytes / 2) ||
                   (options_.compact_log_entries > 0 &&
                    applied - checkpoint_index_ >= options_.compact_log_entries / 2);
  if (!due) return;
  std::optional<std::string> image = state_machine_->Checkpoint();
  if (!image) {
    checkpoints_unsupported_ = true;
    return;
  }
  const std::optional<Index> moved = AddCheckpoint(
      options_.paxos.group, applied, replica_->compacted(), options_.retain_entries, *image, round);
  // The compaction is readable as soon as the writer writes the round, before this round ends:
  // the replica must know of it first, or it would report the compacted slots as holes (and a
  // candidate would fill chosen slots with no-ops). Found by the simulator (paxos seed 10318).
  if (moved.has_value()) replica_->Compact(*moved);
  checkpoint_index_ = applied;
  applied_bytes_since_checkpoint_ = 0;
}

void GroupHostCore::OnSnapshotRequest(const paxos::SnapshotRequest& request) {
  if (installing_) return;
  if (options_.snapshots == nullptr) {
    if (!no_fetcher_logged_) {
      no_fetcher_logged_ = true;
      Log("needs a snapshot but this host cannot fetch one; waiting");
    }
    replica_->SnapshotFailed();
    return;
  }
  installing_ = true;
  state_machine_->BeginRestore();
  FailWaiters(absl::UnavailableError("this replica is installing a snapshot"));
  // Never install one at or below what is applied: its data would be erased for nothing.
  const Index at_least = std::max(request.at_least, replica_->applied() + 1);
  Log(absl::StrCat("fetching a snapshot through at least ", at_least, " from replica ",
                   request.from));
  auto writer =
      std::make_shared<SnapshotWriter>(engine_, options_.paxos.group, state_machine_->DataRanges());
  options_.snapshots->Fetch(
      options_.paxos.group, request.from, at_least, writer,
      [self = shared_from_this(), at_least](absl::StatusOr<FetchedSnapshot> fetched) mutable {
        asio::post(self->strand_, [self, at_least, fetched = std::move(fetched)]() mutable {
          self->OnSnapshotFetched(std::move(fetched), at_least);
        });
      });
}

void GroupHostCore::OnSnapshotFetched(absl::StatusOr<FetchedSnapshot> fetched, Index at_least) {
  if (!Running()) return;
  if (fetched.ok() && fetched->index < at_least) {
    fetched = absl::FailedPreconditionError(absl::StrCat("the snapshot reaches ", fetched->index,
                                                         ", short of the ", at_least, " needed"));
  }
  if (!fetched.ok()) {
    Log("snapshot fetch failed: " + fetched.status().ToString() + "; asking again later");
    installing_ = false;
    replica_->SnapshotFailed();
    return;
  }
  idle_work_.push_back([this, snapshot = *std::move(fetched)] { FinishInstall(snapshot); });
  absl::StatusOr<truetime::Interval> now = Now();
  if (now.ok()) Process(*now);
}

// Between rounds: nothing of this group is being written, and no Ready is outstanding.
void GroupHostCore::FinishInstall(const FetchedSnapshot& snapshot) {
  const paxos::GroupId group = options_.paxos.group;
  absl::StatusOr<truetime::Interval> now = Now();
  absl::Status restored = now.ok() ? state_machine_->Restore(snapshot.image) : now.status();
  if (!restored.ok()) {
    Log("cannot install the snapshot: " + restored.ToString() + "; asking again later");
    installing_ = false;
    replica_->SnapshotFailed();
    return;
  }
  // One synced write on the strand: a rare event, and nothing of this group may interleave.
  const absl::Status s =
      WriteInstalledSnapshot(engine_, writer_, group, snapshot, replica_->compacted());
  if (!s.ok()) return Fence("writing an installed snapshot failed: " + s.ToString());
  installing_ = false;
  applied_ = snapshot.index;
  checkpoint_index_ = snapshot.index;
  applied_bytes_since_checkpoint_ = 0;
  replica_->InstallSnapshot(snapshot.index, snapshot.config, snapshot.config_index, *now);
  Log(absl::StrCat("installed a snapshot through ", snapshot.index));
}

void GroupHostCore::ServeSnapshot(Index at_least, const GroupHost::SnapshotCallback& done) {
  if (!Running()) return done(NotRunning());
  if (installing_ || replica_->snapshot_needed()) {
    return done(absl::FailedPreconditionError("this replica is waiting for a snapshot itself"));
  }
  if (applied_ < at_least) {
    return done(absl::FailedPreconditionError(
        absl::StrCat("this replica has applied through ", applied_, ", not ", at_least)));
  }
  std::optional<std::string> image = state_machine_->Checkpoint();
  if (!image) return done(absl::UnimplementedError("this state machine has no checkpoints"));
  std::shared_ptr<storage::Engine::Snapshot> view = engine_->TakeSnapshot();
  const paxos::HardState& hard = replica_->hard_state();  // its configuration is applied
  done(std::make_shared<SnapshotReader>(
      engine_, std::move(view), state_machine_->DataRanges(), applied_, *std::move(image),
      paxos::Config{hard.members, hard.learners}, hard.config_index));
}

}  // namespace meridian::replication
