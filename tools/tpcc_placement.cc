#include "tools/tpcc_placement.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "sql_lite/catalog.h"
#include "sql_lite/encoding.h"
#include "sql_lite/row_store.h"
#include "tools/spread.h"

namespace meridian::tools::tpcc {
namespace {

constexpr const char* kIndexes[][2] = {{"customer", "customer_by_name"},
                                       {"orders", "orders_by_customer"}};

}  // namespace

absl::StatusOr<std::vector<std::vector<std::string>>> WarehouseStarts(sql::KvDatabase& db,
                                                                      const std::string& key_prefix,
                                                                      int warehouses) {
  sql::SchemaCache cache(&db);
  std::shared_ptr<const sql::Schema> schema;
  RETURN_IF_ERROR(db.RunReadOnly(sql::ReadBound::Strong(), [&](sql::KvSnapshot& snapshot) {
                      sql::RowStore store(&snapshot, false);
                      ASSIGN_OR_RETURN(schema, cache.Load(store));
                      return absl::OkStatus();
                    }).status());
  const sql::TableSchema* warehouse = schema->FindTable("warehouse");
  if (warehouse == nullptr) return absl::NotFoundError("tpcc: no table warehouse");
  const std::vector<const sql::TableSchema*> ancestry = schema->Ancestry(*warehouse);
  std::vector<std::vector<std::string>> starts;
  for (int64_t w = 1; w <= warehouses + 1; ++w) {
    const std::vector<sql::Value> key = {sql::Value::Int64(w)};
    std::vector<std::string> regions;
    ASSIGN_OR_RETURN(std::string row, sql::EncodeKeyPrefix(ancestry, key));
    regions.push_back(key_prefix + row);
    for (const auto& [table_name, index_name] : kIndexes) {
      const sql::TableSchema* table = schema->FindTable(table_name);
      if (table == nullptr) return absl::NotFoundError(absl::StrCat("tpcc: no table ", table_name));
      const sql::IndexSchema* index = nullptr;
      for (const sql::IndexSchema& i : table->indexes) {
        if (i.name == index_name) index = &i;
      }
      if (index == nullptr) return absl::NotFoundError(absl::StrCat("tpcc: no index ", index_name));
      ASSIGN_OR_RETURN(std::string entry, sql::EncodeIndexPrefix(*table, *index, key));
      regions.push_back(key_prefix + entry);
    }
    starts.push_back(std::move(regions));
  }
  return starts;
}

absl::Status SpreadWarehouses(Client& client, sql::KvDatabase& db, const std::string& key_prefix,
                              int warehouses) {
  ASSIGN_OR_RETURN(const std::vector<std::vector<std::string>> starts,
                   WarehouseStarts(db, key_prefix, warehouses));
  ASSIGN_OR_RETURN(const Topology topology, client.GetTopology());
  const std::vector<uint64_t> groups = GroupsByLeader(topology);
  if (groups.empty()) return absl::FailedPreconditionError("tpcc: the cluster has no group");
  std::vector<Placement> plan;
  for (int w = 1; w <= warehouses; ++w) {
    const uint64_t group = groups[(w - 1) % groups.size()];
    for (size_t region = 0; region < starts[w - 1].size(); ++region) {
      plan.push_back({starts[w - 1][region], starts[w][region], group});
    }
  }
  std::printf("tpcc: placing %d warehouses over %zu groups\n", warehouses,
              std::min<size_t>(groups.size(), warehouses));
  std::fflush(stdout);
  return PlaceRanges(client, plan);
}

}  // namespace meridian::tools::tpcc
