// The simulator's safety checkers. Each takes a recorded history (history.h) and returns the first
// violation it finds, or nullopt. They know nothing about the replica or the simulator, so
// checkers_test.cc shows each one failing on a hand-made bad history.
//
// Seed/workload/faults: independent of all three. Checkers:
//  * CheckSlots: at most one value per (group, slot) over every replica and every incarnation,
//    and each incarnation applies slots 1, 2, 3, ... without gaps — or, once it took on a state
//    through slot S (restored from its checkpoint, installed from a snapshot), S+1, S+2, ...
//    Every state (those and the checkpoints taken) holds the values chosen in slots 1..S (its
//    log digest), and two states of a group through one slot are equal (their hashes).
//  * CheckLeases: lease spans of different ballots of one group are disjoint in true time.
//  * CheckLinearizable: per-key register linearizability, writes ordered by their log slot.
//  * CheckDurability: every acknowledged put is applied, at its slot, by every final replica.
// Thread safety: pure functions.
#ifndef MERIDIAN_TESTS_SIM_CHECKERS_H_
#define MERIDIAN_TESTS_SIM_CHECKERS_H_

#include <optional>
#include <vector>

#include "tests/sim/history.h"

namespace meridian::sim {

std::optional<Violation> CheckSlots(const std::vector<ApplyRecord>& applies);

std::optional<Violation> CheckLeases(const std::vector<LeaseSpan>& spans);

// Uses the applied log to place each put at its slot. Rules, per (group, key), with
// slot(read) = slot of the put whose value the read returned (0 for "never written"):
//  * an ok put is in the log; a failed put is not; a read returns a value that was put to its key;
//  * a log read (kGet) returns the latest put to its key before the get's own slot;
//  * w1 completed before w2 was invoked => slot(w1) < slot(w2);
//  * w completed before r was invoked => slot(w) <= slot(r)            (no stale read);
//  * r completed before w was invoked => slot(r) < slot(w)             (no read from the future);
//  * r1 completed before r2 was invoked => slot(r1) <= slot(r2)        (monotonic reads).
std::optional<Violation> CheckLinearizable(const std::vector<Op>& ops,
                                           const std::vector<ApplyRecord>& applies);

// Every ok put is applied at its slot by the final incarnation of every replica in `finals`, or
// held by a state that incarnation took on through that slot or later (CheckSlots checks such a
// state holds the chosen values; run it first).
std::optional<Violation> CheckDurability(const std::vector<Op>& ops,
                                         const std::vector<ApplyRecord>& applies,
                                         const std::vector<ReplicaFinal>& finals);

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_CHECKERS_H_
