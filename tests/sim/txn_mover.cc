// TxnMover implementation; see txn_mover.h.
//
// Seed: operation times, kinds, ranges, targets and backoffs from the injected Random. Faults:
// none injected here. Checkers: none here.
#include "tests/sim/txn_mover.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "txn/ownership.h"

namespace meridian::sim {
namespace {

constexpr int64_t kBackoffInitialUs = 20'000;
constexpr int64_t kBackoffMaxUs = 500'000;
// A move waits up to this many times this long for a group with a lagging replica (a replica this
// many entries behind its group's most advanced one, down or paused).
constexpr int kMaxWaits = 10;
constexpr int64_t kWaitUs = 100'000;
constexpr paxos::Index kLagEntries = 3;
// Aimed faults and timing (see txn_mover.h): a follower of the new group paused this long, and a
// release held back, polling this often, until a prepared transaction holds a lock in the range.
constexpr int64_t kPauseMinUs = 300'000;
constexpr int64_t kPauseMaxUs = 1'500'000;
constexpr int64_t kAimReleaseMaxUs = 500'000;
constexpr int64_t kAimPollUs = 2'000;
// How long the copy of a range takes beyond its calls, at most.
constexpr int64_t kCopyMaxUs = 300'000;

bool Transient(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded ||
         code == absl::StatusCode::kAborted || code == absl::StatusCode::kResourceExhausted;
}

}  // namespace

TxnMover::TxnMover(TxnCluster* cluster, const TxnSwarmParams& params, Random rng,
                   std::vector<std::string> keys)
    : cluster_(cluster),
      params_(params),
      rng_(std::move(rng)),
      keys_(std::move(keys)),
      skip_delta_(cluster->plant() == "testing_skip_delta"),
      addr_(cluster->AddClient()) {
  tt_ = std::make_unique<truetime::TrueTime>(
      std::make_unique<truetime::SimulatedClockSource>(
          cluster_->time(), params_.client_clock,
          truetime::RandomSimulatedClockParams(params_.client_clock, rng_)),
      truetime::TrueTime::Options{.max_epsilon_us = 1'000'000'000});
  for (paxos::GroupId g : cluster_->groups()) hint_[g] = RandomNode(g, -1);
}

void TxnMover::Start(TrueUs from_us, TrueUs until_us) {
  for (int i = 0; i < params_.moves; ++i) {
    const bool split = rng_.Bernoulli(params_.split_p);
    const TrueUs at = rng_.Range(from_us, std::max(from_us, until_us));
    ++scheduled_;
    cluster_->loop().At(at, [this, split] {
      --scheduled_;
      pending_.push_back(split);
      StartNext();
    });
  }
}

void TxnMover::StartNext() {
  while (!op_.has_value() && !pending_.empty()) {
    const bool split = pending_.front();
    // A move waits a little for a group with a lagging replica to move to (aimed, see Choose).
    if (!split && LaggingGroups().empty() && waits_ < kMaxWaits) {
      ++waits_;
      cluster_->loop().After(kWaitUs, [this] { StartNext(); });
      return;
    }
    waits_ = 0;
    pending_.pop_front();
    if (Choose(split)) Begin();
  }
}

std::vector<paxos::GroupId> TxnMover::LaggingGroups() const {
  std::vector<paxos::GroupId> out;
  for (paxos::GroupId g : cluster_->groups()) {
    paxos::Index max = 0;
    for (Addr a : cluster_->GroupNodes(g)) max = std::max(max, cluster_->node(a).applied());
    for (Addr a : cluster_->GroupNodes(g)) {
      TxnNode& n = cluster_->node(a);
      if (!n.alive() || n.paused() || n.applied() + kLagEntries < max) {
        out.push_back(g);
        break;
      }
    }
  }
  return out;
}

bool TxnMover::Choose(bool split) {
  const RangeMap& map = cluster_->map();
  std::map<paxos::GroupId, int> keys_of_group;
  for (const std::string& k : keys_) ++keys_of_group[map.GroupOf(k)];
  std::vector<std::pair<const SimRange*, std::vector<std::string>>> splits, moves;
  for (const SimRange& r : map.ranges()) {
    std::vector<std::string> inside;
    for (const std::string& k : keys_) {
      if (txn::InRange(k, r.start, r.end)) inside.push_back(k);
    }
    std::sort(inside.begin(), inside.end());
    if (inside.size() >= 2) splits.emplace_back(&r, inside);
    // The source keeps a key: every group must go on committing (the liveness check).
    if (!inside.empty() && keys_of_group[r.group] > static_cast<int>(inside.size())) {
      moves.emplace_back(&r, inside);
    }
  }
  if (split && splits.empty()) split = false;
  if (!split && moves.empty()) return false;
  const auto& [range, inside] =
      split ? splits[rng_.Uniform(splits.size())] : moves[rng_.Uniform(moves.size())];
  Op op;
  op.split = split;
  op.start = range->start;
  op.end = range->end;
  op.from = range->group;
  op.to = range->group;
  op.generation = map.MaxGeneration() + 1;
  if (split) {
    op.split_key = inside[1 + rng_.Uniform(inside.size() - 1)];
  } else {
    // Aimed: a group with a lagging replica (down, paused, or behind in its log), when there is
    // one, so that a replica of the range's new group is likely to apply the copies and the
    // adoption late (TxnClients::Probe).
    std::vector<paxos::GroupId> others, lagging;
    const std::vector<paxos::GroupId> lag = LaggingGroups();
    for (paxos::GroupId g : cluster_->groups()) {
      if (g == op.from) continue;
      others.push_back(g);
      if (std::find(lag.begin(), lag.end(), g) != lag.end()) lagging.push_back(g);
    }
    const std::vector<paxos::GroupId>& targets = lagging.empty() ? others : lagging;
    op.to = targets[rng_.Uniform(targets.size())];
  }
  op.epoch = ++epochs_;
  op_ = std::move(op);
  return true;
}

void TxnMover::Trace(const std::string& what) const {
  const Op& op = *op_;
  cluster_->loop().Trace(absl::StrCat("mover ", op.split ? "split" : "move", " [", op.start, ",",
                                      op.end.empty() ? "+inf" : op.end, ")@", op.generation, " g",
                                      op.from, "->g", op.to, ": ", what));
}

std::string TxnMover::Describe() const {
  if (!op_.has_value()) return absl::StrCat(pending_.size(), " operation(s) waiting");
  return absl::StrCat(op_->split ? "split" : "move", " [", op_->start, ",", op_->end, ")@",
                      op_->generation, " g", op_->from, "->g", op_->to, " at step ", op_->step);
}

void TxnMover::Begin() {
  Trace(op_->switched ? "resuming at the drop" : "starting");
  if (op_->split) {
    Adopt();
  } else if (op_->switched) {
    Drop();
  } else {
    PauseFollower();
    Copy(/*delta=*/false, [this] {
      // A real copy of a large range takes a while: the writes meanwhile are the delta's.
      const uint64_t epoch = op_->epoch;
      const bool aim = rng_.Bernoulli(0.5);
      cluster_->loop().After(rng_.Range(0, kCopyMaxUs), [this, epoch, aim] {
        if (!op_.has_value() || op_->epoch != epoch) return;
        if (aim) {
          ReleaseWhenPrepared(cluster_->loop().now() + kAimReleaseMaxUs);
        } else {
          Release();
        }
      });
    });
  }
}

void TxnMover::Restart(const std::string& why) {
  Trace(absl::StrCat("starts over: ", why));
  const uint64_t epoch = op_->epoch = ++epochs_;
  cluster_->loop().After(rng_.Range(kBackoffMaxUs / 2, kBackoffMaxUs), [this, epoch] {
    if (op_.has_value() && op_->epoch == epoch) Begin();
  });
}

void TxnMover::Finish() {
  Trace("done");
  ++done_;
  op_.reset();
  StartNext();
}

txn::RangeClaim TxnMover::Claim() const {
  return txn::RangeClaim{op_->start, op_->end, op_->generation};
}

MoveRequest TxnMover::Request(MoveRequest::Op op) const {
  MoveRequest r;
  r.op = op;
  r.claims = {Claim()};
  return r;
}

void TxnMover::Copy(bool delta, std::function<void()> next) {
  op_->step = delta ? "delta" : "copy";
  MoveRequest request = Request(MoveRequest::Op::kExport);
  // The delta is read from the released range only: its data is final.
  if (delta) {
    request.after_ts = op_->upto_ts;
    request.released_generation = op_->generation;
  }
  Call(op_->from, request, [this, delta, next = std::move(next)](const MoveReply& exported) {
    if (!delta) op_->upto_ts = exported.upto_ts;
    Trace(absl::StrCat(delta ? "delta" : "copy", " of ", exported.versions.size(),
                       " versions up to ", exported.upto_ts));
    if (exported.versions.empty()) {
      next();
      return;
    }
    MoveRequest ingest = Request(MoveRequest::Op::kIngest);
    ingest.versions = exported.versions;
    Call(op_->to, std::move(ingest), [this, next](const MoveReply& ingested) {
      op_->ingest_ts.push_back(ingested.ts);
      next();
    });
  });
}

void TxnMover::PauseFollower() {
  if (params_.follower_read_p <= 0 || !rng_.Bernoulli(0.5)) return;
  std::vector<Addr> followers;
  for (Addr a : cluster_->GroupNodes(op_->to)) {
    if (cluster_->node(a).alive() && !cluster_->node(a).leads()) followers.push_back(a);
  }
  if (followers.empty()) return;
  const Addr a = followers[rng_.Uniform(followers.size())];
  const int64_t us = rng_.Range(kPauseMinUs, kPauseMaxUs);
  Trace(absl::StrCat("pauses ", cluster_->node(a).Name(), " for ", us, "us"));
  cluster_->Pause(a, us);
}

void TxnMover::ReleaseWhenPrepared(TrueUs deadline_us) {
  op_->step = "release (aimed)";
  for (Addr a : cluster_->GroupNodes(op_->from)) {
    TxnNode& n = cluster_->node(a);
    if (n.serving() && n.leads() && n.manager().prepared_count() > 0 &&
        n.manager().BusyIn(op_->start, op_->end) > 0) {
      Release();
      return;
    }
  }
  if (cluster_->loop().now() >= deadline_us) {
    Release();
    return;
  }
  const uint64_t epoch = op_->epoch;
  cluster_->loop().After(kAimPollUs, [this, epoch, deadline_us] {
    if (op_.has_value() && op_->epoch == epoch) ReleaseWhenPrepared(deadline_us);
  });
}

void TxnMover::Release() {
  op_->step = "release";
  Call(op_->from, Request(MoveRequest::Op::kRelease), [this](const MoveReply& released) {
    op_->release_ts = released.ts;
    Trace(absl::StrCat("released at ts ", released.ts));
    if (skip_delta_) {
      WaitAfterRelease();
      return;
    }
    Copy(/*delta=*/true, [this] { WaitAfterRelease(); });
  });
}

void TxnMover::WaitAfterRelease() {
  op_->step = "wait";
  absl::StatusOr<truetime::Interval> now = tt_->Now();
  CHECK_MSG(now.ok(), "mover TrueTime failed");
  if (now->After(op_->release_ts)) {
    Adopt();
    return;
  }
  const uint64_t epoch = op_->epoch;
  cluster_->loop().After(std::max<int64_t>(1, op_->release_ts - now->earliest + 1), [this, epoch] {
    if (op_.has_value() && op_->epoch == epoch) WaitAfterRelease();
  });
}

void TxnMover::Adopt() {
  op_->step = "adopt";
  MoveRequest request = Request(MoveRequest::Op::kAdopt);
  if (op_->split) {
    request.claims = {txn::RangeClaim{op_->start, op_->split_key, op_->generation},
                      txn::RangeClaim{op_->split_key, op_->end, op_->generation}};
  } else {
    request.above_ts = op_->release_ts;
  }
  Call(op_->split ? op_->from : op_->to, request, [this](const MoveReply& adopted) {
    Trace(absl::StrCat("adopted at ts ", adopted.ts));
    Switch();
  });
}

void TxnMover::Switch() {
  op_->step = "switch";
  RangeMap map = cluster_->map();
  const bool switched = op_->split
                            ? map.Split(op_->start, op_->end, op_->split_key, op_->generation)
                            : map.Move(op_->start, op_->end, op_->to, op_->generation);
  CHECK_MSG(switched, "the mover's range is not in the map: " + Describe());
  cluster_->SwitchMap(std::move(map));
  op_->switched = true;
  if (op_->split) {
    Finish();
    return;
  }
  if (on_switch_) on_switch_(cluster_->map().Find(op_->start), op_->ingest_ts);
  Drop();
}

void TxnMover::Drop() {
  op_->step = "drop";
  Call(op_->from, Request(MoveRequest::Op::kDrop), [this](const MoveReply& dropped) {
    Trace(absl::StrCat("dropped ", dropped.erased, " versions", dropped.done ? ", done" : ""));
    if (dropped.done) {
      Finish();
    } else {
      Drop();
    }
  });
}

// --- Calls.

Addr TxnMover::RandomNode(paxos::GroupId group, Addr other) {
  const std::vector<Addr>& nodes = cluster_->GroupNodes(group);
  std::vector<Addr> choices;
  for (Addr a : nodes) {
    if (a != other) choices.push_back(a);
  }
  if (choices.empty()) return nodes[0];
  return choices[rng_.Uniform(choices.size())];
}

void TxnMover::Call(paxos::GroupId group, MoveRequest request, Done done) {
  Send(group, std::move(request), std::move(done), op_->epoch, 0);
}

void TxnMover::Send(paxos::GroupId group, MoveRequest request, Done done, uint64_t epoch,
                    int attempt) {
  const uint64_t call = live_call_ = next_call_++;
  const Addr to = hint_.at(group);
  auto answer = [this, group, request, done, epoch, attempt, call, to](const MoveReply& r,
                                                                       paxos::ReplicaId hint) {
    cluster_->net().SendThunk(to, addr_, [=, this] {
      OnAnswer(group, request, done, epoch, attempt, call, to, r, hint);
    });
  };
  cluster_->net().SendThunk(
      addr_, to, [this, to, request, answer] { cluster_->node(to).HandleMove(request, answer); });
  cluster_->loop().After(params_.call_timeout_us, [=, this] {
    if (live_call_ != call || !op_.has_value() || op_->epoch != epoch) return;
    Retry(group, request, done, epoch, attempt, RandomNode(group, to));
  });
}

void TxnMover::OnAnswer(paxos::GroupId group, MoveRequest request, Done done, uint64_t epoch,
                        int attempt, uint64_t call, Addr from, const MoveReply& reply,
                        paxos::ReplicaId hint) {
  if (call != live_call_ || !op_.has_value() || op_->epoch != epoch) return;
  live_call_ = 0;
  if (reply.status.ok()) {
    hint_[group] = from;
    done(reply);
    return;
  }
  if (!Transient(reply.status.code())) {
    Restart(absl::StrCat(MoveOpName(request.op), " at ", cluster_->node(from).Name(), ": ",
                         reply.status.ToString()));
    return;
  }
  const Addr hinted = hint == paxos::kNoReplica ? -1 : cluster_->AddrOf(group, hint);
  Retry(group, std::move(request), std::move(done), epoch, attempt,
        hinted >= 0 ? hinted : RandomNode(group, from));
}

void TxnMover::Retry(paxos::GroupId group, MoveRequest request, Done done, uint64_t epoch,
                     int attempt, Addr next) {
  live_call_ = 0;
  hint_[group] = next;
  const int64_t cap = std::min(kBackoffMaxUs, kBackoffInitialUs << std::min(attempt, 5));
  cluster_->loop().After(rng_.Range(cap / 2, cap), [=, this] {
    if (op_.has_value() && op_->epoch == epoch && live_call_ == 0) {
      Send(group, request, done, epoch, attempt + 1);
    }
  });
}

}  // namespace meridian::sim
