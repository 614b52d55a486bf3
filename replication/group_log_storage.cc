#include "replication/group_log_storage.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/check.h"
#include "common/key_encoding.h"
#include "common/status_macros.h"
#include "spanserver/paxos/codec.h"
#include "spanserver/storage/write_batch.h"

namespace meridian::replication {
namespace {

using paxos::DecodeEntry;
using paxos::DecodeHardState;
using paxos::EncodeEntry;
using paxos::EncodeHardState;
using paxos::Entry;
using paxos::GroupId;
using paxos::HardState;
using paxos::Index;
using paxos::Ready;

template <typename T>
T OrDie(absl::StatusOr<T> v, GroupId group, const char* what) {
  CHECK_MSG(v.ok(),
            absl::StrCat("Paxos log of group ", group, ": ", what, ": ", v.status().ToString()));
  return *std::move(v);
}

}  // namespace

HardState GroupLogStorage::LoadHardState() {
  std::optional<std::string> bytes = log_->HardState(group_);
  if (!bytes) return HardState{};
  return OrDie(DecodeHardState(*bytes), group_, "decode hard state");
}

Index GroupLogStorage::LastIndex() { return log_->LastIndex(group_).value_or(0); }

Index GroupLogStorage::Compacted() { return log_->Compacted(group_); }

std::optional<Entry> GroupLogStorage::Get(Index index) {
  auto bytes = OrDie(log_->Get(group_, index), group_, "read entry");
  if (!bytes) return std::nullopt;
  return OrDie(DecodeEntry(index, *bytes), group_, "decode entry");
}

std::vector<Entry> GroupLogStorage::Entries(Index lo, Index hi, size_t max_bytes) {
  std::vector<Entry> out;
  if (hi < lo) return out;
  for (storage::LogEntry& le :
       OrDie(log_->Read(group_, lo, hi + 1, max_bytes), group_, "read log")) {
    out.push_back(OrDie(DecodeEntry(le.index, le.data), group_, "decode entry"));
  }
  return out;
}

void GroupLogStorage::AddToBatch(const Ready& ready, storage::PaxosLogBatch* batch) const {
  if (ready.hard_state) batch->SaveHardState(group_, EncodeHardState(*ready.hard_state));
  for (const Entry& e : ready.entries) batch->PutEntry(group_, e.index, EncodeEntry(e));
}

std::string EncodeLegacyCompaction(Index upto) {
  std::string out;
  keyenc::AppendUint64(&out, upto);
  return out;
}

absl::StatusOr<Index> DecodeLegacyCompaction(std::string_view bytes) {
  uint64_t upto = 0;
  if (!keyenc::ConsumeUint64(&bytes, &upto).ok() || !bytes.empty()) {
    return absl::DataLossError("malformed compaction record");
  }
  return upto;
}

absl::Status MigrateEngineLogs(storage::Engine* engine, storage::PaxosLog* log,
                               const std::function<void(const std::string&)>& note) {
  if (engine->format_version() >= kPaxosLogFormat) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<uint64_t> groups, engine->ListGroups());
  if (!groups.empty()) {
    note(absl::StrCat("moving the Paxos logs of groups ", absl::StrJoin(groups, ","),
                      " out of LevelDB into ", log->dir()));
  }
  for (const uint64_t group : groups) {
    storage::PaxosLogBatch batch;
    storage::WriteBatch erase;
    ASSIGN_OR_RETURN(std::optional<std::string> hard_state, engine->LoadHardState(group));
    ASSIGN_OR_RETURN(std::optional<std::string> compaction,
                     engine->LoadGroupRecord(kLegacyCompactionRecord, group));
    if (compaction) {
      ASSIGN_OR_RETURN(const Index upto, DecodeLegacyCompaction(*compaction));
      if (upto > 0) batch.Compact(group, upto);
      erase.EraseGroupRecord(kLegacyCompactionRecord, group);
    }
    // Page by page: a log may hold up to --max_log_mb.
    uint64_t next = 0;
    for (;;) {
      ASSIGN_OR_RETURN(std::vector<storage::LogEntry> entries,
                       engine->ReadLog(group, next, std::numeric_limits<uint64_t>::max(), 8 << 20));
      if (entries.empty()) break;
      for (storage::LogEntry& e : entries) {
        RETURN_IF_ERROR(DecodeEntry(e.index, e.data).status());
        next = e.index + 1;
        batch.PutEntry(group, e.index, std::move(e.data));
      }
      RETURN_IF_ERROR(log->Write(batch, /*sync=*/false));
      batch = storage::PaxosLogBatch();
    }
    // The hard state last: with it the group's log is complete in the PaxosLog.
    if (hard_state) {
      RETURN_IF_ERROR(DecodeHardState(*hard_state).status());
      batch.SaveHardState(group, *hard_state);
      erase.EraseHardState(group);
    }
    RETURN_IF_ERROR(log->Write(batch, /*sync=*/true));
    RETURN_IF_ERROR(engine->TruncateLogSuffix(group, 0, &erase));
    RETURN_IF_ERROR(engine->Write(erase, /*sync=*/true));
  }
  // A replica with a marker and nothing persisted yet gets an empty hard state, as a new one does
  // (PrepareReplica): from now on a marked replica whose log knows nothing of it lost its log.
  ASSIGN_OR_RETURN(std::vector<uint64_t> marked, engine->ListMarkedGroups());
  storage::PaxosLogBatch empty;
  for (const uint64_t group : marked) {
    if (!log->HardState(group) && !log->LastIndex(group) && log->Compacted(group) == 0) {
      empty.SaveHardState(group, EncodeHardState(HardState{}));
    }
  }
  RETURN_IF_ERROR(log->Write(empty, /*sync=*/true));
  return engine->SetFormatVersion(kPaxosLogFormat);
}

}  // namespace meridian::replication
