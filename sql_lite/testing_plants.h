// Bugs planted on purpose, so that the SQLite differential test (tests/unit/sql_lite/
// sqlite_diff.cc) and the schema change test (tests/unit/sql_lite/online_index_test.cc) can show
// they catch them: each ctest that sets one passes only when the test fails. Never set outside
// those tests.
//
// Thread safety: process-wide flags, set once by a test's main() before any Session runs and only
// read afterwards.
#ifndef MERIDIAN_SQL_LITE_TESTING_PLANTS_H_
#define MERIDIAN_SQL_LITE_TESTING_PLANTS_H_

namespace meridian::sql {

struct TestingPlants {
  bool null_equals_null = false;  // `NULL = NULL` is TRUE instead of NULL
  bool limit_off_by_one = false;  // LIMIT n returns n + 1 rows
  // CREATE INDEX goes from DELETE_ONLY straight to the backfill: rows written while it runs, in
  // ranges it already passed, get no index entry.
  bool skip_write_only = false;
  // A snapshot uses the newest registered schema version even before it takes effect.
  bool snapshot_uses_pending_schema = false;
  // A schema version takes effect schema_change_delay_us after its registration, not a schema
  // lease later: a transaction on a lease can use the old version after the new one is in effect.
  bool schema_change_ignores_leases = false;
};

TestingPlants& MutableTestingPlants();

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_TESTING_PLANTS_H_
