// PaxosLog's write path, index and reads (recovery is in paxos_log_recovery.cc).
#include "spanserver/storage/paxos_log.h"

#include <leveldb/env.h>

#include <algorithm>
#include <initializer_list>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "spanserver/storage/leveldb_util.h"
#include "spanserver/storage/paxos_log_record.h"

namespace meridian::storage {

using Record = PaxosLogBatch::Record;
using Type = PaxosLogBatch::Type;

void PaxosLogBatch::Add(Type type, uint64_t group, uint64_t index, std::string data) {
  bytes_ += data.size() + paxos_log_record::kHeaderBytes;
  records_.push_back(
      Record{type, group, index, std::make_shared<const std::string>(std::move(data))});
}

void PaxosLogBatch::PutEntry(uint64_t group, uint64_t index, std::string entry) {
  Add(Type::kEntry, group, index, std::move(entry));
}

void PaxosLogBatch::SaveHardState(uint64_t group, std::string hard_state) {
  Add(Type::kHardState, group, 0, std::move(hard_state));
}

void PaxosLogBatch::Compact(uint64_t group, uint64_t upto) { Add(Type::kCompact, group, upto, ""); }

void PaxosLogBatch::Append(PaxosLogBatch&& other) {
  if (records_.empty()) {
    records_ = std::move(other.records_);
  } else {
    records_.insert(records_.end(), std::make_move_iterator(other.records_.begin()),
                    std::make_move_iterator(other.records_.end()));
  }
  bytes_ += other.bytes_;
  other.records_.clear();
  other.bytes_ = 0;
}

PaxosLog::PaxosLog(std::string dir, PaxosLogOptions options, leveldb::Env* env,
                   std::unique_ptr<leveldb::Env> owned_env)
    : dir_(std::move(dir)), options_(options), owned_env_(std::move(owned_env)), env_(env) {}

PaxosLog::~PaxosLog() {
  if (file_ != nullptr) file_->Close();
  file_.reset();
  absl::MutexLock lock(&mu_);
  segments_.clear();  // the readers go before the env
}

std::string PaxosLog::SegmentPath(uint64_t number) const {
  return absl::StrFormat("%s/%08d.log", dir_, number);
}

absl::Status PaxosLog::Fail(absl::Status status) {
  if (!status.ok() && failure_.ok()) failure_ = status;
  return status;
}

absl::Status PaxosLog::StartSegment(uint64_t previous_end) {
  const uint64_t number = file_number_ + 1;
  leveldb::WritableFile* file = nullptr;
  RETURN_IF_ERROR(internal::FromLevelDb(env_->NewWritableFile(SegmentPath(number), &file)));
  file_.reset(file);
  file_number_ = number;
  file_end_ = 0;
  // The header, then every group's hard state and compaction point: from here on no older
  // segment is needed for those.
  PaxosLogBatch meta;
  {
    std::string prev;
    paxos_log_record::PutFixed64(&prev, previous_end);
    meta.records_.push_back(
        Record{Type::kHeader, 0, number, std::make_shared<const std::string>(std::move(prev))});
    absl::MutexLock lock(&mu_);
    segments_[number].number = number;
    std::vector<uint64_t> ids;
    for (const auto& [id, g] : groups_) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    for (const uint64_t id : ids) {
      const Group& g = groups_.at(id);
      if (g.hard_state) meta.SaveHardState(id, *g.hard_state);
      if (g.compacted > 0) meta.Compact(id, g.compacted);
    }
  }
  buffer_.clear();
  for (const Record& r : meta.records()) paxos_log_record::Encode(r, &buffer_);
  RETURN_IF_ERROR(internal::FromLevelDb(file_->Append(internal::ToSlice(buffer_))));
  RETURN_IF_ERROR(internal::FromLevelDb(file_->Sync()));
  file_end_ = buffer_.size();
  absl::MutexLock lock(&mu_);
  segments_[number].end = file_end_;
  ++stats_.syncs;
  return absl::OkStatus();
}

absl::Status PaxosLog::Write(const PaxosLogBatch& batch, bool sync) {
  absl::MutexLock write_lock(&write_mu_);
  RETURN_IF_ERROR(failure_);
  if (batch.empty() && !sync) return absl::OkStatus();
  bool rolled = false;
  if (file_end_ >= options_.segment_bytes) {
    // The old segment is complete and durable before its successor records where it ends.
    RETURN_IF_ERROR(Fail(internal::FromLevelDb(file_->Sync())));
    RETURN_IF_ERROR(Fail(internal::FromLevelDb(file_->Close())));
    RETURN_IF_ERROR(Fail(StartSegment(file_end_)));
    rolled = true;
  }
  PaxosLogBatch relocated;
  if (rolled) RETURN_IF_ERROR(Fail(CollectOldestLive(&relocated)));
  // Relocated slots go first: the batch may overwrite or compact them.
  buffer_.clear();
  std::vector<std::pair<const Record*, uint64_t>> placed;  // record, data offset in the file
  placed.reserve(relocated.records().size() + batch.records().size());
  for (const PaxosLogBatch* b : std::initializer_list<const PaxosLogBatch*>{&relocated, &batch}) {
    for (const Record& r : b->records()) {
      placed.emplace_back(&r, file_end_ + paxos_log_record::Encode(r, &buffer_));
    }
  }
  RETURN_IF_ERROR(Fail(internal::FromLevelDb(file_->Append(internal::ToSlice(buffer_)))));
  // Flushed even without sync: a slot evicted from memory is read back from the file.
  const bool really_sync = sync && !options_.testing_ignore_sync;
  RETURN_IF_ERROR(Fail(internal::FromLevelDb(really_sync ? file_->Sync() : file_->Flush())));
  file_end_ += buffer_.size();
  std::vector<uint64_t> dead;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [record, offset] : placed) {
      ApplyRecord(*record, file_number_, offset, static_cast<uint32_t>(record->data->size()), true);
    }
    segments_[file_number_].end = file_end_;
    ++stats_.writes;
    stats_.syncs += sync ? 1 : 0;
    stats_.bytes += buffer_.size();
    stats_.relocated_entries += relocated.records().size();
    // Only after a sync: the compactions that killed a segment must outlive it.
    if (sync) dead = TakeDeadSegments();
  }
  RemoveSegmentFiles(dead);
  return absl::OkStatus();
}

