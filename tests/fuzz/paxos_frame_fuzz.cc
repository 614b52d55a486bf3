// Fuzz harness: what a peer can send to a spanserver's Paxos port, down to paxos::Replica::Step.
//
// Input: the bytes of one inbound TCP stream, framed as TcpTransport reads it
// (replication/tcp_transport.h "Frame"): a 4-byte big-endian length N, then N bytes of a
// serialized proto::PaxosBatch. A length of 0 or above kMaxFrameBytes ends the stream (the
// transport closes the connection), as does a partial frame. Each batch that parses has its
// messages converted by FromProto (replication/paxos_wire.h) and stepped into a 3-replica group
// that elected replica 1 and committed two commands before the input arrived; every output of
// the group (persist, send, apply) is carried out in memory, and the clock moves 100 ms per
// input message. The transport's protocol-version and destination-server checks only drop whole
// frames, so the harness skips them; it points each message at the group and at one of its
// replicas (group := 7, to := 1 + to % 3) so that fuzzing reaches the replica rather than its
// first drop. `from` stays as sent: forging a member's id is exactly what a hostile peer can do.
//
// Properties, for every input:
//  - no CHECK fails, nothing reads out of bounds or overflows (the replica's own invariants, and
//    ASan/UBSan in the fuzz build);
//  - FromProto either fails cleanly with INVALID_ARGUMENT or yields a message that converts to
//    the wire and back unchanged (ToProto(FromProto(ToProto(m))) == ToProto(m)), and its copying
//    and moving forms agree;
//  - each replica applies committed slots in order, one slot after the other, and never an
//    index at or below one it applied;
//  - the group's internal traffic settles within a bound per input message.
// Safety across replicas (one value per slot) is not a property here: a peer that forges a
// member's messages can break it; only authenticated peers close that (replica_inputs.cc).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/check.h"
#include "proto/paxos.pb.h"
#include "replication/paxos_wire.h"
#include "replication/tcp_transport.h"
#include "spanserver/paxos/log_storage.h"
#include "spanserver/paxos/replica.h"

namespace meridian::replication {
namespace {

constexpr paxos::GroupId kGroup = 7;
constexpr int kReplicas = 3;
// Deliveries of the group's own messages after one input message; an honest exchange after one
// message (a Prepare round, an Accept round) is a few dozen.
constexpr int kMaxDeliveriesPerInput = 2000;

class Group {
 public:
  Group() {
    paxos::Options options;
    options.group = kGroup;
    for (int i = 1; i <= kReplicas; ++i) options.members.push_back(i);
    for (int i = 1; i <= kReplicas; ++i) {
      Node& node = nodes_[i];
      options.id = i;
      options.seed = i;
      node.replica = std::make_unique<paxos::Replica>(options, &node.storage, Now());
    }
    nodes_.at(1).replica->Campaign(Now());
    Settle();
    for (const char* command : {"alpha", "beta"}) {
      CHECK(nodes_.at(1).replica->Propose(command, Now()).ok());
      Settle();
    }
    CHECK(nodes_.at(1).replica->role() == paxos::Role::kLeader);
  }

  // One message from the wire, then the clock moves on and the group settles.
  void Receive(paxos::Message m) {
    m.group = kGroup;
    m.to = 1 + m.to % kReplicas;
    nodes_.at(m.to).replica->Step(m, Now());
    Settle();
    now_us_ += 100'000;
    for (auto& [id, node] : nodes_) node.replica->Tick(Now());
    Settle();
  }

 private:
  struct Node {
    paxos::MemoryLogStorage storage;
    std::unique_ptr<paxos::Replica> replica;
    paxos::Index applied = 0;
  };

  truetime::Interval Now() const { return {now_us_ - 1000, now_us_ + 1000}; }

  void HandleReady(paxos::ReplicaId id, Node& node) {
    while (node.replica->HasReady()) {
      paxos::Ready ready = node.replica->TakeReady();
      if (ready.hard_state) node.storage.SaveHardState(*ready.hard_state);
      for (const paxos::Entry& e : ready.entries) node.storage.Put(e);
      for (auto* list : {&ready.messages, &ready.messages_after_persist}) {
        for (paxos::Message& m : *list) queue_.push_back(std::move(m));
      }
      for (const paxos::Entry& e : ready.committed) {
        CHECK_MSG(e.index == node.applied + 1, "replica " + std::to_string(id) + " applied slot " +
                                                   std::to_string(e.index) + " after " +
                                                   std::to_string(node.applied));
        node.applied = e.index;
      }
      node.replica->Advance(Now());
      // No snapshots here: a request for one (forged hints ask for them) fails at once.
      if (ready.snapshot_request) node.replica->SnapshotFailed();
    }
  }

  void Settle() {
    for (int delivered = 0;; ++delivered) {
      for (auto& [id, node] : nodes_) HandleReady(id, node);
      if (queue_.empty()) return;
      CHECK_MSG(delivered < kMaxDeliveriesPerInput, "the group's traffic does not settle");
      paxos::Message m = std::move(queue_.front());
      queue_.pop_front();
      // Replies to a forged sender that is no replica here go nowhere.
      auto to = nodes_.find(m.to);
      if (to != nodes_.end()) to->second.replica->Step(m, Now());
    }
  }

  int64_t now_us_ = 1'000'000'000;
  std::map<paxos::ReplicaId, Node> nodes_;
  std::deque<paxos::Message> queue_;
};

uint32_t GetBigEndian32(const char* p) {
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  return uint32_t{u[0]} << 24 | uint32_t{u[1]} << 16 | uint32_t{u[2]} << 8 | uint32_t{u[3]};
}

// FromProto's properties (above); the decoded message, or nullopt when it was refused.
std::optional<paxos::Message> Decode(const proto::PaxosMessage& wire) {
  absl::StatusOr<paxos::Message> m = FromProto(wire);
  absl::StatusOr<paxos::Message> moved = FromProto(proto::PaxosMessage(wire));
  CHECK(m.ok() == moved.ok());
  if (!m.ok()) {
    CHECK_MSG(m.status().code() == absl::StatusCode::kInvalidArgument, m.status().ToString());
    return std::nullopt;
  }
  const std::string canonical = ToProto(*m).SerializeAsString();
  CHECK(ToProto(*moved).SerializeAsString() == canonical);
  absl::StatusOr<paxos::Message> again = FromProto(ToProto(*m));
  CHECK(again.ok() && ToProto(*again).SerializeAsString() == canonical);
  return *std::move(m);
}

void DeliverStream(std::string_view stream) {
  Group group;
  while (stream.size() >= 4) {
    const uint32_t length = GetBigEndian32(stream.data());
    if (length == 0 || length > TcpTransport::kMaxFrameBytes) return;
    if (stream.size() - 4 < length) return;
    proto::PaxosBatch batch;
    const bool parsed = batch.ParseFromArray(stream.data() + 4, static_cast<int>(length));
    stream.remove_prefix(4 + length);
    if (!parsed) continue;
    for (const proto::PaxosMessage& wire : batch.messages()) {
      std::optional<paxos::Message> m = Decode(wire);
      if (m.has_value()) group.Receive(*std::move(m));
    }
  }
}

}  // namespace
}  // namespace meridian::replication

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  meridian::replication::DeliverStream(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
