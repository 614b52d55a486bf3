// The index consistency checker of the schema change tests: reads a table and one of its indexes
// in one strong snapshot, at the KV level, and lists what is wrong:
//  - a row without its entry, or whose entry points at another row;
//  - an entry without its row (or one that no row of the table would have);
//  - for a unique index, two rows with the same indexed values.
// Every problem is a line starting "index checker: ", so that the ctests of planted bugs can look
// for it. An empty list: the index is exactly what the rows say it should be.
//
// Thread safety: a pure function over a thread-safe KvDatabase.
#ifndef MERIDIAN_TESTS_UNIT_SQL_LITE_INDEX_CHECKER_H_
#define MERIDIAN_TESTS_UNIT_SQL_LITE_INDEX_CHECKER_H_

#include <string>
#include <string_view>
#include <vector>

#include "sql_lite/kv.h"

namespace meridian::sql {

std::vector<std::string> CheckIndex(KvDatabase& kv, std::string_view table, std::string_view index);

// The number of KV pairs under id(`id`) (an index's entries, or a top-level table's rows).
int64_t CountKeysUnder(KvDatabase& kv, uint64_t id);

}  // namespace meridian::sql

#endif  // MERIDIAN_TESTS_UNIT_SQL_LITE_INDEX_CHECKER_H_
