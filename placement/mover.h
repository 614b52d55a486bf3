// Mover: carries the range moves and splits that placement recorded (Topology.moves, see
// PlacementCommand.StartMove) through their steps, on the placement leader only.
//
// For a MOVE of R = [start, end) from group A to group B at generation G (proto/movement.proto
// has the spanserver side of each step):
//   copy     Export R from A (after_ts 0; the first answer pins upto_ts = U, passed back on every
//            later page) and Ingest each page into B, until A's cursor is empty;
//   release  Release R at A with G, again while A answers UNAVAILABLE (its locks in R are still
//            held): A serves R no more; it answers release_ts T and its GC horizon H;
//   delta    Export R from A with after_ts U and released_generation G (the writes made between
//            the copy and the release) and Ingest them into B;
//   wait     until TT.after(T): every timestamp B assigns in R is then above every one A did;
//   adopt    Adopt R at B with G and horizon H (the highest horizon A answered): B serves R;
//   switch   propose FinishMove: the map says R -> B at G and the move is `switched`;
//   drop     Drop R at A until it answers done, then propose MoveDropped: the move is forgotten.
// A SPLIT of R in A at K: Adopt [start, K) and [K, end) at A with G, then propose FinishMove.
//
// Failover. What a move has done that matters is in placement's log: the MoveInfo and its
// `switched` flag. A mover — a new leader's, or this one after a step gave up — starts an
// unswitched move at copy and a switched one at drop. Every spanserver step is idempotent and
// every placement command is ignored when repeated, so any prefix of the steps may run any number
// of times; the map switches once (FinishMove of a switched move is ignored), and A drops R only
// after the switch has been read back from placement's state.
//
// Threads and retries. The mover has one thread (Start/Stop). Each round it asks the host whether
// this replica leads placement, reads the topology linearizably (so a new leader never redoes a
// move its predecessor finished) and drives the recorded move with the lowest id to its end, then
// the next: one move at a time, in order. Each call of a step is tried up to attempts_per_step
// times while it fails with a transient error (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED,
// RESOURCE_EXHAUSTED), with jittered exponential backoff between tries (seeded: options.seed);
// a step that still fails, or fails otherwise, ends the round: the move stays recorded, its phase
// shows the error, and the mover starts it again after backoff_max_us. Leadership and shutdown
// are checked before every call, and every wait is on a condition variable that Stop() wakes, so
// Stop() returns once the call under way returns (the host and MovementClient bound those).
//
// Progress (soft state, this replica only): per move, the step under way, the versions and bytes
// copied so far and the last error; Annotate() renders them into Topology.moves[].phase.
//
// Thread safety: Start, Stop, Kick and Annotate are thread-safe. RunOnce runs a round on the
// calling thread; it must not run while the mover's own thread does (tests call it instead of
// Start). Everything passed to the constructor must outlive the Mover.
#ifndef MERIDIAN_PLACEMENT_MOVER_H_
#define MERIDIAN_PLACEMENT_MOVER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/random.h"
#include "proto/placement.pb.h"

namespace meridian {
namespace proto {
class ExportResponse;
}  // namespace proto
namespace truetime {
class TrueTime;
}  // namespace truetime

namespace placement {

class MovementClient;

// Placement's state as the mover sees it: the placement group in placementd (service.cc), a
// MetadataStateMachine in tests. Implementations must be thread-safe.
class MoverHost {
 public:
  virtual ~MoverHost() = default;
  // True while this replica leads the placement group.
  virtual bool IsLeader() = 0;
  // The replicated topology (MetadataStateMachine::Snapshot), read after everything committed
  // before the call has been applied here. UNAVAILABLE when not the leader.
  virtual absl::StatusOr<proto::Topology> ReadTopology() = 0;
  // Proposes `command` through placement's log and returns Apply's result once it is applied
  // here. UNAVAILABLE when not the leader or the outcome is unknown.
  virtual absl::StatusOr<std::string> Propose(const proto::PlacementCommand& command) = 0;
};

struct MoverOptions {
  int attempts_per_step = 30;
  int64_t backoff_initial_us = 20'000;
  int64_t backoff_max_us = 2'000'000;
  // How often an idle mover looks for recorded moves (Kick() wakes it at once).
  int64_t idle_poll_us = 500'000;
  // Per Export answer; the answer's Ingests (about ingest_max_bytes each) are sent at once.
  uint32_t export_max_bytes = 2 << 20;
  // An Ingest carries about this much (spanservers refuse more than 900 KiB). Smaller ones make
  // shorter Paxos rounds in the destination group, whose other writes wait behind them.
  uint32_t ingest_max_bytes = 512 << 10;
  // The first copy of a move is paced to this rate (0: as fast as it goes), so that the writes
  // the source and destination serve meanwhile keep their latency (docs/performance.md has the
  // measured trade). The delta copy after the release is never paced: the range is unavailable
  // until the adoption.
  uint64_t copy_bytes_per_s = 0;
  uint64_t seed = 1;
};

// How long a copy paced to `bytes_per_s` (0: unpaced) that moved `bytes` in `elapsed_us` waits
// before its next page (0 when it is behind).
int64_t PacedDelayUs(uint64_t bytes_per_s, uint64_t bytes, int64_t elapsed_us);

class Mover {
 public:
  Mover(MoverHost* host, MovementClient* movement, truetime::TrueTime* truetime,
        MoverOptions options);
  ~Mover();  // Stop()s first
  Mover(const Mover&) = delete;
  Mover& operator=(const Mover&) = delete;

