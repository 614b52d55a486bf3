#include "spanserver/storage/paxos_log_record.h"

#include <cstring>

#include "common/crc32c.h"

namespace meridian::storage::paxos_log_record {
namespace {

constexpr uint32_t kMaskDelta = 0xa282ead8u;

uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }

}  // namespace

void PutFixed32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(b, 4);
}

void PutFixed64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(b, 8);
}

uint32_t GetFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

uint64_t GetFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

size_t Encode(const PaxosLogBatch::Record& record, std::string* out) {
  const size_t start = out->size();
  const std::string& data = *record.data;
  out->append(4, '\0');  // the CRC, filled in below
  PutFixed32(out, static_cast<uint32_t>(kBodyPrefix + data.size()));
  out->push_back(static_cast<char>(record.type));
  PutFixed64(out, record.group);
  PutFixed64(out, record.index);
  out->append(data);
  const std::string_view covered(out->data() + start + 4, out->size() - start - 4);
  const uint32_t crc = Mask(crc32c::Value(covered));
  for (int i = 0; i < 4; ++i) (*out)[start + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  return start + kHeaderBytes;
}

absl::StatusOr<Parsed> Parse(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes) return absl::InvalidArgumentError("short record");
  const uint32_t length = GetFixed32(bytes.data() + 4);
  if (length < kBodyPrefix || length > bytes.size() - 8) {
    return absl::InvalidArgumentError("bad record length");
  }
  const uint32_t crc = GetFixed32(bytes.data());
  if (Mask(crc32c::Value(bytes.substr(4, 4 + length))) != crc) {
    return absl::InvalidArgumentError("record checksum mismatch");
  }
  const uint8_t type = static_cast<uint8_t>(bytes[8]);
  if (type < 1 || type > 4) return absl::InvalidArgumentError("unknown record type");
  Parsed p;
  p.type = static_cast<PaxosLogBatch::Type>(type);
  p.group = GetFixed64(bytes.data() + 9);
  p.index = GetFixed64(bytes.data() + 17);
  p.data = bytes.substr(kHeaderBytes, length - kBodyPrefix);
  p.record_bytes = 8 + length;
  return p;
}

}  // namespace meridian::storage::paxos_log_record
