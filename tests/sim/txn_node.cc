// TxnNode implementation; see txn_node.h.
//
// Seed: disk latency and tick jitter from the node's Random. Faults: crash (loses unsynced
// state, the store and the manager), restart (restores the checkpoint, replays the log after it),
// pause. Checkers: applies, states and checkpoints go to the TxnNodeHost.
#include "tests/sim/txn_node.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "common/key_encoding.h"
#include "common/status_macros.h"
#include "txn/ownership.h"

namespace meridian::sim {

const char* TxnRequestName(const TxnRequest& request) {
  static constexpr const char* kNames[] = {"read",      "prepare",   "commit",       "abort",
                                           "keepalive", "read_only", "snapshot_read"};
  return kNames[request.index()];
}

absl::StatusOr<std::optional<std::string>> SimStore::Get(std::string_view key, txn::Timestamp ts) {
  auto it = data_.find(key);
  if (it == data_.end()) return std::optional<std::string>();
  auto v = it->second.upper_bound(ts);
  if (v == it->second.begin()) return std::optional<std::string>();
  return std::prev(v)->second;
}

absl::Status SimStore::Write(txn::Timestamp ts, const std::vector<txn::Mutation>& writes) {
  for (const txn::Mutation& m : writes) data_[m.key][ts] = m.value;
  return absl::OkStatus();
}

absl::Status SimStore::WriteVersions(const std::vector<txn::Version>& versions) {
  for (const txn::Version& v : versions) data_[v.key][v.ts] = v.value;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> SimStore::EraseVersions(std::string_view start, std::string_view end,
                                                 uint64_t limit) {
  uint64_t erased = 0;
  auto it = data_.lower_bound(start);
  while (it != data_.end() && txn::InRange(it->first, start, end) && erased < limit) {
    auto& versions = it->second;
    while (!versions.empty() && erased < limit) {
      versions.erase(versions.begin());
      ++erased;
    }
    it = versions.empty() ? data_.erase(it) : std::next(it);
  }
  return erased;
}

absl::Status SimStore::RaiseHorizon(txn::Timestamp horizon) {
  if (horizon <= 0) return absl::OkStatus();
  return absl::UnimplementedError("the simulator's store collects no garbage");
}

std::vector<txn::Version> SimStore::Export(std::string_view start, std::string_view end,
                                           txn::Timestamp after_ts, txn::Timestamp upto_ts) const {
  std::vector<txn::Version> out;
  for (auto it = data_.lower_bound(start); it != data_.end() && txn::InRange(it->first, start, end);
       ++it) {
    for (const auto& [ts, value] : it->second) {
      if (ts > after_ts && ts <= upto_ts) out.push_back(txn::Version{it->first, ts, value});
    }
  }
  return out;
}

bool SimStore::Empty(std::string_view start, std::string_view end) const {
  auto it = data_.lower_bound(start);
  return it == data_.end() || !txn::InRange(it->first, start, end);
}

std::string SimStore::Encode() const {
  std::string out;
  for (const auto& [key, versions] : data_) {
    keyenc::AppendBytes(&out, key);
    keyenc::AppendUint64(&out, versions.size());
    for (const auto& [ts, value] : versions) {
      keyenc::AppendInt64(&out, ts);
      keyenc::AppendUint64(&out, value.has_value() ? 0 : 1);
      if (value) keyenc::AppendBytes(&out, *value);
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<SimStore>> SimStore::Decode(std::string_view bytes) {
  auto store = std::make_unique<SimStore>();
  while (!bytes.empty()) {
    std::string key;
    uint64_t count = 0;
    RETURN_IF_ERROR(keyenc::ConsumeBytes(&bytes, &key));
    RETURN_IF_ERROR(keyenc::ConsumeUint64(&bytes, &count));
    auto& versions = store->data_[key];
    for (uint64_t i = 0; i < count; ++i) {
      txn::Timestamp ts = 0;
      uint64_t deleted = 0;
      RETURN_IF_ERROR(keyenc::ConsumeInt64(&bytes, &ts));
      RETURN_IF_ERROR(keyenc::ConsumeUint64(&bytes, &deleted));
      std::optional<std::string> value;
      if (deleted == 0) {
        value.emplace();
        RETURN_IF_ERROR(keyenc::ConsumeBytes(&bytes, &*value));
      }
      versions[ts] = std::move(value);
    }
  }
  return store;
}

TxnNode::TxnNode(Addr addr, const TxnNodeConfig& config, EventLoop* loop,
                 truetime::SimulatedTime* time, TxnNodeHost* host, uint64_t seed)
    : ReplicaProcess(addr, config, loop, time, seed), txn_options_(config.txn), host_(host) {}

void TxnNode::OnStart() {
  store_ = std::make_unique<SimStore>();
  manager_ = std::make_unique<txn::TransactionManager>(group(), store_.get(), txn_options_);
  guard_ = std::make_unique<txn::RangeGuard>(
      group(), [this](std::string_view key) { return host_->MapGeneration(*this, key); },
      txn_options_.guard);
  applied_actions_ = txn::Actions{};
  waiting_.clear();
  tick_after_.clear();
  proposed_moves_.clear();
}

absl::Status TxnNode::Restore(const std::string& image, const std::string& data) {
  absl::StatusOr<std::unique_ptr<SimStore>> store = SimStore::Decode(data);
  if (!store.ok()) return absl::DataLossError("bad store data: " + store.status().ToString());
  auto manager = std::make_unique<txn::TransactionManager>(group(), store->get(), txn_options_);
  RETURN_IF_ERROR(manager->Restore(image));
  // Past every check: the restored store and manager replace the old ones.
  manager_ = std::move(manager);
  store_ = *std::move(store);
  applied_actions_ = txn::Actions{};
  waiting_.clear();
  tick_after_.clear();
  proposed_moves_.clear();
  return absl::OkStatus();
}

void TxnNode::OnCrash() {
  manager_.reset();
  store_.reset();
  guard_.reset();
  applied_actions_ = txn::Actions{};
  waiting_.clear();
  tick_after_.clear();
  proposed_moves_.clear();
}

void TxnNode::OnTick() {
  replica().Tick(Now());
  txn::Actions actions;
  manager_->Tick(replica(), Now(), &actions);
  Carry(actions);
}

void TxnNode::ScheduleTickAfter(txn::Timestamp t) {
  if (t == 0 || !tick_after_.insert(t).second) return;
  const uint64_t inc = incarnation();
  // The node's earliest advances at about the rate of true time; re-check until it passed t.
  const int64_t delay = std::max<int64_t>(1, t - Now().earliest + 1);
  loop()->After(delay, [this, inc, t] {
    if (!alive() || incarnation() != inc) return;
    tick_after_.erase(t);
    if (!paused() && !Now().After(t)) {
      ScheduleTickAfter(t);
      return;
    }
    Run([this] { OnTick(); }, ClockFailure::kDrop);
  });
}

void TxnNode::Carry(txn::Actions& actions) {
  for (const txn::Reply& r : actions.replies) {
    auto it = waiting_.find(r.id);
    if (it == waiting_.end()) continue;
    ReplyFn reply = std::move(it->second);
    waiting_.erase(it);
    loop()->Trace(absl::StrCat("reply ", Name(), " req=", r.id, " ",
                               r.status.ok() ? "OK" : absl::StatusCodeToString(r.status.code()),
                               " ts=", r.ts));
    reply(r, replica().leader());
  }
  for (const txn::GroupMessage& m : actions.messages) host_->SendGroupMessage(*this, m);
  ScheduleTickAfter(actions.tick_after);
  actions = txn::Actions{};
}

void TxnNode::DeliverPaxos(const paxos::Message& m) {
  Run(
      [this, m] {
        loop()->Trace(absl::StrCat("deliver g", m.group, " ", m.from, "->", m.to, " ",
                                   paxos::MessageTypeName(m.type), " b=", m.ballot.ToString(),
                                   " i=", m.index, " c=", m.commit, " n=", m.entries.size(),
                                   m.reject ? " reject" : "", m.lease_granted ? " vote" : ""));
        Step(m);
      },
      ClockFailure::kDrop);
}

void TxnNode::HandleRequest(const TxnRequest& request, ReplyFn reply) {
  Run(
      [this, request, reply = std::move(reply)] {
        const txn::RequestId id = next_request_++;
        loop()->Trace(absl::StrCat("request ", Name(), " req=", id, " ", TxnRequestName(request)));
        txn::Actions actions;
        const truetime::Interval now = Now();
        if (const auto* keepalive = std::get_if<KeepaliveRequest>(&request)) {
          txn::Reply r;
          r.id = id;
          r.status = manager_->Keepalive(keepalive->txn, now);
          reply(r, replica().leader());
          return;
        }
        if (const auto* abort = std::get_if<txn::AbortRequest>(&request)) {
          manager_->Abort(replica(), now, *abort, &actions);
          Carry(actions);
          return;
        }
        if (absl::Status refusal = CheckKeys(request); !refusal.ok()) {
          loop()->Trace(absl::StrCat("refused ", Name(), " req=", id, " ", refusal.message()));
          txn::Reply r;
          r.id = id;
          r.status = std::move(refusal);
          reply(r, replica().leader());
          return;
        }
        waiting_[id] = reply;
        std::visit(
            [&](const auto& req) {
              using T = std::decay_t<decltype(req)>;
              if constexpr (std::is_same_v<T, txn::ReadRequest>) {
                manager_->Read(replica(), now, id, req, &actions);
              } else if constexpr (std::is_same_v<T, txn::PrepareRequest>) {
                manager_->Prepare(replica(), now, id, req, &actions);
              } else if constexpr (std::is_same_v<T, txn::CommitRequest>) {
                manager_->Commit(replica(), now, id, req, &actions);
              } else if constexpr (std::is_same_v<T, txn::ReadOnlyRequest>) {
                manager_->ReadOnly(replica(), now, id, req, &actions);
              } else if constexpr (std::is_same_v<T, txn::SnapshotReadRequest>) {
                manager_->SnapshotRead(replica(), now, id, req, &actions);
              }
            },
            request);
        Carry(actions);
      },
      ClockFailure::kDrop);
}

absl::Status TxnNode::CheckKeys(const TxnRequest& request) {
  std::vector<std::string_view> keys;
  bool locking = true;
  std::visit(
      [&](const auto& req) {
        using T = std::decay_t<decltype(req)>;
        if constexpr (std::is_same_v<T, txn::ReadRequest>) {
          keys.assign(req.keys.begin(), req.keys.end());
        } else if constexpr (std::is_same_v<T, txn::PrepareRequest> ||
                             std::is_same_v<T, txn::CommitRequest>) {
          keys.assign(req.reads.begin(), req.reads.end());
          for (const txn::Mutation& m : req.writes) keys.push_back(m.key);
        } else if constexpr (std::is_same_v<T, txn::ReadOnlyRequest> ||
                             std::is_same_v<T, txn::SnapshotReadRequest>) {
          keys.assign(req.keys.begin(), req.keys.end());
          locking = false;
        }
      },
      request);
  return guard_->CheckKeys(manager_->ownership(), Now().earliest, keys, locking);
}

void TxnNode::HandleGroupMessage(const txn::GroupMessage& m) {
  Run(
      [this, m] {
        const bool leader = replica().role() == paxos::Role::kLeader;
        loop()->Trace(absl::StrCat("group_message ", Name(), " ",
                                   m.type == txn::GroupMessage::Type::kOutcome   ? "outcome"
                                   : m.type == txn::GroupMessage::Type::kInquiry ? "inquiry"
                                   : m.type == txn::GroupMessage::Type::kPrepared
                                       ? absl::StrCat("prepared@", m.commit_ts)
                                       : "ack",
                                   " g", m.from, "->g", m.to, " txn=", m.txn,
                                   m.committed ? absl::StrCat(" committed@", m.commit_ts) : "",
                                   leader ? "" : " dropped (not leader)"));
        if (!leader) return;
        txn::Actions actions;
        manager_->Receive(replica(), Now(), m, &actions);
        Carry(actions);
      },
      ClockFailure::kDrop);
}

void TxnNode::ApplyEntry(const paxos::Entry& e) {
  const absl::StatusOr<txn::ApplyResult> result =
      manager_->Apply(replica(), e, Now(), &applied_actions_);
  loop()->Trace(absl::StrCat("apply ", Name(), " ", e.index, "@", e.ballot.ToString(),
                             e.type == paxos::EntryType::kNoop ? " noop" : "",
                             result.ok() ? absl::StrCat(" kind=", static_cast<int>(result->kind),
                                                        " txn=", result->txn, " ts=", result->ts)
                                         : " error " + result.status().ToString()));
  host_->OnApplied(*this, e, result);
  AnswerMove(e, result);
}

}  // namespace meridian::sim