absl::Status PaxosLog::CollectOldestLive(PaxosLogBatch* out) {
  uint64_t oldest = 0;
  std::vector<std::pair<uint64_t, uint64_t>> live;  // group, index
  {
    absl::MutexLock lock(&mu_);
    if (segments_.size() <= options_.max_segments) return absl::OkStatus();
    oldest = segments_.begin()->first;
    const Segment& seg = segments_.begin()->second;
    if (seg.live == 0 || seg.live_bytes > options_.segment_bytes / 4) return absl::OkStatus();
    for (const auto& [id, g] : groups_) {
      for (const auto& [index, slot] : g.slots) {
        if (slot.segment == oldest) live.emplace_back(id, index);
      }
    }
  }
  for (const auto& [group, index] : live) {
    ASSIGN_OR_RETURN(std::optional<std::string> data, Get(group, index));
    if (data) out->PutEntry(group, index, *std::move(data));
  }
  return absl::OkStatus();
}

std::vector<uint64_t> PaxosLog::TakeDeadSegments() {
  std::vector<uint64_t> dead;
  while (segments_.size() > 1) {
    auto it = segments_.begin();
    if (it->first == file_number_ || it->second.live > 0) break;
    dead.push_back(it->first);
    segments_.erase(it);
    ++stats_.segments_removed;
  }
  return dead;
}

void PaxosLog::RemoveSegmentFiles(const std::vector<uint64_t>& numbers) {
  // Oldest first (recovery relies on it). A failed or lost removal costs disk space only:
  // recovery replays a dead segment harmlessly, every record in it superseded by later ones.
  for (const uint64_t n : numbers) env_->RemoveFile(SegmentPath(n));
}

