// Bugs planted on purpose, so that the SQLite differential test (tests/unit/sql_lite/
// sqlite_diff.cc) can show it catches them: each ctest that sets one passes only when the test
// fails. Never set outside that test.
//
// Thread safety: process-wide flags, set once by that test's main() before any Session runs and
// only read afterwards.
#ifndef MERIDIAN_SQL_LITE_TESTING_PLANTS_H_
#define MERIDIAN_SQL_LITE_TESTING_PLANTS_H_

namespace meridian::sql {

struct TestingPlants {
  bool null_equals_null = false;  // `NULL = NULL` is TRUE instead of NULL
  bool limit_off_by_one = false;  // LIMIT n returns n + 1 rows
};

TestingPlants& MutableTestingPlants();

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_TESTING_PLANTS_H_
