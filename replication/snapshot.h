// Snapshots of a group's state machine, moved between replicas of the group, and the checkpoint
// record a replica restarts from. Transport-free: the gRPC stream lives in spanserver/server
// (snapshot_service.h), the simulator has its own.
//
// What a snapshot is: the state machine's checkpoint image at an applied index (a few MB of
// replicated transaction state at most) plus every engine key in the state machine's data ranges
// (its MVCC versions and GC horizon), read from one LevelDB snapshot taken at the same moment on
// the group's strand, between rounds, so image and data agree.
//
// How one is installed (SnapshotWriter, then GroupHost):
//   1. the header arrives and its index is checked against what the replica needs;
//   2. Begin(): an install record (format.h 'i') is written, synced, and then the group's data
//      ranges are erased — from here until step 4 a restart finds the record, erases the partial
//      data again, and fetches anew;
//   3. Add(): pairs are written as they arrive (unsynced), each checked to fall inside the ranges,
//      in ascending order;
//   4. GroupHost writes, in one synced batch: the checkpoint record (index, image), the erasure of
//      the log below the index, the compaction point, and the erasure of the install record; then
//      it restores the state machine from the image and tells the replica (InstallSnapshot).
// Garbage collection of the group's tablet is blocked from step 2 until the install completes.
//
// Thread safety: SnapshotReader and SnapshotWriter are used by one thread at a time.
#ifndef MERIDIAN_REPLICATION_SNAPSHOT_H_
#define MERIDIAN_REPLICATION_SNAPSHOT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "spanserver/paxos/types.h"
#include "spanserver/storage/engine.h"

namespace meridian::replication {

// Engine keys in [start, end).
struct KeyRange {
  std::string start;
  std::string end;
  friend bool operator==(const KeyRange&, const KeyRange&) = default;
};

// The checkpoint record (format.h 'k'): uint64(index) followed by the state machine's image.
inline constexpr char kCheckpointRecord = 'k';
inline constexpr char kInstallRecord = 'i';
std::string EncodeCheckpoint(paxos::Index index, std::string_view image);
// DATA_LOSS when `bytes` is not a checkpoint record.
absl::Status DecodeCheckpoint(std::string_view bytes, paxos::Index* index, std::string* image);

// Erases every key in `ranges`, in batches, the last one synced.
absl::Status EraseRanges(storage::Engine* engine, const std::vector<KeyRange>& ranges);

// A snapshot being served: the image at index() and the data as one engine view held it.
class SnapshotReader {
 public:
  SnapshotReader(storage::Engine* engine, std::shared_ptr<storage::Engine::Snapshot> view,
                 std::vector<KeyRange> ranges, paxos::Index index, std::string image,
                 paxos::Config config, paxos::Index config_index);

  paxos::Index index() const { return index_; }
  const std::string& image() const { return image_; }
  const paxos::Config& config() const { return config_; }
  paxos::Index config_index() const { return config_index_; }
  // The next pairs in key order, about `max_bytes` of them (at least one while any is left);
  // empty once everything was read.
  absl::StatusOr<std::vector<storage::KeyValue>> Next(size_t max_bytes);

 private:
  storage::Engine* const engine_;
  const std::shared_ptr<storage::Engine::Snapshot> view_;
  const std::vector<KeyRange> ranges_;
  const paxos::Index index_;
  const std::string image_;
  const paxos::Config config_;
  const paxos::Index config_index_;
  size_t range_ = 0;    // the range being read
  std::string cursor_;  // the next key to read in it
};

// Writes a snapshot into one group's data (steps 2 and 3 above).
class SnapshotWriter {
 public:
  SnapshotWriter(storage::Engine* engine, paxos::GroupId group, std::vector<KeyRange> ranges);

  // Records the install (synced), blocks garbage collection of the group's tablet, and erases the
  // group's data ranges.
  absl::Status Begin();
  // Writes `pairs` (unsynced). INVALID_ARGUMENT, and nothing written, when a key falls outside
  // the ranges or is not above the previous one; FAILED_PRECONDITION before Begin().
  absl::Status Add(const std::vector<storage::KeyValue>& pairs);

  uint64_t pairs() const { return pairs_; }

 private:
  bool InRanges(std::string_view key) const;

  storage::Engine* const engine_;
  const paxos::GroupId group_;
  const std::vector<KeyRange> ranges_;
  bool begun_ = false;
  std::string last_key_;
  uint64_t pairs_ = 0;
};

struct FetchedSnapshot {
  paxos::Index index = 0;
  std::string image;
  // The group's configuration committed at or below `index`, and its slot.
  paxos::Config config;
  paxos::Index config_index = 0;
};

// Fetches snapshots from other servers. Implementations carry the stream (gRPC in the server, the
// simulated network in the simulator).
class SnapshotFetcher {
 public:
  virtual ~SnapshotFetcher() = default;
  // Fetches `group`'s snapshot from replica (server) `from`. Once the header shows an index of at
  // least `at_least`, calls writer->Begin() and then writer->Add() for every chunk, verifying the
  // stream's checksums; `done` is called exactly once, on any thread, with the snapshot's index
  // and image, or with the error (after which the group's data may be partly erased).
  using Done = std::function<void(absl::StatusOr<FetchedSnapshot>)>;
  virtual void Fetch(paxos::GroupId group, paxos::ReplicaId from, paxos::Index at_least,
                     std::shared_ptr<SnapshotWriter> writer, Done done) = 0;
};

}  // namespace meridian::replication

#endif  // MERIDIAN_REPLICATION_SNAPSHOT_H_