  // Starts the mover's thread. Call at most once.
  void Start();
  // Stops the thread and waits for it. Idempotent.
  void Stop();
  // A move was recorded: look for it now rather than at the next poll.
  void Kick();

  // One round (see the file comment): true when it finished a move, false when there was none to
  // drive (or this replica does not lead placement); an error when a step gave up, and CANCELLED
  // once stopping. The move stays recorded on error.
  absl::StatusOr<bool> RunOnce();

  // Sets moves[].phase of `topology` from this mover's progress (Phase).
  void Annotate(proto::Topology* topology) const;
  // The step under way of a recorded move, its progress and last error; "queued" for a move this
  // mover has not started.
  std::string Phase(const proto::MoveInfo& move) const;

 private:
  struct Progress {
    std::string step;
    uint64_t versions = 0;  // copied so far
    uint64_t bytes = 0;
    std::string error;  // the last failed try, cleared by the next success
  };
  // What the copy steps learn from the source.
  struct Source {
    int64_t upto_ts = 0;  // the first copy's bound
    int64_t horizon = 0;  // the highest GC horizon it answered
  };

  void Loop();
  absl::Status Drive(const proto::MoveInfo& move);
  absl::Status DriveMove(const proto::MoveInfo& move);
  absl::Status DriveSplit(const proto::MoveInfo& move);
  // Copies the versions of the move's range with ts > after_ts from the source to the target;
  // the bound used is returned.
  absl::StatusOr<int64_t> Copy(const proto::MoveInfo& move, int64_t after_ts, Source* source);
  absl::Status Ingest(const proto::MoveInfo& move, const proto::ExportResponse& page);
  // Sleeps until `bytes` copied since `start_us` (TT.now().earliest), the last page's
  // `page_bytes` among them, keep to copy_bytes_per_s; false when stopping.
  bool Pace(int64_t start_us, uint64_t bytes, uint64_t page_bytes);
  // The max_bytes of an Export page: smaller when the copy is paced.
  uint32_t PageBytes(int64_t after_ts) const;
  absl::Status ReleaseAndAdopt(const proto::MoveInfo& move, Source* source);
  // Proposes FinishMove and reads the result back: OK once the map has switched (or the move is
  // gone: another mover finished it, *gone set).
  absl::Status Switch(const proto::MoveInfo& move, bool* gone);
  absl::Status DropSource(const proto::MoveInfo& move);
  // Runs `attempt` as the file comment says (`what` names it in the phase and the log).
  absl::Status Retry(uint64_t id, const std::string& what,
                     const std::function<absl::Status()>& attempt);
  absl::StatusOr<std::string> Propose(uint64_t id, const std::string& what,
                                      const proto::PlacementCommand& command);
  // CANCELLED when stopping, FAILED_PRECONDITION when this replica no longer leads placement.
  absl::Status CheckGoOn();
  // Sleeps `us` or until Stop(); false when stopping.
  bool Sleep(int64_t us);

  void SetStep(const proto::MoveInfo& move, const std::string& step);
  void AddCopied(uint64_t id, uint64_t versions, uint64_t bytes);
  void SetError(uint64_t id, const std::string& error);
  bool Woken() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || kicked_; }

  MoverHost* const host_;
  MovementClient* const movement_;
  truetime::TrueTime* const truetime_;
  const MoverOptions options_;
  Random random_ ABSL_GUARDED_BY(mu_);  // backoff jitter; Ingests retry from several threads
  std::thread thread_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool kicked_ ABSL_GUARDED_BY(mu_) = false;
  std::map<uint64_t, Progress> progress_ ABSL_GUARDED_BY(mu_);
};

}  // namespace placement
}  // namespace meridian

#endif  // MERIDIAN_PLACEMENT_MOVER_H_
