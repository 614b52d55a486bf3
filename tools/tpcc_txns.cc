// TPC-C's five transactions (clause 2) over the Backend seam (tpcc.h), and its random functions.
//
// Every read-write transaction reads a row before it updates it only when it needs the old
// value, and otherwise updates first and reads its own write: the first touch of a row takes the
// lock it will keep, so two terminals never both hold a shared lock they must upgrade.
//
// New-Order reads its items and its warehouse's tax rate just before its read-write transaction.
// ITEM and W_TAX are never written after the load, so reading them earlier returns what a read
// inside would; the read-write transaction then involves
// only the rows it writes (on Meridian, ITEM's group stays out of the two-phase commit), and
// takes no shared lock on the warehouse row, which every Payment of that warehouse updates (a
// row is one lock here, where Spanner locks cells and CockroachDB splits the row into column
// families for this very conflict). The 1% rollback still happens inside the
// read-write transaction, after its district, order and stock writes, when it reaches the
// unused item number (clause 2.4.2.3).
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "tools/tpcc.h"

namespace meridian::tools::tpcc {

const char* TxnName(TxnType type) {
  switch (type) {
    case TxnType::kNewOrder:
      return "new_order";
    case TxnType::kPayment:
      return "payment";
    case TxnType::kOrderStatus:
      return "order_status";
    case TxnType::kDelivery:
      return "delivery";
    case TxnType::kStockLevel:
      return "stock_level";
  }
  return "?";
}

std::string LastName(int64_t n) {
  static const char* const kSyllables[] = {"BAR", "OUGHT", "ABLE",  "PRI",   "PRES",
                                           "ESE", "ANTI",  "CALLY", "ATION", "EING"};
  return absl::StrCat(kSyllables[(n / 100) % 10], kSyllables[(n / 10) % 10], kSyllables[n % 10]);
}

TpccRandom::TpccRandom(Random random, const Config& config, int64_t c_last, int64_t c_id,
                       int64_t ol_i_id)
    : random_(std::move(random)),
      items_(config.items),
      customers_(config.customers),
      c_last_(c_last),
      c_id_(c_id),
      ol_i_id_(ol_i_id) {}

int64_t TpccRandom::NURand(int64_t a, int64_t c, int64_t lo, int64_t hi) {
  return (((Uniform(0, a) | Uniform(lo, hi)) + c) % (hi - lo + 1)) + lo;
}

int64_t TpccRandom::CustomerId() { return NURand(1023, c_id_, 1, customers_); }
int64_t TpccRandom::ItemId() { return NURand(8191, ol_i_id_, 1, items_); }
std::string TpccRandom::RunLastName() {
  return LastName(NURand(255, c_last_, 0, std::min(999, customers_ - 1)));
}

std::string TpccRandom::AString(int min_len, int max_len) {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string s(Uniform(min_len, max_len), ' ');
  for (char& ch : s) ch = kChars[Uniform(0, sizeof(kChars) - 2)];
  return s;
}

std::string TpccRandom::NString(int min_len, int max_len) {
  std::string s(Uniform(min_len, max_len), '0');
  for (char& ch : s) ch = static_cast<char>('0' + Uniform(0, 9));
  return s;
}

std::string TpccRandom::DataWithOriginal() {
  std::string s = AString(26, 50);
  if (Percent(10)) s.replace(Uniform(0, s.size() - 8), 8, "ORIGINAL");
  return s;
}

namespace {

using sql::Params;
using sql::ResultSet;
using sql::Value;

Value Int(int64_t v) { return Value::Int64(v); }
Value Str(std::string v) { return Value::String(std::move(v)); }
Value Now() { return Value::Timestamp(absl::ToUnixMicros(absl::Now())); }

// Tolerant readers: a NULL reads as 0 or "", a FLOAT64 (a backend's NUMERIC sum) as its integer.
int64_t I(const Value& v) {
  if (v.type() == sql::Type::kInt64) return v.int64_value();
  if (v.type() == sql::Type::kFloat64) return static_cast<int64_t>(v.float64_value());
  return 0;
}
std::string S(const Value& v) { return v.type() == sql::Type::kString ? v.string_value() : ""; }

// Runs `statement` and returns its only row; NOT_FOUND naming `what` when it has none.
absl::StatusOr<std::vector<Value>> One(Txn& txn, const std::string& statement, const Params& p,
                                       const char* what) {
  ASSIGN_OR_RETURN(ResultSet r, txn.Execute(statement, p));
  if (r.rows.empty()) return absl::NotFoundError(absl::StrCat("tpcc: no ", what));
  return std::move(r.rows[0]);
}

int64_t OtherWarehouse(TpccRandom& r, const Config& config, int64_t w_id) {
  if (config.warehouses < 2) return w_id;
  const int64_t other = r.Uniform(1, config.warehouses - 1);
  return other >= w_id ? other + 1 : other;
}

// The customer a Payment or Order-Status names by last name (clause 2.5.2.2): the one at
// position ceil(n / 2) of those with that name, ordered by first name.
absl::StatusOr<int64_t> CustomerByName(Txn& txn, int64_t w, int64_t d, const std::string& last) {
  ASSIGN_OR_RETURN(ResultSet r, txn.Execute("SELECT c_id, c_first FROM customer WHERE w_id = @w "
                                            "AND d_id = @d AND c_last = @last ORDER BY c_first",
                                            {{"w", Int(w)}, {"d", Int(d)}, {"last", Str(last)}}));
  if (r.rows.empty()) return absl::NotFoundError(absl::StrCat("tpcc: no customer named ", last));
  return I(r.rows[(r.rows.size() - 1) / 2][0]);
}

struct OrderLineInput {
  int64_t i_id, supply_w_id, quantity;
};

struct ItemRow {
  int64_t price = 0;
  std::string name, data;
};

// The items of a New-Order (an unused item number is absent), in one statement, and its
// warehouse's W_TAX, each an autocommit read: they never change after the load, so one snapshot
// for all of them would return the same (and cost a read at a common timestamp in each group).
absl::StatusOr<std::map<int64_t, ItemRow>> ReadItems(Connection& c, int64_t w,
                                                     const std::vector<OrderLineInput>& lines,
                                                     int64_t* w_tax) {
  ASSIGN_OR_RETURN(ResultSet wh,
                   c.ReadAlone("SELECT w_tax FROM warehouse WHERE w_id = @w", {{"w", Int(w)}}));
  if (wh.rows.empty()) return absl::NotFoundError("tpcc: no warehouse");
  *w_tax = I(wh.rows[0][0]);
  std::string statement = "SELECT i_id, i_price, i_name, i_data FROM item WHERE i_id IN (";
  Params p;
  for (size_t n = 0; n < lines.size(); ++n) {
    absl::StrAppend(&statement, n == 0 ? "" : ", ", "@i", n);
    p[absl::StrCat("i", n)] = Int(lines[n].i_id);
  }
  statement += ")";
  ASSIGN_OR_RETURN(ResultSet r, c.ReadAlone(statement, p));
  std::map<int64_t, ItemRow> items;
  for (const std::vector<Value>& row : r.rows) {
    items[I(row[0])] = {I(row[1]), S(row[2]), S(row[3])};
  }
  return items;
}

struct StockRow {
  int64_t quantity = 0;
  std::string dist_info, data;
};
using StockRows = std::map<std::pair<int64_t, int64_t>, StockRow>;  // (supply w, item) -> row

// The stock rows of a New-Order's lines (S_DIST_xx of district d), in one statement per supply
// warehouse: an IN list on the key's last column, which sql_lite serves with one read per group
// instead of one per line. An unused item number has no row.
absl::StatusOr<StockRows> ReadStock(Txn& txn, const std::vector<OrderLineInput>& lines, int64_t d) {
  std::map<int64_t, std::vector<int64_t>> items_of;  // supply warehouse -> distinct items
  for (const OrderLineInput& l : lines) {
    std::vector<int64_t>& ids = items_of[l.supply_w_id];
    if (std::find(ids.begin(), ids.end(), l.i_id) == ids.end()) ids.push_back(l.i_id);
  }
  StockRows stock;
  for (const auto& [supply_w, ids] : items_of) {
    std::string statement = absl::StrCat("SELECT i_id, s_quantity, s_dist_", d < 10 ? "0" : "", d,
                                         ", s_data FROM stock WHERE w_id = @w AND i_id IN (");
    Params p = {{"w", Int(supply_w)}};
    for (size_t n = 0; n < ids.size(); ++n) {
      absl::StrAppend(&statement, n == 0 ? "" : ", ", "@i", n);
      p[absl::StrCat("i", n)] = Int(ids[n]);
    }
    statement += ")";
    ASSIGN_OR_RETURN(ResultSet r, txn.Execute(statement, p));
    for (const std::vector<Value>& row : r.rows) {
      stock[{supply_w, I(row[0])}] = {I(row[1]), S(row[2]), S(row[3])};
    }
  }
  return stock;
}

// One order line's stock update (clause 2.4.2.2) from its row as read (kept current for a later
// line of the same item); returns its brand-generic flag.
absl::StatusOr<bool> UpdateStock(Txn& txn, const OrderLineInput& l, int64_t w, StockRow& s,
                                 const ItemRow& item) {
  int64_t quantity = s.quantity - l.quantity;
  if (quantity < 10) quantity += 91;
  s.quantity = quantity;
  const Params update = {{"w", Int(l.supply_w_id)},
                         {"i", Int(l.i_id)},
                         {"q", Int(quantity)},
                         {"n", Int(l.quantity)},
                         {"remote", Int(l.supply_w_id != w ? 1 : 0)}};
  RETURN_IF_ERROR(txn.Execute("UPDATE stock SET s_quantity = @q, s_ytd = s_ytd + @n, "
                              "s_order_cnt = s_order_cnt + 1, s_remote_cnt = s_remote_cnt + "
                              "@remote WHERE w_id = @w AND i_id = @i",
                              update)
                      .status());
  return absl::StrContains(item.data, "ORIGINAL") && absl::StrContains(s.data, "ORIGINAL");
}

// The error New-Order's fn returns to roll its transaction back on purpose.
absl::Status RollbackRequested() { return absl::CancelledError("tpcc: item number not valid"); }

}  // namespace

absl::Status RunNewOrder(Connection& c, TpccRandom& r, const Config& config, int64_t w,
                         TxnOutcome* out) {
  const int64_t d = r.Uniform(1, kDistrictsPerWarehouse);
  const int64_t customer = r.CustomerId();
  const int64_t ol_cnt = r.Uniform(5, 15);
  const bool rollback = r.Percent(1);
  std::vector<OrderLineInput> lines;
  bool all_local = true;
  for (int64_t n = 1; n <= ol_cnt; ++n) {
    OrderLineInput l{r.ItemId(), w, r.Uniform(1, 10)};
    if (rollback && n == ol_cnt) l.i_id = config.items + 1;  // unused (clause 2.4.1.4)
    if (r.Percent(1)) l.supply_w_id = OtherWarehouse(r, config, w);
    all_local = all_local && l.supply_w_id == w;
    lines.push_back(l);
  }
  int64_t w_tax = 0;
  absl::StatusOr<std::map<int64_t, ItemRow>> read = ReadItems(c, w, lines, &w_tax);
  if (!read.ok()) return read.status();
  const std::map<int64_t, ItemRow>& items = *read;
  const Params wd = {{"w", Int(w)}, {"d", Int(d)}};
  absl::Status s = c.Run(
      false,
      [&](Txn& txn) -> absl::Status {
        RETURN_IF_ERROR(txn.Execute("UPDATE district SET d_next_o_id = d_next_o_id + 1 WHERE "
                                    "w_id = @w AND d_id = @d",
                                    wd)
                            .status());
        ASSIGN_OR_RETURN(std::vector<Value> dist,
                         One(txn,
                             "SELECT d_tax, d_next_o_id FROM district WHERE w_id = @w AND "
                             "d_id = @d",
                             wd, "district"));
        const int64_t o_id = I(dist[1]) - 1;
        out->district = d;
        out->order_id = o_id;
        Params p = wd;
        p["c"] = Int(customer);
        ASSIGN_OR_RETURN(std::vector<Value> cust,
                         One(txn,
                             "SELECT c_discount, c_last, c_credit FROM customer WHERE w_id = @w "
                             "AND d_id = @d AND c_id = @c",
                             p, "customer"));
        p["o"] = Int(o_id);
        p["now"] = Now();
        p["cnt"] = Int(ol_cnt);
        p["local"] = Int(all_local ? 1 : 0);
        RETURN_IF_ERROR(txn.Execute("INSERT INTO orders (w_id, d_id, o_id, o_c_id, o_entry_d, "
                                    "o_carrier_id, o_ol_cnt, o_all_local) VALUES (@w, @d, @o, @c, "
                                    "@now, NULL, @cnt, @local)",
                                    p)
                            .status());
        if (!config.testing_skip_new_order_row) {
          RETURN_IF_ERROR(
              txn.Execute("INSERT INTO new_order (w_id, d_id, o_id) VALUES (@w, @d, @o)", p)
                  .status());
        }
        std::string insert =
            "INSERT INTO order_line (w_id, d_id, o_id, ol_number, ol_i_id, ol_supply_w_id, "
            "ol_delivery_d, ol_quantity, ol_amount, ol_dist_info) VALUES ";
        int64_t total = 0;
        ASSIGN_OR_RETURN(StockRows stock, ReadStock(txn, lines, d));
        for (size_t n = 0; n < lines.size(); ++n) {
          const auto item = items.find(lines[n].i_id);
          if (item == items.end()) return RollbackRequested();
          const auto row = stock.find({lines[n].supply_w_id, lines[n].i_id});
          if (row == stock.end()) return absl::NotFoundError("tpcc: no stock");
          const std::string dist_info = row->second.dist_info;
          ASSIGN_OR_RETURN(bool original, UpdateStock(txn, lines[n], w, row->second, item->second));
          (void)original;  // the brand-generic flag is only displayed (clause 2.4.3.3)
          const int64_t amount = lines[n].quantity * item->second.price;
          total += amount;
          const std::string k = absl::StrCat(n + 1);
          absl::StrAppend(&insert, n == 0 ? "" : ", ", "(@w, @d, @o, ", n + 1, ", @i", k, ", @s", k,
                          ", NULL, @q", k, ", @a", k, ", @di", k, ")");
          p["i" + k] = Int(lines[n].i_id);
          p["s" + k] = Int(lines[n].supply_w_id);
          p["q" + k] = Int(lines[n].quantity);
          p["a" + k] = Int(amount);
          p["di" + k] = Str(dist_info);
        }
        (void)cust;
        (void)w_tax;
        (void)total;  // total * (1 - c_discount) * (1 + w_tax + d_tax) is only displayed
        return txn.Execute(insert, p).status();
      },
      &out->attempts);
  if (absl::IsCancelled(s) && s.message() == RollbackRequested().message()) {
    out->rolled_back = true;
    return absl::OkStatus();
  }
  return s;
}

absl::Status RunPayment(Connection& c, TpccRandom& r, const Config& config, int64_t w,
                        const HistoryId& h, TxnOutcome* out) {
  const int64_t d = r.Uniform(1, kDistrictsPerWarehouse);
  int64_t cw = w, cd = d;
  if (r.Percent(15) && config.warehouses > 1) {
    cw = OtherWarehouse(r, config, w);
    cd = r.Uniform(1, kDistrictsPerWarehouse);
  }
  const bool by_name = r.Percent(60);
  const std::string last = by_name ? r.RunLastName() : "";
  const int64_t id = by_name ? 0 : r.CustomerId();
  const int64_t amount = r.Uniform(100, 500'000);
  return c.Run(
      false,
      [&](Txn& txn) -> absl::Status {
        Params p = {{"w", Int(w)}, {"d", Int(d)}, {"amt", Int(amount)}};
        RETURN_IF_ERROR(
            txn.Execute("UPDATE warehouse SET w_ytd = w_ytd + @amt WHERE w_id = @w", p).status());
        ASSIGN_OR_RETURN(std::vector<Value> wh,
                         One(txn,
                             "SELECT w_name, w_street_1, w_street_2, w_city, w_state, w_zip FROM "
                             "warehouse WHERE w_id = @w",
                             p, "warehouse"));
        RETURN_IF_ERROR(txn.Execute("UPDATE district SET d_ytd = d_ytd + @amt WHERE w_id = @w "
                                    "AND d_id = @d",
                                    p)
                            .status());
        ASSIGN_OR_RETURN(std::vector<Value> dist,
                         One(txn,
                             "SELECT d_name, d_street_1, d_street_2, d_city, d_state, d_zip FROM "
                             "district WHERE w_id = @w AND d_id = @d",
                             p, "district"));
        int64_t c_id = id;
        if (by_name) {
          ASSIGN_OR_RETURN(c_id, CustomerByName(txn, cw, cd, last));
        }
        const Params ck = {{"w", Int(cw)}, {"d", Int(cd)}, {"c", Int(c_id)}, {"amt", Int(amount)}};
        ASSIGN_OR_RETURN(std::vector<Value> cust,
                         One(txn,
                             "SELECT c_first, c_middle, c_last, c_street_1, c_street_2, c_city, "
                             "c_state, c_zip, c_phone, c_since, c_credit, c_credit_lim, "
                             "c_discount, c_balance FROM customer WHERE w_id = @w AND d_id = @d "
                             "AND c_id = @c",
                             ck, "customer"));
        // A bad-credit customer's C_DATA gets this payment in front (clause 2.5.2.2).
        Params u = ck;
        std::string set_data;
        if (S(cust[10]) == "BC") {
          ASSIGN_OR_RETURN(std::vector<Value> data,
                           One(txn,
                               "SELECT c_data FROM customer WHERE w_id = @w AND d_id = @d AND "
                               "c_id = @c",
                               ck, "customer"));
          u["data"] =
              Str(absl::StrCat(c_id, " ", cd, " ", cw, " ", d, " ", w, " ", amount, " ", S(data[0]))
                      .substr(0, 500));
          set_data = ", c_data = @data";
        }
        RETURN_IF_ERROR(
            txn.Execute(absl::StrCat("UPDATE customer SET c_balance = c_balance - "
                                     "@amt, c_ytd_payment = c_ytd_payment + @amt, "
                                     "c_payment_cnt = c_payment_cnt + 1",
                                     set_data, " WHERE w_id = @w AND d_id = @d AND c_id = @c"),
                        u)
                .status());
        p["run"] = Int(h.run);
        p["term"] = Int(h.term);
        p["seq"] = Int(h.seq);
        p["c"] = Int(c_id);
        p["cd"] = Int(cd);
        p["cw"] = Int(cw);
        p["now"] = Now();
        p["data"] = Str(absl::StrCat(S(wh[0]), "    ", S(dist[0])));
        return txn
            .Execute(
                "INSERT INTO history (w_id, d_id, h_run, h_term, h_seq, h_c_id, h_c_d_id, "
                "h_c_w_id, h_date, h_amount, h_data) VALUES (@w, @d, @run, @term, @seq, @c, "
                "@cd, @cw, @now, @amt, @data)",
                p)
            .status();
      },
      &out->attempts);
}

absl::Status RunOrderStatus(Connection& c, TpccRandom& r, const Config& config, int64_t w,
                            TxnOutcome* out) {
  (void)config;
  const int64_t d = r.Uniform(1, kDistrictsPerWarehouse);
  const bool by_name = r.Percent(60);
  const std::string last = by_name ? r.RunLastName() : "";
  const int64_t id = by_name ? 0 : r.CustomerId();
  return c.Run(
      true,
      [&](Txn& txn) -> absl::Status {
        int64_t c_id = id;
        if (by_name) {
          ASSIGN_OR_RETURN(c_id, CustomerByName(txn, w, d, last));
        }
        const Params p = {{"w", Int(w)}, {"d", Int(d)}, {"c", Int(c_id)}};
        RETURN_IF_ERROR(One(txn,
                            "SELECT c_balance, c_first, c_middle, c_last FROM customer WHERE "
                            "w_id = @w AND d_id = @d AND c_id = @c",
                            p, "customer")
                            .status());
        ASSIGN_OR_RETURN(ResultSet order,
                         txn.Execute("SELECT o_id, o_entry_d, o_carrier_id FROM orders WHERE "
                                     "w_id = @w AND d_id = @d AND o_c_id = @c ORDER BY o_id DESC "
                                     "LIMIT 1",
                                     p));
        if (order.rows.empty()) return absl::OkStatus();  // a customer with no order yet
        Params o = p;
        o["o"] = order.rows[0][0];
        return txn
            .Execute(
                "SELECT ol_i_id, ol_supply_w_id, ol_quantity, ol_amount, ol_delivery_d FROM "
                "order_line WHERE w_id = @w AND d_id = @d AND o_id = @o",
                o)
            .status();
      },
      &out->attempts);
}

absl::Status RunDelivery(Connection& c, TpccRandom& r, const Config& config, int64_t w,
                         TxnOutcome* out) {
  (void)config;
  const int64_t carrier = r.Uniform(1, 10);
  return c.Run(
      false,
      [&](Txn& txn) -> absl::Status {
        out->skipped_delivery = false;
        for (int64_t d = 1; d <= kDistrictsPerWarehouse; ++d) {
          Params p = {{"w", Int(w)}, {"d", Int(d)}, {"carrier", Int(carrier)}, {"now", Now()}};
          ASSIGN_OR_RETURN(ResultSet no,
                           txn.Execute("SELECT o_id FROM new_order WHERE w_id = @w AND d_id = @d "
                                       "ORDER BY o_id LIMIT 1",
                                       p));
          if (no.rows.empty()) {
            out->skipped_delivery = true;  // clause 2.7.4.2: skipped, and reported
            continue;
          }
          p["o"] = no.rows[0][0];
          ASSIGN_OR_RETURN(ResultSet deleted,
                           txn.Execute("DELETE FROM new_order WHERE w_id = @w AND d_id = @d AND "
                                       "o_id = @o",
                                       p));
          if (deleted.rows_affected != 1) {
            return absl::AbortedError("tpcc: the new order was delivered meanwhile");
          }
          ASSIGN_OR_RETURN(std::vector<Value> order,
                           One(txn,
                               "SELECT o_c_id FROM orders WHERE w_id = @w AND d_id = @d AND "
                               "o_id = @o",
                               p, "order"));
          p["c"] = order[0];
          RETURN_IF_ERROR(txn.Execute("UPDATE orders SET o_carrier_id = @carrier WHERE w_id = @w "
                                      "AND d_id = @d AND o_id = @o",
                                      p)
                              .status());
          RETURN_IF_ERROR(txn.Execute("UPDATE order_line SET ol_delivery_d = @now WHERE w_id = "
                                      "@w AND d_id = @d AND o_id = @o",
                                      p)
                              .status());
          ASSIGN_OR_RETURN(std::vector<Value> sum,
                           One(txn,
                               "SELECT SUM(ol_amount) FROM order_line WHERE w_id = @w AND d_id "
                               "= @d AND o_id = @o",
                               p, "order line sum"));
          p["sum"] = Int(I(sum[0]));
          RETURN_IF_ERROR(txn.Execute("UPDATE customer SET c_balance = c_balance + @sum, "
                                      "c_delivery_cnt = c_delivery_cnt + 1 WHERE w_id = @w AND "
                                      "d_id = @d AND c_id = @c",
                                      p)
                              .status());
        }
        return absl::OkStatus();
      },
      &out->attempts);
}

absl::Status RunStockLevel(Connection& c, TpccRandom& r, const Config& config, int64_t w, int64_t d,
                           TxnOutcome* out) {
  (void)config;
  const int64_t threshold = r.Uniform(10, 20);
  return c.Run(
      true,
      [&](Txn& txn) -> absl::Status {
        Params p = {{"w", Int(w)}, {"d", Int(d)}, {"t", Int(threshold)}};
        ASSIGN_OR_RETURN(std::vector<Value> dist,
                         One(txn, "SELECT d_next_o_id FROM district WHERE w_id = @w AND d_id = @d",
                             p, "district"));
        p["next"] = Int(I(dist[0]));
        p["lo"] = Int(I(dist[0]) - 20);
        return txn
            .Execute(
                "SELECT COUNT(DISTINCT s.i_id) FROM order_line ol JOIN stock s ON s.w_id = "
                "ol.w_id AND s.i_id = ol.ol_i_id WHERE ol.w_id = @w AND ol.d_id = @d AND "
                "ol.o_id >= @lo AND ol.o_id < @next AND s.s_quantity < @t",
                p)
            .status();
      },
      &out->attempts);
}

}  // namespace meridian::tools::tpcc
