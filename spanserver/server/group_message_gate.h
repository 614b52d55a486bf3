// GroupMessageGate: whether a transaction group message (txn/types.h GroupMessage: PREPARED,
// OUTCOME, ACK, INQUIRY) that arrived from a peer server may reach this server's tablets. The
// peer transport authenticates the sending server (its node certificate under mutual TLS,
// replication/tcp_transport.h); the gate checks that this server hosts a replica of the group the
// message claims to come from (`from`), in the group membership of placement's latest topology.
// A message that fails is dropped and counted: otherwise one compromised node certificate could
// tell any participant that a transaction committed or aborted.
//
// Membership changes and stale views. Losing a group message is harmless by design (a prepared
// participant inquires again, a coordinator resends its outcome), so the gate may drop whenever
// it is unsure; what it must avoid is dropping a legitimate sender for long. So:
//  - A message that fails the check is first held (not delivered) until the next topology
//    arrives (SetMembers; the heartbeat brings one every heartbeat interval, 500 ms by default),
//    then checked again: a server that was just added to the group, which this server's topology
//    does not list yet, gets through after at most one heartbeat. Waiting for the heartbeat
//    rather than asking placement at once means forged messages cannot make this server hammer
//    placement. What is held is bounded (kMaxHeld messages, kMaxHeldBytes); past that, and when
//    the next topology still does not list the sender, the message is dropped.
//  - A server that the topology just removed from the group stays accepted for a grace period
//    (departed_grace_ms): during a move the old replica may still lead the group until it hands
//    the leadership over, and its outcomes are the ones participants wait for. A removed server
//    could forge messages for that group only within that window after its removal.
// Before the first topology everything is held (bounded), so nothing unchecked gets through.
//
// A pure core: no clock (callers pass steady milliseconds), no I/O. Thread safety: none; the
// owner (TxnService) serializes calls.
#ifndef MERIDIAN_SPANSERVER_SERVER_GROUP_MESSAGE_GATE_H_
#define MERIDIAN_SPANSERVER_SERVER_GROUP_MESSAGE_GATE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace meridian::spanserver {

class GroupMessageGate {
 public:
  static constexpr size_t kMaxHeld = 256;
  // A group message is a few dozen bytes; this bounds what forged ones can pin.
  static constexpr size_t kMaxHeldBytes = 64 * 1024;
  static constexpr int64_t kDefaultDepartedGraceMs = 10'000;

  // One message from a peer: its authenticated sending server, the group it claims to come from,
  // and its bytes (a serialized GroupMessageRequest, opaque here).
  struct Arrival {
    uint64_t from_server = 0;
    uint64_t from_group = 0;
    std::string wire;
  };

  enum class Verdict {
    kDeliver,  // the sender is a member (or just departed): deliver it now
    kHeld,     // kept until the next SetMembers, which decides
    kDropped,  // refused (counted): nothing was held
  };

  // What a new topology decided for the held messages: deliver these, `dropped` were refused.
  struct Released {
    std::vector<std::string> deliver;
    uint64_t dropped = 0;
  };

  explicit GroupMessageGate(int64_t departed_grace_ms = kDefaultDepartedGraceMs)
      : departed_grace_ms_(departed_grace_ms) {}

  // Checks `arrival` at `now_ms`. On kHeld, its wire was moved into the gate.
  Verdict Admit(Arrival& arrival, int64_t now_ms);

  // Adopts a topology's membership (group -> its replicas' server ids): servers no longer listed
  // for a group start their grace period, and every held message is checked again.
  Released SetMembers(std::map<uint64_t, std::vector<uint64_t>> members, int64_t now_ms);

  // Messages refused so far (by Admit and by SetMembers).
  uint64_t dropped() const { return dropped_; }
  size_t held() const { return held_.size(); }

 private:
  bool IsMember(uint64_t server, uint64_t group, int64_t now_ms) const;

  const int64_t departed_grace_ms_;
  std::optional<std::map<uint64_t, std::vector<uint64_t>>> members_;  // none before a topology
  // (group, server) -> when the topology stopped listing it.
  std::map<std::pair<uint64_t, uint64_t>, int64_t> departed_;
  std::vector<Arrival> held_;
  size_t held_bytes_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace meridian::spanserver

#endif  // MERIDIAN_SPANSERVER_SERVER_GROUP_MESSAGE_GATE_H_
