// Golden-file interaction tests for two-phase commit in txn::TransactionManager, driven through
// the scripted FakeReplica port (no Paxos), in the style of the Paxos scripts
// (tests/unit/paxos/interaction_test.cc).
//
// Each file in testdata/ is a script of commands, each followed by "----" and the output the
// harness printed while running it (a proposal when it is made, a call's Actions once it
// returns): proposals ("g2.1 propose #3 prepare ts=..."), applied
// records ("g2.1 apply #3 prepare txn=7 ts=..."), replies ("g2.1 reply r4 OK ts=..."), group
// messages sent and delivered, and wake-up requests ("wake at T": commit wait). The test fails on
// any difference. To accept new output after a deliberate change, run with
// MERIDIAN_REWRITE_GOLDEN=1 and review the diff ("#" comment lines are kept). Time starts at
// 1,000,000 us; epsilon is 1,000.
//
// Commands (G: a group; G.R: its replica R; a request to G goes to the replica that leads it):
//   group G [replicas=N] [OPTION=VALUE...]   a group of N replicas (default 1); options:
//       inquiry_us, report_resend_us, snapshot_wait_us, idle_us, safe_time_us, forget_us,
//       max_abort_decisions, and plants (testing_skip_commit_wait=1, ...)
//   lead G.R                     R leads G under a new ballot, with its lease; the others follow
//   lease G.R on|off             R's lease holds or not
//   restart G.R                  R crashes and restarts: a new store and manager replay the log
//   read G txn=T start=S keys=K1,K2 [for_update=1]       a locking read (X locks for update)
//   read G txn=T start=S range=A-B [limit=N]             a locking scan of [A, B) (B empty:
//                                                        +inf; limit 100 by default)
//   prepare G txn=T start=S coordinator=C writes=K=V,K=<delete> [reads=K1,K2] [read_ranges=A-B]
//   commit G txn=T start=S [writes=...] [reads=...] [participants=G1,G2@TS] [read_ranges=...]
//   abort G txn=T [coordinator] [participants=G1,G2]
//   keepalive G txn=T
//   read-only G keys=K1,K2 | range=A-B [limit=N]
//   snapshot G[.R] at=TS keys=K1,K2 | range=A-B [limit=N]
//   apply G [N]                  commit the next N proposals of G (all by default); every
//                                replica applies them
//   drop-proposals G             G's uncommitted proposals are lost
//   deliver [to=G] [type=T] [count=N]   deliver the queued group messages that match (the first
//                                N of them) to the leaders of their groups; the rest stay queued
//   duplicate [to=G] [type=T]    queue a second copy of each matching message
//   drop-messages                drop every queued group message
//   tick US                      advance time by US and tick every replica
//   status G                     one line per replica of G
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/unit/golden/golden_script.h"
#include "tests/unit/txn/harness.h"

namespace meridian::txn {
namespace {

int64_t Int(const std::string& s) {
  int64_t v = 0;
  if (!absl::SimpleAtoi(s, &v)) ADD_FAILURE() << "not a number: " << s;
  return v;
}

std::vector<std::string> List(const std::string& s) {
  return absl::StrSplit(s, ',', absl::SkipEmpty());
}

// "k=v,k2=<delete>".
// "a-m,p-" -> [a, m) and [p, +inf).
std::vector<KeyRange> Ranges(const std::string& s) {
  std::vector<KeyRange> out;
  for (const std::string& r : List(s)) {
    const size_t dash = r.find('-');
    out.push_back(KeyRange{r.substr(0, dash), dash == std::string::npos ? "" : r.substr(dash + 1)});
  }
  return out;
}

// The scan of `range=a-m limit=N` (limit 100 when not given), or none without range=.
std::optional<ScanSpan> Scan(const std::string& range, const std::string& limit) {
  if (range.empty()) return std::nullopt;
  return ScanSpan{Ranges(range).at(0),
                  limit.empty() ? 100u : static_cast<uint32_t>(std::stoul(limit))};
}

std::vector<Mutation> Writes(const std::string& s) {
  std::vector<Mutation> writes;
  for (const std::string& w : List(s)) {
    std::pair<std::string, std::string> kv = absl::StrSplit(w, absl::MaxSplits('=', 1));
    writes.push_back(kv.second == "<delete>" ? Mutation{kv.first, std::nullopt}
                                             : Mutation{kv.first, kv.second});
  }
  return writes;
}

// "2,3@1001000": participant groups, each with an optional prepare timestamp.
std::vector<ParticipantRef> Participants(const std::string& s) {
  std::vector<ParticipantRef> out;
  for (const std::string& p : List(s)) {
    std::pair<std::string, std::string> g_ts = absl::StrSplit(p, absl::MaxSplits('@', 1));
    out.push_back(ParticipantRef{static_cast<GroupId>(Int(g_ts.first)),
                                 g_ts.second.empty() ? 0 : Int(g_ts.second)});
  }
  return out;
}

class Runner {
 public:
  std::string Run(const std::string& command) {
    args_ = absl::StrSplit(command, ' ', absl::SkipEmpty());
    flags_.clear();
    for (size_t i = 1; i < args_.size(); ++i) {
      std::pair<std::string, std::string> kv = absl::StrSplit(args_[i], absl::MaxSplits('=', 1));
      flags_[kv.first] = kv.second;
    }
    if (!Dispatch()) return "unknown command: " + command + "\n";
    std::string out = absl::StrJoin(h_.log(), "\n");
    h_.log().clear();
    return out.empty() ? "ok\n" : out + "\n";
  }

