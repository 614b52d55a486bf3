// The safety checkers over recorded histories; see checkers.h for the rules.
//
// Seed/workload/faults: independent. Checkers: slot agreement (and the states that restarts and
// snapshots carry), lease disjointness, register linearizability, durability of acknowledged
// writes.
#include "tests/sim/checkers.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace meridian::sim {
namespace {

using paxos::GroupId;
using paxos::Index;

// The value chosen in each slot of each group, as the first applier saw it.
struct ChosenLog {
  std::map<std::pair<GroupId, Index>, const ApplyRecord*> slots;
  // put/get id -> (group, slot) where that command was applied.
  std::map<uint64_t, std::pair<GroupId, Index>> slot_of;
};

ChosenLog BuildChosen(const std::vector<ApplyRecord>& applies) {
  ChosenLog log;
  for (const ApplyRecord& a : applies) {
    if (a.kind != ApplyKind::kEntry) continue;
    auto [it, inserted] = log.slots.emplace(std::make_pair(a.group, a.index), &a);
    if (!inserted) continue;
    if (a.type != paxos::EntryType::kNormal) continue;
    if (std::optional<Command> c = DecodeCommand(a.command)) {
      log.slot_of.emplace(c->id, std::make_pair(a.group, a.index));
    }
  }
  return log;
}

std::string Describe(const ApplyRecord& a) {
  return absl::StrCat("g", a.group, "/r", a.replica, "#", a.incarnation, " applied ",
                      a.type == paxos::EntryType::kNoop
                          ? "noop"
                          : absl::StrCat("'", absl::CHexEscape(a.command), "'"),
                      " at slot ", a.index, " t=", a.true_us);
}

std::string DescribeState(const ApplyRecord& a) {
  const char* what = a.kind == ApplyKind::kCheckpoint ? "took a checkpoint" : "took on a state";
  return absl::StrCat("g", a.group, "/r", a.replica, "#", a.incarnation, " ", what,
                      " through slot ", a.index, " t=", a.true_us);
}

}  // namespace

namespace {

// One group's chosen values as CheckSlots has seen them so far, and the LogDigest of each prefix.
struct GroupLog {
  std::map<Index, const ApplyRecord*> chosen;
  std::vector<uint64_t> prefix{0};  // prefix[i]: the digest of slots 1..i
};

// The digest of the group's chosen values through `state`'s index, or a violation when a slot in
// it was never applied by anyone (a state cannot hold a value nobody applied).
std::optional<Violation> PrefixDigest(GroupLog& log, const ApplyRecord& state, uint64_t* digest) {
  while (log.prefix.size() <= state.index) {
    const Index i = log.prefix.size();
    auto it = log.chosen.find(i);
    if (it == log.chosen.end()) {
      return Violation{"slot", absl::StrCat(DescribeState(state), ", but no replica applied slot ",
                                            i, " before")};
    }
    log.prefix.push_back(LogDigest(log.prefix.back(), i, it->second->type, it->second->command));
  }
  *digest = log.prefix[state.index];
  return std::nullopt;
}

// A state record: it must follow the incarnation's own applies (`prev`), hold the chosen values,
// and equal every other state of the group through the same slot.
std::optional<Violation> CheckState(
    const ApplyRecord& a, Index prev, GroupLog& log,
    std::map<std::pair<GroupId, Index>, const ApplyRecord*>& states) {
  if (a.kind == ApplyKind::kCheckpoint && a.index != prev) {
    return Violation{"slot", absl::StrCat(DescribeState(a), " after applying through slot ", prev)};
  }
  if (a.kind == ApplyKind::kState && a.index < prev) {
    return Violation{"slot", absl::StrCat(DescribeState(a), " after applying through slot ", prev,
                                          " (a state machine never moves back)")};
  }
  uint64_t digest = 0;
  if (std::optional<Violation> v = PrefixDigest(log, a, &digest)) return v;
  if (digest != a.log_digest) {
    return Violation{
        "slot", absl::StrCat(DescribeState(a),
                             ", but its entries are not the values chosen in slots 1..", a.index)};
  }
  auto [it, inserted] = states.emplace(std::make_pair(a.group, a.index), &a);
  if (!inserted && it->second->state_hash != a.state_hash) {
    return Violation{"state", absl::StrCat("two states through one slot differ: ",
                                           DescribeState(*it->second), "; ", DescribeState(a))};
  }
  return std::nullopt;
}

}  // namespace

