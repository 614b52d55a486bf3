// `meridian workload`: the command line of the transactional workloads (workload.h).
#include "tools/workload.h"

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/metrics.h"
#include "http/http_server.h"
#include "tools/command.h"

namespace meridian::tools {

int64_t WallMicros() { return absl::ToUnixMicros(absl::Now()); }

absl::StatusOr<std::vector<std::string>> KeyPrefixes(Client& client, bool spread) {
  if (!spread) return std::vector<std::string>{""};
  absl::StatusOr<Topology> topology = client.GetTopology();
  if (!topology.ok()) return topology.status();
  static constexpr char kCandidates[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::map<uint64_t, std::string> by_group;
  for (const char c : std::string(kCandidates)) {
    const std::string key(1, c);
    for (const RangeInfo& range : topology->ranges) {
      if (range.start <= key && (range.end.empty() || key < range.end)) {
        by_group.emplace(range.group, key);
        break;
      }
    }
  }
  if (by_group.empty()) return absl::FailedPreconditionError("the topology has no ranges");
  std::vector<std::string> prefixes;
  for (const auto& [group, prefix] : by_group) prefixes.push_back(prefix);
  return prefixes;
}

namespace {

// The SDK's retry counters (client/src/router.cc, txn_engine.cc), read from this process's
// metrics registry.
void PrintClientRetries() {
  const std::string page = metrics::DefaultRegistry().Render();
  auto value = [&page](const std::string& name) {
    const size_t at = page.find("\n" + name + " ");
    if (at == std::string::npos) return std::string("0");
    const size_t begin = at + name.size() + 2;
    return page.substr(begin, page.find('\n', begin) - begin);
  };
  std::printf("client: %s retries after a backoff, %s transactions retried after ABORTED\n",
              value("meridian_client_retries_total").c_str(),
              value("meridian_client_txn_retries_total").c_str());
}

int Usage(const std::string& message) {
  std::fprintf(
      stderr,
      "meridian workload: %s\nUsage: meridian workload bank|append|tpcb|tpcc --placement=ADDR "
      "--duration=S [...]\nRun 'meridian workload --help' for its flags.\n",
      message.c_str());
  return kExitUsage;
}

bool PositiveInt(const Flags& flags, const std::string& name, int64_t max, int64_t* out) {
  return absl::SimpleAtoi(flags.at(name), out) && *out > 0 && *out <= max;
}

// tpcb's own flags into `config`; "" when they are valid, else what is wrong.
std::string ParseTpcbFlags(const Flags& flags, WorkloadConfig& config) {
  int64_t value = 0;
  if (!PositiveInt(flags, "scale", 10'000, &value)) return "--scale must be in 1..10000";
  config.tpcb_scale = value;
  if (!PositiveInt(flags, "accounts_per_branch", 100'000, &value)) {
    return "--accounts_per_branch must be in 1..100000";
  }
  config.tpcb_accounts_per_branch = value;
  config.tpcb_load = flags.at("load") == "true";
  config.tpcb_check = flags.at("check") == "true";
  config.json_path = flags.at("json");
  config.testing_tpcb_skip_history = flags.at("testing_skip_history") == "true";
  if (!config.tpcb_load && !config.tpcb_check && config.duration == absl::ZeroDuration()) {
    return "tpcb needs --load, --check or --duration";
  }
  if (!config.json_path.empty() && config.duration == absl::ZeroDuration()) {
    return "--json needs a run (--duration)";
  }
  return "";
}

int Run(const Flags& flags, const std::vector<std::string>& args) {
  if (args.size() == 1 && args[0] == "tpcc") return RunTpccCommand(flags);
  if (args.size() != 1 || (args[0] != "bank" && args[0] != "append" && args[0] != "tpcb")) {
    return Usage("expected one workload: bank, append, tpcb or tpcc");
  }
  const bool bank = args[0] == "bank";
  const bool tpcb = args[0] == "tpcb";
  WorkloadConfig config;
  int64_t value = 0;
  double seconds = 0;
  // tpcb runs only when --duration is given (it may just --load or --check); the others 10 s.
  const std::string duration = flags.at("duration").empty() && !tpcb ? "10" : flags.at("duration");
  if (!duration.empty() &&
      (!absl::SimpleAtod(duration, &seconds) || seconds <= 0 || seconds > 86'400)) {
    return Usage("--duration must be a positive number of seconds (at most a day)");
  }
  config.duration = absl::Seconds(seconds);
  if (flags.at("clients").empty()) {
    value = 4;
  } else if (!PositiveInt(flags, "clients", 256, &value)) {
    return Usage("--clients must be in 1..256");
  }
  config.clients = static_cast<int>(value);
  if (!PositiveInt(flags, "accounts", 100'000, &value) || value < 2) {
    return Usage("--accounts must be in 2..100000");
  }
  config.accounts = static_cast<int>(value);
  if (!PositiveInt(flags, "keys", 100'000, &value)) return Usage("--keys must be in 1..100000");
  config.keys = static_cast<int>(value);
  if (!PositiveInt(flags, "txn_deadline_ms", 3'600'000, &value)) {
    return Usage("--txn_deadline_ms must be a positive integer");
  }
  config.txn_deadline_ms = value;
  if (!absl::SimpleAtoi(flags.at("seed"), &config.seed)) {
    return Usage("--seed must be a non-negative integer");
  }
  config.spread = flags.at("spread") == "true";
  config.testing_break_transfers = flags.at("testing_break_transfers") == "true";
  config.sql = flags.at("sql") == "true";
  config.testing_sql_unlocked_reads = flags.at("testing_sql_unlocked_reads") == "true";
  if (bank && config.sql) return Usage("--sql is for append");
  config.history_path = flags.at("history");
  if (!bank && !tpcb && config.history_path.empty()) return Usage("append needs --history=FILE");
  if (tpcb) {
    if (config.sql) return Usage("--sql is for append (tpcb always runs SQL)");
    if (const std::string error = ParseTpcbFlags(flags, config); !error.empty()) {
      return Usage(error);
    }
  }
  if (PlacementAddresses(flags).empty()) {
    return Usage("--placement=HOST:PORT[,HOST:PORT...] (or $MERIDIAN_PLACEMENT) is required");
  }
  // The SDK's retry counters (and the rest of the process's metrics) on --http_listen.
  absl::StatusOr<std::unique_ptr<http::HttpServer>> http =
      http::StartIfConfigured(flags.at("http_listen"));
  if (!http.ok()) return Usage(std::string(http.status().message()));
  std::unique_ptr<Client> client = ConnectOrPrint("workload", flags);
  if (client == nullptr) return kExitUsage;
  int code = kExitOk;
  if (tpcb) {
    code = RunTpcbWorkload(*client, config);
  } else {
    code = bank ? RunBankWorkload(*client, config) : RunAppendWorkload(*client, config);
  }
  PrintClientRetries();
  return code;
}

}  // namespace

Command WorkloadCommand() {
  return Command{
      .name = "workload",
      .summary = "run the bank, list-append, TPC-B-like or TPC-C workload against a cluster",
      .description =
          "bank: writes --accounts accounts (balance 100 each) in one transaction, then\n"
          "--clients threads transfer random amounts between two random accounts (read both,\n"
          "write both; never below zero) while another thread checks with strong read-only\n"
          "transactions, each followed by a snapshot read at the same timestamp, that the\n"
          "total is 100 * accounts, no balance is negative and both reads agree.\n"
          "Exit status: 0 every check held, 1 a check failed (printed), 2 bad usage or no\n"
          "cluster. Transfers with an unknown outcome are counted, never an error.\n\n"
          "append: --clients threads run transactions of 1-4 operations over --keys keys\n"
          "(append a unique number to a key's list, or read it) and read-only transactions\n"
          "of 1-3 keys, recording each in --history (JSON lines, docs/history-format.md);\n"
          "a last read-only transaction reads every key. Check the file with\n"
          "'meridian check-history FILE'. Exit status: 0 ran, 1 the history could not be\n"
          "written, 2 bad usage or no cluster. With --sql the same transactions run as SQL\n"
          "statements (SELECT, UPDATE ... SET v = v || @x) on a table append_lists in the SQL\n"
          "database 'append' (key prefix sql/append/), half through Session::RunTransaction\n"
          "and half as BEGIN ... COMMIT blocks; --spread splits the table into three ranges\n"
          "and moves two of them to other groups first.\n\n"
          "tpcb: pgbench's TPC-B-like transaction through SQL (database 'tpcb', key prefix\n"
          "sql/tpcb/): --load creates branches, tellers, accounts and history and loads\n"
          "--scale branches with 10 tellers and 100,000 accounts each (the tables must be\n"
          "empty); with --duration, --clients threads run the transaction (update an account,\n"
          "read it, update a teller and a branch, insert a history row) closed loop with no\n"
          "think time and print tps and latency each second and a summary (--json=FILE too);\n"
          "--check verifies sum(abalance) = sum(tbalance) = sum(bbalance) = sum(history delta)\n"
          "after the load and after the run. Exit status: 0 ok, 1 a load, run or check failed\n"
          "(a violation prints VIOLATION), 2 bad usage or no cluster. --spread gives each\n"
          "branch (with its tellers, accounts and history) a range of its own and places them\n"
          "evenly over the groups and the servers leading them, printing where they went.\n\n"
          "tpcc: TPC-C through SQL (database 'tpcc', key prefix sql/tpcc/; docs/tpcc.md):\n"
          "--load creates the nine tables (interleaved under WAREHOUSE and DISTRICT) and\n"
          "loads --warehouses warehouses with --load_threads threads, each warehouse placed in\n"
          "one group (--spread); with --duration, --clients terminals (default 2 per\n"
          "warehouse, 10 with --wait) run New-Order, Payment, Order-Status, Delivery and\n"
          "Stock-Level at 45/43/4/4/4%, closed loop or with the spec's keying and think times\n"
          "(--wait), and print tpmC, per-type throughput and latency (--json=FILE too);\n"
          "--check runs consistency conditions 3.3.2.1-4, 8 and 9 after the load and the run.\n"
          "--target=postgresql://... runs the same driver against PostgreSQL instead (no\n"
          "--placement). Exit status: 0 ok, 1 a load, run or check failed, 2 bad usage.\n\n"
          "With --spread (the default) every key starts with a character that places it in\n"
          "another group, so transactions span groups (two-phase commit): keys are\n"
          "'<c>bank/acct/NNNN' and '<c>append/k<i>'; --spread=false uses 'bank/acct/NNNN'\n"
          "and 'append/k<i>' as they are. Progress is printed every second.",
      .flags = {{"placement", "",
                 "placementd addresses HOST:PORT[,HOST:PORT...]; default $MERIDIAN_PLACEMENT"},
                {"duration", "", "seconds to run (bank, append: 10; tpcb: no run unless given)"},
                {"clients", "", "worker threads (default 4; tpcc: terminals, see above)"},
                {"seed", "1", "seed of every random choice"},
                {"accounts", "10", "bank: number of accounts"},
                {"keys", "8", "append: number of keys"},
                {"history", "", "append: the history file to write"},
                {"scale", "1", "tpcb: pgbench's scale factor (number of branches)"},
                {"load", "false", "tpcb, tpcc: create and load the tables (they must be empty)",
                 /*is_bool=*/true},
                {"check", "false", "tpcb, tpcc: check consistency after the load and the run",
                 /*is_bool=*/true},
                {"json", "", "tpcb, tpcc: also write the run's summary to this file as JSON"},
                {"warehouses", "1", "tpcc: number of warehouses"},
                {"wait", "false", "tpcc: keying and think times (else closed loop)",
                 /*is_bool=*/true},
                {"target", "", "tpcc: postgresql://USER@HOST:PORT/DB to run against PostgreSQL"},
                {"pg_isolation", "serializable",
                 "tpcc on PostgreSQL: serializable|repeatable_read"},
                {"load_threads", "8", "tpcc: threads (connections) of --load"},
                {"items", "100000", "tpcc, tests only: items (the spec's 100000)"},
                {"customers", "3000", "tpcc, tests only: customers per district (the spec's 3000)"},
                {"accounts_per_branch", "100000",
                 "tpcb, tests only: accounts per branch (pgbench's is 100000)"},
                {"spread", "true", "spread keys over the groups", /*is_bool=*/true},
                {"sql", "false", "append: run the transactions as SQL statements (sql_lite)",
                 /*is_bool=*/true},
                {"txn_deadline_ms", "10000", "deadline of each transaction, retries included"},
                {"deadline_ms", "10000", "deadline of each client call"},
                {"http_listen", "",
                 "HOST:PORT serving this process's /metrics (the SDK's retry counters) while "
                 "it runs; empty: none"},
                {"testing_break_transfers", "false",
                 "bank, tests only: credit without debiting, to show the checks fail",
                 /*is_bool=*/true},
                {"testing_sql_unlocked_reads", "false",
                 "append --sql, tests only: reads in read-write transactions take no locks",
                 /*is_bool=*/true},
                {"testing_skip_new_order_row", "false",
                 "tpcc, tests only: New-Order inserts no NEW-ORDER row, to show --check fails",
                 /*is_bool=*/true},
                {"testing_skip_history", "false",
                 "tpcb, tests only: transactions insert no history row, to show --check fails",
                 /*is_bool=*/true}},
      .args_usage = "bank|append|tpcb|tpcc",
      .run_with_args = Run,
  };
}

}  // namespace meridian::tools
