// TPC-C's consistency conditions (clause 3.3.2), each warehouse read in one read-only snapshot:
//   1  W_YTD = sum(D_YTD)
//   2  D_NEXT_O_ID - 1 = max(O_ID) = max(NO_O_ID)
//   3  max(NO_O_ID) - min(NO_O_ID) + 1 = the number of NEW-ORDER rows
//   4  sum(O_OL_CNT) = the number of ORDER-LINE rows
//   8  W_YTD = sum(H_AMOUNT) of the warehouse's payments
//   9  D_YTD = sum(H_AMOUNT) of the district's payments
// 8 and 9 hold with the spec's population (3,000 customers, each with one 10.00 payment, against
// a W_YTD of 300,000.00 and D_YTD of 30,000.00); with fewer customers in tests, the loaded
// difference is subtracted. Every district is read through its own key ranges (point reads and
// prefix scans), never through a whole-table scan.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "tools/tpcc.h"

namespace meridian::tools::tpcc {
namespace {

using sql::Params;
using sql::ResultSet;
using sql::Value;

int64_t I(const Value& v) {
  if (v.type() == sql::Type::kInt64) return v.int64_value();
  if (v.type() == sql::Type::kFloat64) return static_cast<int64_t>(v.float64_value());
  return 0;
}

absl::StatusOr<std::vector<Value>> Row(Txn& txn, const char* statement, const Params& p) {
  ASSIGN_OR_RETURN(ResultSet r, txn.Execute(statement, p));
  if (r.rows.size() != 1) {
    return absl::InternalError(absl::StrCat("check: ", r.rows.size(), " rows from ", statement));
  }
  return std::move(r.rows[0]);
}

// The violations found in warehouse w (appended to *violations).
absl::Status CheckWarehouse(Txn& txn, const Config& config, int64_t w,
                            std::vector<std::string>* violations) {
  // Loaded: W_YTD 300,000.00 and D_YTD 30,000.00 against one 10.00 payment per customer.
  const int64_t district_offset = 3'000'000 - 1000 * int64_t{config.customers};
  const int64_t warehouse_offset = kDistrictsPerWarehouse * district_offset;
  const auto fail = [&](std::string what) {
    violations->push_back(absl::StrCat("warehouse ", w, ": ", what));
  };
  ASSIGN_OR_RETURN(std::vector<Value> wh, Row(txn, "SELECT w_ytd FROM warehouse WHERE w_id = @w",
                                              {{"w", Value::Int64(w)}}));
  int64_t sum_d_ytd = 0, sum_h_w = 0;
  for (int64_t d = 1; d <= kDistrictsPerWarehouse; ++d) {
    const Params p = {{"w", Value::Int64(w)}, {"d", Value::Int64(d)}};
    const std::string where = absl::StrCat("district ", d, ": ");
    ASSIGN_OR_RETURN(
        std::vector<Value> dist,
        Row(txn, "SELECT d_next_o_id, d_ytd FROM district WHERE w_id = @w AND d_id = @d", p));
    ASSIGN_OR_RETURN(std::vector<Value> orders,
                     Row(txn,
                         "SELECT MAX(o_id), SUM(o_ol_cnt), COUNT(*) FROM orders WHERE w_id = @w "
                         "AND d_id = @d",
                         p));
    ASSIGN_OR_RETURN(std::vector<Value> lines,
                     Row(txn, "SELECT COUNT(*) FROM order_line WHERE w_id = @w AND d_id = @d", p));
    ASSIGN_OR_RETURN(std::vector<Value> no,
                     Row(txn,
                         "SELECT MAX(o_id), MIN(o_id), COUNT(*) FROM new_order WHERE w_id = @w "
                         "AND d_id = @d",
                         p));
    ASSIGN_OR_RETURN(
        std::vector<Value> hist,
        Row(txn, "SELECT SUM(h_amount) FROM history WHERE w_id = @w AND d_id = @d", p));
    const int64_t next = I(dist[0]), d_ytd = I(dist[1]);
    sum_d_ytd += d_ytd;
    sum_h_w += I(hist[0]);
    if (next - 1 != I(orders[0])) {
      fail(absl::StrCat(where, "D_NEXT_O_ID - 1 = ", next - 1, " but max(O_ID) = ", I(orders[0]),
                        " (3.3.2.2)"));
    }
    if (I(no[2]) > 0 && next - 1 != I(no[0])) {
      fail(absl::StrCat(where, "D_NEXT_O_ID - 1 = ", next - 1, " but max(NO_O_ID) = ", I(no[0]),
                        " (3.3.2.2)"));
    }
    if (I(no[2]) > 0 && I(no[0]) - I(no[1]) + 1 != I(no[2])) {
      fail(absl::StrCat(where, "max(NO_O_ID) - min(NO_O_ID) + 1 = ", I(no[0]) - I(no[1]) + 1,
                        " but there are ", I(no[2]), " NEW-ORDER rows (3.3.2.3)"));
    }
    if (I(orders[1]) != I(lines[0])) {
      fail(absl::StrCat(where, "sum(O_OL_CNT) = ", I(orders[1]), " but there are ", I(lines[0]),
                        " ORDER-LINE rows (3.3.2.4)"));
    }
    if (d_ytd - I(hist[0]) != district_offset) {
      fail(absl::StrCat(where, "D_YTD = ", d_ytd, " but sum(H_AMOUNT) = ", I(hist[0]),
                        " (3.3.2.9, in cents)"));
    }
  }
  const int64_t w_ytd = I(wh[0]);
  if (w_ytd != sum_d_ytd) {
    fail(absl::StrCat("W_YTD = ", w_ytd, " but sum(D_YTD) = ", sum_d_ytd, " (3.3.2.1, in cents)"));
  }
  if (w_ytd - sum_h_w != warehouse_offset) {
    fail(absl::StrCat("W_YTD = ", w_ytd, " but sum(H_AMOUNT) = ", sum_h_w, " (3.3.2.8, in cents)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<bool> CheckConsistency(Connection& connection, const Config& config,
                                      std::vector<std::string>* found_out) {
  std::vector<std::string> violations;
  for (int64_t w = 1; w <= config.warehouses; ++w) {
    std::vector<std::string> found;
    int attempts = 0;
    RETURN_IF_ERROR(connection.Run(
        true,
        [&](Txn& txn) {
          found.clear();
          return CheckWarehouse(txn, config, w, &found);
        },
        &attempts));
    violations.insert(violations.end(), found.begin(), found.end());
  }
  for (const std::string& v : violations) std::printf("VIOLATION: %s\n", v.c_str());
  if (found_out != nullptr)
    found_out->insert(found_out->end(), violations.begin(), violations.end());
  if (violations.empty()) {
    std::printf(
        "check: ok (%d warehouses; clauses 3.3.2.1, 3.3.2.2, 3.3.2.3, 3.3.2.4, 3.3.2.8, "
        "3.3.2.9)\n",
        config.warehouses);
  }
  std::fflush(stdout);
  return violations.empty();
}

}  // namespace meridian::tools::tpcc
