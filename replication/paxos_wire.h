// Conversion between paxos::Message (spanserver/paxos/types.h) and its wire form
// proto::PaxosMessage (proto/paxos.proto). Every field is carried; FromProto rejects values the
// replica could not represent (unknown message or entry types) with INVALID_ARGUMENT, so a
// malformed or newer peer's message is dropped instead of misread.
//
// Only the transport includes this header (it pulls in generated protobuf code).
// Thread safety: pure functions.
#ifndef MERIDIAN_REPLICATION_PAXOS_WIRE_H_
#define MERIDIAN_REPLICATION_PAXOS_WIRE_H_

#include <cstddef>
#include <deque>
#include <string>

#include "absl/status/statusor.h"
#include "proto/paxos.pb.h"
#include "spanserver/paxos/types.h"

namespace meridian::replication {

// Overwrites `*out` with `message`. The rvalue forms move the entries' commands instead of
// copying them.
void ToProto(const paxos::Message& message, proto::PaxosMessage* out);
void ToProto(paxos::Message&& message, proto::PaxosMessage* out);
proto::PaxosMessage ToProto(const paxos::Message& message);

absl::StatusOr<paxos::Message> FromProto(const proto::PaxosMessage& message);
absl::StatusOr<paxos::Message> FromProto(proto::PaxosMessage&& message);

// The messages waiting for one destination server, in wire form, bounded in count and bytes.
// Both transports queue per destination and send the head as one PaxosBatch. Attachments (opaque
// payloads of the layer above, proto/paxos.proto) queue beside the messages, under the same
// bounds, and ride in the same batches.
// Not thread-safe (the transports guard it).
class PeerQueue {
 public:
  static constexpr size_t kMaxMessages = 10'000;
  static constexpr size_t kMaxBytes = 64 << 20;
  // A batch carries at most this many bytes of messages (plus the one message that crosses it).
  static constexpr size_t kMaxBatchBytes = 16 << 20;

  // False, and nothing queued, when the queue is at its bound (Paxos retransmits what matters).
  bool Push(paxos::Message message);
  // The same for an attachment.
  bool PushAttachment(std::string attachment);
  // Moves the head into `batch` (up to kMaxBatchBytes of messages and attachments); returns how
  // many items (messages and attachments) it moved.
  int TakeInto(proto::PaxosBatch* batch);
  // Drops everything queued; returns how many items there were.
  size_t Clear();
  bool empty() const { return queue_.empty() && attachments_.empty(); }

 private:
  bool Full() const {
    return queue_.size() + attachments_.size() >= kMaxMessages || bytes_ >= kMaxBytes;
  }

  std::deque<proto::PaxosMessage> queue_;
  std::deque<std::string> attachments_;
  size_t bytes_ = 0;
};

}  // namespace meridian::replication

#endif  // MERIDIAN_REPLICATION_PAXOS_WIRE_H_
