#include "placement/mover.h"

#include <algorithm>
#include <cstdio>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "placement/movement_client.h"
#include "placement/planner.h"
#include "truetime/truetime.h"

namespace meridian::placement {
namespace {

// An Ingest carries at most about MoverOptions::ingest_max_bytes, counted as spanservers count
// it (key, value and kVersionOverheadBytes per version); movement.proto allows "~1 MiB in all"
// and spanservers refuse more than 900 KiB. A single larger version goes alone.
constexpr size_t kIngestLimitBytes = 900 << 10;
// A paced copy's pages: about this long's worth of the rate each, and no smaller than this.
constexpr uint64_t kPacedPageUs = 25'000;
constexpr uint64_t kMinPagedBytes = 64 << 10;
// What a version costs an Ingest beyond its key and value (timestamp, tags).
constexpr size_t kVersionOverheadBytes = 16;

bool Transient(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded ||
         code == absl::StatusCode::kAborted || code == absl::StatusCode::kResourceExhausted;
}

void Log(const proto::MoveInfo& move, const std::string& what) {
  std::fprintf(stderr, "placementd: %s %llu: %s\n",
               move.kind() == proto::MoveInfo::SPLIT ? "split" : "move",
               static_cast<unsigned long long>(move.id()), what.c_str());
}

// A line that names the move itself (Describe, or an Apply result).
void LogLine(const std::string& line) { std::fprintf(stderr, "placementd: %s\n", line.c_str()); }

std::string Bytes(uint64_t bytes) {
  if (bytes < (1 << 10)) return absl::StrCat(bytes, " B");
  if (bytes < (1 << 20)) return absl::StrFormat("%.1f KiB", bytes / 1024.0);
  return absl::StrFormat("%.1f MiB", bytes / (1024.0 * 1024.0));
}

proto::RangeClaim* SetClaim(proto::RangeClaim* claim, const std::string& start,
                            const std::string& end, uint64_t generation) {
  claim->set_start(start);
  claim->set_end(end);
  claim->set_generation(generation);
  return claim;
}

}  // namespace

int64_t PacedDelayUs(uint64_t bytes_per_s, uint64_t bytes, int64_t elapsed_us) {
  if (bytes_per_s == 0) return 0;
  const double due_us = static_cast<double>(bytes) * 1e6 / static_cast<double>(bytes_per_s);
  return std::max<int64_t>(0, static_cast<int64_t>(due_us) - elapsed_us);
}

Mover::Mover(MoverHost* host, MovementClient* movement, truetime::TrueTime* truetime,
             MoverOptions options)
    : host_(host),
      movement_(movement),
      truetime_(truetime),
      options_(options),
      random_(options.seed) {}

Mover::~Mover() { Stop(); }

void Mover::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Mover::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Mover::Kick() {
  absl::MutexLock lock(&mu_);
  kicked_ = true;
}

void Mover::Loop() {
  int64_t delay_us = 0;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(this, &Mover::Woken), absl::Microseconds(delay_us));
      if (stopping_) return;
      kicked_ = false;
    }
    const absl::StatusOr<bool> moved = RunOnce();
    delay_us = !moved.ok() ? options_.backoff_max_us : *moved ? 0 : options_.idle_poll_us;
  }
}

absl::StatusOr<bool> Mover::RunOnce() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("the mover is stopping");
  }
  if (!host_->IsLeader()) return false;
  ASSIGN_OR_RETURN(const proto::Topology topology, host_->ReadTopology());
  const proto::MoveInfo* first = nullptr;
  {
    absl::MutexLock lock(&mu_);
    std::map<uint64_t, Progress> kept;
    for (const proto::MoveInfo& move : topology.moves()) {
      if (first == nullptr || move.id() < first->id()) first = &move;
      if (auto it = progress_.find(move.id()); it != progress_.end()) kept.insert(*it);
    }
    progress_ = std::move(kept);
  }
  if (first == nullptr) return false;
  const absl::Status driven = Drive(*first);
  if (!driven.ok()) {
    SetError(first->id(), std::string(driven.message()));
    if (driven.code() != absl::StatusCode::kCancelled) {
      Log(*first, absl::StrCat("stopped for now (", driven.ToString(), "); it stays recorded"));
    }
    return driven;
  }
  absl::MutexLock lock(&mu_);
  progress_.erase(first->id());
  return true;
}

absl::Status Mover::Drive(const proto::MoveInfo& move) {
  LogLine(
      absl::StrCat(move.switched() ? "resuming at the drop: " : "starting ", DescribeMove(move)));
  const absl::Status status =
      move.kind() == proto::MoveInfo::SPLIT ? DriveSplit(move) : DriveMove(move);
  if (status.ok()) Log(move, "done");
  return status;
}

