#include "spanserver/server/server_identity.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "spanserver/paxos/codec.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/paxos_log.h"
#include "spanserver/storage/write_batch.h"

namespace meridian::spanserver {
namespace {

constexpr char kHeader[] = "meridian-identity 1";

absl::Status Errno(const std::string& what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
}

absl::Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Errno("opening " + dir);
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok ? absl::OkStatus() : Errno("syncing " + dir);
}

// The identity that the database's replica markers describe, or nullopt when it has none.
absl::StatusOr<std::optional<DataDirIdentity>> IdentityFromMarkers(const storage::Engine& engine) {
  ASSIGN_OR_RETURN(std::vector<uint64_t> groups, engine.ListMarkedGroups());
  if (groups.empty()) return std::nullopt;
  DataDirIdentity identity;
  for (const uint64_t group : groups) {
    ASSIGN_OR_RETURN(std::optional<std::string> bytes, engine.LoadReplicaMarker(group));
    if (!bytes.has_value()) continue;
    ASSIGN_OR_RETURN(paxos::ReplicaMarker marker, paxos::DecodeReplicaMarker(group, *bytes));
    if (identity.groups.empty()) {
      identity.server_id = marker.replica;
      identity.incarnation = marker.incarnation;
    } else if (marker.replica != identity.server_id || marker.incarnation != identity.incarnation) {
      return absl::DataLossError(absl::StrCat("the database holds replica markers of two servers (",
                                              marker.ToString(), " and server ", identity.server_id,
                                              ")"));
    }
    identity.groups.insert(group);
  }
  return identity;
}

// A directory written before identities existed: DATA_DIR/server_id holds the id, and the
// database the groups' Paxos state without markers. That state is this server's own (nothing else
// wrote into its directory), so it is adopted: markers are written for its groups (synced) under
// `incarnation`, and the old file goes once the identity is saved. nullopt when there is no such
// file.
absl::StatusOr<std::optional<DataDirIdentity>> AdoptLegacyDirectory(const std::string& data_dir,
                                                                    storage::Engine* engine,
                                                                    uint64_t incarnation) {
  std::ifstream in(data_dir + "/server_id");
  if (!in) return std::nullopt;
  std::string text;
  std::getline(in, text);
  DataDirIdentity identity{0, incarnation, {}};
  if (!absl::SimpleAtoi(text, &identity.server_id) || identity.server_id == 0) {
    return absl::DataLossError(
        absl::StrCat(data_dir, "/server_id does not hold a server id: '", text, "'"));
  }
  ASSIGN_OR_RETURN(std::vector<uint64_t> groups, engine->ListGroups());
  storage::WriteBatch batch;
  for (const uint64_t group : groups) {
    batch.SaveReplicaMarker(
        group, paxos::EncodeReplicaMarker({group, identity.server_id, identity.incarnation}));
    identity.groups.insert(group);
  }
  if (!batch.empty()) RETURN_IF_ERROR(engine->Write(batch, /*sync=*/true));
  return identity;
}

}  // namespace

std::string IdentityPath(const std::string& data_dir) { return data_dir + "/identity"; }

std::string EncodeIdentity(const DataDirIdentity& identity) {
  return absl::StrCat(kHeader, "\nserver_id ", identity.server_id, "\nincarnation ",
                      absl::StrFormat("%016x", identity.incarnation), "\ngroups ",
                      absl::StrJoin(identity.groups, ","), "\n");
}

absl::StatusOr<DataDirIdentity> DecodeIdentity(const std::string& path, const std::string& text) {
  const std::vector<std::string> lines = absl::StrSplit(text, '\n');
  DataDirIdentity identity;
  bool ok = lines.size() == 5 && lines[0] == kHeader && lines[4].empty();
  absl::string_view value;
  ok = ok && absl::ConsumePrefix(&(value = lines[1]), "server_id ") &&
       absl::SimpleAtoi(value, &identity.server_id);
  ok = ok && absl::ConsumePrefix(&(value = lines[2]), "incarnation ") &&
       absl::SimpleHexAtoi(value, &identity.incarnation) && identity.incarnation != 0;
  ok = ok && absl::ConsumePrefix(&(value = lines[3]), "groups ");
  if (ok && !value.empty()) {
    for (absl::string_view part : absl::StrSplit(value, ',')) {
      uint64_t group = 0;
      ok = ok && absl::SimpleAtoi(part, &group);
      identity.groups.insert(group);
    }
  }
  if (!ok) {
    return absl::DataLossError(
        absl::StrCat(path,
                     " is not a Meridian server identity; restore it, or remove the whole data "
                     "directory to start this server as a new one"));
  }
  return identity;
}

