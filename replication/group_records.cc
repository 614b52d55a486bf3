#include "replication/group_records.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace meridian::replication {

absl::StatusOr<paxos::Index> RestoreGroup(storage::Engine* engine, paxos::GroupId group,
                                          StateMachine* state_machine,
                                          const std::function<void(const std::string&)>& log) {
  ASSIGN_OR_RETURN(std::optional<std::string> install,
                   engine->LoadGroupRecord(kInstallRecord, group));
  if (install.has_value()) {
    log("a snapshot install was cut short: erasing its partial data; the replica starts with "
        "nothing applied");
    RETURN_IF_ERROR(EraseRanges(engine, state_machine->DataRanges()));
    storage::WriteBatch batch;
    batch.EraseGroupRecord(kCheckpointRecord, group);
    batch.EraseGroupRecord(kInstallRecord, group);
    RETURN_IF_ERROR(engine->Write(batch, /*sync=*/true));
    RETURN_IF_ERROR(engine->ReloadHorizon(group));
    return 0;
  }
  ASSIGN_OR_RETURN(std::optional<std::string> record,
                   engine->LoadGroupRecord(kCheckpointRecord, group));
  if (!record.has_value()) return 0;
  paxos::Index index = 0;
  std::string image;
  RETURN_IF_ERROR(DecodeCheckpoint(*record, &index, &image));
  if (absl::Status s = state_machine->Restore(image); !s.ok()) {
    return absl::DataLossError(absl::StrCat("group ", group, ": the checkpoint at ", index,
                                            " cannot be restored: ", s.message()));
  }
  return index;
}

std::optional<paxos::Index> AddCheckpoint(paxos::GroupId group, paxos::Index applied,
                                          paxos::Index compacted, paxos::Index retain,
                                          const std::string& image,
                                          storage::GroupCommitWriter::Round* round) {
  round->data.SaveGroupRecord(kCheckpointRecord, group, EncodeCheckpoint(applied, image));
  round->sync_data = true;
  const paxos::Index upto = std::max(compacted, applied > retain ? applied - retain : 0);
  if (upto <= compacted) return std::nullopt;
  round->log.Compact(group, upto);
  return upto;
}

absl::Status WriteInstalledSnapshot(storage::Engine* engine, storage::GroupCommitWriter* writer,
                                    paxos::GroupId group, const FetchedSnapshot& snapshot,
                                    paxos::Index compacted) {
  storage::GroupCommitWriter::Round round;
  round.data.SaveGroupRecord(kCheckpointRecord, group,
                             EncodeCheckpoint(snapshot.index, snapshot.image));
  round.data.EraseGroupRecord(kInstallRecord, group);
  round.sync_data = true;
  round.log.Compact(group, std::max(snapshot.index, compacted));
  round.sync_log = true;
  RETURN_IF_ERROR(writer->WriteRound(std::move(round)));
  RETURN_IF_ERROR(engine->ReloadHorizon(group));
  engine->UnblockGc(group);
  return absl::OkStatus();
}

}  // namespace meridian::replication