absl::Status Mover::DriveMove(const proto::MoveInfo& move) {
  if (!move.switched()) {
    SetStep(move, absl::StrCat("copying to group ", move.to_group()));
    Source source;
    ASSIGN_OR_RETURN(source.upto_ts, Copy(move, /*after_ts=*/0, &source));
    Progress copied;
    {
      absl::MutexLock lock(&mu_);
      copied = progress_[move.id()];
    }
    Log(move,
        absl::StrCat("copied the versions up to ts ", source.upto_ts, " to group ", move.to_group(),
                     ": ", copied.versions, " versions, ", Bytes(copied.bytes)));
    RETURN_IF_ERROR(ReleaseAndAdopt(move, &source));
    bool gone = false;
    RETURN_IF_ERROR(Switch(move, &gone));
    if (gone) return absl::OkStatus();  // another mover finished it
  }
  return DropSource(move);
}

absl::Status Mover::DriveSplit(const proto::MoveInfo& move) {
  SetStep(move, "splitting");
  proto::AdoptRequest request;
  request.set_group(move.from_group());
  SetClaim(request.add_claims(), move.start(), move.split_key(), move.generation());
  SetClaim(request.add_claims(), move.split_key(), move.end(), move.generation());
  proto::AdoptResponse adopted;
  RETURN_IF_ERROR(Retry(move.id(), "adopt both halves", [&] {
    ASSIGN_OR_RETURN(adopted, movement_->Adopt(request));
    return absl::OkStatus();
  }));
  Log(move, absl::StrCat("group ", move.from_group(), " serves both halves from ts ",
                         adopted.adopt_ts()));
  bool gone = false;
  return Switch(move, &gone);
}

absl::StatusOr<int64_t> Mover::Copy(const proto::MoveInfo& move, int64_t after_ts, Source* source) {
  proto::ExportRequest request;
  request.set_group(move.from_group());
  request.set_start(move.start());
  request.set_end(move.end());
  request.set_after_ts(after_ts);
  request.set_max_bytes(PageBytes(after_ts));
  // The delta (after_ts > 0) is read from the released range only: its data is final.
  if (after_ts > 0) request.set_released_generation(move.generation());
  int64_t upto_ts = 0;
  // The first copy is paced (MoverOptions::copy_bytes_per_s), the delta is not.
  const bool paced = after_ts == 0 && options_.copy_bytes_per_s > 0;
  int64_t start_us = 0;
  if (paced) {
    ASSIGN_OR_RETURN(const truetime::Interval now, truetime_->Now());
    start_us = now.earliest;
  }
  uint64_t copied = 0;
  for (;;) {
    proto::ExportResponse page;
    RETURN_IF_ERROR(Retry(move.id(), "export", [&] {
      ASSIGN_OR_RETURN(page, movement_->Export(request));
      return absl::OkStatus();
    }));
    // Every page of one copy must use the bound of its first: the pages then make one snapshot.
    if (upto_ts == 0) upto_ts = page.upto_ts();
    if (upto_ts <= 0) {
      return absl::InternalError(
          absl::StrCat("group ", move.from_group(), " answered an export without a bound"));
    }
    source->horizon = std::max(source->horizon, page.horizon());
    RETURN_IF_ERROR(Ingest(move, page));
    if (page.cursor().empty()) return upto_ts;
    uint64_t page_bytes = 0;
    for (const proto::RangeVersion& v : page.versions()) {
      page_bytes += v.key().size() + v.value().size() + kVersionOverheadBytes;
    }
    copied += page_bytes;
    if (paced && !Pace(start_us, copied, page_bytes)) {
      return absl::CancelledError("the mover is stopping");
    }
    if (page.cursor() == request.cursor()) {
      return absl::InternalError(
          absl::StrCat("group ", move.from_group(), " answered an export that does not advance"));
    }
    request.set_cursor(page.cursor());
    request.set_upto_ts(upto_ts);
  }
}

absl::Status Mover::Ingest(const proto::MoveInfo& move, const proto::ExportResponse& page) {
  // The page's versions in Ingests of about ingest_max_bytes, sent at once: the destination's
  // leader batches concurrent proposals into one Paxos round (one sync) where one at a time
  // would pay a round each. Ingests are idempotent and touch a range nobody reads yet, so
  // their order does not matter.
  std::vector<proto::IngestRequest> requests;
  std::vector<size_t> sizes;
  size_t bytes = 0;
  for (const proto::RangeVersion& version : page.versions()) {
    const size_t size = version.key().size() + version.value().size() + kVersionOverheadBytes;
    const size_t limit = std::min<size_t>(options_.ingest_max_bytes, kIngestLimitBytes);
    if (requests.empty() || (bytes + size > limit && bytes > 0)) {
      proto::IngestRequest& r = requests.emplace_back();
      r.set_group(move.to_group());
      SetClaim(r.mutable_range(), move.start(), move.end(), move.generation());
      sizes.push_back(0);
      bytes = 0;
    }
    *requests.back().add_versions() = version;
    bytes += size;
    sizes.back() += size;
  }
  std::vector<absl::Status> results(requests.size());
  std::vector<std::thread> senders;
  senders.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    senders.emplace_back([&, i] {
      results[i] = Retry(move.id(), "ingest", [&] { return movement_->Ingest(requests[i]); });
    });
  }
  for (std::thread& t : senders) t.join();
  for (size_t i = 0; i < requests.size(); ++i) {
    RETURN_IF_ERROR(results[i]);
    AddCopied(move.id(), requests[i].versions_size(), sizes[i]);
  }
  return absl::OkStatus();
}

