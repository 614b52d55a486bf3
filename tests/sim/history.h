// What a simulation run records for its checkers: applied entries, lease spans, client operations,
// and the register commands that travel through the Paxos log.
//
// Seed: none here (plain data). Workload: the paxos register workload encodes its commands with
// EncodePut/EncodeGet. Faults: none here. Checkers (checkers.h) consume these records, so a
// checker can be run on a hand-made history as well as on a simulated one.
// Thread safety: plain values.
#ifndef MERIDIAN_TESTS_SIM_HISTORY_H_
#define MERIDIAN_TESTS_SIM_HISTORY_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "spanserver/paxos/types.h"

namespace meridian::sim {

using TrueUs = int64_t;  // virtual (absolute, "true") time in microseconds
inline constexpr TrueUs kNever = std::numeric_limits<int64_t>::max();

// A checker's verdict on a history: which checker and a one-line explanation.
struct Violation {
  std::string checker;  // "slot", "lease", "linearizability", "durability", "liveness", ...
  std::string detail;
};

// One entry handed to the state machine by one incarnation of one replica.
struct ApplyRecord {
  paxos::GroupId group = 0;
  paxos::ReplicaId replica = 0;
  uint64_t incarnation = 0;  // bumps at every restart; a restart replays from slot 1
  paxos::Index index = 0;
  paxos::EntryType type = paxos::EntryType::kNormal;
  std::string command;
  TrueUs true_us = 0;
};

// A maximal true-time span during which a replica's HasLease(now) was seen true under `ballot`.
// Sampled, so [start_us, end_us] lies inside the real span: any overlap found is real.
struct LeaseSpan {
  paxos::GroupId group = 0;
  paxos::ReplicaId replica = 0;
  paxos::Ballot ballot;
  TrueUs start_us = 0;
  TrueUs end_us = 0;
};

enum class OpKind : uint8_t { kPut, kGet, kLeaseRead };
enum class Outcome : uint8_t { kOk, kFailed, kUnknown };
const char* OpKindName(OpKind kind);
const char* OutcomeName(Outcome outcome);

// One client operation. A put writes the value `id` (unique per run). A read returns the id of the
// put whose value it saw (0: the key was never written). complete_us is kNever unless kOk/kFailed.
struct Op {
  uint64_t id = 0;
  paxos::GroupId group = 0;
  OpKind kind = OpKind::kPut;
  std::string key;
  TrueUs invoke_us = 0;
  TrueUs complete_us = kNever;
  Outcome outcome = Outcome::kUnknown;
  uint64_t read_value = 0;  // reads with outcome kOk only

  std::string ToString() const;
};

// The final applied point of each replica after the heal phase (for the durability checker).
struct ReplicaFinal {
  paxos::GroupId group = 0;
  paxos::ReplicaId replica = 0;
  uint64_t incarnation = 0;
  paxos::Index applied = 0;
};

// Register commands in the log: "P <id> <key>" (put value id) and "G <id> <key>" (read key).
struct Command {
  OpKind kind = OpKind::kPut;  // kPut or kGet
  uint64_t id = 0;
  std::string key;
};
std::string EncodePut(uint64_t id, std::string_view key);
std::string EncodeGet(uint64_t id, std::string_view key);
// nullopt for anything that is not a well-formed command.
std::optional<Command> DecodeCommand(std::string_view command);

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_HISTORY_H_
