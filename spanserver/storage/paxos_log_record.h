// The record format of PaxosLog's segments (paxos_log.h):
//     masked crc32c (4) | body length (4) | type (1) | group (8) | index (8) | data
// little-endian; the CRC covers the length and the body, and is masked as LevelDB masks its own
// (a CRC of data that holds CRCs is then not a CRC of zeros). Internal to spanserver/storage.
#ifndef MERIDIAN_SPANSERVER_STORAGE_PAXOS_LOG_RECORD_H_
#define MERIDIAN_SPANSERVER_STORAGE_PAXOS_LOG_RECORD_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "spanserver/storage/paxos_log.h"

namespace meridian::storage::paxos_log_record {

// Bytes before a record's data.
inline constexpr size_t kHeaderBytes = 4 + 4 + 1 + 8 + 8;
// Body bytes before the data.
inline constexpr size_t kBodyPrefix = 1 + 8 + 8;

void PutFixed32(std::string* out, uint32_t v);
void PutFixed64(std::string* out, uint64_t v);
uint32_t GetFixed32(const char* p);
uint64_t GetFixed64(const char* p);

// Appends `record` to `out`; returns where its data starts in `out`.
size_t Encode(const PaxosLogBatch::Record& record, std::string* out);

struct Parsed {
  PaxosLogBatch::Type type;
  uint64_t group = 0;
  uint64_t index = 0;
  std::string_view data;    // into the parsed bytes
  size_t record_bytes = 0;  // header and data
};
// The record at the start of `bytes`. INVALID_ARGUMENT when there is none that checks (zeros, a
// torn or damaged record, or too few bytes).
absl::StatusOr<Parsed> Parse(std::string_view bytes);

}  // namespace meridian::storage::paxos_log_record

#endif  // MERIDIAN_SPANSERVER_STORAGE_PAXOS_LOG_RECORD_H_
