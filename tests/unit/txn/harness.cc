#include "tests/unit/txn/harness.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace meridian::txn::testing {
namespace {

const char* TypeName(GroupMessage::Type type) {
  switch (type) {
    case GroupMessage::Type::kOutcome:
      return "outcome";
    case GroupMessage::Type::kInquiry:
      return "inquiry";
    case GroupMessage::Type::kAck:
      return "ack";
    case GroupMessage::Type::kPrepared:
      return "prepared";
  }
  return "?";
}

const char* KindName(ApplyResult::Kind kind) {
  static constexpr const char* kNames[] = {"none",    "write",  "commit", "abort",
                                           "prepare", "finish", "ignored"};
  return kNames[static_cast<int>(kind)];
}

}  // namespace

std::string ReplyToString(const Reply& r) {
  std::string s = absl::StrCat("reply r", r.id, " ");
  if (!r.status.ok()) {
    absl::StrAppend(&s, absl::StatusCodeToString(r.status.code()), ": ", r.status.message());
    if (r.outcome_unknown) absl::StrAppend(&s, " [outcome_unknown]");
    return s;
  }
  absl::StrAppend(&s, "OK ts=", r.ts);
  if (!r.rows.empty() || r.more) {
    absl::StrAppend(&s, " rows=[",
                    absl::StrJoin(r.rows, ",",
                                  [](std::string* out, const Row& row) {
                                    absl::StrAppend(out, absl::CEscape(row.key), "=",
                                                    absl::CEscape(row.value));
                                  }),
                    "]", r.more ? " more" : "");
  }
  if (!r.values.empty()) {
    absl::StrAppend(&s, " values=[",
                    absl::StrJoin(r.values, ",",
                                  [](std::string* out, const std::optional<std::string>& v) {
                                    absl::StrAppend(out, v ? absl::CEscape(*v) : "<none>");
                                  }),
                    "]");
  }
  return s;
}

absl::StatusOr<std::vector<Row>> MapStore::Scan(std::string_view start, std::string_view end,
                                                Timestamp ts, size_t limit) {
  std::vector<Row> rows;
  for (auto it = data_.lower_bound(start); it != data_.end() && rows.size() < limit; ++it) {
    if (!end.empty() && it->first >= end) break;
    auto v = it->second.upper_bound(ts);
    if (v != it->second.begin() && std::prev(v)->second.has_value()) {
      rows.push_back(Row{it->first, *std::prev(v)->second});
    }
  }
  return rows;
}

absl::StatusOr<std::optional<std::string>> MapStore::Get(std::string_view key, Timestamp ts) {
  auto it = data_.find(key);
  if (it == data_.end()) return std::optional<std::string>();
  auto v = it->second.upper_bound(ts);
  if (v == it->second.begin()) return std::optional<std::string>();
  return std::prev(v)->second;
}

absl::Status MapStore::Write(Timestamp ts, const std::vector<Mutation>& writes) {
  for (const Mutation& m : writes) data_[m.key][ts] = m.value;
  return absl::OkStatus();
}

