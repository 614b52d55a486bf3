// What a chaos run reports: the outcome of each check, the faults injected, the workloads' ends,
// printed at the end and written as a JSON summary (ChaosSummaryJson).
//
// Thread safety: plain values and pure functions.
#ifndef MERIDIAN_TESTS_CHAOS_CHAOS_REPORT_H_
#define MERIDIAN_TESTS_CHAOS_CHAOS_REPORT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tests/chaos/nemesis.h"

namespace meridian::chaos {

// The checks, by name.
inline constexpr char kCheckNoCrash[] = "no-crash";
inline constexpr char kCheckHistory[] = "append-history-strictly-serializable";
inline constexpr char kCheckNoLostAppend[] = "no-lost-acknowledged-append";
inline constexpr char kCheckBank[] = "bank-invariant";
inline constexpr char kCheckHealed[] = "healed";
inline constexpr char kCheckFinalRound[] = "final-round";

struct CheckOutcome {
  std::string name;
  bool ok = true;
  std::string detail;
};

// The planted bugs (--plant) and the check each must trip.
struct Plant {
  const char* name;
  const char* check;
  const char* what;
};
inline constexpr Plant kPlants[] = {
    {"lose_ack", kCheckNoLostAppend,
     "drops an acknowledged append from the final read (a lost write)"},
    {"reorder_final_read", kCheckHistory,
     "swaps two values of a list in the final read (appends seen out of order)"},
    {"break_transfers", kCheckBank,
     "the bank workload credits without debiting (--testing_break_transfers)"},
    {"leave_stopped", kCheckHealed, "the heal leaves one spanserver stopped (SIGSTOP)"},
};

struct ChaosSummary {
  uint64_t seed = 0;
  double duration_s = 0;  // of the fault phase
  double elapsed_s = 0;   // of the whole run
  std::string dir;
  std::vector<std::string> faults;             // the kinds that ran
  std::map<std::string, std::string> skipped;  // kind -> why it could not run here
  int64_t truetime_epsilon_us = 0;
  int64_t clock_step_max_us = 0;
  std::vector<FaultEvent> events;
  std::vector<std::string> crashes;
  std::map<std::string, std::string> workloads;  // name -> how it ended and its summary line
  std::vector<CheckOutcome> checks;
  std::vector<std::string> plants;
  std::vector<std::string> plant_verdicts;  // one line per plant: caught or missed
  bool ok = false;  // every check passed (with plants: every plant was caught)
};

std::string ChaosSummaryJson(const ChaosSummary& summary);

}  // namespace meridian::chaos

#endif  // MERIDIAN_TESTS_CHAOS_CHAOS_REPORT_H_