void PaxosLog::Unlink(const Slot& slot) {
  auto it = segments_.find(slot.segment);
  if (it == segments_.end() || it->second.live == 0) return;
  --it->second.live;
  it->second.live_bytes -= slot.length;
}

void PaxosLog::ApplyRecord(const Record& record, uint64_t segment, uint64_t data_offset,
                           uint32_t length, bool cache) {
  if (record.type == Type::kHeader) return;  // recovery checks headers
  Group& g = groups_[record.group];
  switch (record.type) {
    case Type::kHeader:
      break;
    case Type::kHardState:
      g.hard_state = *record.data;
      break;
    case Type::kEntry: {
      if (record.index <= g.compacted) break;
      Slot& slot = g.slots[record.index];
      if (slot.segment != 0) {
        Unlink(slot);
        if (slot.cached) g.cached_bytes -= slot.cached->size();
      }
      slot = Slot{segment, data_offset, length, cache ? record.data : nullptr};
      Segment& seg = segments_[segment];
      ++seg.live;
      seg.live_bytes += slot.length;
      if (cache) {
        g.cached_bytes += length;
        if (g.lowest_cached == 0 || record.index < g.lowest_cached) g.lowest_cached = record.index;
        Evict(g);
      }
      break;
    }
    case Type::kCompact: {
      if (record.index <= g.compacted) break;
      auto end = g.slots.upper_bound(record.index);
      for (auto it = g.slots.begin(); it != end; ++it) {
        Unlink(it->second);
        if (it->second.cached) g.cached_bytes -= it->second.cached->size();
      }
      g.slots.erase(g.slots.begin(), end);
      g.compacted = record.index;
      break;
    }
  }
}

void PaxosLog::Evict(Group& g) {
  if (g.cached_bytes <= options_.cache_bytes_per_group) return;
  for (auto it = g.slots.lower_bound(g.lowest_cached);
       it != g.slots.end() && g.cached_bytes > options_.cache_bytes_per_group / 2; ++it) {
    if (it->second.cached) {
      g.cached_bytes -= it->second.cached->size();
      it->second.cached.reset();
    }
    g.lowest_cached = it->first + 1;
  }
}

std::vector<uint64_t> PaxosLog::Groups() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<uint64_t> out;
  for (const auto& [id, g] : groups_) {
    if (g.hard_state || g.compacted > 0 || !g.slots.empty()) out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::string> PaxosLog::HardState(uint64_t group) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = groups_.find(group);
  return it == groups_.end() ? std::nullopt : it->second.hard_state;
}

uint64_t PaxosLog::Compacted(uint64_t group) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = groups_.find(group);
  return it == groups_.end() ? 0 : it->second.compacted;
}

std::optional<uint64_t> PaxosLog::LastIndex(uint64_t group) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = groups_.find(group);
  if (it == groups_.end() || it->second.slots.empty()) return std::nullopt;
  return it->second.slots.rbegin()->first;
}

absl::StatusOr<std::optional<std::string>> PaxosLog::Get(uint64_t group, uint64_t index) const {
  // A write may move the slot (an overwrite) and remove the segment it was read from between
  // the lookup and the read (NOT_FOUND from ReadSlot): look it up again.
  for (int attempt = 0;; ++attempt) {
    Slot slot;
    {
      absl::ReaderMutexLock lock(&mu_);
      auto g = groups_.find(group);
      if (g == groups_.end()) return std::nullopt;
      auto it = g->second.slots.find(index);
      if (it == g->second.slots.end()) return std::nullopt;
      slot = it->second;
    }
    if (slot.cached) return *slot.cached;
    absl::StatusOr<std::string> data = ReadSlot(group, index, slot);
    if (data.ok() || !absl::IsNotFound(data.status()) || attempt == 3) return data;
  }
}