absl::Status MapStore::WriteVersions(const std::vector<Version>& versions) {
  for (const Version& v : versions) data_[v.key][v.ts] = v.value;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> MapStore::EraseVersions(std::string_view start, std::string_view end,
                                                 uint64_t limit) {
  uint64_t erased = 0;
  for (auto it = data_.lower_bound(start);
       it != data_.end() && (end.empty() || it->first < end) && erased < limit;) {
    while (!it->second.empty() && erased < limit) {
      it->second.erase(it->second.begin());
      ++erased;
    }
    it = it->second.empty() ? data_.erase(it) : std::next(it);
  }
  return erased;
}

absl::Status MapStore::RaiseHorizon(Timestamp horizon) {
  horizon_ = std::max(horizon_, horizon);
  return absl::OkStatus();
}

size_t MapStore::versions() const {
  size_t n = 0;
  for (const auto& [key, versions] : data_) n += versions.size();
  return n;
}

std::string MessageToString(const GroupMessage& m) {
  std::string s = absl::StrCat(TypeName(m.type), " ", m.from, "->", m.to, " txn=", m.txn);
  if (m.type == GroupMessage::Type::kOutcome) {
    absl::StrAppend(&s, m.committed ? absl::StrCat(" committed@", m.commit_ts) : " aborted");
  }
  if (m.type == GroupMessage::Type::kPrepared) absl::StrAppend(&s, " ts=", m.commit_ts);
  if (m.leader_only) absl::StrAppend(&s, " leader-only");
  return s;
}

void Harness::AddGroup(GroupId g, int replicas, const TransactionManagerOptions& options) {
  Group& group = groups_[g];
  group.options = options;
  group.replicas.resize(replicas);
  for (int r = 1; r <= replicas; ++r) {
    Replica& replica = group.replicas[r - 1];
    replica.name = absl::StrCat("g", g, ".", r);
    replica.port = std::make_unique<FakeReplica>(replica.name, &group.log, &log_);
    Build(group, replica, g);
  }
}

void Harness::Build(Group& group, Replica& replica, GroupId g) {
  replica.store = std::make_unique<MapStore>();
  replica.manager = std::make_unique<TransactionManager>(g, replica.store.get(), group.options);
  replica.applied = 0;
}

void Harness::Lead(GroupId g, int r) {
  Group& group = groups_.at(g);
  const paxos::Ballot ballot{++group.round, static_cast<paxos::ReplicaId>(r)};
  group.leader = r;
  for (int i = 1; i <= static_cast<int>(group.replicas.size()); ++i) {
    group.replicas[i - 1].port->SetRole(i == r, ballot, static_cast<paxos::ReplicaId>(r));
  }
}

void Harness::SetLease(GroupId g, int r, bool held) {
  groups_.at(g).replicas.at(r - 1).port->set_lease(held);
}

void Harness::Restart(GroupId g, int r) {
  Group& group = groups_.at(g);
  Replica& replica = group.replicas.at(r - 1);
  Build(group, replica, g);
  ApplyUpTo(group, replica, /*print=*/false);
  log_.push_back(absl::StrCat(replica.name, " restarted: replayed ", replica.applied, " entries"));
}

void Harness::Do(GroupId g, int r, const Call& f) {
  Group& group = groups_.at(g);
  if (r == 0) r = group.leader == 0 ? 1 : group.leader;
  Replica& replica = group.replicas.at(r - 1);
  Actions actions;
  f(*replica.manager, *replica.port, Now(), &actions);
  Carry(replica.name, actions);
}

void Harness::Carry(const std::string& name, Actions& actions) {
  for (const Reply& reply : actions.replies) {
    log_.push_back(absl::StrCat(name, " ", ReplyToString(reply)));
  }
  for (const GroupMessage& m : actions.messages) {
    log_.push_back(absl::StrCat(name, " send ", MessageToString(m)));
    queue_.push_back(m);
  }
  if (actions.tick_after != 0) log_.push_back(absl::StrCat(name, " wake at ", actions.tick_after));
  actions = Actions{};
}

void Harness::ApplyUpTo(Group& group, Replica& replica, bool print) {
  while (replica.applied < group.log.committed) {
    const paxos::Index index = ++replica.applied;
    paxos::Entry entry;
    entry.index = index;
    entry.command = group.log.commands[index - 1];
    Actions actions;
    absl::StatusOr<ApplyResult> r = replica.manager->Apply(*replica.port, entry, Now(), &actions);
    if (!print) continue;
    log_.push_back(
        absl::StrCat(replica.name, " apply #", index, " ",
                     r.ok() ? absl::StrCat(KindName(r->kind), " txn=", r->txn, " ts=", r->ts)
                            : r.status().ToString()));
    Carry(replica.name, actions);
  }
}

void Harness::Commit(GroupId g, size_t count) {
  Group& group = groups_.at(g);
  const size_t pending = group.log.commands.size() - group.log.committed;
  group.log.committed += count == 0 ? pending : std::min(count, pending);
  for (Replica& replica : group.replicas) ApplyUpTo(group, replica, /*print=*/true);
}

void Harness::DropProposals(GroupId g) {
  Group& group = groups_.at(g);
  group.log.commands.resize(group.log.committed);
}

void Harness::Deliver(const std::function<bool(const GroupMessage&)>& filter) {
  std::deque<GroupMessage> kept;
  std::deque<GroupMessage> queue = std::exchange(queue_, {});
  for (const GroupMessage& m : queue) {
    if (!filter(m)) {
      kept.push_back(m);
      continue;
    }
    auto group = groups_.find(m.to);
    if (group == groups_.end() || group->second.leader == 0) {
      log_.push_back(absl::StrCat("drop ", MessageToString(m), " (no leader)"));
      continue;
    }
    log_.push_back(absl::StrCat("deliver ", MessageToString(m)));
    Do(m.to, 0, [&](TransactionManager& tm, ReplicaPort& port, Interval now, Actions* out) {
      tm.Receive(port, now, m, out);
    });
  }
  // Messages sent while delivering go after the ones still queued.
  for (GroupMessage& m : queue_) kept.push_back(std::move(m));
  queue_ = std::move(kept);
}

void Harness::Duplicate(const std::function<bool(const GroupMessage&)>& filter) {
  const size_t n = queue_.size();
  for (size_t i = 0; i < n; ++i) {
    if (!filter(queue_[i])) continue;
    log_.push_back(absl::StrCat("duplicate ", MessageToString(queue_[i])));
    queue_.push_back(queue_[i]);
  }
}

void Harness::Tick(int64_t us) {
  now_ += us;
  for (auto& [g, group] : groups_) {
    for (Replica& replica : group.replicas) {
      Actions actions;
      replica.manager->Tick(*replica.port, Now(), &actions);
      Carry(replica.name, actions);
    }
  }
}

void Harness::Status(GroupId g) {
  for (const Replica& replica : groups_.at(g).replicas) {
    const TransactionManager& m = *replica.manager;
    const TransactionManager::Memory mem = m.memory();
    log_.push_back(absl::StrCat(replica.name, " ", replica.port->IsLeader() ? "leader" : "follower",
                                m.leading() ? " serving" : "", " applied=", replica.applied,
                                " prepared=", m.prepared_count(), " safe=", m.SafeTime(),
                                " last_ts=", m.LastTs(), " decisions=", mem.decisions,
                                " finished=", mem.finished, " active=", mem.active,
                                " forgotten=", mem.forgotten_ids));
  }
}

}  // namespace meridian::txn::testing
