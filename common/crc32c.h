// CRC-32C (Castagnoli), the checksum LevelDB and iSCSI use: with the CPU's crc32 instruction
// where there is one (x86-64 with SSE 4.2), else a byte table. Checks the Paxos log's records and
// that a snapshot streamed between servers arrives intact. Thread safety: pure functions.
#ifndef MERIDIAN_COMMON_CRC32C_H_
#define MERIDIAN_COMMON_CRC32C_H_

#include <cstdint>
#include <string_view>

namespace meridian::crc32c {

// The CRC of `data` continued from `crc` (the CRC of what came before; 0 for none).
uint32_t Extend(uint32_t crc, std::string_view data);
inline uint32_t Value(std::string_view data) { return Extend(0, data); }
// Extend() with the byte table always (to test the two against each other).
uint32_t ExtendPortable(uint32_t crc, std::string_view data);

}  // namespace meridian::crc32c

#endif  // MERIDIAN_COMMON_CRC32C_H_
