// Placement: the membership workload's simulated placement (placementd and the spanservers'
// reconcile loop). Every group walks its Paxos configuration through a series of plans, one at a
// time; each plan is a list of wanted replicas, and the group's leader (a node that leads and
// holds its lease) is moved toward it one step at a time by the server's own walker,
// replication::NextConfigStep: a new replica joins as a learner, is promoted once caught up, and
// then an unwanted voter is removed (the leader hands over first when it is the one).
//
// Plans (drawn per group, MembershipParams::plans of them in the fault phase, at random gaps):
// replace a voter by a new replica; grow by one voter; shrink by one; replace two voters at once
// ("two at once": both join as learners, neither is promoted before both caught up, and then
// placement may try the direct jump to the final configuration, which paxos::Replica refuses
// unless testing_two_config_changes); or add a learner that is never promoted and is removed
// again. A voter whose node refused to restart (a wiped disk) is replaced first, whatever the
// drawn plan. A new replica is a spare of the Cluster, started (Cluster::Place) up to
// start_delay_max_us after its plan begins — sometimes after it is already in the configuration —
// either unconfigured or as a learner of the configuration then committed. A caught-up learner
// (within catch_up_lag slots of the leader's commit point) waits up to hold_max_us before it is
// promoted. After a successful proposal placement may try the next step at once (quick_p; refused
// unless testing_two_config_changes). A replica that is in no committed configuration any more,
// and that placement no longer wants, keeps running up to linger_max_us (and while its group is
// split) and is then retired (stopped for good); the Cluster never restarts one whose disk says it
// was removed.
//
// Aimed faults: a split, one at a time per group: with split_p when a learner first catches up
// and right after a change of voters is proposed (a quarter of that after a change of learners
// only), at most max_splits of those per group; and always right after two changes in flight
// (the jump, or a next step accepted at once) whose majorities may miss each other. The group is
// cut in two, side A being the leader, every replica of its configuration in effect that is not a
// voter of the committed one (new voters, learners) and as many other committed voters as keep A
// one short of a majority of them; side B the rest, a majority of the committed voters. Under the
// one-change rule A has a majority of no configuration in use, so only B may go on (electing a
// leader when the change did not reach it); with two changes in flight, or learners counted as
// voters, A can go on too, and both sides choose values for the same slots and hold leases at
// once. The split lasts long enough for B to elect and commit (a lease and a half, two election
// timeouts and more). Wipes are filtered (Cluster::set_wipe_filter) so that every configuration
// in use or planned keeps a majority of nodes that can restart.
//
// Seed: every draw from the Random given to Attach. Workload: configuration changes through the
// log while the clients run. Faults: splits (above); placement's own changes and retirements.
// Checkers: none here (the register run's: slots, leases, linearizability, durability). Bounded:
// plans and splits per group are capped; after the heal no new plan or split starts (the one in
// progress goes on); Finish() stops everything and retires every node that is no member of the
// committed configuration, or that the newest one in any log removes. Thread safety: none; the
// EventLoop's thread.
#ifndef MERIDIAN_TESTS_SIM_PLACEMENT_H_
#define MERIDIAN_TESTS_SIM_PLACEMENT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/random.h"
#include "replication/config_step.h"
#include "tests/sim/cluster.h"
#include "tests/sim/paxos_workload.h"

namespace meridian::sim {

// What one seed draws about its membership changes (see above).
struct MembershipParams {
  int plans = 0;                // per group, in the fault phase
  int64_t plan_gap_max_us = 0;  // between one plan's end and the next one's start
  int64_t step_us = 50'000;     // how often placement looks at each group
  paxos::Index catch_up_lag = 0;
  int64_t hold_max_us = 0;
  // The chance that a plan adds a learner only, or replaces two voters at once; the others
  // replace one voter, grow or shrink.
  double learner_only_p = 0;
  double two_at_once_p = 0;
  double quick_p = 0;  // the next step (or the jump) tried at once
  double split_p = 0;
  int max_splits = 0;  // per group, of those drawn with split_p
  int64_t split_extra_max_us = 0;
  int64_t linger_max_us = 0;
  int64_t start_delay_max_us = 0;
  double unconfigured_p = 0;  // a new replica starts unconfigured (else as a learner)