 private:
  // "2" or "2.1" at args_[1]: the group, and the replica (0: the leader).
  std::pair<GroupId, int> Target() const {
    std::pair<std::string, std::string> gr = absl::StrSplit(args_.at(1), absl::MaxSplits('.', 1));
    return {static_cast<GroupId>(Int(gr.first)),
            gr.second.empty() ? 0 : static_cast<int>(Int(gr.second))};
  }
  std::string Flag(const std::string& name) const {
    auto it = flags_.find(name);
    return it == flags_.end() ? "" : it->second;
  }
  TxnRef Txn() const {
    const std::string start = Flag("start");
    return TxnRef{static_cast<TxnId>(Int(Flag("txn"))), start.empty() ? 0 : Int(start)};
  }

  // Sends a request to its target, after announcing its id.
  template <typename F>
  void Request(F&& f) {
    const auto [g, r] = Target();
    const RequestId id = h_.NextRequest();
    h_.log().push_back(absl::StrCat("r", id, " ", args_[0]));
    h_.Do(g, r, [&](TransactionManager& m, ReplicaPort& port, Interval now, Actions* out) {
      f(m, port, now, id, out);
    });
  }

  bool Dispatch();
  void NewGroup();
  bool DoRequest();
  bool Matches(const GroupMessage& m) const;  // the to= and type= flags
  void Deliver();

