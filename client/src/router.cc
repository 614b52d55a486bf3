#include "client/src/router.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/metrics.h"
#include "meridian/client.h"
#include "meridian/errors.h"

namespace meridian::client {
namespace {

using Clock = std::chrono::steady_clock;

// A follower's hint is followed at once this many times in a row; past that the call backs off
// (leadership is in flux and the hints go round).
constexpr int kHopsAtOnce = 2;

// What a call ends with when `decision` ends it (kReturn, kOutcomeUnknown); nullopt when the call
// goes on. `status` is the attempt's result named by its group and address.
std::optional<absl::Status> Settled(const Decision& decision, const AttemptResult& result,
                                    const absl::Status& status) {
  switch (decision.action) {
    case Action::kReturn:
      return result.code == absl::StatusCode::kOk ? absl::OkStatus() : status;
    case Action::kOutcomeUnknown:
      return MarkOutcomeUnknown(absl::Status(
          result.code, absl::StrCat("outcome unknown: the write may or may not have been applied (",
                                    status.message(), ")")));
    case Action::kFollowLeader:
    case Action::kRefreshAndRetry:
      break;
  }
  return std::nullopt;
}

// What a call ends with when placement could not locate its key: a write's transient failure
// says the write was not applied (it was never sent).
absl::Status NotLocated(CallKind kind, const absl::Status& status) {
  const bool transient = status.code() == absl::StatusCode::kUnavailable ||
                         status.code() == absl::StatusCode::kDeadlineExceeded;
  if (kind == CallKind::kWrite && transient) {
    return absl::UnavailableError(
        absl::StrCat("not applied: cannot locate the key: ", status.ToString()));
  }
  return status;
}

// What a call ends with when its deadline passed before any attempt settled it.
absl::Status DeadlinePassed(CallKind kind, int attempts, const absl::Status& last) {
  if (kind == CallKind::kWrite) {
    return absl::UnavailableError(
        absl::StrCat("not applied: no attempt was accepted before the deadline (", attempts,
                     " attempts); last error: ", last.ToString()));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("deadline passed (", attempts, " attempts); last error: ", last.ToString()));
}

}  // namespace

// --- Route ---

bool Route::TakeRefresh() { return std::exchange(refresh_, false); }

std::string Route::Pick(const Location& at) {
  return policy_.replicas == Replicas::kLeader ? PickLeader(at) : PickFromSweep(at);
}

std::string Route::PickLeader(const Location& at) {
  std::string address = hint_.empty() ? at.leader_address : hint_;
  if (policy_.kind == CallKind::kWrite) return address;
  if (!address.empty() && !unreachable_.contains(address)) return address;
  // A read: any replica will do, a follower names the leader.
  address.clear();
  const size_t n = at.replica_addresses.size();
  for (size_t i = 0; i < n && address.empty(); ++i) {
    const std::string& candidate = at.replica_addresses[(next_replica_ + i) % n];
    if (!unreachable_.contains(candidate)) address = candidate;
  }
  ++next_replica_;
  if (address.empty()) unreachable_.clear();  // all failed once: try them all again
  return address;
}

std::string Route::PickFromSweep(const Location& at) {
  if (next_in_sweep_ >= sweep_.size()) {
    sweep_.clear();
    next_in_sweep_ = 0;
    for (const std::string& address : at.replica_addresses) {
      if (address != at.leader_address) sweep_.push_back(address);
    }
    if (!at.leader_address.empty()) {
      const bool first = policy_.replicas == Replicas::kAnyLeaderFirst;
      sweep_.insert(first ? sweep_.begin() : sweep_.end(), at.leader_address);
    }
  }
  return sweep_.empty() ? std::string() : sweep_[next_in_sweep_];
}

void Route::Nowhere() {
  refresh_ = true;
  sweep_.clear();
}

bool Route::Failed(const Decision& decision, const AttemptResult& result,
                   const std::string& address) {
  if (policy_.replicas != Replicas::kLeader) {
    if (result.stale_map) {
      Nowhere();
      return true;
    }
    return ++next_in_sweep_ >= sweep_.size();  // the sweep is over: back off before the next
  }
  if (decision.action == Action::kFollowLeader) {
    hint_ = decision.leader;
    if (++hops_ <= kHopsAtOnce) return false;
  } else {
    hint_.clear();
    if (!result.sent) unreachable_.insert(address);
    refresh_ = true;
  }
  hops_ = 0;
  return true;
}

// --- free functions ---

Backoff MakeBackoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
                    Random* random) {
  return Backoff(std::chrono::duration_cast<std::chrono::microseconds>(initial).count(),
                 std::chrono::duration_cast<std::chrono::microseconds>(max).count(), random);
}

