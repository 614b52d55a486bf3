// Clients implementation; see clients.h.
//
// Seed: op mix, keys and think times from the injected Random. Checkers: the op history.
#include "tests/sim/clients.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/check.h"

namespace meridian::sim {

Clients::Clients(Cluster* cluster, const SwarmParams& params, Random rng)
    : cluster_(cluster), params_(params), rng_(std::move(rng)) {
  for (paxos::GroupId g : cluster_->groups()) {
    const std::vector<Addr>& nodes = cluster_->GroupNodes(g);
    for (int i = 0; i < params_.clients_per_group; ++i) {
      clients_.push_back(Client{g, nodes[rng_.Uniform(nodes.size())], false});
    }
  }
  cluster_->set_apply_listener(
      [this](SimNode& n, const paxos::Entry& e, uint64_t v) { OnApplied(n, e, v); });
  cluster_->set_crash_listener([this](SimNode& n) { OnCrash(n); });
}

void Clients::Start() {
  for (size_t c = 0; c < clients_.size(); ++c) NextOp(c);
}

void Clients::NextOp(size_t c) {
  clients_[c].busy = false;
  if (stopped_) return;
  cluster_->loop().After(rng_.Range(0, params_.think_max_us), [this, c] {
    if (stopped_ || clients_[c].busy) return;
    const double roll = rng_.NextDouble();
    const OpKind kind = roll < params_.put_p                   ? OpKind::kPut
                        : roll < params_.put_p + params_.get_p ? OpKind::kGet
                                                               : OpKind::kLeaseRead;
    clients_[c].busy = true;
    Attempt(c, kind, absl::StrCat("k", rng_.Uniform(params_.keys)), 1);
  });
}

size_t Clients::Record(size_t c, OpKind kind, const std::string& key, uint64_t id) {
  Op op;
  op.id = id;
  op.group = clients_[c].group;
  op.kind = kind;
  op.key = key;
  op.invoke_us = cluster_->loop().now();
  ops_.push_back(std::move(op));
  ++in_flight_;
  return ops_.size() - 1;
}

void Clients::Attempt(size_t c, OpKind kind, std::string key, int attempt) {
  SimNode& n = cluster_->node(clients_[c].target);
  if (kind == OpKind::kLeaseRead) {
    // The op is invoked when the client sends the read, before the node looks at its lease.
    const TrueUs invoked = cluster_->loop().now();
    absl::StatusOr<paxos::Index> index = n.LeaseRead();
    if (!index.ok()) return Retry(c, kind, std::move(key), attempt, n);
    const size_t op = Record(c, kind, key, next_id_++);
    ops_[op].invoke_us = invoked;
    const Pending p{op, c, n.incarnation(), *index};
    if (n.applied() >= *index) {
      Complete(p, Outcome::kOk, n.Lookup(key).value);
    } else {
      pending_[n.addr()].push_back(p);
    }
  } else {
    const uint64_t id = next_id_++;
    const std::string command = kind == OpKind::kPut ? EncodePut(id, key) : EncodeGet(id, key);
    const TrueUs invoked = cluster_->loop().now();
    absl::StatusOr<paxos::Index> slot = n.Propose(command);
    if (!slot.ok()) return Retry(c, kind, std::move(key), attempt, n);
    const size_t op = Record(c, kind, key, id);
    ops_[op].invoke_us = invoked;
    pending_[n.addr()].push_back(Pending{op, c, n.incarnation(), *slot});
  }
  // Every op times out; a late answer for it is then ignored.
  const size_t op = ops_.size() - 1;
  cluster_->loop().After(params_.op_timeout_us, [this, op, addr = n.addr()] {
    std::vector<Pending>& ps = pending_[addr];
    for (size_t i = 0; i < ps.size(); ++i) {
      if (ps[i].op != op) continue;
      const Pending p = ps[i];
      ps.erase(ps.begin() + static_cast<std::ptrdiff_t>(i));
      Complete(p, Outcome::kUnknown, 0);
      return;
    }
  });
}

void Clients::Retry(size_t c, OpKind kind, std::string key, int attempt, SimNode& asked) {
  Client& client = clients_[c];
  const std::vector<Addr>& nodes = cluster_->GroupNodes(client.group);
  // Follow the leader hint when the node answered with one, else try a random replica.
  Addr next = nodes[rng_.Uniform(nodes.size())];
  if (asked.serving() && asked.replica().leader() != paxos::kNoReplica &&
      asked.replica().leader() != asked.id()) {
    next = cluster_->AddrOf(client.group, asked.replica().leader());
  }
  client.target = next;
  if (attempt >= params_.max_attempts || stopped_) {
    NextOp(c);
    return;
  }
  cluster_->loop().After(rng_.Range(1'000, 50'000), [this, c, kind, key = std::move(key), attempt] {
    Attempt(c, kind, key, attempt + 1);
  });
}

void Clients::Complete(const Pending& p, Outcome outcome, uint64_t read_value) {
  Op& op = ops_[p.op];
  CHECK(op.outcome == Outcome::kUnknown && op.complete_us == kNever);
  op.outcome = outcome;
  if (outcome != Outcome::kUnknown) op.complete_us = cluster_->loop().now();
  if (outcome == Outcome::kOk) op.read_value = read_value;
  if (outcome == Outcome::kOk && op.kind == OpKind::kPut) {
    paxos::Index& m = max_acked_slot_[op.group];
    m = std::max(m, p.slot);
  }
  cluster_->loop().Trace(absl::StrCat("op ", op.ToString()));
  CHECK(in_flight_ > 0);
  --in_flight_;
  NextOp(p.client);
}

void Clients::OnApplied(SimNode& n, const paxos::Entry& e, uint64_t read_value) {
  auto it = pending_.find(n.addr());
  if (it == pending_.end()) return;
  std::vector<Pending> done;
  std::vector<Pending>& ps = it->second;
  for (size_t i = 0; i < ps.size();) {
    const Pending& p = ps[i];
    const Op& op = ops_[p.op];
    bool resolved = false;
    if (p.incarnation == n.incarnation()) {
      if (op.kind == OpKind::kLeaseRead) {
        resolved = n.applied() >= p.slot;
      } else {
        resolved = p.slot == e.index;
      }
    }
    if (resolved) {
      done.push_back(p);
      ps.erase(ps.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  for (const Pending& p : done) {
    const Op& op = ops_[p.op];
    if (op.kind == OpKind::kLeaseRead) {
      Complete(p, Outcome::kOk, n.Lookup(op.key).value);
      continue;
    }
    const std::string expected =
        op.kind == OpKind::kPut ? EncodePut(op.id, op.key) : EncodeGet(op.id, op.key);
    const bool ours = e.type == paxos::EntryType::kNormal && e.command == expected;
    Complete(p, ours ? Outcome::kOk : Outcome::kFailed, ours ? read_value : 0);
  }
}

void Clients::OnCrash(SimNode& n) {
  auto it = pending_.find(n.addr());
  if (it == pending_.end()) return;
  std::vector<Pending> lost = std::move(it->second);
  it->second.clear();
  for (const Pending& p : lost) Complete(p, Outcome::kUnknown, 0);
}

void Clients::FinishAll() {
  stopped_ = true;
  for (auto& [addr, ps] : pending_) {
    std::vector<Pending> lost = std::move(ps);
    ps.clear();
    for (const Pending& p : lost) Complete(p, Outcome::kUnknown, 0);
  }
}

bool Clients::CommittedSince(paxos::GroupId g, TrueUs t) const {
  for (auto it = ops_.rbegin(); it != ops_.rend(); ++it) {
    if (it->invoke_us < t) break;
    if (it->group == g && it->kind == OpKind::kPut && it->outcome == Outcome::kOk) return true;
  }
  return false;
}

paxos::Index Clients::MaxAckedSlot(paxos::GroupId g) const {
  auto it = max_acked_slot_.find(g);
  return it == max_acked_slot_.end() ? 0 : it->second;
}

}  // namespace meridian::sim