std::optional<Violation> CheckSlots(const std::vector<ApplyRecord>& applies) {
  std::map<GroupId, GroupLog> logs;
  std::map<std::tuple<GroupId, paxos::ReplicaId, uint64_t>, Index> last;
  std::map<std::pair<GroupId, Index>, const ApplyRecord*> states;
  for (const ApplyRecord& a : applies) {
    Index& prev = last[{a.group, a.replica, a.incarnation}];
    GroupLog& log = logs[a.group];
    if (a.kind != ApplyKind::kEntry) {
      if (std::optional<Violation> v = CheckState(a, prev, log, states)) return v;
      prev = a.index;
      continue;
    }
    if (a.index != prev + 1) {
      return Violation{"slot", absl::StrCat(Describe(a), " right after slot ", prev,
                                            " (applies must be contiguous from slot 1, or from "
                                            "the state the incarnation took on)")};
    }
    prev = a.index;
    auto [it, inserted] = log.chosen.emplace(a.index, &a);
    if (inserted) continue;
    const ApplyRecord& first = *it->second;
    if (first.type != a.type || first.command != a.command) {
      return Violation{
          "slot", absl::StrCat("two values in one slot: ", Describe(first), "; but ", Describe(a))};
    }
  }
  return std::nullopt;
}

std::optional<Violation> CheckLeases(const std::vector<LeaseSpan>& spans) {
  std::vector<const LeaseSpan*> sorted;
  sorted.reserve(spans.size());
  for (const LeaseSpan& s : spans) sorted.push_back(&s);
  std::sort(sorted.begin(), sorted.end(), [](const LeaseSpan* a, const LeaseSpan* b) {
    return std::tie(a->group, a->start_us, a->end_us) < std::tie(b->group, b->start_us, b->end_us);
  });
  for (size_t i = 0; i < sorted.size(); ++i) {
    const LeaseSpan& a = *sorted[i];
    for (size_t j = i + 1; j < sorted.size(); ++j) {
      const LeaseSpan& b = *sorted[j];
      if (b.group != a.group || b.start_us > a.end_us) break;
      if (b.ballot == a.ballot) continue;
      return Violation{"lease",
                       absl::StrCat("g", a.group, ": r", a.replica, " held a lease under ballot ",
                                    a.ballot.ToString(), " during [", a.start_us, ", ", a.end_us,
                                    "] and r", b.replica, " under ballot ", b.ballot.ToString(),
                                    " during [", b.start_us, ", ", b.end_us, "]: they overlap")};
    }
  }
  return std::nullopt;
}

std::optional<Violation> CheckLinearizable(const std::vector<Op>& ops,
                                           const std::vector<ApplyRecord>& applies) {
  const ChosenLog log = BuildChosen(applies);
  auto slot_of = [&](uint64_t id) -> std::optional<std::pair<GroupId, Index>> {
    auto it = log.slot_of.find(id);
    if (it == log.slot_of.end()) return std::nullopt;
    return it->second;
  };
  auto fail = [](std::string detail) { return Violation{"linearizability", std::move(detail)}; };

  std::map<uint64_t, const Op*> by_id;
  for (const Op& op : ops) by_id[op.id] = &op;

  // Per (group, key): writes (ops placed at a slot) and reads (with the slot they observed).
  struct Placed {
    const Op* op;
    Index slot;
    TrueUs invoke_us;
    TrueUs complete_us;
  };
  std::map<std::pair<GroupId, std::string>, std::vector<Placed>> writes, reads;
  // Put slots per (group, key), to check log reads against the state at their own slot.
  std::map<std::pair<GroupId, std::string>, std::vector<Index>> put_slots;
  for (const auto& [id, where] : log.slot_of) {
    const ApplyRecord& a = *log.slots.at(where);
    std::optional<Command> c = DecodeCommand(a.command);
    if (c && c->kind == OpKind::kPut) put_slots[{where.first, c->key}].push_back(where.second);
  }
  for (auto& [k, v] : put_slots) std::sort(v.begin(), v.end());

  for (const Op& op : ops) {
    const auto where = slot_of(op.id);
    if (op.kind == OpKind::kPut) {
      if (op.outcome == Outcome::kOk && !where) {
        return fail(absl::StrCat(op.ToString(), " was acknowledged but is in no applied slot"));
      }
      if (op.outcome == Outcome::kFailed && where) {
        return fail(absl::StrCat(op.ToString(), " was reported failed but was applied at slot ",
                                 where->second));
      }
      if (where) {
        const TrueUs complete = op.outcome == Outcome::kOk ? op.complete_us : kNever;
        writes[{op.group, op.key}].push_back({&op, where->second, op.invoke_us, complete});
      }
      continue;
    }
    if (op.outcome != Outcome::kOk) continue;
    Index observed = 0;
    if (op.read_value != 0) {
      auto put = by_id.find(op.read_value);
      const auto put_where = slot_of(op.read_value);
      if (put == by_id.end() || put->second->kind != OpKind::kPut || put->second->key != op.key ||
          put->second->group != op.group || !put_where) {
        return fail(absl::StrCat(op.ToString(), " returned value ", op.read_value,
                                 " which no applied put wrote to that key"));
      }
      observed = put_where->second;
    }
    if (op.kind == OpKind::kGet) {
      if (!where) {
        return fail(absl::StrCat(op.ToString(), " completed but is in no applied slot"));
      }
      const std::vector<Index>& puts = put_slots[{op.group, op.key}];
      auto it = std::lower_bound(puts.begin(), puts.end(), where->second);
      const Index expected = it == puts.begin() ? 0 : *std::prev(it);
      if (observed != expected) {
        return fail(absl::StrCat(op.ToString(), " at slot ", where->second, " saw the put at slot ",
                                 observed, " but the latest put before it is at slot ", expected));
      }
    }
    reads[{op.group, op.key}].push_back({&op, observed, op.invoke_us, op.complete_us});
  }

  for (auto& [gk, ws] : writes) {
    const std::vector<Placed>& rs = reads[gk];
    for (const Placed& a : ws) {
      for (const Placed& b : ws) {
        if (a.complete_us < b.invoke_us && a.slot >= b.slot) {
          return fail(absl::StrCat(a.op->ToString(), " at slot ", a.slot, " completed before ",
                                   b.op->ToString(), " was invoked, yet sits at slot ", b.slot));
        }
      }
      for (const Placed& r : rs) {
        if (a.complete_us < r.invoke_us && a.slot > r.slot) {
          return fail(absl::StrCat("stale read: ", r.op->ToString(), " saw slot ", r.slot, " but ",
                                   a.op->ToString(), " at slot ", a.slot,
                                   " completed before the read was invoked"));
        }
        if (r.complete_us < a.invoke_us && r.slot >= a.slot) {
          return fail(absl::StrCat("read from the future: ", r.op->ToString(), " saw slot ", r.slot,
                                   " but ", a.op->ToString(), " at slot ", a.slot,
                                   " was invoked after the read completed"));
        }
      }
    }
  }
  for (auto& [gk, rs] : reads) {
    for (const Placed& a : rs) {
      for (const Placed& b : rs) {
        if (a.complete_us < b.invoke_us && a.slot > b.slot) {
          return fail(absl::StrCat("non-monotonic reads: ", a.op->ToString(), " saw slot ", a.slot,
                                   " and completed before ", b.op->ToString(),
                                   " was invoked, which saw older slot ", b.slot));
        }
      }
    }
  }
  return std::nullopt;
}

