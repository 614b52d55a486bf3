// Conversion between paxos::Message (spanserver/paxos/types.h) and its wire form
// proto::PaxosMessage (proto/paxos.proto). Every field is carried; FromProto rejects values the
// replica could not represent (unknown message or entry types) with INVALID_ARGUMENT, so a
// malformed or newer peer's message is dropped instead of misread.
//
// Only the transport includes this header (it pulls in generated protobuf code).
// Thread safety: pure functions.
#ifndef MERIDIAN_REPLICATION_PAXOS_WIRE_H_
#define MERIDIAN_REPLICATION_PAXOS_WIRE_H_

#include "absl/status/statusor.h"
#include "proto/paxos.pb.h"
#include "spanserver/paxos/types.h"

namespace meridian::replication {

// Overwrites `*out` with `message`.
void ToProto(const paxos::Message& message, proto::PaxosMessage* out);
proto::PaxosMessage ToProto(const paxos::Message& message);

absl::StatusOr<paxos::Message> FromProto(const proto::PaxosMessage& message);

}  // namespace meridian::replication

#endif  // MERIDIAN_REPLICATION_PAXOS_WIRE_H_
