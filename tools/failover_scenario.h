// The faults of `meridian failover-demo`: which process each scenario hits, found from what the
// spanservers report about themselves (Kv.Status: role leader with a lease), and how it is done.
//
//   leader     kill -9 the spanserver that leads the most groups (the leaders' server)
//   zone       kill -9 every spanserver in the zone of the leaders' server
//   placement  kill -9 the placement leader (needs 3 placement replicas)
//   transfer   a planned move: the leaders' server hands every group it leads to another replica
//              (Kv.TransferLeader), nothing is killed. Where that server is the group's preferred
//              leader (placement's first replica) the target hands the leadership back to it as
//              soon as it is caught up: two planned moves per group.
//   restart    kill -9 the leaders' server; the demo restarts it later (RestartWatch follows it)
//
// Thread safety: none; one thread plans and applies a fault.
#ifndef MERIDIAN_TOOLS_FAILOVER_SCENARIO_H_
#define MERIDIAN_TOOLS_FAILOVER_SCENARIO_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/failover_cluster.h"

namespace meridian::tools {

enum class Scenario { kLeader, kZone, kPlacement, kTransfer, kRestart };

// INVALID_ARGUMENT, listing the names, for an unknown one.
absl::StatusOr<Scenario> ParseScenario(const std::string& name);
const char* ScenarioName(Scenario scenario);
// Every scenario but transfer kills a process.
inline bool ScenarioKills(Scenario scenario) { return scenario != Scenario::kTransfer; }

// Who leads which group right now, according to the spanservers that answer.
struct Leadership {
  struct Server {
    std::string name;
    std::string zone;
    std::string address;
    uint64_t id = 0;  // 0 when it did not answer
    std::vector<uint64_t> leads;
  };
  std::vector<Server> servers;                        // every running spanserver, in process order
  std::map<uint64_t, std::vector<uint64_t>> members;  // group -> replica server ids
  std::map<uint64_t, uint64_t> leader_commit;         // group -> its leader's commit index

  // The server that leads the most groups (the first such in process order); nullptr if none
  // leads any.
  const Server* LeadersServer() const;
  // The process name of server `id`, or "".
  std::string NameOf(uint64_t id) const;
};

Leadership SurveyLeadership(const std::vector<ClusterProcess>& processes);

struct LeaderTransfer {
  uint64_t group = 0;
  std::string from_address;
  uint64_t to = 0;
  std::string to_name;
};

// A fault about to be applied.
struct FaultPlan {
  Scenario scenario = Scenario::kLeader;
  std::vector<std::string> victims;  // processes to kill -9, in order
  uint64_t victim_id = 0;            // leader, restart: the server id of the victim
  // The groups that lose their leader to a kill (leader, zone, restart) and the servers whose
  // leadership of them ends: AwaitLeaders waits for the groups to be led by another again.
  std::vector<uint64_t> groups_hit;
  std::vector<uint64_t> leaders_hit;
  std::vector<LeaderTransfer> transfers;
  std::string label;  // "kill -9 span-a1 (leader of 4 of 8 groups)"
};

// Chooses the fault's target. `placement_leader` is the placement leader's address (for
// kPlacement). FAILED_PRECONDITION when there is nothing to hit (no group has a leader, a single
// placement replica, a group without another replica to transfer to).
absl::StatusOr<FaultPlan> PlanFault(Scenario scenario, const std::vector<ClusterProcess>& processes,
                                    const std::string& placement_leader);

// Kills the victims through `control` (may be null for a plan that kills nothing) or asks for the
// transfers. A transfer refused by one group does not stop the others; the first error is
// returned after all were tried.
absl::Status ApplyFault(const FaultPlan& plan, ProcessControl* control);

// Polls the spanservers among `processes` every `poll` until each of plan.groups_hit reports a
// leader holding its lease that is not among plan.leaders_hit; returns when that happened, or
// nullopt when `give_up` came first (or `cancelled` returned true). Thread-safe (RPCs only).
std::optional<absl::Time> AwaitLeaders(const FaultPlan& plan,
                                       const std::vector<ClusterProcess>& processes,
                                       absl::Duration poll, absl::Time give_up,
                                       const std::function<bool()>& cancelled);

// Follows a restarted spanserver until it has caught up: every group it hosts has applied at
// least the commit index its leader had when the server was restarted.
class RestartWatch {
 public:
  // `before`: a survey taken just before the restart of server `id`, process `name`.
  RestartWatch(const Leadership& before, uint64_t id, std::string name, std::string address);
  // Asks the server; true once it has caught up (and from then on).
  bool Poll();
  // "4 groups, applied 1203/1250 ..." for the progress line.
  const std::string& progress() const { return progress_; }

 private:
  std::string name_;
  std::string address_;
  std::map<uint64_t, uint64_t> target_;  // group -> commit index to reach
  bool caught_up_ = false;
  std::string progress_;
};

}  // namespace meridian::tools

#endif  // MERIDIAN_TOOLS_FAILOVER_SCENARIO_H_
