#include "replication/engine_log_storage.h"

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "common/key_encoding.h"
#include "spanserver/paxos/codec.h"

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

HardState EngineLogStorage::LoadHardState() {
  auto bytes = OrDie(engine_->LoadHardState(group_), group_, "load hard state");
  if (!bytes) return HardState{};
  return OrDie(DecodeHardState(*bytes), group_, "decode hard state");
}

Index EngineLogStorage::LastIndex() {
  auto last = OrDie(engine_->LastLogIndex(group_), group_, "last index");
  return last.value_or(0);
}

Index EngineLogStorage::Compacted() {
  auto bytes =
      OrDie(engine_->LoadGroupRecord(kCompactionRecord, group_), group_, "load compaction point");
  if (!bytes) return 0;
  return OrDie(DecodeCompaction(*bytes), group_, "decode compaction point");
}

std::string EngineLogStorage::EncodeCompaction(Index upto) {
  std::string out;
  keyenc::AppendUint64(&out, upto);
  return out;
}

absl::StatusOr<Index> EngineLogStorage::DecodeCompaction(std::string_view bytes) {
  uint64_t upto = 0;
  if (!keyenc::ConsumeUint64(&bytes, &upto).ok() || !bytes.empty()) {
    return absl::DataLossError("malformed compaction record");
  }
  return upto;
}

std::optional<Entry> EngineLogStorage::Get(Index index) {
  auto bytes = OrDie(engine_->ReadLogEntry(group_, index), group_, "read entry");
  if (!bytes) return std::nullopt;
  return OrDie(DecodeEntry(index, *bytes), group_, "decode entry");
}

std::vector<Entry> EngineLogStorage::Entries(Index lo, Index hi, size_t max_bytes) {
  std::vector<Entry> out;
  if (hi < lo) return out;
  for (storage::LogEntry& le :
       OrDie(engine_->ReadLog(group_, lo, hi + 1, max_bytes), group_, "read log")) {
    out.push_back(OrDie(DecodeEntry(le.index, le.data), group_, "decode entry"));
  }
  return out;
}

void EngineLogStorage::AddToBatch(const Ready& ready, storage::WriteBatch* batch) const {
  if (ready.hard_state) batch->SaveHardState(group_, EncodeHardState(*ready.hard_state));
  for (const Entry& e : ready.entries) batch->AppendLog(group_, e.index, EncodeEntry(e));
}

}  // namespace meridian::replication
