// Network: the simulated network between all replicas of all groups. A message is dropped,
// delayed (uniformly, or by a rare long spike), or duplicated, so it arrives reordered; a link
// that is cut when the message is sent or when it would arrive loses it. Links are directed and
// carry a cut count, so overlapping partitions heal independently.
//
// Seed: every decision comes from the Random it is given. Workload: any message type: Paxos
// messages through Send, and anything else (transaction requests, replies, group messages) as a
// closure through SendThunk, run at the destination when the message arrives (and run twice
// when the message is duplicated). Faults: drop, duplicate, delay, delay spikes, reorder, directed
// link cuts, and the partition shapes of PartitionCuts (one node isolated, majority/minority split,
// ring, one-way isolation), and held links (FoundationDB's clogging): a message that would arrive
// over a held link waits until the link is released, then arrives after a fresh delay, so a burst
// of stale messages lands at once. The swizzle clog and the election clog are driven by the
// workload through Cut/Heal and Hold/Release. Checkers: none. Bounded: at most max_in_flight
// messages queued or held; the rest are dropped. Thread safety: none; runs on the EventLoop's
// thread.
#ifndef MERIDIAN_TESTS_SIM_NETWORK_H_
#define MERIDIAN_TESTS_SIM_NETWORK_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/random.h"
#include "spanserver/paxos/types.h"
#include "tests/sim/event_loop.h"

namespace meridian::sim {

using Addr = int;  // a node's address: its index in the simulator's node table

struct NetworkParams {
  int64_t delay_min_us = 100;
  int64_t delay_max_us = 1000;
  double drop_p = 0;
  double duplicate_p = 0;
  double spike_p = 0;  // chance a message takes a long detour
  int64_t spike_max_us = 0;
  size_t max_in_flight = 100'000;

  std::string ToString() const;
};

enum class PartitionShape : uint8_t { kIsolateOne, kMajorityMinority, kRing, kOneWay };
const char* PartitionShapeName(PartitionShape shape);

// The directed links to cut for a partition of `nodes` of the given shape (random choices from
// rng).
std::vector<std::pair<Addr, Addr>> PartitionCuts(PartitionShape shape,
                                                 const std::vector<Addr>& nodes, Random& rng);

class Network {
 public:
  using Deliver = std::function<void(Addr to, const paxos::Message& m)>;

  Network(EventLoop* loop, Random* rng, Deliver deliver);

  void set_params(const NetworkParams& p) { params_ = p; }
  const NetworkParams& params() const { return params_; }

  void Send(Addr from, Addr to, const paxos::Message& m);
  // Sends an opaque message: `arrive` runs when (and each time) it is delivered to `to`, under
  // the same faults as Send. `arrive` must be copyable and must not assume it runs once.
  void SendThunk(Addr from, Addr to, std::function<void()> arrive);
  void Cut(Addr from, Addr to) { ++cuts_[{from, to}]; }
  void Heal(Addr from, Addr to);
  void HealAll() { cuts_.clear(); }
  bool LinkUp(Addr from, Addr to) const { return !cuts_.contains({from, to}); }
  // Holds are counted like cuts; a message arriving over a held link waits for the last Release.
  void Hold(Addr from, Addr to) { ++holds_[{from, to}]; }
  void Release(Addr from, Addr to);
  // Releases every held link (the heal).
  void ReleaseAll();

  uint64_t sent() const { return sent_; }
  uint64_t dropped() const { return dropped_; }

 private:
  void Schedule(Addr from, Addr to, const std::function<void()>& arrive);
  // Delivers `arrive` at the end of its delay unless the link is cut (lost) or held (kept).
  void Arrive(Addr from, Addr to, const std::function<void()>& arrive);
  // Sends the messages held on a link that is no longer held, each after a fresh delay.
  void Flush(std::pair<Addr, Addr> link);

  EventLoop* const loop_;
  Random* const rng_;
  const Deliver deliver_;
  NetworkParams params_;
  std::map<std::pair<Addr, Addr>, int> cuts_;
  std::map<std::pair<Addr, Addr>, int> holds_;
  std::map<std::pair<Addr, Addr>, std::vector<std::function<void()>>> held_;  // in arrival order
  size_t in_flight_ = 0;
  uint64_t sent_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_NETWORK_H_
