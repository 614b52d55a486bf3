#include "spanserver/paxos/codec.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace meridian::paxos {
namespace {

constexpr uint8_t kVersion = 1;

template <typename T>
void PutFixed(std::string* out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));  // little-endian hosts only (x86-64, arm64)
  out->append(buf, sizeof(T));
}

template <typename T>
bool GetFixed(std::string_view* in, T* v) {
  if (in->size() < sizeof(T)) return false;
  std::memcpy(v, in->data(), sizeof(T));
  in->remove_prefix(sizeof(T));
  return true;
}

void PutBallot(std::string* out, const Ballot& b) {
  PutFixed<int64_t>(out, b.round);
  PutFixed<uint64_t>(out, b.replica);
}

bool GetBallot(std::string_view* in, Ballot* b) {
  return GetFixed<int64_t>(in, &b->round) && GetFixed<uint64_t>(in, &b->replica);
}

absl::Status Malformed(const char* what, const std::string& detail) {
  return absl::DataLossError(std::string("malformed Paxos ") + what + ": " + std::string(detail));
}

}  // namespace

std::string EncodeEntry(const Entry& entry) {
  std::string out;
  out.reserve(2 + 16 + entry.command.size());
  PutFixed<uint8_t>(&out, kVersion);
  PutFixed<uint8_t>(&out, static_cast<uint8_t>(entry.type));
  PutBallot(&out, entry.ballot);
  out.append(entry.command);
  return out;
}

absl::StatusOr<Entry> DecodeEntry(Index index, std::string_view in) {
  uint8_t version = 0, type = 0;
  Entry e;
  e.index = index;
  if (!GetFixed(&in, &version) || version != kVersion) {
    return Malformed("entry", absl::StrCat("slot ", index, " has unknown version"));
  }
  if (!GetFixed(&in, &type) || type > static_cast<uint8_t>(EntryType::kConfig)) {
    return Malformed("entry", absl::StrCat("slot ", index, " has unknown type"));
  }
  if (!GetBallot(&in, &e.ballot)) {
    return Malformed("entry", absl::StrCat("slot ", index, " is truncated"));
  }
  e.type = static_cast<EntryType>(type);
  e.command = std::string(in);
  return e;
}

namespace {

constexpr uint8_t kHardStateVersion = 2;  // version 1 held the voters alone

void PutIds(std::string* out, const std::vector<ReplicaId>& ids) {
  PutFixed<uint32_t>(out, static_cast<uint32_t>(ids.size()));
  for (ReplicaId id : ids) PutFixed<uint64_t>(out, id);
}

bool GetIds(std::string_view* in, std::vector<ReplicaId>* ids) {
  uint32_t count = 0;
  // Divided, not multiplied: count * 8 wraps in 32 bits, and a forged count would then pass
  // with a few bytes and resize to gigabytes.
  if (!GetFixed(in, &count) || in->size() / 8 < count) return false;
  ids->resize(count);
  for (uint32_t i = 0; i < count; ++i) GetFixed(in, &(*ids)[i]);
  return true;
}

}  // namespace

std::string EncodeConfig(const Config& config) {
  std::string out;
  PutIds(&out, config.voters);
  PutIds(&out, config.learners);
  return out;
}

absl::StatusOr<Config> DecodeConfig(std::string_view in) {
  Config config;
  if (!GetIds(&in, &config.voters) || !GetIds(&in, &config.learners) || !in.empty()) {
    return Malformed("configuration", "truncated or trailing bytes");
  }
  return config;
}

std::string EncodeHardState(const HardState& hs) {
  std::string out;
  PutFixed<uint8_t>(&out, kHardStateVersion);
  PutBallot(&out, hs.promised);
  PutFixed<uint64_t>(&out, hs.config_index);
  PutIds(&out, hs.members);
  PutIds(&out, hs.learners);
  return out;
}

absl::StatusOr<HardState> DecodeHardState(std::string_view in) {
  uint8_t version = 0;
  HardState hs;
  if (!GetFixed(&in, &version) || (version != 1 && version != kHardStateVersion)) {
    return Malformed("hard state", "unknown version");
  }
  if (!GetBallot(&in, &hs.promised)) return Malformed("hard state", "truncated");
  if (version == 1) {
    if (!GetIds(&in, &hs.members) || !in.empty()) return Malformed("hard state", "truncated");
    return hs;
  }
  if (!GetFixed(&in, &hs.config_index) || !GetIds(&in, &hs.members) || !GetIds(&in, &hs.learners) ||
      !in.empty()) {
    return Malformed("hard state", "truncated");
  }
  return hs;
}

}  // namespace meridian::paxos
