#include "common/key_encoding.h"

namespace meridian::keyenc {
namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;

absl::Status Truncated(const char* what) {
  return absl::InvalidArgumentError(std::string("key encoding: truncated or malformed ") + what);
}

}  // namespace

void AppendBytes(std::string* dst, std::string_view value) {
  for (char c : value) {
    dst->push_back(c);
    if (c == '\0') dst->push_back('\xff');
  }
  dst->push_back('\0');
  dst->push_back('\x01');
}

void AppendUint64(std::string* dst, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    dst->push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

void AppendInt64(std::string* dst, int64_t value) {
  AppendUint64(dst, static_cast<uint64_t>(value) ^ kSignBit);
}

void AppendDescendingInt64(std::string* dst, int64_t value) {
  AppendUint64(dst, ~(static_cast<uint64_t>(value) ^ kSignBit));
}

absl::Status ConsumeBytes(std::string_view* in, std::string* value) {
  value->clear();
  size_t i = 0;
  while (i < in->size()) {
    const char c = (*in)[i];
    if (c != '\0') {
      value->push_back(c);
      ++i;
      continue;
    }
    if (i + 1 >= in->size()) return Truncated("bytes");
    const char next = (*in)[i + 1];
    if (next == '\x01') {
      in->remove_prefix(i + 2);
      return absl::OkStatus();
    }
    if (next != '\xff') return Truncated("bytes");
    value->push_back('\0');
    i += 2;
  }
  return Truncated("bytes");
}

absl::Status ConsumeUint64(std::string_view* in, uint64_t* value) {
  if (in->size() < 8) return Truncated("uint64");
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>((*in)[i]);
  in->remove_prefix(8);
  *value = v;
  return absl::OkStatus();
}

absl::Status ConsumeInt64(std::string_view* in, int64_t* value) {
  uint64_t raw = 0;
  absl::Status s = ConsumeUint64(in, &raw);
  if (!s.ok()) return s;
  *value = static_cast<int64_t>(raw ^ kSignBit);
  return absl::OkStatus();
}

absl::Status ConsumeDescendingInt64(std::string_view* in, int64_t* value) {
  uint64_t raw = 0;
  absl::Status s = ConsumeUint64(in, &raw);
  if (!s.ok()) return s;
  *value = static_cast<int64_t>(~raw ^ kSignBit);
  return absl::OkStatus();
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    if (static_cast<uint8_t>(out.back()) != 0xff) {
      out.back() = static_cast<char>(static_cast<uint8_t>(out.back()) + 1);
      return out;
    }
    out.pop_back();
  }
  return out;
}

}  // namespace meridian::keyenc
