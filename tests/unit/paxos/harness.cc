#include "tests/unit/paxos/harness.h"

#include "absl/strings/str_cat.h"

namespace meridian::paxos::testing {

Harness::Harness(int n, Options base, int64_t epsilon_us) : base_(base), epsilon_(epsilon_us) {
  base_.members.clear();
  for (int i = 1; i <= n; ++i) base_.members.push_back(i);
  for (int i = 1; i <= n; ++i) {
    Node& node = nodes_[i];
    node.storage = std::make_unique<MemoryLogStorage>();
    Options o = base_;
    o.id = i;
    node.replica = std::make_unique<Replica>(o, node.storage.get(), Now());
  }
}

void Harness::Advance(int64_t us) {
  now_ += us;
  for (auto& [id, node] : nodes_) node.replica->Tick(Now());
}

void Harness::HandleReady(ReplicaId id) {
  Node& node = nodes_.at(id);
  while (node.replica->HasReady()) {
    Ready ready = node.replica->TakeReady();
    if (logging_) {
      if (ready.soft_state) {
        log_.push_back(absl::StrCat(id, ": role=", RoleName(ready.soft_state->role),
                                    " leader=", ready.soft_state->leader,
                                    " ballot=", ready.soft_state->ballot.ToString(),
                                    ready.soft_state->lease_end > 0 ? " leased" : ""));
      }
      if (ready.hard_state)
        log_.push_back(absl::StrCat(id, ": hard ", ready.hard_state->ToString()));
      for (const Entry& e : ready.entries)
        log_.push_back(absl::StrCat(id, ": persist ", e.ToString()));
      for (const Message& m : ready.messages) log_.push_back("  send " + m.ToString());
      for (const Message& m : ready.messages_after_persist) {
        log_.push_back("  send-after-sync " + m.ToString());
      }
      for (const Entry& e : ready.committed)
        log_.push_back(absl::StrCat(id, ": apply ", e.ToString()));
    }
    if (ready.hard_state) node.storage->SaveHardState(*ready.hard_state);
    for (const Entry& e : ready.entries) node.storage->Put(e);
    for (Message& m : ready.messages) queue_.push_back(std::move(m));
    for (Message& m : ready.messages_after_persist) queue_.push_back(std::move(m));
    for (Entry& e : ready.committed) node.applied.push_back(std::move(e));
    node.replica->Advance(Now());
    if (ready.snapshot_request) {
      if (logging_) {
        log_.push_back(absl::StrCat(id, ": snapshot from ", ready.snapshot_request->from,
                                    " at least ", ready.snapshot_request->at_least));
      }
      ServeSnapshot(id, *ready.snapshot_request);
    }
  }
}

void Harness::AddReplica(ReplicaId id, const Config& initial) {
  Node& node = nodes_[id];
  node.storage = std::make_unique<MemoryLogStorage>();
  Options o = base_;
  o.id = id;
  o.members = initial.voters;
  o.learners = initial.learners;
  node.replica = std::make_unique<Replica>(o, node.storage.get(), Now());
}

void Harness::Compact(ReplicaId id, Index upto) {
  Node& node = nodes_.at(id);
  node.checkpoint.assign(node.applied.begin(), node.applied.begin() + upto);
  node.storage->Compact(upto);
  node.replica->Compact(upto);
}

void Harness::ServeSnapshot(ReplicaId id, const SnapshotRequest& request) {
  Node& node = nodes_.at(id);
  auto source = nodes_.find(request.from);
  if (!serve_snapshots_ || source == nodes_.end() || source->second.isolated || node.isolated ||
      source->second.replica->snapshot_needed() ||
      source->second.applied.size() < request.at_least) {
    ++snapshots_failed_;
    node.replica->SnapshotFailed();
    return;
  }
  const std::vector<Entry>& from = source->second.applied;
  node.applied = from;
  node.checkpoint = from;
  node.storage->Compact(from.size());
  node.replica->InstallSnapshot(from.size(), Now());
  ++node.snapshots_installed;
}

void Harness::Flush() {
  for (auto& [id, node] : nodes_) HandleReady(id);
}

int Harness::Stabilize(const std::function<bool(const Message&)>& filter, bool keep_filtered) {
  int delivered = 0;
  std::deque<Message> kept;
  for (int round = 0; round < 10000; ++round) {
    Flush();
    if (queue_.empty()) break;
    Message m = std::move(queue_.front());
    queue_.pop_front();
    if (nodes_.at(m.from).isolated || nodes_.at(m.to).isolated) continue;
    if (filter && !filter(m)) {
      if (keep_filtered) kept.push_back(std::move(m));
      continue;
    }
    if (logging_) log_.push_back("  deliver " + m.ToString());
    nodes_.at(m.to).replica->Step(m, Now());
    ++delivered;
  }
  for (Message& m : kept) queue_.push_back(std::move(m));
  return delivered;
}

void Harness::Restart(ReplicaId id) {
  Node& node = nodes_.at(id);
  Options o = base_;
  o.id = id;
  node.applied = node.checkpoint;
  o.applied = node.checkpoint.size();
  node.replica = std::make_unique<Replica>(o, node.storage.get(), Now());
}

ReplicaId Harness::Leader() {
  ReplicaId best = 0;
  Ballot best_ballot;
  for (auto& [id, node] : nodes_) {
    if (node.replica->role() == Role::kLeader && node.replica->ballot() > best_ballot) {
      best = id;
      best_ballot = node.replica->ballot();
    }
  }
  return best;
}

Options TestOptions() {
  Options o;
  o.group = 7;
  o.lease_us = 2'000'000;
  o.election_timeout_us = 1'000'000;
  o.heartbeat_interval_us = 250'000;
  return o;
}

void RunFor(Harness& h, int64_t us) {
  for (int64_t t = 0; t < us; t += 100'000) {
    h.Advance(100'000);
    h.Stabilize();
  }
}

ReplicaId ElectLeader(Harness& h) {
  for (int i = 0; i < 100 && h.Leader() == 0; ++i) RunFor(h, 100'000);
  return h.Leader();
}

std::vector<std::string> Commands(Harness& h, ReplicaId id) {
  std::vector<std::string> out;
  for (const Entry& e : h.applied(id)) {
    if (e.type == EntryType::kNormal) out.push_back(e.command);
  }
  return out;
}

}  // namespace meridian::paxos::testing
