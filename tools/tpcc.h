// `meridian workload tpcc`: TPC-C's schema, loader, five transactions and consistency checks,
// written once over a small seam (Backend, Connection, Txn) so the same driver runs on Meridian
// (through sql_lite) and on PostgreSQL (through libpq, tpcc_pg.cc).
//
//   tpcc_schema.cc     the nine tables in each dialect, and the initial population (clause 4.3)
//   tpcc_txns.cc       New-Order, Payment, Order-Status, Delivery, Stock-Level (clause 2)
//   tpcc_check.cc      the consistency conditions (clause 3.3.2)
//   tpcc_run.cc        terminals, the mix, keying and think times, the report
//   tpcc_meridian.cc   the sql_lite backend, with warehouses spread over the Paxos groups
//   tpcc_pg.cc         the PostgreSQL backend (built when libpq is found)
//
// Statements are written in the subset both dialects share, with @name parameters (the
// PostgreSQL backend numbers them). Money is kept in cents and rates in units of 1/10,000 as
// INT64, so every sum the checks compare is exact.
//
// Thread safety: a Backend is shared by every terminal; a Connection and a Txn belong to one
// thread.
#ifndef MERIDIAN_TOOLS_TPCC_H_
#define MERIDIAN_TOOLS_TPCC_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/random.h"
#include "meridian/client.h"
#include "meridian/sql.h"

namespace meridian::tools::tpcc {

inline constexpr int kDistrictsPerWarehouse = 10;

struct Config {
  std::string target;  // "" for Meridian (the --placement cluster), or postgresql://...
  int warehouses = 1;
  // Smaller than the spec's only in tests: items (100,000) and customers per district (3,000;
  // also the initial orders per district). NURand's ranges shrink with them.
  int items = 100'000;
  int customers = 3'000;
  int clients = 0;  // terminals; 0: 10 per warehouse with --wait, else 2 per warehouse
  absl::Duration duration;
  bool load = false;
  bool check = false;
  bool wait = false;   // keying and think times (clause 5.2.5); else a closed loop
  bool spread = true;  // Meridian: warehouses spread over the groups
  int load_threads = 8;
  uint64_t seed = 1;
  std::string json_path;
  std::string pg_isolation = "serializable";
  int64_t txn_deadline_ms = 10'000;
  // Tests only (a planted bug --check must catch): New-Order inserts no NEW-ORDER row.
  bool testing_skip_new_order_row = false;
};

// What one transaction type returns to the driver.
enum class TxnType { kNewOrder, kPayment, kOrderStatus, kDelivery, kStockLevel };
inline constexpr int kTxnTypes = 5;
const char* TxnName(TxnType type);

// One transaction's statements. Execute runs one statement with @name parameters.
class Txn {
 public:
  virtual ~Txn() = default;
  virtual absl::StatusOr<sql::ResultSet> Execute(const std::string& statement,
                                                 const sql::Params& params) = 0;
};

// One terminal's connection.
class Connection {
 public:
  virtual ~Connection() = default;
  // Runs fn in one transaction, read-only or read-write, calling it again when the transaction
  // aborts for a conflict (*attempts counts the calls). fn's own error rolls back and is
  // returned as it is.
  virtual absl::Status Run(bool read_only, const std::function<absl::Status(Txn&)>& fn,
                           int* attempts) = 0;
  // One statement in a transaction of its own (DDL, the loader's inserts).
  virtual absl::Status ExecuteAlone(const std::string& statement) = 0;
  // One read in a (read-only) transaction of its own, with @name parameters.
  virtual absl::StatusOr<sql::ResultSet> ReadAlone(const std::string& statement,
                                                   const sql::Params& params) = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string Describe() const = 0;  // "meridian (placement ...)" / "postgresql ..."
  // Creates the nine tables and their indexes; FAILED_PRECONDITION when they hold data.
  virtual absl::Status CreateSchema(const Config& config) = 0;
  // Called after CreateSchema and before loading: Meridian places each warehouse's key ranges.
  virtual absl::Status PlaceWarehouses(const Config& config) = 0;
  virtual absl::StatusOr<std::unique_ptr<Connection>> Connect() = 0;
};

absl::StatusOr<std::unique_ptr<Backend>> MakeMeridianBackend(Client& client, const Config& config);
absl::StatusOr<std::unique_ptr<Backend>> MakePostgresBackend(const Config& config);

// The DDL of the nine tables: sql_lite's (interleaved) or PostgreSQL's.
std::vector<std::string> SchemaStatements(bool postgres);

// Loads the initial population with config.load_threads connections, printing progress.
absl::Status LoadDatabase(Backend& backend, const Config& config);

// Clause 3.3.2.1-4, 8 and 9: true when every condition holds; prints each violation as
// "VIOLATION: ..." and, when `violations` is given, appends it there too.
absl::StatusOr<bool> CheckConsistency(Connection& connection, const Config& config,
                                      std::vector<std::string>* violations = nullptr);

// TPC-C's random functions (clause 2.1.6, 4.3.2) over an injected Random.
class TpccRandom {
 public:
  TpccRandom(Random random, const Config& config, int64_t c_last, int64_t c_id, int64_t ol_i_id);
  int64_t Uniform(int64_t lo, int64_t hi) { return random_.Range(lo, hi); }
  bool Percent(int p) { return random_.Range(1, 100) <= p; }
  int64_t NURand(int64_t a, int64_t c, int64_t lo, int64_t hi);
  int64_t CustomerId();  // NURand(1023, 1, customers)
  int64_t ItemId();      // NURand(8191, 1, items)
  // A last name for a run (NURand(255, 0, 999) over the syllables).
  std::string RunLastName();
  std::string AString(int min_len, int max_len);  // random alphanumerics
  std::string NString(int min_len, int max_len);  // random digits
  std::string Zip() { return NString(4, 4) + "11111"; }
  // I_DATA / S_DATA: 26..50 characters, 10% with "ORIGINAL" inside.
  std::string DataWithOriginal();
  Random& raw() { return random_; }