  testing::Harness h_;
  std::vector<std::string> args_;
  std::map<std::string, std::string> flags_;
};

void Runner::NewGroup() {
  TransactionManagerOptions o;
  const std::map<std::string, int64_t*> times = {
      {"inquiry_us", &o.in_doubt_inquiry_us},     {"report_resend_us", &o.report_resend_us},
      {"snapshot_wait_us", &o.snapshot_wait_us},  {"idle_us", &o.txn_idle_timeout_us},
      {"safe_time_us", &o.safe_time_interval_us}, {"forget_us", &o.forget_interval_us}};
  const std::map<std::string, bool*> plants = {
      {"testing_skip_commit_wait", &o.testing_skip_commit_wait},
      {"testing_release_read_locks_early", &o.testing_release_read_locks_early},
      {"testing_prepare_ts_not_above", &o.testing_prepare_ts_not_above},
      {"testing_snapshot_ignore_safe_time", &o.testing_snapshot_ignore_safe_time},
      {"testing_trust_client_prepare_ts", &o.testing_trust_client_prepare_ts}};
  for (const auto& [name, value] : flags_) {
    if (auto t = times.find(name); t != times.end()) *t->second = Int(value);
    if (auto p = plants.find(name); p != plants.end()) *p->second = Int(value) != 0;
    if (name == "max_abort_decisions") o.max_abort_decisions = static_cast<size_t>(Int(value));
  }
  const std::string replicas = Flag("replicas");
  h_.AddGroup(Target().first, replicas.empty() ? 1 : static_cast<int>(Int(replicas)), o);
}

bool Runner::DoRequest() {
  const std::string& c = args_[0];
  if (c == "read") {
    Request([&](auto& m, auto& p, Interval now, RequestId id, Actions* out) {
      m.Read(p, now, id,
             ReadRequest{Txn(), List(Flag("keys")), Scan(Flag("range"), Flag("limit")),
                         Flag("for_update") == "1"},
             out);
    });
  } else if (c == "prepare") {
    const PrepareRequest req{Txn(), static_cast<GroupId>(Int(Flag("coordinator"))),
                             Writes(Flag("writes")), List(Flag("reads")),
                             Ranges(Flag("read_ranges"))};
    Request([&](auto& m, auto& p, Interval now, RequestId id, Actions* out) {
      m.Prepare(p, now, id, req, out);
    });
  } else if (c == "commit") {
    const CommitRequest req{Txn(), Writes(Flag("writes")), List(Flag("reads")),
                            Participants(Flag("participants")), Ranges(Flag("read_ranges"))};
    Request([&](auto& m, auto& p, Interval now, RequestId id, Actions* out) {
      m.Commit(p, now, id, req, out);
    });
  } else if (c == "read-only") {
    Request([&](auto& m, auto& p, Interval now, RequestId id, Actions* out) {
      m.ReadOnly(p, now, id,
                 ReadOnlyRequest{List(Flag("keys")), Scan(Flag("range"), Flag("limit"))}, out);
    });
  } else if (c == "snapshot") {
    Request([&](auto& m, auto& p, Interval now, RequestId id, Actions* out) {
      m.SnapshotRead(p, now, id,
                     SnapshotReadRequest{List(Flag("keys")), Int(Flag("at")),
                                         Scan(Flag("range"), Flag("limit"))},
                     out);
    });
  } else {
    return false;
  }
  return true;
}

bool Runner::Matches(const GroupMessage& m) const {
  const std::string to = Flag("to");
  const std::string type = Flag("type");
  return (to.empty() || m.to == static_cast<GroupId>(Int(to))) &&
         (type.empty() || testing::MessageToString(m).rfind(type + " ", 0) == 0);
}

void Runner::Deliver() {
  const std::string count = Flag("count");
  int64_t left = count.empty() ? -1 : Int(count);
  h_.Deliver([&](const GroupMessage& m) {
    if (left == 0 || !Matches(m)) return false;
    --left;
    return true;
  });
}

bool Runner::Dispatch() {
  const std::string& c = args_[0];
  if (c == "group") {
    NewGroup();
  } else if (c == "lead" || c == "restart") {
    const auto [g, r] = Target();
    c == "lead" ? h_.Lead(g, r) : h_.Restart(g, r);
  } else if (c == "lease") {
    const auto [g, r] = Target();
    h_.SetLease(g, r, args_.at(2) == "on");
  } else if (c == "abort") {
    const AbortRequest req{Txn().id, flags_.count("coordinator") != 0, [&] {
                             std::vector<GroupId> gs;
                             for (const ParticipantRef& p : Participants(Flag("participants"))) {
                               gs.push_back(p.group);
                             }
                             return gs;
                           }()};
    Request([&](auto& m, auto& p, Interval now, RequestId, Actions* out) {
      m.Abort(p, now, req, out);
    });
  } else if (c == "keepalive") {
    const auto [g, r] = Target();
    h_.Do(g, r, [&](TransactionManager& m, ReplicaPort&, Interval now, Actions*) {
      h_.log().push_back(
          absl::StrCat("keepalive txn=", Txn().id, ": ", m.Keepalive(Txn().id, now).ToString()));
    });
  } else if (c == "apply") {
    h_.Commit(Target().first, args_.size() > 2 ? static_cast<size_t>(Int(args_[2])) : 0);
  } else if (c == "drop-proposals") {
    h_.DropProposals(Target().first);
  } else if (c == "deliver") {
    Deliver();
  } else if (c == "duplicate") {
    h_.Duplicate([&](const GroupMessage& m) { return Matches(m); });
  } else if (c == "drop-messages") {
    h_.ClearMessages();
  } else if (c == "tick") {
    h_.Tick(Int(args_.at(1)));
  } else if (c == "status") {
    h_.Status(Target().first);
  } else {
    return DoRequest();
  }
  return true;
}

class InteractionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(InteractionTest, MatchesGolden) {
  Runner runner;
  meridian::testing::RunGoldenScript(
      std::string(MERIDIAN_TXN_TESTDATA) + "/" + GetParam() + ".txt",
      [&runner](const std::string& command) { return runner.Run(command); });
}

INSTANTIATE_TEST_SUITE_P(Golden, InteractionTest,
                         ::testing::Values("prepare_and_report", "commit_wait", "inquiry",
                                           "leader_change", "presumed_abort", "wound_wait", "scan",
                                           "for_update"));

}  // namespace
}  // namespace meridian::txn
