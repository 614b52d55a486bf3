// Where TPC-C's warehouses live on Meridian: each warehouse's directory (its row and everything
// interleaved in it) and its entries of the two indexes (which start with w_id) are split off at
// warehouse boundaries and placed in one group per warehouse, the warehouses dealt round-robin
// over the groups in an order that alternates their leaders' servers. A New-Order or Payment
// whose rows are all in its home warehouse then commits in one group; only remote stock (1% of
// order lines) and remote customers (15% of payments) make a two-phase commit.
#ifndef MERIDIAN_TOOLS_TPCC_PLACEMENT_H_
#define MERIDIAN_TOOLS_TPCC_PLACEMENT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "meridian/client.h"
#include "sql_lite/kv.h"

namespace meridian::tools::tpcc {

// The KV keys (with `key_prefix`) at which warehouse w's data starts, for w = 1 .. warehouses + 1
// (the last ones end warehouse `warehouses`): one vector per warehouse, one key per region
// (the warehouse table's directories, then each index). Reads the schema from `db`.
absl::StatusOr<std::vector<std::vector<std::string>>> WarehouseStarts(sql::KvDatabase& db,
                                                                      const std::string& key_prefix,
                                                                      int warehouses);

// Splits at WarehouseStarts and moves each warehouse's pieces to its group; prints the plan and
// progress. Idempotent: splits that exist are kept, pieces in place are not moved.
absl::Status SpreadWarehouses(Client& client, sql::KvDatabase& db, const std::string& key_prefix,
                              int warehouses);

}  // namespace meridian::tools::tpcc

#endif  // MERIDIAN_TOOLS_TPCC_PLACEMENT_H_