absl::StatusOr<std::vector<LogEntry>> PaxosLog::Read(uint64_t group, uint64_t lo, uint64_t hi,
                                                     size_t max_bytes) const {
  std::vector<std::pair<uint64_t, Slot>> found;
  {
    absl::ReaderMutexLock lock(&mu_);
    auto g = groups_.find(group);
    if (g == groups_.end() || lo >= hi) return std::vector<LogEntry>{};
    size_t bytes = 0;
    for (auto it = g->second.slots.lower_bound(lo); it != g->second.slots.end() && it->first < hi;
         ++it) {
      const size_t size = it->second.length;
      if (!found.empty() && (bytes >= max_bytes || size > max_bytes - bytes)) break;
      bytes += size;
      found.emplace_back(it->first, it->second);
    }
  }
  std::vector<LogEntry> out;
  out.reserve(found.size());
  for (auto& [index, slot] : found) {
    if (slot.cached) {
      out.push_back(LogEntry{index, *slot.cached});
    } else {
      absl::StatusOr<std::string> data = ReadSlot(group, index, slot);
      if (!data.ok() && absl::IsNotFound(data.status())) {
        // Moved meanwhile (see Get); skipped when it is gone for good (compacted).
        ASSIGN_OR_RETURN(std::optional<std::string> moved, Get(group, index));
        if (!moved) continue;
        data = *std::move(moved);
      }
      RETURN_IF_ERROR(data.status());
      out.push_back(LogEntry{index, *std::move(data)});
    }
  }
  return out;
}

absl::StatusOr<std::string> PaxosLog::ReadSlot(uint64_t group, uint64_t index,
                                               const Slot& slot) const {
  std::shared_ptr<leveldb::RandomAccessFile> reader;
  const uint64_t record_start = slot.offset - paxos_log_record::kHeaderBytes;
  const uint64_t record_end = slot.offset + slot.length;
  {
    absl::MutexLock lock(&mu_);
    ++stats_.disk_reads;
    auto it = segments_.find(slot.segment);
    if (it == segments_.end()) {
      return absl::NotFoundError(absl::StrCat("Paxos log: group ", group, " slot ", index,
                                              " points into removed segment ", slot.segment));
    }
    if (it->second.reader_size >= record_end) reader = it->second.reader;
  }
  if (reader == nullptr) {
    // Opened (or reopened, to read past what it could) outside the lock.
    const std::string path = SegmentPath(slot.segment);
    uint64_t size = 0;
    leveldb::RandomAccessFile* file = nullptr;
    RETURN_IF_ERROR(internal::FromLevelDb(env_->GetFileSize(path, &size)));
    RETURN_IF_ERROR(internal::FromLevelDb(env_->NewRandomAccessFile(path, &file)));
    reader.reset(file);
    absl::MutexLock lock(&mu_);
    auto it = segments_.find(slot.segment);
    if (it != segments_.end() && it->second.reader_size < size) {
      it->second.reader = reader;
      it->second.reader_size = size;
    }
  }
  std::string scratch(record_end - record_start, '\0');
  leveldb::Slice got;
  RETURN_IF_ERROR(
      internal::FromLevelDb(reader->Read(record_start, scratch.size(), &got, scratch.data())));
  absl::StatusOr<paxos_log_record::Parsed> parsed = paxos_log_record::Parse(internal::ToView(got));
  if (!parsed.ok() || parsed->record_bytes != scratch.size() || parsed->type != Type::kEntry ||
      parsed->group != group || parsed->index != index) {
    return absl::DataLossError(absl::StrCat("Paxos log: the record of group ", group, " slot ",
                                            index, " in ", SegmentPath(slot.segment), " at ",
                                            record_start, " does not check"));
  }
  return std::string(parsed->data);
}

PaxosLog::Stats PaxosLog::stats() const {
  absl::ReaderMutexLock lock(&mu_);
  Stats s = stats_;
  s.segments = segments_.size();
  return s;
}

}  // namespace meridian::storage