 private:
  Random random_;
  int items_;
  int customers_;
  int64_t c_last_, c_id_, ol_i_id_;
};

// The last name of number n (0..999) from the ten syllables (clause 4.3.2.3).
std::string LastName(int64_t n);

// The five transactions on one terminal (home warehouse w_id). Each returns the transaction's
// error; New-Order's 1% rollbacks return OK with *rolled_back set.
struct TxnOutcome {
  bool rolled_back = false;
  bool skipped_delivery = false;  // Delivery found no new order in some district
  int attempts = 0;
  int64_t district = 0;  // New-Order, committed: the order's district and id
  int64_t order_id = 0;
};
absl::Status RunNewOrder(Connection& c, TpccRandom& r, const Config& config, int64_t w_id,
                         TxnOutcome* out);
// HISTORY's key beyond the district: the run, the terminal and its counter.
struct HistoryId {
  int64_t run = 0, term = 0, seq = 0;
};
absl::Status RunPayment(Connection& c, TpccRandom& r, const Config& config, int64_t w_id,
                        const HistoryId& h, TxnOutcome* out);
absl::Status RunOrderStatus(Connection& c, TpccRandom& r, const Config& config, int64_t w_id,
                            TxnOutcome* out);
absl::Status RunDelivery(Connection& c, TpccRandom& r, const Config& config, int64_t w_id,
                         TxnOutcome* out);
absl::Status RunStockLevel(Connection& c, TpccRandom& r, const Config& config, int64_t w_id,
                           int64_t d_id, TxnOutcome* out);

// One terminal (number `terminal`, home warehouse terminal % warehouses + 1) until `stop`: picks
// each transaction by the mix, runs it (with --wait's keying and think times) and reports it to
// `done` with its status, outcome and latency. `run` keys the terminal's HISTORY rows.
using TxnDone = std::function<void(TxnType type, const absl::Status& status,
                                   const TxnOutcome& outcome, absl::Duration latency)>;
void RunTerminal(Backend& backend, const Config& config, int terminal, int64_t run, Random random,
                 absl::Notification& stop, const TxnDone& done);

// The whole command: load, check, run, report. Exit code as in command.h.
int RunTpcc(Client* client, const Config& config);

}  // namespace meridian::tools::tpcc

#endif  // MERIDIAN_TOOLS_TPCC_H_
