// Byte encodings of Paxos entries and hard state, as stored in the LevelDB log (storage::Engine
// keeps them as opaque values). All integers are little-endian fixed width.
//
//   entry      := version:u8(1) type:u8 ballot command
//   ballot     := round:i64 replica:u64
//   command    := the rest of the value; for a kConfig entry, a config
//   hard_state := version:u8(1) promised:ballot member_count:u32 member:u64*
//               | version:u8(2) promised:ballot config_index:u64 config
//   config     := voter_count:u32 voter:u64* learner_count:u32 learner:u64*
//
// The slot index is not in the value: it is the log key. Decoders return DATA_LOSS on anything
// malformed, so a corrupted log is reported, never half-read. Thread-safe: pure functions.
#ifndef MERIDIAN_SPANSERVER_PAXOS_CODEC_H_
#define MERIDIAN_SPANSERVER_PAXOS_CODEC_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "spanserver/paxos/types.h"

namespace meridian::paxos {

std::string EncodeEntry(const Entry& entry);
absl::StatusOr<Entry> DecodeEntry(Index index, std::string_view bytes);
std::string EncodeHardState(const HardState& hs);
absl::StatusOr<HardState> DecodeHardState(std::string_view bytes);
std::string EncodeConfig(const Config& config);
absl::StatusOr<Config> DecodeConfig(std::string_view bytes);

}  // namespace meridian::paxos

#endif  // MERIDIAN_SPANSERVER_PAXOS_CODEC_H_
