// CRC-32C (Castagnoli), the checksum LevelDB and iSCSI use, computed with a byte table. Used to
// check that a snapshot streamed between servers arrives intact. Thread safety: pure functions.
#ifndef MERIDIAN_COMMON_CRC32C_H_
#define MERIDIAN_COMMON_CRC32C_H_

#include <cstdint>
#include <string_view>

namespace meridian::crc32c {

// The CRC of `data` continued from `crc` (the CRC of what came before; 0 for none).
uint32_t Extend(uint32_t crc, std::string_view data);
inline uint32_t Value(std::string_view data) { return Extend(0, data); }

}  // namespace meridian::crc32c

#endif  // MERIDIAN_COMMON_CRC32C_H_
