#include "spanserver/paxos/replica_marker.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace meridian::paxos {
namespace {

constexpr uint8_t kVersion = 1;
constexpr size_t kEncodedSize = 1 + 8 + 8;

void PutU64(std::string* out, uint64_t v) {
  char buf[8];
  std::memcpy(buf, &v, 8);  // little-endian hosts only, as codec.cc
  out->append(buf, 8);
}

uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  std::memcpy(&v, p, 8);
  return v;
}

}  // namespace

std::string ReplicaMarker::ToString() const {
  return absl::StrFormat("group %d replica %d incarnation %016x", group, replica, incarnation);
}

std::string EncodeReplicaMarker(const ReplicaMarker& marker) {
  std::string out;
  out.reserve(kEncodedSize);
  out.push_back(static_cast<char>(kVersion));
  PutU64(&out, marker.replica);
  PutU64(&out, marker.incarnation);
  return out;
}

absl::StatusOr<ReplicaMarker> DecodeReplicaMarker(GroupId group, std::string_view bytes) {
  if (bytes.size() != kEncodedSize || static_cast<uint8_t>(bytes[0]) != kVersion) {
    return absl::DataLossError(
        absl::StrCat("malformed replica marker of group ", group, " (", bytes.size(), " bytes)"));
  }
  return ReplicaMarker{group, GetU64(bytes.data() + 1), GetU64(bytes.data() + 9)};
}

absl::StatusOr<ReplicaStart> CheckReplicaStart(const std::optional<ReplicaMarker>& stored,
                                               bool has_state, const ReplicaMarker& expected,
                                               bool once_persisted) {
  if (!stored.has_value()) {
    if (once_persisted) {
      return absl::FailedPreconditionError(absl::StrCat(
          "group ", expected.group, ": replica ", expected.replica,
          " persisted Paxos state before, but its disk holds none (lost or wiped): it must not "
          "vote or accept under its old identity, or values its votes helped choose could be "
          "lost"));
    }
    if (has_state) {
      return absl::FailedPreconditionError(
          absl::StrCat("group ", expected.group,
                       ": the disk holds Paxos state but no replica marker, so "
                       "whose state it is cannot be told; refusing to vote or accept"));
    }
    return ReplicaStart::kFresh;
  }
  if (stored->replica != expected.replica || stored->incarnation != expected.incarnation) {
    return absl::FailedPreconditionError(
        absl::StrCat("the disk holds the state of ", stored->ToString(), ", not of ",
                     expected.ToString(), "; refusing to vote or accept"));
  }
  return ReplicaStart::kRecover;
}

}  // namespace meridian::paxos
