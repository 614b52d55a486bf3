// The harness of the TransactionManager tests (transaction_manager_test.cc and
// transaction_manager_outcome_test.cc): real paxos::Replica groups of one (the log commits at
// once), a hand-driven TrueTime interval (epsilon 1 ms) and an in-memory Store. Group messages
// between managers are delivered by the test, so 2PC steps can be reordered, dropped and
// duplicated on purpose.
#ifndef MERIDIAN_TESTS_UNIT_TXN_MANAGER_HARNESS_H_
#define MERIDIAN_TESTS_UNIT_TXN_MANAGER_HARNESS_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "proto/kv.pb.h"
#include "spanserver/paxos/log_storage.h"
#include "spanserver/paxos/replica.h"
#include "txn/transaction_manager.h"

namespace meridian::txn::manager_test {

constexpr int64_t kEpsilon = 1000;
constexpr Timestamp kStart = 1'700'000'000'000'000;

class MapStore : public Store {
 public:
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key, Timestamp ts) override {
    auto it = data_.find(std::string(key));
    if (it == data_.end()) return std::optional<std::string>();
    auto v = it->second.upper_bound(ts);
    if (v == it->second.begin()) return std::optional<std::string>();
    return std::prev(v)->second;
  }
  absl::Status Write(Timestamp ts, const std::vector<Mutation>& writes) override {
    for (const Mutation& m : writes) data_[m.key][ts] = m.value;
    return absl::OkStatus();
  }
  size_t versions(const std::string& key) const {
    auto it = data_.find(key);
    return it == data_.end() ? 0 : it->second.size();
  }

 private:
  std::map<std::string, std::map<Timestamp, std::optional<std::string>>> data_;
};

// One group of one replica: storage, replica, store, manager; rebuilt from storage by Restart.
struct Group {
  Group(GroupId id, Timestamp* clock, TransactionManagerOptions options = {})
      : id(id), clock(clock), options(options) {
    Build();
  }

  void Build() {
    paxos::Options o;
    o.group = id;
    o.id = 1;
    o.members = {1};
    o.lease_us = 2'000'000;
    replica = std::make_unique<paxos::Replica>(o, &log, Now());
    store = std::make_unique<MapStore>();
    manager = std::make_unique<TransactionManager>(id, store.get(), options);
  }
  // A crash and restart: the log survives; the store and the manager are rebuilt by replay.
  void Restart() { Build(); }

  Interval Now() const { return Interval{*clock - kEpsilon, *clock + kEpsilon}; }

  // Carries out the replica's Ready cycles and feeds committed entries to the manager.
  void Pump() {
    for (int i = 0; i < 100 && replica->HasReady(); ++i) {
      paxos::Ready r = replica->TakeReady();
      if (r.hard_state) log.SaveHardState(*r.hard_state);
      for (const paxos::Entry& e : r.entries) log.Put(e);
      for (const paxos::Entry& e : r.committed) {
        absl::StatusOr<ApplyResult> applied = manager->Apply(*replica, e, Now(), &actions);
        ASSERT_TRUE(applied.ok()) << applied.status();
      }
      replica->Advance(Now());
    }
  }

  void Tick() {
    replica->Tick(Now());
    Pump();
    manager->Tick(*replica, Now(), &actions);
    Pump();
  }

  // Moves the clock until this group leads with a lease and the manager serves.
  void ElectLeader() {
    for (int i = 0; i < 1000 && !manager->leading(); ++i) {
      *clock += 10'000;
      Tick();
    }
    ASSERT_TRUE(manager->leading()) << "group " << id << " never led";
  }

  std::optional<Reply> TakeReply(RequestId rid) {
    for (size_t i = 0; i < actions.replies.size(); ++i) {
      if (actions.replies[i].id == rid) {
        Reply r = actions.replies[i];
        actions.replies.erase(actions.replies.begin() + static_cast<std::ptrdiff_t>(i));
        return r;
      }
    }
    return std::nullopt;
  }

  template <typename F>
  void Do(F&& f) {
    f(*manager, *replica, Now(), &actions);
    Pump();
  }

  GroupId id;
  Timestamp* clock;
  TransactionManagerOptions options;
  paxos::MemoryLogStorage log;
  std::unique_ptr<paxos::Replica> replica;
  std::unique_ptr<MapStore> store;
  std::unique_ptr<TransactionManager> manager;
  Actions actions;
};

// Delivers to `c` the prepare reports (kPrepared) that `p` sent it, taking them out of p's
// messages: the coordinator commits only with the timestamps participants reported.
inline void DeliverReports(Group& p, Group& c) {
  std::vector<GroupMessage> rest;
  for (const GroupMessage& msg : std::exchange(p.actions.messages, {})) {
    if (msg.type != GroupMessage::Type::kPrepared || msg.to != c.id) {
      rest.push_back(msg);
      continue;
    }
    c.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Receive(r, now, msg, a); });
  }
  p.actions.messages = std::move(rest);
}

class TransactionManagerTest : public ::testing::Test {
 protected:
  Timestamp clock_ = kStart;

  // Advances time in 100 us steps, ticking every group, until `done` or `max_us` passed.
  template <typename F>
  void RunUntil(std::vector<Group*> groups, F&& done, int64_t max_us = 100'000) {
    for (int64_t t = 0; t < max_us && !done(); t += 100) {
      clock_ += 100;
      for (Group* g : groups) g->Tick();
    }
  }

  static Mutation Put(std::string k, std::string v) { return Mutation{std::move(k), std::move(v)}; }

  // 2PC of `t` with coordinator `c`: prepares a write in each participant, commits, and waits for
  // the coordinator's reply (its outcome messages stay in c.actions). The commit timestamp, or 0
  // after reporting a failure.
  Timestamp PrepareAndCommit(Group& c, const std::vector<Group*>& participants, const TxnRef& t) {
    const RequestId rid = t.id * 10;
    std::vector<ParticipantRef> prepared;
    for (Group* g : participants) {
      g->Do([&](auto& m, auto& r, Interval now, Actions* a) {
        m.Prepare(r, now, rid, PrepareRequest{t, c.id, {Put("k", "v")}, {}}, a);
      });
      std::optional<Reply> reply = g->TakeReply(rid);
      if (!reply.has_value() || !reply->status.ok()) {
        ADD_FAILURE() << "prepare of " << t.id << " at group " << g->id << " failed";
        return 0;
      }
      prepared.push_back({g->id, reply->ts});
      DeliverReports(*g, c);
    }
    c.Do([&](auto& m, auto& r, Interval now, Actions* a) {
      m.Commit(r, now, rid + 1, CommitRequest{t, {}, {}, prepared}, a);
    });
    std::vector<Group*> all = participants;
    all.push_back(&c);
    std::optional<Reply> commit;
    RunUntil(all, [&] { return (commit = c.TakeReply(rid + 1)).has_value(); });
    if (!commit.has_value() || !commit->status.ok()) {
      ADD_FAILURE() << "commit of " << t.id << " failed";
      return 0;
    }
    return commit->ts;
  }

  // Hands every message `from` has sent to the group it is addressed to, among `to`.
  static void DeliverAll(Group& from, const std::vector<Group*>& to) {
    for (const GroupMessage& msg : std::exchange(from.actions.messages, {})) {
      for (Group* g : to) {
        if (g->id != msg.to) continue;
        g->Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Receive(r, now, msg, a); });
      }
    }
  }
};

}  // namespace meridian::txn::manager_test

#endif  // MERIDIAN_TESTS_UNIT_TXN_MANAGER_HARNESS_H_
