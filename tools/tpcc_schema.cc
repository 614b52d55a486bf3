// TPC-C's nine tables in both dialects, and the initial population (clause 4.3).
//
// Layout on Meridian: every table but ITEM lives under its warehouse's key, so a warehouse and
// everything it owns is one directory that PlaceWarehouses puts in one Paxos group:
//   warehouse (w_id)
//     district (w_id, d_id)
//       customer (w_id, d_id, c_id)
//       history (w_id, d_id, h_run, h_term, h_seq)       the paying terminal's district
//       orders (w_id, d_id, o_id)
//         order_line (w_id, d_id, o_id, ol_number)
//       new_order (w_id, d_id, o_id)
//     stock (w_id, i_id)
//   item (i_id)                                           read-only after the load
// Interleaved tables share their parent's key column names (sql_lite requires it), so the spec's
// D_W_ID, C_W_ID, ... are all w_id here, and likewise d_id, c_id, o_id, i_id. HISTORY has no key
// in the spec; (h_run, h_term, h_seq) — the run's start time, the terminal, its counter — makes
// one without collisions between runs. Two indexes serve the lookups by last name and a
// customer's newest order; their entries start with w_id, so PlaceWarehouses splits them at the
// same warehouses.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "tools/tpcc.h"

namespace meridian::tools::tpcc {
namespace {

enum class Col { kInt, kStr, kTs };

struct Column {
  const char* name;
  Col type;
  int length = 0;  // kStr: the spec's maximum (sql_lite's STRING(n))
};

struct Table {
  const char* name;
  std::vector<Column> columns;
  const char* key;     // "w_id, d_id"
  const char* parent;  // "" for a top-level table
};

const std::vector<Table>& Tables() {
  static const std::vector<Table> tables = {
      {"warehouse",
       {{"w_id", Col::kInt},
        {"w_name", Col::kStr, 10},
        {"w_street_1", Col::kStr, 20},
        {"w_street_2", Col::kStr, 20},
        {"w_city", Col::kStr, 20},
        {"w_state", Col::kStr, 2},
        {"w_zip", Col::kStr, 9},
        {"w_tax", Col::kInt},
        {"w_ytd", Col::kInt}},
       "w_id",
       ""},
      {"district",
       {{"w_id", Col::kInt},
        {"d_id", Col::kInt},
        {"d_name", Col::kStr, 10},
        {"d_street_1", Col::kStr, 20},
        {"d_street_2", Col::kStr, 20},
        {"d_city", Col::kStr, 20},
        {"d_state", Col::kStr, 2},
        {"d_zip", Col::kStr, 9},
        {"d_tax", Col::kInt},
        {"d_ytd", Col::kInt},
        {"d_next_o_id", Col::kInt}},
       "w_id, d_id",
       "warehouse"},
      {"customer",
       {{"w_id", Col::kInt},           {"d_id", Col::kInt},           {"c_id", Col::kInt},
        {"c_first", Col::kStr, 16},    {"c_middle", Col::kStr, 2},    {"c_last", Col::kStr, 16},
        {"c_street_1", Col::kStr, 20}, {"c_street_2", Col::kStr, 20}, {"c_city", Col::kStr, 20},
        {"c_state", Col::kStr, 2},     {"c_zip", Col::kStr, 9},       {"c_phone", Col::kStr, 16},
        {"c_since", Col::kTs},         {"c_credit", Col::kStr, 2},    {"c_credit_lim", Col::kInt},
        {"c_discount", Col::kInt},     {"c_balance", Col::kInt},      {"c_ytd_payment", Col::kInt},
        {"c_payment_cnt", Col::kInt},  {"c_delivery_cnt", Col::kInt}, {"c_data", Col::kStr, 500}},
       "w_id, d_id, c_id",
       "district"},
      {"history",
       {{"w_id", Col::kInt},
        {"d_id", Col::kInt},
        {"h_run", Col::kInt},
        {"h_term", Col::kInt},
        {"h_seq", Col::kInt},
        {"h_c_id", Col::kInt},
        {"h_c_d_id", Col::kInt},
        {"h_c_w_id", Col::kInt},
        {"h_date", Col::kTs},
        {"h_amount", Col::kInt},
        {"h_data", Col::kStr, 24}},
       "w_id, d_id, h_run, h_term, h_seq",
       "district"},
      {"orders",
       {{"w_id", Col::kInt},
        {"d_id", Col::kInt},
        {"o_id", Col::kInt},
        {"o_c_id", Col::kInt},
        {"o_entry_d", Col::kTs},
        {"o_carrier_id", Col::kInt},
        {"o_ol_cnt", Col::kInt},
        {"o_all_local", Col::kInt}},
       "w_id, d_id, o_id",
       "district"},
      {"order_line",
       {{"w_id", Col::kInt},
        {"d_id", Col::kInt},
        {"o_id", Col::kInt},
        {"ol_number", Col::kInt},
        {"ol_i_id", Col::kInt},
        {"ol_supply_w_id", Col::kInt},
        {"ol_delivery_d", Col::kTs},
        {"ol_quantity", Col::kInt},
        {"ol_amount", Col::kInt},
        {"ol_dist_info", Col::kStr, 24}},
       "w_id, d_id, o_id, ol_number",
       "orders"},
      {"new_order",
       {{"w_id", Col::kInt}, {"d_id", Col::kInt}, {"o_id", Col::kInt}},
       "w_id, d_id, o_id",
       "district"},
      {"item",
       {{"i_id", Col::kInt},
        {"i_im_id", Col::kInt},
        {"i_name", Col::kStr, 24},
        {"i_price", Col::kInt},
        {"i_data", Col::kStr, 50}},
       "i_id",
       ""},
      {"stock",
       {{"w_id", Col::kInt},
        {"i_id", Col::kInt},
        {"s_quantity", Col::kInt},
        {"s_dist_01", Col::kStr, 24},
        {"s_dist_02", Col::kStr, 24},
        {"s_dist_03", Col::kStr, 24},
        {"s_dist_04", Col::kStr, 24},
        {"s_dist_05", Col::kStr, 24},
        {"s_dist_06", Col::kStr, 24},
        {"s_dist_07", Col::kStr, 24},
        {"s_dist_08", Col::kStr, 24},
        {"s_dist_09", Col::kStr, 24},
        {"s_dist_10", Col::kStr, 24},
        {"s_ytd", Col::kInt},
        {"s_order_cnt", Col::kInt},
        {"s_remote_cnt", Col::kInt},
        {"s_data", Col::kStr, 50}},
       "w_id, i_id",
       "warehouse"},
  };
  return tables;
}

const char* const kIndexes[] = {
    "CREATE INDEX IF NOT EXISTS customer_by_name ON customer (w_id, d_id, c_last, c_first)",
    "CREATE INDEX IF NOT EXISTS orders_by_customer ON orders (w_id, d_id, o_c_id, o_id)",
};

std::string ColumnType(const Column& c, bool postgres) {
  switch (c.type) {
    case Col::kInt:
      return postgres ? "bigint" : "INT64";
    case Col::kStr:
      return postgres ? absl::StrCat("varchar(", c.length, ")")
                      : absl::StrCat("STRING(", c.length, ")");
    case Col::kTs:
      return postgres ? "timestamptz" : "TIMESTAMP";
  }
  return "";
}

bool IsKeyColumn(const Table& t, const char* column) {
  for (absl::string_view k : absl::StrSplit(t.key, ", ")) {
    if (k == column) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> SchemaStatements(bool postgres) {
  std::vector<std::string> out;
  for (const Table& t : Tables()) {
    std::vector<std::string> columns;
    for (const Column& c : t.columns) {
      columns.push_back(absl::StrCat(c.name, " ", ColumnType(c, postgres),
                                     IsKeyColumn(t, c.name) ? " NOT NULL" : ""));
    }
    std::string ddl = absl::StrCat("CREATE TABLE IF NOT EXISTS ", t.name, " (",
                                   absl::StrJoin(columns, ", "), ", PRIMARY KEY (", t.key, "))");
    if (!postgres && *t.parent != '\0') {
      absl::StrAppend(&ddl, " INTERLEAVE IN PARENT ", t.parent, " ON DELETE CASCADE");
    }
    out.push_back(std::move(ddl));
  }
  for (const char* index : kIndexes) out.push_back(index);
  return out;
}

namespace {

constexpr int kRowsPerInsert = 500;
constexpr int kOrderLinesPerInsert = 1000;
// Orders below this id are delivered at load (clause 4.3.3.1: 2,101 of 3,000).
int64_t FirstUndelivered(const Config& config) { return config.customers * 7 / 10 + 1; }

std::string Quote(const std::string& s) {
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "''"}}), "'");
}

// TIMESTAMP '...' of `micros` (UTC), as both dialects read it.
std::string TimestampLiteral(int64_t micros) {
  return absl::StrCat(
      "TIMESTAMP '",
      absl::FormatTime("%Y-%m-%d %H:%M:%E6S+00", absl::FromUnixMicros(micros), absl::UTCTimeZone()),
      "'");
}

// Buffers rows of one table and writes them `per_insert` at a time; the rows of `parent` (the
// table they are interleaved in, when it is loaded alongside) are written first.
class Inserter {
 public:
  Inserter(Connection& c, std::string head, std::atomic<int64_t>& counter, int per_insert,
           Inserter* parent = nullptr)
      : c_(c),
        head_(std::move(head)),
        counter_(counter),
        per_insert_(per_insert),
        parent_(parent) {}
  absl::Status Add(std::string row) {
    rows_.push_back(std::move(row));
    if (static_cast<int>(rows_.size()) >= per_insert_) return Flush();
    return absl::OkStatus();
  }
  absl::Status Flush() {
    if (rows_.empty()) return absl::OkStatus();
    if (parent_ != nullptr) RETURN_IF_ERROR(parent_->Flush());
    absl::Status s = c_.ExecuteAlone(absl::StrCat(head_, absl::StrJoin(rows_, ", ")));
    if (!s.ok()) return s;
    counter_ += static_cast<int64_t>(rows_.size());
    rows_.clear();
    return absl::OkStatus();
  }

