// main() of sql_lite_schema_change_test: gtest's flags, then --plant=skip_write_only,
// --plant=snapshot_uses_pending_schema or --plant=schema_change_ignores_leases to turn on a planted
// bug (testing_plants.h) that the tests' checkers must catch (online_index_test.cc,
// schema_change_test.cc).
#include <cstring>
#include <iostream>

#include "gtest/gtest.h"
#include "sql_lite/testing_plants.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--plant=skip_write_only") == 0) {
      meridian::sql::MutableTestingPlants().skip_write_only = true;
    } else if (std::strcmp(argv[i], "--plant=snapshot_uses_pending_schema") == 0) {
      meridian::sql::MutableTestingPlants().snapshot_uses_pending_schema = true;
    } else if (std::strcmp(argv[i], "--plant=schema_change_ignores_leases") == 0) {
      meridian::sql::MutableTestingPlants().schema_change_ignores_leases = true;
    } else {
      std::cerr << "unknown flag " << argv[i] << "\n";
      return 2;
    }
  }
  return RUN_ALL_TESTS();
}
