// TPC-C's pure pieces: the PostgreSQL parameter numbering, last names and NURand.
#include "tools/tpcc.h"

#include <algorithm>
#include <map>
#include <string>

#include "common/random.h"
#include "gtest/gtest.h"
#include "tools/tpcc_pg_params.h"

namespace meridian::tools::tpcc {
namespace {

TEST(NumberParametersTest, NamesBecomeNumbersAndRepeatsShareOne) {
  const NumberedStatement n =
      NumberParameters("UPDATE t SET a = a + @amt WHERE w_id = @w AND b = @amt AND c = @w_2");
  EXPECT_EQ(n.text, "UPDATE t SET a = a + $1 WHERE w_id = $2 AND b = $1 AND c = $3");
  EXPECT_EQ(n.names, (std::vector<std::string>{"amt", "w", "w_2"}));
}

TEST(NumberParametersTest, LiteralsAndLoneAtSignsStayAsTheyAre) {
  const NumberedStatement n = NumberParameters("SELECT 'a@b', 'it''s @x', @y, 1 @ 2");
  EXPECT_EQ(n.text, "SELECT 'a@b', 'it''s @x', $1, 1 @ 2");
  EXPECT_EQ(n.names, (std::vector<std::string>{"y"}));
}

TEST(ParameterTextTest, EachTypeAsPostgresReadsIt) {
  EXPECT_EQ(ParameterText(sql::Value::Int64(-42)), "-42");
  EXPECT_EQ(ParameterText(sql::Value::String("x y")), "x y");
  EXPECT_EQ(ParameterText(sql::Value::Bool(true)), "true");
  EXPECT_EQ(ParameterText(sql::Value::Timestamp(1'000'000'000'123'456)),
            "2001-09-09 01:46:40.123456+00");
}

TEST(TpccRandomTest, LastNamesFollowTheSyllables) {
  EXPECT_EQ(LastName(0), "BARBARBAR");
  EXPECT_EQ(LastName(371), "PRICALLYOUGHT");
  EXPECT_EQ(LastName(999), "EINGEINGEING");
}

TEST(TpccRandomTest, NURandStaysInRangeAndSkews) {
  Config config;
  config.items = 100'000;
  config.customers = 3'000;
  TpccRandom r(Random(5), config, 223, 259, 7911);
  std::map<int64_t, int> customers;
  for (int i = 0; i < 20'000; ++i) {
    const int64_t c = r.CustomerId();
    ASSERT_GE(c, 1);
    ASSERT_LE(c, 3'000);
    ++customers[c];
    const int64_t item = r.ItemId();
    ASSERT_GE(item, 1);
    ASSERT_LE(item, 100'000);
  }
  EXPECT_GT(customers.size(), 2'000u);  // most customers are drawn
  // ... but not uniformly: NURand's OR of two draws favours ids with more bits set.
  int most = 0;
  for (const auto& [id, n] : customers) most = std::max(most, n);
  EXPECT_GT(most, 3 * 20'000 / 3'000);
  const std::string last = r.RunLastName();
  EXPECT_GE(last.size(), 9u);
}

}  // namespace
}  // namespace meridian::tools::tpcc
