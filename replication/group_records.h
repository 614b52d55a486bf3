// The durable records of a group beside its Paxos log, as GroupHost writes and reads them: the
// state machine's checkpoint, the log's compaction point, and a snapshot install's record
// (storage/format.h group_record_key; replication/snapshot.h for the install's steps).
//
// Thread safety: functions; callers serialize per group (the group's strand).
#ifndef MERIDIAN_REPLICATION_GROUP_RECORDS_H_
#define MERIDIAN_REPLICATION_GROUP_RECORDS_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "replication/group_host.h"
#include "replication/snapshot.h"
#include "spanserver/paxos/types.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/group_commit_writer.h"
#include "spanserver/storage/write_batch.h"

namespace meridian::replication {

// At start: restores `state_machine` from the group's checkpoint and returns its index (0 when
// there is none). A snapshot install found cut short has its partial data erased first, and 0 is
// returned: the replica then starts with nothing applied. `log` reports what was done.
absl::StatusOr<paxos::Index> RestoreGroup(storage::Engine* engine, paxos::GroupId group,
                                          StateMachine* state_machine,
                                          const std::function<void(const std::string&)>& log);

// Adds to `round` the checkpoint `image` at `applied` (its data then written with sync) and,
// when that moves the compaction point (`applied` - `retain` past `compacted`), the log's new
// compaction point, written after the data. Returns the new compaction point, or nullopt when it
// did not move.
std::optional<paxos::Index> AddCheckpoint(paxos::GroupId group, paxos::Index applied,
                                          paxos::Index compacted, paxos::Index retain,
                                          const std::string& image,
                                          storage::GroupCommitWriter::Round* round);

// Completes an install (step 4 of snapshot.h), synced through `writer`: the checkpoint and the
// install record erased in LevelDB, then the log compacted through the snapshot's index (or
// `compacted` when higher); then reloads the tablet's GC horizon and lets garbage collection run
// again.
absl::Status WriteInstalledSnapshot(storage::Engine* engine, storage::GroupCommitWriter* writer,
                                    paxos::GroupId group, const FetchedSnapshot& snapshot,
                                    paxos::Index compacted);

}  // namespace meridian::replication

#endif  // MERIDIAN_REPLICATION_GROUP_RECORDS_H_
