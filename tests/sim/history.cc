// Encoding of the register commands, printing of history records, and the digests of states.
//
// Seed/workload/faults/checkers: see history.h; this file is pure formatting.
#include "tests/sim/history.h"

#include <charconv>

#include "absl/strings/str_cat.h"

namespace meridian::sim {

const char* OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kPut:
      return "put";
    case OpKind::kGet:
      return "get";
    case OpKind::kLeaseRead:
      return "lease_read";
  }
  return "?";
}

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kUnknown:
      return "unknown";
  }
  return "?";
}

std::string Op::ToString() const {
  std::string s = absl::StrCat(OpKindName(kind), "#", id, "(g", group, " ", key, ") [", invoke_us,
                               ", ", complete_us == kNever ? "inf" : absl::StrCat(complete_us),
                               "] ", OutcomeName(outcome));
  if (kind != OpKind::kPut && outcome == Outcome::kOk) absl::StrAppend(&s, " -> ", read_value);
  return s;
}

std::string EncodePut(uint64_t id, std::string_view key) {
  return absl::StrCat("P ", id, " ", std::string(key));
}
std::string EncodeGet(uint64_t id, std::string_view key) {
  return absl::StrCat("G ", id, " ", std::string(key));
}

std::optional<Command> DecodeCommand(std::string_view command) {
  if (command.size() < 5 || (command[0] != 'P' && command[0] != 'G') || command[1] != ' ') {
    return std::nullopt;
  }
  const size_t space = command.find(' ', 2);
  if (space == std::string_view::npos || space + 1 >= command.size()) return std::nullopt;
  Command c;
  c.kind = command[0] == 'P' ? OpKind::kPut : OpKind::kGet;
  const char* begin = command.data() + 2;
  const char* end = command.data() + space;
  auto [ptr, ec] = std::from_chars(begin, end, c.id);
  if (ec != std::errc() || ptr != end || c.id == 0) return std::nullopt;
  c.key = std::string(command.substr(space + 1));
  return c;
}

uint64_t HashBytes(uint64_t seed, std::string_view bytes) {
  uint64_t h = seed ^ 1469598103934665603ull;  // FNV-1a
  for (const char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  return h;
}

uint64_t LogDigest(uint64_t prev, paxos::Index index, paxos::EntryType type,
                   std::string_view command) {
  const std::string head = absl::StrCat(prev, ":", index, ":", static_cast<int>(type), ":");
  return HashBytes(HashBytes(0, head), command);
}

}  // namespace meridian::sim