absl::Status Mover::ReleaseAndAdopt(const proto::MoveInfo& move, Source* source) {
  SetStep(move, absl::StrCat("releasing the range at group ", move.from_group()));
  proto::ReleaseRequest release;
  release.set_group(move.from_group());
  SetClaim(release.mutable_range(), move.start(), move.end(), move.generation());
  proto::ReleaseResponse released;
  // UNAVAILABLE "range busy" (locks still held) is transient: Retry calls again.
  RETURN_IF_ERROR(Retry(move.id(), "release", [&] {
    ASSIGN_OR_RETURN(released, movement_->Release(release));
    return absl::OkStatus();
  }));
  Log(move, absl::StrCat("group ", move.from_group(), " released the range at ts ",
                         released.release_ts()));
  source->horizon = std::max(source->horizon, released.horizon());

  SetStep(move, "copying the writes made during the copy");
  RETURN_IF_ERROR(Copy(move, source->upto_ts, source).status());
  Log(move, absl::StrCat("copied the versions after ts ", source->upto_ts));

  SetStep(move, "waiting until TrueTime is past the release");
  RETURN_IF_ERROR(Retry(move.id(), "TrueTime wait",
                        [&] { return truetime_->WaitUntilAfter(released.release_ts()).status(); }));

  SetStep(move, absl::StrCat("adopting at group ", move.to_group()));
  proto::AdoptRequest adopt;
  adopt.set_group(move.to_group());
  SetClaim(adopt.add_claims(), move.start(), move.end(), move.generation());
  adopt.set_horizon(source->horizon);
  adopt.set_above_ts(released.release_ts());
  proto::AdoptResponse adopted;
  RETURN_IF_ERROR(Retry(move.id(), "adopt", [&] {
    ASSIGN_OR_RETURN(adopted, movement_->Adopt(adopt));
    return absl::OkStatus();
  }));
  Log(move, absl::StrCat("group ", move.to_group(), " serves the range from ts ",
                         adopted.adopt_ts(), " (GC horizon ", source->horizon, ")"));
  return absl::OkStatus();
}

absl::Status Mover::Switch(const proto::MoveInfo& move, bool* gone) {
  SetStep(move, "switching the map");
  proto::PlacementCommand command;
  command.mutable_finish_move()->set_id(move.id());
  ASSIGN_OR_RETURN(const std::string result, Propose(move.id(), "FinishMove", command));
  LogLine(result);
  // The source drops the range only once the switch is read back from placement's state (the
  // result of a repeated FinishMove says "ignored", which alone would not tell).
  proto::Topology topology;
  RETURN_IF_ERROR(Retry(move.id(), "reading the map back", [&] {
    ASSIGN_OR_RETURN(topology, host_->ReadTopology());
    return absl::OkStatus();
  }));
  for (const proto::MoveInfo& recorded : topology.moves()) {
    if (recorded.id() != move.id()) continue;
    if (recorded.switched()) return absl::OkStatus();
    return absl::InternalError(
        absl::StrCat("FinishMove did not switch the map of ", DescribeMove(move), ": ", result));
  }
  *gone = true;  // a split is forgotten by FinishMove; a move by MoveDropped (another mover's)
  return absl::OkStatus();
}

absl::Status Mover::DropSource(const proto::MoveInfo& move) {
  SetStep(move, absl::StrCat("erasing the old copy at group ", move.from_group()));
  proto::DropRequest request;
  request.set_group(move.from_group());
  SetClaim(request.mutable_range(), move.start(), move.end(), move.generation());
  uint64_t erased = 0;
  // Calls that erased nothing without being done: bounded like the tries of one step.
  int idle_calls = 0;
  for (;;) {
    proto::DropResponse dropped;
    RETURN_IF_ERROR(Retry(move.id(), "drop", [&] {
      ASSIGN_OR_RETURN(dropped, movement_->Drop(request));
      return absl::OkStatus();
    }));
    erased += dropped.erased();
    if (dropped.done()) break;
    if (dropped.erased() == 0) {
      if (++idle_calls >= options_.attempts_per_step) {
        return absl::UnavailableError(
            absl::StrCat("group ", move.from_group(), " erases nothing of the range"));
      }
      if (!Sleep(options_.backoff_initial_us)) return absl::CancelledError("the mover is stopping");
    }
  }
  Log(move, absl::StrCat("group ", move.from_group(), " erased its copy (", erased,
                         " versions this time)"));
  proto::PlacementCommand command;
  command.mutable_move_dropped()->set_id(move.id());
  ASSIGN_OR_RETURN(const std::string result, Propose(move.id(), "MoveDropped", command));
  LogLine(result);
  return absl::OkStatus();
}