 private:
  Connection& c_;
  std::string head_;
  std::atomic<int64_t>& counter_;
  int per_insert_;
  Inserter* parent_;
  std::vector<std::string> rows_;
};

absl::Status LoadItems(Connection& c, TpccRandom& r, int64_t first, int64_t last,
                       std::atomic<int64_t>& rows) {
  Inserter items(c, "INSERT INTO item (i_id, i_im_id, i_name, i_price, i_data) VALUES ", rows,
                 kRowsPerInsert);
  for (int64_t i = first; i <= last; ++i) {
    RETURN_IF_ERROR(items.Add(absl::StrCat("(", i, ", ", r.Uniform(1, 10'000), ", ",
                                           Quote(r.AString(14, 24)), ", ", r.Uniform(100, 10'000),
                                           ", ", Quote(r.DataWithOriginal()), ")")));
  }
  return items.Flush();
}

std::string Address(TpccRandom& r) {
  return absl::StrCat(Quote(r.AString(10, 20)), ", ", Quote(r.AString(10, 20)), ", ",
                      Quote(r.AString(10, 20)), ", ", Quote(r.AString(2, 2)), ", ", Quote(r.Zip()));
}

absl::Status LoadStock(Connection& c, TpccRandom& r, const Config& config, int64_t w,
                       std::atomic<int64_t>& rows) {
  Inserter stock(c,
                 "INSERT INTO stock (w_id, i_id, s_quantity, s_dist_01, s_dist_02, s_dist_03, "
                 "s_dist_04, s_dist_05, s_dist_06, s_dist_07, s_dist_08, s_dist_09, s_dist_10, "
                 "s_ytd, s_order_cnt, s_remote_cnt, s_data) VALUES ",
                 rows, kRowsPerInsert);
  for (int64_t i = 1; i <= config.items; ++i) {
    std::string row = absl::StrCat("(", w, ", ", i, ", ", r.Uniform(10, 100));
    for (int d = 0; d < kDistrictsPerWarehouse; ++d) {
      absl::StrAppend(&row, ", ", Quote(r.AString(24, 24)));
    }
    absl::StrAppend(&row, ", 0, 0, 0, ", Quote(r.DataWithOriginal()), ")");
    RETURN_IF_ERROR(stock.Add(std::move(row)));
  }
  return stock.Flush();
}

// One district: its row, its customers with their history rows, its orders with their lines,
// and the undelivered orders' NEW-ORDER rows.
absl::Status LoadDistrict(Connection& c, TpccRandom& r, const Config& config, int64_t w, int64_t d,
                          int64_t now, std::atomic<int64_t>& rows) {
  const std::string ts = TimestampLiteral(now);
  RETURN_IF_ERROR(c.ExecuteAlone(absl::StrCat(
      "INSERT INTO district (w_id, d_id, d_name, d_street_1, d_street_2, d_city, d_state, d_zip, "
      "d_tax, d_ytd, d_next_o_id) VALUES (",
      w, ", ", d, ", ", Quote(r.AString(6, 10)), ", ", Address(r), ", ", r.Uniform(0, 2000),
      ", 3000000, ", config.customers + 1, ")")));
  ++rows;
  Inserter customers(c,
                     "INSERT INTO customer (w_id, d_id, c_id, c_first, c_middle, c_last, "
                     "c_street_1, c_street_2, c_city, c_state, c_zip, c_phone, c_since, "
                     "c_credit, c_credit_lim, c_discount, c_balance, c_ytd_payment, "
                     "c_payment_cnt, c_delivery_cnt, c_data) VALUES ",
                     rows, kRowsPerInsert);
  Inserter history(c,
                   "INSERT INTO history (w_id, d_id, h_run, h_term, h_seq, h_c_id, h_c_d_id, "
                   "h_c_w_id, h_date, h_amount, h_data) VALUES ",
                   rows, kRowsPerInsert);
  for (int64_t id = 1; id <= config.customers; ++id) {
    const std::string last =
        LastName(id <= 1000 ? id - 1 : r.NURand(255, 157, 0, std::min(999, config.customers - 1)));
    RETURN_IF_ERROR(customers.Add(
        absl::StrCat("(", w, ", ", d, ", ", id, ", ", Quote(r.AString(8, 16)), ", 'OE', ",
                     Quote(last), ", ", Address(r), ", ", Quote(r.NString(16, 16)), ", ", ts, ", ",
                     r.Percent(10) ? "'BC'" : "'GC'", ", 5000000, ", r.Uniform(0, 5000),
                     ", -1000, 1000, 1, 0, ", Quote(r.AString(300, 500)), ")")));
    // h_run 0 marks the load's rows; (h_term, h_seq) = (0, customer id) keeps them apart.
    RETURN_IF_ERROR(
        history.Add(absl::StrCat("(", w, ", ", d, ", 0, 0, ", id, ", ", id, ", ", d, ", ", w, ", ",
                                 ts, ", 1000, ", Quote(r.AString(12, 24)), ")")));
  }
  RETURN_IF_ERROR(customers.Flush());
  RETURN_IF_ERROR(history.Flush());

  // O_C_ID is a random permutation of the customers.
  std::vector<int64_t> owner(config.customers);
  for (int64_t i = 0; i < config.customers; ++i) owner[i] = i + 1;
  for (int64_t i = config.customers - 1; i > 0; --i) {
    std::swap(owner[i], owner[r.Uniform(0, i)]);
  }
  Inserter orders(c,
                  "INSERT INTO orders (w_id, d_id, o_id, o_c_id, o_entry_d, o_carrier_id, "
                  "o_ol_cnt, o_all_local) VALUES ",
                  rows, kRowsPerInsert);
  Inserter lines(c,
                 "INSERT INTO order_line (w_id, d_id, o_id, ol_number, ol_i_id, ol_supply_w_id, "
                 "ol_delivery_d, ol_quantity, ol_amount, ol_dist_info) VALUES ",
                 rows, kOrderLinesPerInsert, &orders);
  Inserter new_orders(c, "INSERT INTO new_order (w_id, d_id, o_id) VALUES ", rows,
                      kOrderLinesPerInsert);
  const int64_t undelivered = FirstUndelivered(config);
  for (int64_t o = 1; o <= config.customers; ++o) {
    const bool delivered = o < undelivered;
    const int64_t ol_cnt = r.Uniform(5, 15);
    RETURN_IF_ERROR(orders.Add(
        absl::StrCat("(", w, ", ", d, ", ", o, ", ", owner[o - 1], ", ", ts, ", ",
                     delivered ? absl::StrCat(r.Uniform(1, 10)) : "NULL", ", ", ol_cnt, ", 1)")));
    for (int64_t n = 1; n <= ol_cnt; ++n) {
      RETURN_IF_ERROR(lines.Add(absl::StrCat(
          "(", w, ", ", d, ", ", o, ", ", n, ", ", r.Uniform(1, config.items), ", ", w, ", ",
          delivered ? ts : "NULL", ", 5, ", delivered ? 0 : r.Uniform(1, 999'999), ", ",
          Quote(r.AString(24, 24)), ")")));
    }
    if (!delivered) RETURN_IF_ERROR(new_orders.Add(absl::StrCat("(", w, ", ", d, ", ", o, ")")));
  }
  RETURN_IF_ERROR(orders.Flush());
  RETURN_IF_ERROR(lines.Flush());
  return new_orders.Flush();
}

// One unit of loading work: the items in [first, last], or one warehouse's stock, or one district.
struct LoadUnit {
  enum class Kind { kItems, kWarehouse, kStock, kDistrict } kind;
  int64_t a = 0, b = 0;
};

absl::Status LoadOne(Connection& c, TpccRandom& r, const Config& config, const LoadUnit& u,
                     int64_t now, std::atomic<int64_t>& rows) {
  switch (u.kind) {
    case LoadUnit::Kind::kItems:
      return LoadItems(c, r, u.a, u.b, rows);
    case LoadUnit::Kind::kWarehouse:
      ++rows;
      return c.ExecuteAlone(
          absl::StrCat("INSERT INTO warehouse (w_id, w_name, w_street_1, w_street_2, w_city, "
                       "w_state, w_zip, w_tax, w_ytd) VALUES (",
                       u.a, ", ", Quote(r.AString(6, 10)), ", ", Address(r), ", ",
                       r.Uniform(0, 2000), ", 30000000)"));
    case LoadUnit::Kind::kStock:
      return LoadStock(c, r, config, u.a, rows);
    case LoadUnit::Kind::kDistrict:
      return LoadDistrict(c, r, config, u.a, u.b, now, rows);
  }
  return absl::InternalError("unknown load unit");
}

// Rows the whole load writes, for the progress line.
int64_t ExpectedRows(const Config& config) {
  const int64_t per_district = 1 + 3 * int64_t{config.customers} +  // customers, history, orders
                               10 * int64_t{config.customers} +     // lines, 10 on average
                               (config.customers - FirstUndelivered(config) + 1);
  return config.items +
         config.warehouses * (1 + config.items + kDistrictsPerWarehouse * per_district);
}

}  // namespace

absl::Status LoadDatabase(Backend& backend, const Config& config) {
  // Warehouses and their districts first (every other row of a warehouse is interleaved in
  // them), then the bulk: stock and districts of every warehouse, and the items, in parallel.
  std::vector<LoadUnit> parents, bulk;
  for (int64_t w = 1; w <= config.warehouses; ++w) {
    parents.push_back({LoadUnit::Kind::kWarehouse, w, 0});
  }
  constexpr int64_t kItemsPerUnit = 10'000;
  for (int64_t first = 1; first <= config.items; first += kItemsPerUnit) {
    bulk.push_back({LoadUnit::Kind::kItems, first,
                    std::min<int64_t>(config.items, first + kItemsPerUnit - 1)});
  }
  for (int64_t w = 1; w <= config.warehouses; ++w) {
    for (int64_t d = 1; d <= kDistrictsPerWarehouse; ++d) {
      bulk.push_back({LoadUnit::Kind::kDistrict, w, d});
    }
    bulk.push_back({LoadUnit::Kind::kStock, w, 0});
  }
  std::atomic<int64_t> rows{0};
  const int64_t expected = ExpectedRows(config);
  const int64_t now = absl::ToUnixMicros(absl::Now());
  const absl::Time start = absl::Now();
  absl::Notification done;
  std::thread progress([&] {
    while (!done.WaitForNotificationWithTimeout(absl::Seconds(1))) {
      const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
      const int64_t n = rows.load();
      const int width = 30;
      const int filled = static_cast<int>(std::min<int64_t>(width, n * width / expected));
      std::printf("load [%s%s] %3lld%% %lld / ~%lld rows, %.0f rows/s\n",
                  std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
                  static_cast<long long>(std::min<int64_t>(100, n * 100 / expected)),
                  static_cast<long long>(n), static_cast<long long>(expected),
                  static_cast<double>(n) / seconds);
      std::fflush(stdout);
    }
  });
  absl::Status status;
  for (const std::vector<LoadUnit>* units : {&parents, &bulk}) {
    std::atomic<size_t> next{0};
    absl::Mutex mu;
    std::vector<std::thread> threads;
    Random seeds(config.seed ^ 0x10ad);
    for (int t = 0; t < std::max(1, config.load_threads); ++t) {
      threads.emplace_back([&, random = seeds.Fork()]() mutable {
        absl::StatusOr<std::unique_ptr<Connection>> c = backend.Connect();
        TpccRandom r(std::move(random), config, 157, 0, 0);
        for (size_t i = next++; i < units->size(); i = next++) {
          absl::Status s = c.ok() ? LoadOne(**c, r, config, (*units)[i], now, rows) : c.status();
          if (!s.ok()) {
            absl::MutexLock lock(&mu);
            if (status.ok()) status = s;
            next = units->size();
            return;
          }
        }
      });
    }
    for (std::thread& t : threads) t.join();
    if (!status.ok()) break;
  }
  done.Notify();
  progress.join();
  if (!status.ok()) return absl::Status(status.code(), absl::StrCat("load: ", status.message()));
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf(
      "load: %lld rows (%d warehouses, %d items, %d customers per district) in %.1f s, "
      "%.0f rows/s\n",
      static_cast<long long>(rows.load()), config.warehouses, config.items, config.customers,
      seconds, static_cast<double>(rows.load()) / seconds);
  std::fflush(stdout);
  return absl::OkStatus();
}

}  // namespace meridian::tools::tpcc