  // The spares a group needs: two per plan, and two to replace refused voters.
  int Spares() const { return 2 * plans + 2; }
  std::string ToString() const;
};

MembershipParams DrawMembership(Random& r);

class Placement : public RegisterExtension {
 public:
  Placement(const MembershipParams& params, const SwarmParams& swarm)
      : params_(params), swarm_(swarm) {}

  void Attach(Cluster& cluster, Random rng) override;
  void Start() override;
  void Heal() override { active_ = false; }
  void Finish() override;
  std::string Summary() const override;

 private:
  enum class PlanKind : uint8_t {
    kReplaceLost,
    kLearnerOnly,
    kTwoAtOnce,
    kGrow,
    kShrink,
    kReplace
  };
  static const char* PlanKindName(PlanKind kind);
  // A plan: the replicas it wants (voters, and `held`, a learner it never promotes), what it
  // adds and removes.
  struct Plan {
    PlanKind kind = PlanKind::kReplace;
    std::vector<paxos::ReplicaId> wanted;
    std::vector<paxos::ReplicaId> adds;
    std::vector<paxos::ReplicaId> removes;
    paxos::ReplicaId held = paxos::kNoReplica;
    int64_t hold_us = 0;  // a caught-up learner waits this long before it is promoted or dropped
    bool jump_tried = false;
  };
  struct Group {
    int plans_left = 0;
    TrueUs next_plan_at = 0;
    std::optional<Plan> plan;
    std::vector<paxos::ReplicaId> spares;          // unused, in id order
    std::map<paxos::ReplicaId, TrueUs> caught_up;  // learners seen caught up, since when
    std::set<paxos::ReplicaId> split_considered;   // learners a split was drawn for
    std::map<paxos::ReplicaId, TrueUs> retire_at;  // replicas placement let go of
    paxos::Config committed;                       // see Committed()
    paxos::Index committed_index = 0;
    int splits = 0;
    bool splitting = false;
  };

  void Tick(paxos::GroupId g);
  // The node that leads group `g` and holds its lease, or nullptr.
  SimNode* Leader(paxos::GroupId g);
  // The newest committed configuration of `g` that placement has seen in any live node's hard
  // state (the founders' at first). A committed configuration is chosen: it is never undone.
  const paxos::Config& Committed(paxos::GroupId g);
  // Refused to restart (a lost disk) or retired: never a working replica again.
  bool Lost(paxos::GroupId g, paxos::ReplicaId id);

  // Plans (placement.cc).
  std::optional<Plan> NewPlan(paxos::GroupId g, const paxos::Config& current,
                              paxos::ReplicaId self);
  std::optional<paxos::ReplicaId> TakeSpare(paxos::GroupId g);
  void PlaceLater(paxos::GroupId g, paxos::ReplicaId id);
  void Step(paxos::GroupId g, SimNode& leader);
  void TrackCatchUp(paxos::GroupId g, SimNode& leader);
  bool Promotable(paxos::GroupId g, paxos::ReplicaId id) const;
  bool Done(const Plan& plan, const paxos::Config& config) const;
  // Two at once: proposes the plan's final configuration in one change; true when accepted.
  bool MaybeJump(paxos::GroupId g, SimNode& leader);
  void Apply(paxos::GroupId g, SimNode& leader, const replication::ConfigStep& step);
  void RetireLetGo(paxos::GroupId g);

  // Aimed faults and the wipe filter (placement_faults.cc).
  // Splits `g` with chance `p` (within the limits above).
  void MaybeSplit(paxos::GroupId g, SimNode& leader, double p, const std::string& why);
  bool MayWipe(Addr a);

  const MembershipParams params_;
  const SwarmParams swarm_;
  Cluster* cluster_ = nullptr;
  Random rng_{0};
  bool active_ = true;  // until the heal: new plans and splits may start
  bool finished_ = false;
  std::map<paxos::GroupId, Group> groups_;
  // Counters for the summary.
  int proposed_ = 0;
  int refused_ = 0;
  int transfers_ = 0;
  int splits_ = 0;
  int retired_ = 0;
  int plans_done_ = 0;
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_PLACEMENT_H_