void SleepBackoff(Backoff& backoff, SteadyTime deadline) {
  // Every retry of the SDK waits here first, so this is where they are counted.
  static metrics::Counter& backoffs = metrics::DefaultRegistry().AddCounter(
      "meridian_client_retries_total",
      "Retries this client process made after a backoff: a call retried elsewhere (UNAVAILABLE, "
      "not the leader, a stale map) or a transaction retried after ABORTED.");
  backoffs.Increment();
  const SteadyTime wake = Clock::now() + std::chrono::microseconds(backoff.NextDelayUs());
  std::this_thread::sleep_until(std::min(wake, deadline));
}

absl::Status RangeMoved(const std::string& key, uint64_t expected, uint64_t now) {
  return absl::AbortedError(absl::StrCat("the range of key '", EscapeBytes(key),
                                         "' moved from group ", expected, " to group ", now));
}

// --- Router ---

Router::Router(const RouterOptions& options, AskPlacement ask_placement)
    : options_(options), ask_placement_(std::move(ask_placement)), random_(options.seed) {}

absl::Status Router::Call(const RoutePolicy& policy, const std::string& key, SteadyTime deadline,
                          const Attempt& attempt) {
  Random random = ForkRandom();
  // A leader-only call backs off only while it looks for the leader, which an election hands
  // over about a lease after the old one died: it must not sleep long past that.
  Backoff backoff = MakeBackoff(options_.backoff_initial,
                                policy.replicas == Replicas::kLeader
                                    ? std::min(options_.backoff_max, options_.leader_backoff_max)
                                    : options_.backoff_max,
                                &random);
  Route route(policy);
  absl::Status last = absl::UnavailableError("no server was tried");
  int attempts = 0;
  while (Clock::now() < deadline) {
    absl::StatusOr<Location> at =
        route.TakeRefresh() ? LocateAtPlacement(key, deadline) : Locate(key, deadline);
    if (!at.ok()) return NotLocated(policy.kind, at.status());
    if (policy.group != 0 && at->group != policy.group) {
      return RangeMoved(key, policy.group, at->group);
    }
    const std::string address = route.Pick(*at);
    if (address.empty()) {
      last =
          absl::UnavailableError(absl::StrCat("no reachable server known for group ", at->group));
      route.Nowhere();
      SleepBackoff(backoff, deadline);
      continue;
    }
    ++attempts;
    const AttemptResult result = attempt(address, *at, AttemptDeadline(policy.kind, deadline));
    Verdict verdict = Judge(policy.kind, result, at->group, key, address);
    if (verdict.final.has_value()) return *std::move(verdict.final);
    last = std::move(verdict.status);
    if (route.Failed(verdict.decision, result, address)) SleepBackoff(backoff, deadline);
  }
  return DeadlinePassed(policy.kind, attempts, last);
}

Router::Verdict Router::Judge(CallKind kind, const AttemptResult& result, uint64_t group,
                              const std::string& key, const std::string& address) {
  Verdict verdict;
  verdict.decision = Decide(kind, result, address);
  verdict.status = absl::Status(
      result.code, absl::StrCat("group ", group, " at ", address, ": ", result.message));
  verdict.final = Settled(verdict.decision, result, verdict.status);
  if (!verdict.final.has_value()) Learn(verdict.decision, result, group, key, address);
  return verdict;
}

std::optional<Location> Router::Cached(const std::string& key) {
  absl::MutexLock lock(&mu_);
  return cache_.Lookup(key);
}

absl::StatusOr<Location> Router::Locate(const std::string& key, SteadyTime deadline) {
  if (std::optional<Location> cached = Cached(key)) return *std::move(cached);
  return LocateAtPlacement(key, deadline);
}

void Router::ReplaceAll(const std::vector<Location>& locations) {
  absl::MutexLock lock(&mu_);
  cache_.ReplaceAll(locations);
}

absl::StatusOr<Location> Router::LocateAtPlacement(const std::string& key, SteadyTime deadline) {
  absl::StatusOr<Location> located = ask_placement_(key, deadline);
  if (located.ok()) {
    absl::MutexLock lock(&mu_);
    cache_.Update(*located);
  }
  return located;
}

void Router::Learn(const Decision& decision, const AttemptResult& result, uint64_t group,
                   const std::string& key, const std::string& address) {
  absl::MutexLock lock(&mu_);
  if (decision.action == Action::kFollowLeader) {
    cache_.SetLeader(group, decision.leader);
    return;
  }
  if (result.stale_map) cache_.Invalidate(key);
  if (!result.sent) cache_.ForgetLeader(group, address);
}

Random Router::ForkRandom() {
  absl::MutexLock lock(&mu_);
  return random_.Fork();
}

SteadyTime Router::AttemptDeadline(CallKind kind, SteadyTime deadline) const {
  if (kind == CallKind::kWrite) return deadline;
  return std::min(deadline, Clock::now() + options_.attempt_timeout);
}

}  // namespace meridian::client
