// PaxosLog::Open: reading the segments back (paxos_log.h explains what they hold).
#include <leveldb/env.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "spanserver/storage/leveldb_util.h"
#include "spanserver/storage/paxos_log.h"
#include "spanserver/storage/paxos_log_record.h"
#include "spanserver/storage/prezeroed_log_env.h"

namespace meridian::storage {
namespace {

using Type = PaxosLogBatch::Type;

// The segment numbers in `dir`, ascending.
absl::StatusOr<std::vector<uint64_t>> ListSegments(leveldb::Env* env, const std::string& dir) {
  std::vector<std::string> children;
  RETURN_IF_ERROR(internal::FromLevelDb(env->GetChildren(dir, &children)));
  std::vector<uint64_t> numbers;
  for (const std::string& name : children) {
    if (!internal::IsNumberedFile(name, ".log")) continue;
    uint64_t n = 0;
    if (absl::SimpleAtoi(absl::string_view(name).substr(0, name.size() - 4), &n) && n > 0) {
      numbers.push_back(n);
    }
  }
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

// The header record at the start of `bytes` (its number and the previous segment's end), or
// nullopt when the segment does not start with one that checks.
std::optional<std::pair<uint64_t, uint64_t>> ParseHeader(std::string_view bytes) {
  absl::StatusOr<paxos_log_record::Parsed> p = paxos_log_record::Parse(bytes);
  if (!p.ok() || p->type != Type::kHeader || p->data.size() != 8) return std::nullopt;
  return std::make_pair(p->index, paxos_log_record::GetFixed64(p->data.data()));
}

absl::StatusOr<std::optional<std::pair<uint64_t, uint64_t>>> ReadHeader(leveldb::Env* env,
                                                                        const std::string& path) {
  leveldb::SequentialFile* raw = nullptr;
  RETURN_IF_ERROR(internal::FromLevelDb(env->NewSequentialFile(path, &raw)));
  std::unique_ptr<leveldb::SequentialFile> file(raw);
  std::string scratch(paxos_log_record::kHeaderBytes + 8, '\0');
  leveldb::Slice got;
  RETURN_IF_ERROR(internal::FromLevelDb(file->Read(scratch.size(), &got, scratch.data())));
  return ParseHeader(internal::ToView(got));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PaxosLog>> PaxosLog::Open(const std::string& dir,
                                                         PaxosLogOptions options) {
  std::unique_ptr<leveldb::Env> owned;
  leveldb::Env* env = options.env;
  if (env == nullptr) {
    owned = NewPrezeroedLogEnv(leveldb::Env::Default(), PrezeroedLogOptions());
    env = owned.get();
  }
  env->CreateDir(dir);  // fails harmlessly when it exists; listing it below reports a real error
  std::unique_ptr<PaxosLog> log(new PaxosLog(dir, options, env, std::move(owned)));
  RETURN_IF_ERROR(log->Recover());
  return log;
}

absl::Status PaxosLog::Recover() {
  ASSIGN_OR_RETURN(std::vector<uint64_t> numbers, ListSegments(env_, dir_));
  // Segments are removed oldest first; when a removal reached the disk and an older one's did
  // not, the older ones are left behind a gap. They were dead already.
  for (size_t i = numbers.size(); i-- > 1;) {
    if (numbers[i - 1] + 1 == numbers[i]) continue;
    for (size_t j = 0; j < i; ++j) {
      std::fprintf(stderr, "Paxos log: removing %s, older than a segment removed before\n",
                   SegmentPath(numbers[j]).c_str());
      env_->RemoveFile(SegmentPath(numbers[j]));
    }
    numbers.erase(numbers.begin(), numbers.begin() + static_cast<std::ptrdiff_t>(i));
    break;
  }
  // A crash while a segment was being started can leave it without a header, and so without
  // anything written after it (the header is synced first).
  if (!numbers.empty()) {
    ASSIGN_OR_RETURN(auto header, ReadHeader(env_, SegmentPath(numbers.back())));
    if (!header || header->first != numbers.back()) {
      std::fprintf(stderr, "Paxos log: removing %s, started but never written\n",
                   SegmentPath(numbers.back()).c_str());
      RETURN_IF_ERROR(internal::FromLevelDb(env_->RemoveFile(SegmentPath(numbers.back()))));
      numbers.pop_back();
    }
  }
  uint64_t end = 0;
  for (size_t i = 0; i < numbers.size(); ++i) {
    std::optional<uint64_t> expected_end;
    if (i + 1 < numbers.size()) {
      ASSIGN_OR_RETURN(auto next, ReadHeader(env_, SegmentPath(numbers[i + 1])));
      if (!next || next->first != numbers[i + 1]) {
        return absl::DataLossError(absl::StrCat("Paxos log: ", SegmentPath(numbers[i + 1]),
                                                " does not start with its header"));
      }
      expected_end = next->second;
    }
    RETURN_IF_ERROR(ReplaySegment(numbers[i], expected_end, &end));
  }
  // Never written into again: a torn tail stays where it is, behind the end the next header
  // records.
  file_number_ = numbers.empty() ? 0 : numbers.back();
  RETURN_IF_ERROR(StartSegment(end));
  std::vector<uint64_t> dead;
  {
    absl::MutexLock lock(&mu_);
    dead = TakeDeadSegments();
  }
  RemoveSegmentFiles(dead);
  return absl::OkStatus();
}

absl::Status PaxosLog::ReplaySegment(uint64_t number, std::optional<uint64_t> expected_end,
                                     uint64_t* end) {
  const std::string path = SegmentPath(number);
  std::string bytes;
  RETURN_IF_ERROR(internal::FromLevelDb(leveldb::ReadFileToString(env_, path, &bytes)));
  const uint64_t limit =
      expected_end ? std::min<uint64_t>(*expected_end, bytes.size()) : bytes.size();
  uint64_t pos = 0;
  absl::MutexLock lock(&mu_);
  segments_[number].number = number;
  while (pos < limit) {
    absl::StatusOr<paxos_log_record::Parsed> p =
        paxos_log_record::Parse(std::string_view(bytes).substr(pos, limit - pos));
    if (!p.ok()) break;
    if (pos == 0 && (p->type != Type::kHeader || p->index != number)) break;
    // Entries are not copied into memory: a restarted replica reads back only what it replays
    // and what lagging followers need, from the file.
    const bool entry = p->type == Type::kEntry;
    PaxosLogBatch::Record record{p->type, p->group, p->index,
                                 entry ? nullptr : std::make_shared<const std::string>(p->data)};
    ApplyRecord(record, number, pos + paxos_log_record::kHeaderBytes,
                static_cast<uint32_t>(p->data.size()), /*cache=*/false);
    pos += p->record_bytes;
  }
  if (pos == 0) {
    return absl::DataLossError(
        absl::StrCat("Paxos log: ", path, " does not start with its header"));
  }
  if (expected_end && pos != *expected_end) {
    return absl::DataLossError(
        absl::StrCat("Paxos log: the records of ", path, " that check end at byte ", pos,
                     ", but the next segment records that it ended at byte ", *expected_end,
                     ": the log is damaged (a disk error, or the file was changed)"));
  }
  segments_[number].end = pos;
  *end = pos;
  return absl::OkStatus();
}

}  // namespace meridian::storage
