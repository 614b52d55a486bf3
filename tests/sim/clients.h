// Clients: the paxos workload's register clients. Each client runs one operation at a time on its
// group: a put of a unique value or a get, both through the log (Propose at whoever the client
// believes leads, following the replica's leader hint on UNAVAILABLE, at most max_attempts
// tries), or a lease read (Replica::LeaseRead on the leader, answered from the state machine once
// applied >= the returned index). Every operation records invoke and completion in true time and
// its outcome: ok when the proposing node applies the op's command at the returned slot, failed
// when it applies something else there, unknown when the node crashes or the op times out first.
//
// Seed: op choices, keys, think times from the injected Random. Workload: the register. Faults:
// none injected here; crashes are reported by the Cluster. Checkers: the op history feeds
// CheckLinearizable and CheckDurability. Bounded: one op per client at a time, attempts capped,
// every op times out. Thread safety: none; one thread.
#ifndef MERIDIAN_TESTS_SIM_CLIENTS_H_
#define MERIDIAN_TESTS_SIM_CLIENTS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/random.h"
#include "tests/sim/cluster.h"
#include "tests/sim/history.h"
#include "tests/sim/swarm.h"

namespace meridian::sim {

class Clients {
 public:
  Clients(Cluster* cluster, const SwarmParams& params, Random rng);

  void Start();
  // Clients finish their current op but start no new one.
  void StopNewOps() { stopped_ = true; }
  // Marks every unresolved op unknown (end of run).
  void FinishAll();

  // True when some put invoked at or after `t` in group `g` was acknowledged.
  bool CommittedSince(paxos::GroupId g, TrueUs t) const;
  bool Idle() const { return in_flight_ == 0; }
  // The highest slot of an acknowledged put in group `g` (0 if none).
  paxos::Index MaxAckedSlot(paxos::GroupId g) const;
  const std::vector<Op>& ops() const { return ops_; }

 private:
  struct Client {
    paxos::GroupId group = 0;
    Addr target = 0;
    bool busy = false;
  };
  struct Pending {
    size_t op = 0;  // index into ops_
    size_t client = 0;
    uint64_t incarnation = 0;
    paxos::Index slot = 0;  // put/get: the proposed slot; lease read: the index to wait for
  };

  void OnApplied(SimNode& node, const paxos::Entry& e, uint64_t read_value);
  void OnCrash(SimNode& node);
  void NextOp(size_t c);
  void Attempt(size_t c, OpKind kind, std::string key, int attempt);
  void Retry(size_t c, OpKind kind, std::string key, int attempt, SimNode& asked);
  size_t Record(size_t c, OpKind kind, const std::string& key, uint64_t id);
  void Complete(const Pending& p, Outcome outcome, uint64_t read_value);

  Cluster* const cluster_;
  const SwarmParams params_;
  Random rng_;
  bool stopped_ = false;
  std::vector<Client> clients_;
  std::vector<Op> ops_;
  std::map<Addr, std::vector<Pending>> pending_;  // per node, in proposal order
  size_t in_flight_ = 0;
  uint64_t next_id_ = 1;
  std::map<paxos::GroupId, paxos::Index> max_acked_slot_;
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_CLIENTS_H_
