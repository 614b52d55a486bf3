#include "txn/lock_table.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/check.h"

namespace meridian::txn {
namespace {

bool Conflicts(LockMode a, LockMode b) {
  return a == LockMode::kExclusive || b == LockMode::kExclusive;
}

// True when a lock held in `held` satisfies a request for `wanted`.
bool Covers(LockMode held, LockMode wanted) {
  return held == LockMode::kExclusive || wanted == LockMode::kShared;
}

bool RangeContains(const LockSpan& range, const std::string& key) {
  return range.start <= key && (range.end.empty() || key < range.end);
}

}  // namespace

const char* LockModeName(LockMode mode) { return mode == LockMode::kShared ? "S" : "X"; }

LockSpan LockSpan::Key(std::string key) { return LockSpan{std::move(key), "", false}; }

LockSpan LockSpan::Range(std::string start, std::string end) {
  return LockSpan{std::move(start), std::move(end), true};
}

bool LockSpan::Overlaps(const LockSpan& other) const {
  if (!is_range && !other.is_range) return start == other.start;
  if (!is_range) return RangeContains(other, start);
  if (!other.is_range) return RangeContains(*this, other.start);
  return (end.empty() || other.start < end) && (other.end.empty() || start < other.end);
}

std::string LockSpan::ToString() const {
  if (!is_range) return absl::CEscape(start);
  return absl::StrCat("[", absl::CEscape(start), ",", end.empty() ? "+inf" : absl::CEscape(end),
                      ")");
}

LockTable::LockTable(const LockTableOptions& options) : options_(options) {}

bool LockTable::Holds(TxnId txn, const LockSpan& span, LockMode mode) const {
  auto it = locks_.find(span);
  if (it == locks_.end()) return false;
  for (const Entry& holder : it->second.holders) {
    if (holder.txn == txn) return Covers(holder.mode, mode);
  }
  return false;
}

template <typename F>
void LockTable::ForEachOverlapping(const LockSpan& span, F&& f) const {
  // Ranges that start before the span and reach into it.
  for (const LockSpan& range : ranges_) {
    if (range.start >= span.start) break;
    if (range.Overlaps(span)) f(range, locks_.at(range));
  }
  // Every span that starts inside this one (at its key, for a key) overlaps it.
  for (auto it = locks_.lower_bound(LockSpan::Key(span.start)); it != locks_.end(); ++it) {
    const std::string& start = it->first.start;
    if (span.is_range ? (!span.end.empty() && start >= span.end) : start != span.start) break;
    f(it->first, it->second);
  }
}

bool LockTable::Blocked(const TxnRef& txn, const LockSpan& span, LockMode mode,
                        std::vector<TxnId>* younger_holders) const {
  bool blocked = false;
  ForEachOverlapping(span, [&](const LockSpan&, const Lock& lock) {
    for (const Entry& holder : lock.holders) {
      if (holder.txn == txn.id || !Conflicts(holder.mode, mode)) continue;
      blocked = true;
      if (younger_holders != nullptr && txn.OlderThan(txns_.at(holder.txn).ref)) {
        younger_holders->push_back(holder.txn);
      }
    }
    for (const Entry& waiter : lock.waiters) {
      if (waiter.txn == txn.id || !Conflicts(waiter.mode, mode)) continue;
      if (txns_.at(waiter.txn).ref.OlderThan(txn)) blocked = true;
    }
  });
  if (younger_holders != nullptr) {
    std::sort(younger_holders->begin(), younger_holders->end());
    younger_holders->erase(std::unique(younger_holders->begin(), younger_holders->end()),
                           younger_holders->end());
  }
  return blocked;
}

absl::StatusOr<AcquireResult> LockTable::Acquire(const TxnRef& txn, const LockSpan& span,
                                                 LockMode mode, int64_t now_us) {
  if (span.is_range && !span.end.empty() && span.end <= span.start) {
    return absl::InvalidArgumentError(
        absl::StrCat("lock range ", span.ToString(), " is empty: its end must be after its start"));
  }
  size_t txn_spans = 0;
  if (absl::Status st = CheckTxn(txn, now_us, &txn_spans); !st.ok()) return st;
  Request r = FindOwn(txn.id, span);
  AcquireResult result;
  if (r.held != nullptr && Covers(r.held->mode, mode)) return result;  // re-entrant
  if (r.waiting != nullptr && Covers(r.waiting->mode, mode)) {
    result.outcome = AcquireOutcome::kWaiting;
    return result;
  }
  r.new_span = r.held == nullptr && r.waiting == nullptr;
  if (r.new_span && txn_spans >= options_.max_locks_per_txn) {
    return absl::ResourceExhaustedError(
        absl::StrCat("transaction ", txn.id, " has ", txn_spans, " locks, the most allowed"));
  }
  r.blocked = Blocked(txn, span, mode, &r.younger_holders);
  if (r.blocked && r.waiting == nullptr) {
    const size_t here = r.lock == locks_.end() ? 0 : r.lock->second.waiters.size();
    if (here >= options_.max_waiters_per_lock) {
      return absl::ResourceExhaustedError(
          absl::StrCat(here, " requests already wait for ", span.ToString(), ", the most allowed"));
    }
    if (waiter_count_ >= options_.max_waiters) {
      return absl::ResourceExhaustedError(
          absl::StrCat(waiter_count_, " lock requests already wait, the most allowed"));
    }
  }
  // Past every check: from here on the request changes the table.
  Take(txn, span, mode, now_us, r, &result);
  return result;
}

absl::Status LockTable::CheckTxn(const TxnRef& txn, int64_t now_us, size_t* txn_spans) {
  auto it = txns_.find(txn.id);
  if (it == txns_.end()) return absl::OkStatus();
  TxnState& state = it->second;
  if (state.ref.start_ts != txn.start_ts) {
    return absl::FailedPreconditionError(absl::StrCat("transaction ", txn.id, " started at ",
                                                      state.ref.start_ts, ", not ", txn.start_ts));
  }
  if (state.doomed) {
    return absl::AbortedError(absl::StrCat("transaction ", txn.id, " ", state.doom_reason));
  }
  state.last_active_us = std::max(state.last_active_us, now_us);
  *txn_spans = state.spans.size();
  return absl::OkStatus();
}

LockTable::Request LockTable::FindOwn(TxnId txn, const LockSpan& span) {
  Request r;
  r.lock = locks_.find(span);
  if (r.lock == locks_.end()) return r;
  for (Entry& e : r.lock->second.holders) {
    if (e.txn == txn) r.held = &e;
  }
  for (Entry& e : r.lock->second.waiters) {
    if (e.txn == txn) r.waiting = &e;
  }
  return r;
}

void LockTable::Take(const TxnRef& txn, const LockSpan& span, LockMode mode, int64_t now_us,
                     Request& r, AcquireResult* result) {
  TxnState& state = txns_[txn.id];
  CHECK(r.new_span || state.spans.contains(span));
  state.ref = txn;
  state.last_active_us = std::max(state.last_active_us, now_us);
  state.spans.insert(span);
  if (r.lock == locks_.end()) {
    r.lock = locks_.try_emplace(span).first;
    if (span.is_range) ranges_.insert(span);
  }
  Lock& lock = r.lock->second;
  if (!r.blocked) {
    CHECK(r.waiting == nullptr);  // a weaker wait on this span would block this request too
    if (r.held != nullptr) {
      r.held->mode = mode;
    } else {
      lock.holders.push_back(Entry{txn.id, mode});
    }
    return;
  }
  result->outcome = AcquireOutcome::kWaiting;
  if (r.waiting != nullptr) {
    r.waiting->mode = mode;  // S -> X while waiting: same place in the queue
  } else {
    auto pos = std::find_if(lock.waiters.begin(), lock.waiters.end(),
                            [&](const Entry& e) { return txn.OlderThan(txns_.at(e.txn).ref); });
    lock.waiters.insert(pos, Entry{txn.id, mode});
    ++waiter_count_;
    ++waits_started_;
  }
  if (!options_.testing_wait_instead_of_wound) Wound(txn, span, r.younger_holders, result);
}

void LockTable::Wound(const TxnRef& txn, const LockSpan& span,
                      const std::vector<TxnId>& younger_holders, AcquireResult* result) {
  for (TxnId victim : younger_holders) {
    TxnState& v = txns_.at(victim);
    if (v.doomed) continue;
    v.doomed = true;
    v.doom_reason = absl::StrCat("was wounded by older transaction ", txn.id, " (lock on ",
                                 span.ToString(), "): retry it");
    result->wounded.push_back(victim);
  }
}

void LockTable::RemoveEntries(TxnId txn, const LockSpan& span) {
  auto it = locks_.find(span);
  CHECK(it != locks_.end());
  Lock& lock = it->second;
  std::erase_if(lock.holders, [&](const Entry& e) { return e.txn == txn; });
  waiter_count_ -= std::erase_if(lock.waiters, [&](const Entry& e) { return e.txn == txn; });
  if (lock.holders.empty() && lock.waiters.empty()) {
    if (span.is_range) ranges_.erase(span);
    locks_.erase(it);
  }
}

std::vector<Grant> LockTable::GrantWaiters(const std::set<LockSpan>& released) {
  std::set<LockSpan> candidates;
  for (const LockSpan& span : released) {
    ForEachOverlapping(span, [&](const LockSpan& s, const Lock& lock) {
      if (!lock.waiters.empty()) candidates.insert(s);
    });
  }
  struct Candidate {
    TxnRef ref;
    LockSpan span;
    LockMode mode;
  };
  std::vector<Candidate> waiting;
  for (const LockSpan& span : candidates) {
    for (const Entry& e : locks_.at(span).waiters) {
      waiting.push_back(Candidate{txns_.at(e.txn).ref, span, e.mode});
    }
  }
  std::stable_sort(waiting.begin(), waiting.end(),
                   [](const Candidate& a, const Candidate& b) { return a.ref.OlderThan(b.ref); });
  // One pass suffices: a grant turns a waiter into a holder of the same (or, for an upgrade, a
  // stronger) mode, so it never unblocks anyone.
  std::vector<Grant> grants;
  for (const Candidate& c : waiting) {
    std::vector<TxnId> younger_holders;
    if (Blocked(c.ref, c.span, c.mode, &younger_holders)) {
      for (TxnId h : younger_holders) {
        CHECK_MSG(options_.testing_wait_instead_of_wound || txns_.at(h).doomed,
                  "a waiter is blocked by a younger holder that was not wounded");
      }
      continue;
    }
    Lock& lock = locks_.at(c.span);
    waiter_count_ -= std::erase_if(lock.waiters, [&](const Entry& e) { return e.txn == c.ref.id; });
    auto held = std::find_if(lock.holders.begin(), lock.holders.end(),
                             [&](const Entry& e) { return e.txn == c.ref.id; });
    if (held != lock.holders.end()) {
      held->mode = c.mode;
    } else {
      lock.holders.push_back(Entry{c.ref.id, c.mode});
    }
    grants.push_back(Grant{c.ref.id, c.span, c.mode});
  }
  return grants;
}

std::vector<Grant> LockTable::Release(TxnId txn, const LockSpan& span) {
  auto it = txns_.find(txn);
  if (it == txns_.end() || it->second.spans.erase(span) == 0) return {};
  RemoveEntries(txn, span);
  return GrantWaiters({span});
}

std::vector<Grant> LockTable::ReleaseAll(TxnId txn) {
  auto it = txns_.find(txn);
  if (it == txns_.end()) return {};
  const std::set<LockSpan> spans = std::move(it->second.spans);
  txns_.erase(it);
  for (const LockSpan& span : spans) RemoveEntries(txn, span);
  return GrantWaiters(spans);
}

absl::Status LockTable::Touch(TxnId txn, int64_t now_us) {
  auto it = txns_.find(txn);
  if (it == txns_.end()) return absl::OkStatus();
  TxnState& state = it->second;
  if (state.doomed) {
    return absl::AbortedError(absl::StrCat("transaction ", txn, " ", state.doom_reason));
  }
  state.last_active_us = std::max(state.last_active_us, now_us);
  return absl::OkStatus();
}

std::vector<TxnId> LockTable::ExpireIdle(int64_t now_us, int64_t timeout_us) {
  std::vector<TxnId> expired;
  for (auto& [id, state] : txns_) {
    if (state.doomed || now_us - state.last_active_us < timeout_us) continue;
    state.doomed = true;
    state.doom_reason = absl::StrCat("was aborted after ", now_us - state.last_active_us,
                                     " us without a keepalive: retry it");
    expired.push_back(id);
  }
  return expired;
}

std::vector<std::pair<TxnId, TxnId>> LockTable::WaitsFor() const {
  std::vector<std::pair<TxnId, TxnId>> edges;
  for (const auto& [span, lock] : locks_) {
    for (const Entry& w : lock.waiters) {
      const TxnRef& waiter = txns_.at(w.txn).ref;
      ForEachOverlapping(span, [&](const LockSpan&, const Lock& other) {
        for (const Entry& h : other.holders) {
          if (h.txn != w.txn && Conflicts(h.mode, w.mode)) edges.emplace_back(w.txn, h.txn);
        }
        for (const Entry& o : other.waiters) {
          if (o.txn != w.txn && Conflicts(o.mode, w.mode) &&
              txns_.at(o.txn).ref.OlderThan(waiter)) {
            edges.emplace_back(w.txn, o.txn);
          }
        }
      });
    }
  }
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  return edges;
}

std::string LockTable::DebugString() const {
  std::string out;
  for (const auto& [span, lock] : locks_) {
    absl::StrAppend(&out, span.ToString(), ":");
    if (!lock.holders.empty()) absl::StrAppend(&out, " held");
    for (const Entry& e : lock.holders)
      absl::StrAppend(&out, " ", e.txn, ":", LockModeName(e.mode));
    if (!lock.waiters.empty()) absl::StrAppend(&out, " waiting");
    for (const Entry& e : lock.waiters)
      absl::StrAppend(&out, " ", e.txn, ":", LockModeName(e.mode));
    absl::StrAppend(&out, "\n");
  }
  return out;
}

std::vector<TxnId> LockTable::TxnsOverlapping(const LockSpan& span) const {
  std::set<TxnId> txns;
  ForEachOverlapping(span, [&txns](const LockSpan&, const Lock& lock) {
    for (const Entry& e : lock.holders) txns.insert(e.txn);
    for (const Entry& e : lock.waiters) txns.insert(e.txn);
  });
  return {txns.begin(), txns.end()};
}

size_t LockTable::CountOverlapping(const LockSpan& span) const {
  size_t n = 0;
  ForEachOverlapping(span, [&n](const LockSpan&, const Lock&) { ++n; });
  return n;
}

}  // namespace meridian::txn
