// Order-preserving key encoding: for every pair of values a, b of one type,
// memcmp-order(Encode(a), Encode(b)) == value-order(a, b). Composite keys are built by appending
// components; because every encoding is prefix-free, a composite key sorts component by component.
//
// Grammar (all integers big-endian):
//   bytes      := (escaped-byte)* 0x00 0x01
//   escaped-byte := 0x00 0xFF        (a zero byte of the value)
//                 | any byte but 0x00
//   uint64     := 8 bytes, the value
//   int64      := 8 bytes, the value with its sign bit flipped
//   desc_int64 := 8 bytes, the bitwise complement of int64's encoding (newest timestamp first)
//
// Decoders consume their component from the front of `*in` and return INVALID_ARGUMENT (leaving
// `*in` unspecified) when the input is truncated or malformed. Thread-safe: pure functions.
#ifndef MERIDIAN_COMMON_KEY_ENCODING_H_
#define MERIDIAN_COMMON_KEY_ENCODING_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace meridian::keyenc {

void AppendBytes(std::string* dst, std::string_view value);
void AppendUint64(std::string* dst, uint64_t value);
void AppendInt64(std::string* dst, int64_t value);
void AppendDescendingInt64(std::string* dst, int64_t value);

absl::Status ConsumeBytes(std::string_view* in, std::string* value);
absl::Status ConsumeUint64(std::string_view* in, uint64_t* value);
absl::Status ConsumeInt64(std::string_view* in, int64_t* value);
absl::Status ConsumeDescendingInt64(std::string_view* in, int64_t* value);

// The smallest string greater than every string that starts with `prefix`, or "" when there is
// none (prefix is empty or all 0xFF). Used as the exclusive end of a prefix scan.
std::string PrefixSuccessor(std::string_view prefix);

}  // namespace meridian::keyenc

#endif  // MERIDIAN_COMMON_KEY_ENCODING_H_