std::optional<Violation> CheckDurability(const std::vector<Op>& ops,
                                         const std::vector<ApplyRecord>& applies,
                                         const std::vector<ReplicaFinal>& finals) {
  std::map<std::tuple<GroupId, paxos::ReplicaId, uint64_t, Index>, const ApplyRecord*> applied;
  // The highest state each incarnation took on (restored or installed): it holds every slot
  // through it, with the chosen values (CheckSlots compares its digest with them).
  std::map<std::tuple<GroupId, paxos::ReplicaId, uint64_t>, Index> state_through;
  for (const ApplyRecord& a : applies) {
    if (a.kind == ApplyKind::kEntry) {
      applied.emplace(std::make_tuple(a.group, a.replica, a.incarnation, a.index), &a);
    } else if (a.kind == ApplyKind::kState) {
      Index& through = state_through[std::make_tuple(a.group, a.replica, a.incarnation)];
      through = std::max(through, a.index);
    }
  }
  const ChosenLog log = BuildChosen(applies);
  for (const Op& op : ops) {
    if (op.kind != OpKind::kPut || op.outcome != Outcome::kOk) continue;
    auto where = log.slot_of.find(op.id);
    if (where == log.slot_of.end()) {
      return Violation{"durability",
                       absl::StrCat(op.ToString(), " was acknowledged but never applied")};
    }
    const Index slot = where->second.second;
    const std::string command = EncodePut(op.id, op.key);
    for (const ReplicaFinal& f : finals) {
      if (f.group != op.group) continue;
      auto state = state_through.find(std::make_tuple(f.group, f.replica, f.incarnation));
      if (state != state_through.end() && state->second >= slot) continue;
      auto it = applied.find(std::make_tuple(f.group, f.replica, f.incarnation, slot));
      if (it == applied.end() || it->second->command != command) {
        return Violation{
            "durability",
            absl::StrCat(op.ToString(), " was acknowledged at slot ", slot, " but after heal g",
                         f.group, "/r", f.replica, "#", f.incarnation, " (applied ", f.applied,
                         ") ",
                         it == applied.end() ? std::string("has not applied that slot")
                                             : absl::StrCat("applied ", Describe(*it->second)))};
      }
    }
  }
  return std::nullopt;
}

}  // namespace meridian::sim