absl::Status SaveIdentity(const std::string& data_dir, const DataDirIdentity& identity) {
  const std::string path = IdentityPath(data_dir);
  const std::string tmp = path + ".tmp";
  const std::string text = EncodeIdentity(identity);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return Errno("creating " + tmp);
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Errno("writing " + tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Errno("renaming " + tmp);
  return SyncDirectory(data_dir);
}

absl::StatusOr<DataDirIdentity> LoadOrCreateIdentity(const std::string& data_dir,
                                                     storage::Engine* engine,
                                                     uint64_t fresh_incarnation,
                                                     std::string* note) {
  note->clear();
  const std::string path = IdentityPath(data_dir);
  std::ifstream in(path);
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    return DecodeIdentity(path, text.str());
  }
  if (fresh_incarnation == 0) return absl::InvalidArgumentError("incarnation 0");
  ASSIGN_OR_RETURN(std::optional<DataDirIdentity> rebuilt, IdentityFromMarkers(*engine));
  ASSIGN_OR_RETURN(std::optional<DataDirIdentity> adopted,
                   rebuilt.has_value() ? std::optional<DataDirIdentity>()
                                       : AdoptLegacyDirectory(data_dir, engine, fresh_incarnation));
  DataDirIdentity identity;
  if (rebuilt.has_value()) {
    identity = *rebuilt;
    *note = absl::StrCat(path, " was missing: rebuilt from the database (server ",
                         identity.server_id, ", groups ", absl::StrJoin(identity.groups, ","), ")");
  } else if (adopted.has_value()) {
    identity = *adopted;
    *note =
        absl::StrCat("adopted a data directory of server ", identity.server_id,
                     " from before identities (groups ", absl::StrJoin(identity.groups, ","), ")");
  } else {
    identity.incarnation = fresh_incarnation;
    *note = absl::StrFormat("new data directory: incarnation %016x", fresh_incarnation);
  }
  RETURN_IF_ERROR(SaveIdentity(data_dir, identity));
  if (adopted.has_value()) std::remove((data_dir + "/server_id").c_str());
  return identity;
}

absl::StatusOr<paxos::ReplicaStart> PrepareReplica(const std::string& data_dir,
                                                   storage::Engine* engine, storage::PaxosLog* log,
                                                   DataDirIdentity* identity, uint64_t group) {
  const paxos::ReplicaMarker expected{group, identity->server_id, identity->incarnation};
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, engine->LoadReplicaMarker(group));
  std::optional<paxos::ReplicaMarker> stored;
  if (bytes.has_value()) {
    ASSIGN_OR_RETURN(stored, paxos::DecodeReplicaMarker(group, *bytes));
  }
  const std::string empty_hard_state = paxos::EncodeHardState(paxos::HardState{});
  const std::optional<std::string> hard_state = log->HardState(group);
  const bool has_entries = log->LastIndex(group).has_value() || log->Compacted(group) > 0;
  // A new replica's log starts with an empty hard state, before its marker is written: a marked
  // replica whose log knows nothing of it lost its log (DATA_DIR/paxos_log apart from the rest).
  if (stored.has_value() && !hard_state.has_value() && !has_entries) {
    return absl::FailedPreconditionError(
        absl::StrCat("group ", group, ": the database holds the marker of ", stored->ToString(),
                     " but its Paxos log (", log->dir(),
                     ") holds nothing of it: the log was lost or wiped, "
                     "and the replica must not vote or accept under its old identity"));
  }
  const bool has_state = has_entries || (hard_state.has_value() && *hard_state != empty_hard_state);
  ASSIGN_OR_RETURN(
      paxos::ReplicaStart start,
      paxos::CheckReplicaStart(stored, has_state, expected, identity->groups.contains(group)));
  if (start == paxos::ReplicaStart::kFresh) {
    storage::PaxosLogBatch first;
    first.SaveHardState(group, empty_hard_state);
    RETURN_IF_ERROR(log->Write(first, /*sync=*/true));
    storage::WriteBatch batch;
    batch.SaveReplicaMarker(group, paxos::EncodeReplicaMarker(expected));
    RETURN_IF_ERROR(engine->Write(batch, /*sync=*/true));
  }
  if (!identity->groups.contains(group)) {
    identity->groups.insert(group);
    RETURN_IF_ERROR(SaveIdentity(data_dir, *identity));
  }
  return start;
}

}  // namespace meridian::spanserver
