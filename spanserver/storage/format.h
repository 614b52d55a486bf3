// The on-disk format of a spanserver's LevelDB. One LevelDB holds the MVCC data of every tablet on
// the server, the Paxos log and hard state of every group, and each tablet's garbage-collection
// horizon. Every key starts with a one-byte space tag; the rest is built with the order-preserving
// encodings of common/key_encoding.h (bytes, uint64, int64, desc_int64), so LevelDB's bytewise
// order is the order written below.
//
// Keys:
//   key              := data_key | log_key | hard_state_key | marker_key | horizon_key
//                     | group_record_key | format_key
//   data_key         := 'd' uint64(tablet_id) bytes(user_key) desc_int64(commit_ts)
//   log_key          := 'l' uint64(group_id) uint64(index)
//   hard_state_key   := 'h' uint64(group_id)
//   marker_key       := 'm' uint64(group_id)
//   horizon_key      := 'g' uint64(tablet_id)
//   group_record_key := record_tag uint64(group_id)
//   format_key       := 'v'
//   record_tag       := 'c'   compaction: uint64(index) — the group's log holds no slot <= index
//                     | 'k'   checkpoint: the group's state machine through some index, opaque
//                     | 'i'   install: a snapshot is being installed; the group's data is partial
//
// Values:
//   data_value       := 0x01 raw_bytes        a put; raw_bytes is the rest of the value, unescaped
//                     | 0x02                  a tombstone; nothing follows
//   log_value        := raw_bytes             one Paxos entry, opaque to storage
//   hard_state_value := raw_bytes             a group's hard state, opaque to storage
//   marker_value     := raw_bytes             whose replica the group's state is, opaque to
//                                             storage (paxos/replica_marker.h)
//   horizon_value    := int64(horizon_ts)
//   format_value     := uint64(format_version)  what this file layout and the records in it
//                                             follow; a binary refuses a newer one (Engine::Open)
//
// Consequences of the order: a tablet's data is contiguous; within it user keys are in bytewise
// order, and because bytes() is prefix-free all versions of one user key are contiguous and sorted
// newest first. A group's log entries are contiguous and in index order.
//
// Thread safety: pure functions.
#ifndef MERIDIAN_SPANSERVER_STORAGE_FORMAT_H_
#define MERIDIAN_SPANSERVER_STORAGE_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "truetime/interval.h"

namespace meridian::storage::format {

inline constexpr char kDataTag = 'd';
inline constexpr char kLogTag = 'l';
inline constexpr char kHardStateTag = 'h';
inline constexpr char kHorizonTag = 'g';
inline constexpr char kReplicaMarkerTag = 'm';
inline constexpr char kFormatTag = 'v';

// The format this binary writes, and the newest it reads. Raise it with any change that an
// older binary would misread (a new key space, value layout, or Paxos entry or record version),
// so that the older binary refuses the store instead of misreading it.
// 1: the Paxos logs and hard states were kept here ('l', 'h', 'c'); 2: they are in
// storage::PaxosLog, and only a store being upgraded still holds them.
inline constexpr uint64_t kFormatVersion = 2;
std::string FormatKey();
std::string FormatValue(uint64_t version);
// DATA_LOSS when it is not 8 bytes.
absl::Status ParseFormatValue(std::string_view value, uint64_t* version);

// Per-group records beside the log (group_record_key).
enum class GroupRecord : char { kCompaction = 'c', kCheckpoint = 'k', kInstall = 'i' };
std::string GroupRecordKey(GroupRecord record, uint64_t group);

inline constexpr char kPutTag = '\x01';
inline constexpr char kTombstoneTag = '\x02';

// Length of desc_int64(commit_ts) at the end of every data key.
inline constexpr size_t kTimestampBytes = 8;

// 'd' uint64(tablet): the prefix of all of a tablet's data.
std::string TabletDataPrefix(uint64_t tablet);
// 'd' uint64(tablet) bytes(user_key): the prefix of all versions of one user key.
std::string UserKeyPrefix(uint64_t tablet, std::string_view user_key);
// A complete data_key.
std::string DataKey(uint64_t tablet, std::string_view user_key, truetime::Timestamp ts);

struct DataKeyParts {
  uint64_t tablet = 0;
  std::string user_key;
  truetime::Timestamp ts = 0;
};
// Parses a data_key. DATA_LOSS when `key` is not one (a corrupt store).
absl::Status ParseDataKey(std::string_view key, DataKeyParts* parts);

std::string PutValue(std::string_view value);
std::string TombstoneValue();
// Parses a data_value: sets *tombstone, and *value to the put's bytes (a view into `data_value`).
// DATA_LOSS when the tag is unknown or a tombstone carries bytes.
absl::Status ParseDataValue(std::string_view data_value, bool* tombstone, std::string_view* value);

// 'l' uint64(group): the prefix of a group's log.
std::string GroupLogPrefix(uint64_t group);
std::string LogKey(uint64_t group, uint64_t index);
// Parses a log_key. DATA_LOSS when `key` is not one.
absl::Status ParseLogKey(std::string_view key, uint64_t* group, uint64_t* index);

std::string HardStateKey(uint64_t group);
// Parses a hard_state_key. DATA_LOSS when `key` is not one.
absl::Status ParseHardStateKey(std::string_view key, uint64_t* group);

std::string ReplicaMarkerKey(uint64_t group);

std::string HorizonKey(uint64_t tablet);
// Parses a horizon_key. DATA_LOSS when `key` is not one.
absl::Status ParseHorizonKey(std::string_view key, uint64_t* tablet);
std::string HorizonValue(truetime::Timestamp horizon);
// Parses a horizon_value. DATA_LOSS when it is not 8 bytes.
absl::Status ParseHorizonValue(std::string_view value, truetime::Timestamp* horizon);

}  // namespace meridian::storage::format

#endif  // MERIDIAN_SPANSERVER_STORAGE_FORMAT_H_
