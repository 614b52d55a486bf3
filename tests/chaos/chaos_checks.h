// The checks of the chaos suite that are pure functions of what the workloads recorded and what
// the final reads returned, so that each is unit-tested against a planted bug
// (chaos_checks_test.cc) before it is trusted with a real run:
//  - no acknowledged append is lost: every value that an ok transaction of the list-append
//    history appended is in its key's list as a read after the faults healed returns it (the
//    history checker cannot see this: an append that no read observed has no place in its graph);
//  - the bank total: a snapshot of every account sums to accounts x the initial balance, with no
//    account missing, malformed or negative;
//  - the final read is added to the history as one more read-only transaction, so that the
//    strict-serializability checker (tools/history/append_checker.h) judges the final state too.
//
// Thread safety: pure functions.
#ifndef MERIDIAN_TESTS_CHAOS_CHAOS_CHECKS_H_
#define MERIDIAN_TESTS_CHAOS_CHAOS_CHECKS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/history/history.h"

namespace meridian::chaos {

// The keys the workloads write: `meridian workload append` keys contain "append/k", bank
// accounts "bank/acct/" (tools/workload.h; both start with a character choosing their group).
inline constexpr char kAppendKeyMark[] = "append/k";
inline constexpr char kBankKeyMark[] = "bank/acct/";
inline constexpr int64_t kBankInitialBalance = 100;  // tools/workload_bank.cc

using Rows = std::vector<std::pair<std::string, std::string>>;
using FinalLists = std::map<std::string, std::vector<int64_t>>;

// A list as the append workload stores it: comma-separated decimal integers, a leading comma
// allowed (tools/append_backend.h). nullopt when malformed.
std::optional<std::vector<int64_t>> ParseAppendList(std::string_view value);

// The lists of the rows whose key contains kAppendKeyMark. DATA_LOSS naming a malformed one.
absl::StatusOr<FinalLists> AppendListsFromRows(const Rows& rows);

// One line per value that an ok transaction of `history` appended and `final_lists` lacks (a key
// missing from `final_lists` counts as an empty list); empty when nothing acknowledged was lost.
std::vector<std::string> FindLostAppends(const history::History& history,
                                         const FinalLists& final_lists);

// "" when the rows whose key contains kBankKeyMark are exactly `accounts` accounts that hold
// accounts x kBankInitialBalance in all, none negative or malformed; else what is wrong.
std::string CheckBankRows(const Rows& rows, int accounts);

// Appends to `history` one read-only transaction of a process of its own that read every key the
// history names (its list in `final_lists`, or empty), invoked at `invoke_us` and ok at
// `complete_us` (both raised to the history's last time if earlier).
void AppendFinalRead(const FinalLists& final_lists, int64_t invoke_us, int64_t complete_us,
                     history::History* history);

// Planted bugs for the suite's own tests. Each returns what it did, or "" when it found nothing
// to break.
// Drops from `final_lists` the last value of the longest list that an ok transaction appended:
// an acknowledged write the cluster "lost".
std::string PlantLoseAcknowledgedAppend(const history::History& history, FinalLists* final_lists);
// Swaps the first two values of the longest list: a read that saw appends out of their order.
std::string PlantReorderFinalRead(FinalLists* final_lists);

}  // namespace meridian::chaos

#endif  // MERIDIAN_TESTS_CHAOS_CHAOS_CHECKS_H_
