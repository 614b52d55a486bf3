// `meridian workload bank|append|tpcb`: transactional workloads against a running cluster, through
// the SDK's transactions (meridian/transaction.h) or sql_lite. workload.cc parses the command line
// and holds what they share (key spreading, clocks, progress); workload_bank.cc,
// workload_append.cc and workload_tpcb.cc are the workloads.
//
// Thread safety: each workload runs its own worker threads; the shared counters are atomics.
#ifndef MERIDIAN_TOOLS_WORKLOAD_H_
#define MERIDIAN_TOOLS_WORKLOAD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "meridian/client.h"

namespace meridian::tools {

struct WorkloadConfig {
  absl::Duration duration;  // tpcb: zero for no timed run (only --load and/or --check)
  int clients = 4;
  uint64_t seed = 1;
  int accounts = 10;         // bank
  int keys = 8;              // append
  std::string history_path;  // append
  bool sql = false;          // append: through SQL statements (workload_append_sql.cc)
  bool spread = true;        // spread keys over the groups (bank, append: prefixes; tpcb: branches)
  int64_t tpcb_scale = 1;    // tpcb: pgbench's scale factor (branches)
  int64_t tpcb_accounts_per_branch = 100'000;  // tpcb: pgbench's; fewer only in tests
  bool tpcb_load = false;                      // tpcb: create and load the tables first
  bool tpcb_check = false;                     // tpcb: check the balances (after load and run)
  std::string json_path;                       // tpcb: also write the summary here as JSON
  int64_t txn_deadline_ms = 10'000;
  // bank, tests only: a transfer credits without debiting (a planted bug the checks must catch).
  bool testing_break_transfers = false;
  // append --sql, tests only: the SQL layer's reads in read-write transactions take no locks.
  bool testing_sql_unlocked_reads = false;
  // tpcb, tests only: the transaction inserts no history row (a planted bug --check must catch).
  bool testing_tpcb_skip_history = false;
};

// The key prefixes that spread keys over groups: one character per group whose range holds
// a digit or letter (the first such character in "0-9A-Za-z" order), "" when !spread. Key i of
// a workload starts with prefixes[i % prefixes.size()].
absl::StatusOr<std::vector<std::string>> KeyPrefixes(Client& client, bool spread);

// Wall-clock microseconds (for history times; the SDK's transactions use their own clocks).
int64_t WallMicros();

// Each exits with kExitOk / kExitError / kExitUsage (command.h) and prints progress each second.
int RunBankWorkload(Client& client, const WorkloadConfig& config);
int RunAppendWorkload(Client& client, const WorkloadConfig& config);
// tpcb: kExitError also when --check finds a violation ("VIOLATION: ..." printed).
int RunTpcbWorkload(Client& client, const WorkloadConfig& config);
// tpcc (tpcc.h) parses its own flags (workload_tpcc.cc); no --placement with a PostgreSQL
// --target.
int RunTpccCommand(const absl::flat_hash_map<std::string, std::string>& flags);

}  // namespace meridian::tools

#endif  // MERIDIAN_TOOLS_WORKLOAD_H_
