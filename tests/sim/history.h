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

// What an ApplyRecord says about the incarnation's state machine.
enum class ApplyKind : uint8_t {
  kEntry,       // it applied the entry at `index`
  kState,       // its state was replaced by one through `index`: restored from its checkpoint at
                // start, or installed from a snapshot
  kCheckpoint,  // it took a checkpoint (or served a snapshot) of its state through `index`
};

// One entry handed to the state machine by one incarnation of one replica, or (kState,
// kCheckpoint) a whole state through an index.
struct ApplyRecord {
  paxos::GroupId group = 0;
  paxos::ReplicaId replica = 0;
  uint64_t incarnation = 0;  // bumps at every restart; a restart replays from its checkpoint
  paxos::Index index = 0;
  paxos::EntryType type = paxos::EntryType::kNormal;
  std::string command;
  TrueUs true_us = 0;
  ApplyKind kind = ApplyKind::kEntry;
  // kState, kCheckpoint: the LogDigest of the entries 1..index that the state reflects, and a
  // hash of the state itself (the state machine's image and data).
  uint64_t log_digest = 0;
  uint64_t state_hash = 0;
};

// A running digest of a log's applied entries: LogDigest(LogDigest(0, e1), e2)... Kept beside a
// state machine, it says which chosen values a checkpoint or snapshot holds, so that a checker can
// compare it with the values the group chose.
uint64_t LogDigest(uint64_t prev, paxos::Index index, paxos::EntryType type,
                   std::string_view command);
// A hash of arbitrary bytes (for ApplyRecord::state_hash).
uint64_t HashBytes(uint64_t seed, std::string_view bytes);

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
