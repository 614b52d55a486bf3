// DataDirIdentity: who a spanserver's data directory is, and the guard that keeps a replica from
// voting with state it lost (paxos/replica_marker.h says why that matters).
//
// DATA_DIR/identity holds the server's id (0 until placement assigned one), the incarnation of the
// directory (a random non-zero number drawn when the directory is first used; placement hands a
// known id only to the directory with its incarnation) and the groups whose replica on this server
// wrote its marker into the database. Text, written to a temporary file, synced, renamed, and the
// directory synced:
//   identity    := "meridian-identity 1\n" "server_id " decimal "\n"
//                  "incarnation " hex16 "\n" "groups " [decimal {"," decimal}] "\n"
//
// What a lost disk looks like:
//  - DATA_DIR wiped: a new incarnation; placement refuses the old id and the old address until
//    the operator removes the old server (meridian server remove), then the directory joins as a
//    new server.
//  - DATA_DIR/db wiped or replaced, identity kept: the groups it lists have no marker in the
//    database, so PrepareReplica refuses them (they stay down, reported to placement).
//  - DATA_DIR/paxos_log wiped, database kept: a marked replica whose log holds nothing of it
//    is refused (a new replica's log gets an empty hard state before its marker is written).
//  - identity lost, database kept: rebuilt from the database's markers.
//  - a directory from before identities (DATA_DIR/server_id): adopted, markers written.
// Not detected: a database rolled back to an older copy of itself (its markers are still there).
//
// Thread safety: none; the runtime calls these from one thread at a time (Open, then the
// topology thread under its mutex).
#ifndef MERIDIAN_SPANSERVER_SERVER_SERVER_IDENTITY_H_
#define MERIDIAN_SPANSERVER_SERVER_SERVER_IDENTITY_H_

#include <cstdint>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "spanserver/paxos/replica_marker.h"

namespace meridian::storage {
class Engine;
class PaxosLog;
}  // namespace meridian::storage

namespace meridian::spanserver {

struct DataDirIdentity {
  uint64_t server_id = 0;
  uint64_t incarnation = 0;
  std::set<uint64_t> groups;

  friend bool operator==(const DataDirIdentity&, const DataDirIdentity&) = default;
};

std::string IdentityPath(const std::string& data_dir);
std::string EncodeIdentity(const DataDirIdentity& identity);
// DATA_LOSS, naming `path`, when `text` is not an identity.
absl::StatusOr<DataDirIdentity> DecodeIdentity(const std::string& path, const std::string& text);

// Durably replaces DATA_DIR/identity. UNAVAILABLE when the disk refuses.
absl::Status SaveIdentity(const std::string& data_dir, const DataDirIdentity& identity);

// DATA_DIR/identity; when it is missing, rebuilt from the replica markers in `engine` (DATA_LOSS
// when they disagree), or adopted from a directory written before identities (DATA_DIR/server_id:
// its groups get markers), or, for a new directory, a new identity with `fresh_incarnation`.
// Either way it is saved before this returns, so a registration retried after a crash offers the
// same incarnation. `*note` says which happened ("" when the file was read).
absl::StatusOr<DataDirIdentity> LoadOrCreateIdentity(const std::string& data_dir,
                                                     storage::Engine* engine,
                                                     uint64_t fresh_incarnation, std::string* note);

// Whether this server may start its replica of `group` (paxos::CheckReplicaStart against the
// database, the Paxos log and the identity). For a new replica it first writes an empty hard
// state into `log` and the marker into the database (each synced) and then adds the group to the
// identity (saved): from then on, a database without the marker, or a log without the group, is
// a loss.
// FAILED_PRECONDITION, saying why, when the replica must stay down.
absl::StatusOr<paxos::ReplicaStart> PrepareReplica(const std::string& data_dir,
                                                   storage::Engine* engine, storage::PaxosLog* log,
                                                   DataDirIdentity* identity, uint64_t group);

}  // namespace meridian::spanserver

#endif  // MERIDIAN_SPANSERVER_SERVER_SERVER_IDENTITY_H_
