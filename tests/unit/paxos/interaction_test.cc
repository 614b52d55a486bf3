// Golden-file interaction tests for paxos::Replica, in the style of etcd raft's testdata scripts.
//
// Each file in testdata/ is a script of commands, each followed by "----" and the output the
// harness printed while running it (every Ready: soft state, hard state, persisted entries, sent
// and delivered messages, applied entries). The test fails on any difference. To accept new
// output after a deliberate change, run with MERIDIAN_REWRITE_GOLDEN=1 and review the diff
// (tests/unit/golden/golden_script.h).
//
// Commands:
//   new N                      a group of N replicas (ids 1..N)
//   campaign ID                ID starts phase 1 now
//   propose ID CMD             ID proposes CMD
//   transfer ID TARGET         ID hands leadership to TARGET
//   tick US                    advance time by US microseconds and tick everyone (no delivery)
//   stabilize [drop=ID]        flush output and deliver messages until quiet (dropping any
//                              message to or from ID)
//   deliver FROM TO            deliver only messages from FROM to TO (others stay queued)
//   clear                      drop every queued message
//   isolate ID | heal ID       cut ID off the network, or reconnect it
//   restart ID                 rebuild ID from its storage, as after a crash
//   status                     one line per replica: role, ballot, commit, applied, lease
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/unit/golden/golden_script.h"
#include "tests/unit/paxos/harness.h"

namespace meridian::paxos {
namespace {

class Runner {
 public:
  std::string Run(const std::string& command) {
    std::vector<std::string> args = absl::StrSplit(command, ' ', absl::SkipEmpty());
    auto id = [&](size_t i) { return static_cast<ReplicaId>(std::stoull(args.at(i))); };
    if (args[0] == "new") {
      Options o;
      o.group = 1;
      o.seed = 1;
      h_ = std::make_unique<testing::Harness>(std::stoi(args.at(1)), o);
      h_->set_logging(true);
    } else if (args[0] == "campaign") {
      h_->replica(id(1)).Campaign(h_->Now());
      h_->Flush();
    } else if (args[0] == "propose") {
      auto r = h_->replica(id(1)).Propose(args.at(2), h_->Now());
      h_->log().push_back(r.ok() ? absl::StrCat("proposed at ", *r) : r.status().ToString());
      h_->Flush();
    } else if (args[0] == "transfer") {
      absl::Status s = h_->replica(id(1)).TransferLeadership(id(2), h_->Now());
      if (!s.ok()) h_->log().push_back(s.ToString());
      h_->Flush();
    } else if (args[0] == "tick") {
      h_->Advance(std::stoll(args.at(1)));
      h_->Flush();
    } else if (args[0] == "stabilize") {
      ReplicaId drop = 0;
      if (args.size() > 1 && args[1].rfind("drop=", 0) == 0) drop = std::stoull(args[1].substr(5));
      h_->Stabilize([drop](const Message& m) { return m.from != drop && m.to != drop; });
    } else if (args[0] == "deliver") {
      const ReplicaId from = id(1), to = id(2);
      h_->Stabilize([from, to](const Message& m) { return m.from == from && m.to == to; },
                    /*keep_filtered=*/true);
    } else if (args[0] == "clear") {
      h_->queue().clear();
    } else if (args[0] == "isolate" || args[0] == "heal") {
      h_->Isolate(id(1), args[0] == "isolate");
    } else if (args[0] == "restart") {
      h_->Restart(id(1));
      h_->Flush();
    } else if (args[0] == "status") {
      for (ReplicaId r = 1; h_->HasReplica(r); ++r) {
        const Replica& rep = h_->replica(r);
        h_->log().push_back(absl::StrCat(r, ": ", RoleName(rep.role()),
                                         " ballot=", rep.ballot().ToString(),
                                         " commit=", rep.commit(), " applied=", rep.applied(),
                                         rep.HasLease(h_->Now()) ? " leased" : ""));
      }
    } else {
      return "unknown command: " + command + "\n";
    }
    std::string out = absl::StrJoin(h_->log(), "\n");
    h_->log().clear();
    return out.empty() ? "ok\n" : out + "\n";
  }

 private:
  std::unique_ptr<testing::Harness> h_;
};

class InteractionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(InteractionTest, MatchesGolden) {
  Runner runner;
  meridian::testing::RunGoldenScript(
      std::string(MERIDIAN_PAXOS_TESTDATA) + "/" + GetParam() + ".txt",
      [&runner](const std::string& command) { return runner.Run(command); });
}

INSTANTIATE_TEST_SUITE_P(Golden, InteractionTest,
                         ::testing::Values("election", "lease_expiry", "recovery",
                                           "leader_transfer", "catch_up"));

}  // namespace
}  // namespace meridian::paxos