absl::Status Mover::Retry(uint64_t id, const std::string& what,
                          const std::function<absl::Status()>& attempt) {
  const int attempts = std::max(1, options_.attempts_per_step);
  int64_t delay_us = options_.backoff_initial_us;
  absl::Status last;
  for (int i = 0; i < attempts; ++i) {
    if (i > 0) {
      const int64_t d = std::max<int64_t>(0, std::min(delay_us, options_.backoff_max_us));
      delay_us = std::min(options_.backoff_max_us, 2 * delay_us);
      int64_t jittered = 0;
      {
        absl::MutexLock lock(&mu_);
        jittered = random_.Range(d / 2, d);
      }
      if (!Sleep(jittered)) return absl::CancelledError("the mover is stopping");
    }
    RETURN_IF_ERROR(CheckGoOn());
    last = attempt();
    if (last.ok()) {
      SetError(id, "");
      return last;
    }
    SetError(id, absl::StrCat(what, " (try ", i + 1, " of ", attempts, "): ", last.message()));
    if (!Transient(last.code())) break;
  }
  return PrependContext(last, what);
}

absl::StatusOr<std::string> Mover::Propose(uint64_t id, const std::string& what,
                                           const proto::PlacementCommand& command) {
  std::string result;
  RETURN_IF_ERROR(Retry(id, what, [&] {
    ASSIGN_OR_RETURN(result, host_->Propose(command));
    return absl::OkStatus();
  }));
  return result;
}

absl::Status Mover::CheckGoOn() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("the mover is stopping");
  }
  if (!host_->IsLeader()) {
    return absl::FailedPreconditionError("this placement replica no longer leads placement");
  }
  return absl::OkStatus();
}

uint32_t Mover::PageBytes(int64_t after_ts) const {
  if (after_ts > 0 || options_.copy_bytes_per_s == 0) return options_.export_max_bytes;
  // A paced copy moves pages of about kPacedPageUs worth each: the load comes in small steps
  // instead of a burst of export_max_bytes and a long pause.
  const uint64_t bytes = options_.copy_bytes_per_s * kPacedPageUs / 1'000'000;
  return static_cast<uint32_t>(
      std::clamp<uint64_t>(bytes, kMinPagedBytes, options_.export_max_bytes));
}

bool Mover::Pace(int64_t start_us, uint64_t bytes, uint64_t page_bytes) {
  const absl::StatusOr<truetime::Interval> now = truetime_->Now();
  // Without a clock reading, wait the last page's share: pacing errs slow, never fast.
  if (!now.ok()) return Sleep(PacedDelayUs(options_.copy_bytes_per_s, page_bytes, 0));
  return Sleep(PacedDelayUs(options_.copy_bytes_per_s, bytes, now->earliest - start_us));
}

bool Mover::Sleep(int64_t us) {
  absl::MutexLock lock(&mu_);
  if (us > 0) mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Microseconds(us));
  return !stopping_;
}

void Mover::SetStep(const proto::MoveInfo& move, const std::string& step) {
  absl::MutexLock lock(&mu_);
  progress_[move.id()].step = step;
}

void Mover::AddCopied(uint64_t id, uint64_t versions, uint64_t bytes) {
  absl::MutexLock lock(&mu_);
  Progress& p = progress_[id];
  p.versions += versions;
  p.bytes += bytes;
}

void Mover::SetError(uint64_t id, const std::string& error) {
  absl::MutexLock lock(&mu_);
  progress_[id].error = error;
}

void Mover::Annotate(proto::Topology* topology) const {
  for (proto::MoveInfo& move : *topology->mutable_moves()) move.set_phase(Phase(move));
}

std::string Mover::Phase(const proto::MoveInfo& move) const {
  absl::MutexLock lock(&mu_);
  const auto it = progress_.find(move.id());
  if (it == progress_.end()) {
    return move.switched() ? "switched; the old copy is to be erased" : "queued";
  }
  const Progress& p = it->second;
  std::string phase = p.step;
  if (p.versions > 0) {
    absl::StrAppend(&phase, " (", p.versions, " versions, ", Bytes(p.bytes), " copied)");
  }
  if (!p.error.empty()) absl::StrAppend(&phase, "; retrying after: ", p.error);
  return phase;
}

}  // namespace meridian::placement
