#include "sql_lite/value.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "gtest/gtest.h"
#include "sql_lite/timestamp.h"

namespace meridian::sql {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

Value Cmp(CompareOp op, const Value& a, const Value& b) {
  absl::StatusOr<Value> r = Compare(op, a, b);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : Value::String("error");
}

TEST(ValueTest, TypeNamesRoundTrip) {
  for (Type t :
       {Type::kInt64, Type::kFloat64, Type::kBool, Type::kString, Type::kBytes, Type::kTimestamp}) {
    EXPECT_EQ(TypeFromName(TypeName(t)), t);
  }
  EXPECT_EQ(TypeFromName("int64"), Type::kInt64);
  EXPECT_EQ(TypeFromName("Timestamp"), Type::kTimestamp);
  EXPECT_EQ(TypeFromName("NULL"), std::nullopt);
  EXPECT_EQ(TypeFromName("INT"), std::nullopt);
}

TEST(ValueTest, NullComparesToNull) {
  for (CompareOp op : {CompareOp::kEq, CompareOp::kNe, CompareOp::kLt, CompareOp::kGe}) {
    EXPECT_TRUE(Cmp(op, Value::Null(), Value::Int64(1)).is_null());
    EXPECT_TRUE(Cmp(op, Value::String("a"), Value::Null()).is_null());
    EXPECT_TRUE(Cmp(op, Value::Null(), Value::Null()).is_null());
  }
}

TEST(ValueTest, ComparesWithinTypes) {
  EXPECT_EQ(Cmp(CompareOp::kLt, Value::Int64(1), Value::Int64(2)), Value::Bool(true));
  EXPECT_EQ(Cmp(CompareOp::kGe, Value::String("b"), Value::String("a")), Value::Bool(true));
  EXPECT_EQ(Cmp(CompareOp::kEq, Value::Bytes(std::string("\0", 1)), Value::Bytes("")),
            Value::Bool(false));
  EXPECT_EQ(Cmp(CompareOp::kLt, Value::Bool(false), Value::Bool(true)), Value::Bool(true));
  EXPECT_EQ(Cmp(CompareOp::kNe, Value::Timestamp(5), Value::Timestamp(5)), Value::Bool(false));
}

TEST(ValueTest, IntAndFloatCompareExactly) {
  EXPECT_EQ(Cmp(CompareOp::kEq, Value::Int64(1), Value::Float64(1.0)), Value::Bool(true));
  EXPECT_EQ(Cmp(CompareOp::kLt, Value::Int64(1), Value::Float64(1.5)), Value::Bool(true));
  EXPECT_EQ(Cmp(CompareOp::kGt, Value::Float64(-0.5), Value::Int64(-1)), Value::Bool(true));
  // 2^63 - 1 rounds to 2^63 as a double; an exact comparison still sees them differ.
  EXPECT_EQ(Cmp(CompareOp::kLt, Value::Int64(kMax), Value::Float64(9223372036854775808.0)),
            Value::Bool(true));
  EXPECT_EQ(Cmp(CompareOp::kEq, Value::Int64(kMin), Value::Float64(-9223372036854775808.0)),
            Value::Bool(true));
  EXPECT_EQ(Cmp(CompareOp::kGt, Value::Int64(kMin), Value::Float64(-kInf)), Value::Bool(true));
}

TEST(ValueTest, NaNIsUnequalToEverything) {
  EXPECT_EQ(Cmp(CompareOp::kEq, Value::Float64(kNaN), Value::Float64(kNaN)), Value::Bool(false));
  EXPECT_EQ(Cmp(CompareOp::kNe, Value::Float64(kNaN), Value::Float64(kNaN)), Value::Bool(true));
  EXPECT_EQ(Cmp(CompareOp::kLt, Value::Int64(1), Value::Float64(kNaN)), Value::Bool(false));
}

TEST(ValueTest, IncomparableTypesAreErrors) {
  const absl::StatusOr<Value> r = Compare(CompareOp::kEq, Value::Int64(1), Value::String("1"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "cannot compare INT64 with STRING");
  EXPECT_FALSE(Compare(CompareOp::kLt, Value::Bool(true), Value::Int64(1)).ok());
  EXPECT_FALSE(Compare(CompareOp::kLt, Value::String("a"), Value::Bytes("a")).ok());
}

TEST(ValueTest, TotalOrderPutsNullsFirstAndNaNFirstAmongNumbers) {
  std::vector<Value> values = {Value::Int64(3),     Value::Null(),        Value::Float64(-kInf),
                               Value::String("b"),  Value::Float64(kNaN), Value::Bool(true),
                               Value::Float64(2.5), Value::Timestamp(0),  Value::Bytes("a"),
                               Value::String("a"),  Value::Bool(false),   Value::Int64(kMin)};
  std::sort(values.begin(), values.end(),
            [](const Value& a, const Value& b) { return OrderCompare(a, b) < 0; });
  const std::vector<Value> expected = {
      Value::Null(),         Value::Bool(false), Value::Bool(true),   Value::Float64(kNaN),
      Value::Float64(-kInf), Value::Int64(kMin), Value::Float64(2.5), Value::Int64(3),
      Value::String("a"),    Value::String("b"), Value::Bytes("a"),   Value::Timestamp(0)};
  EXPECT_EQ(values, expected);
  EXPECT_EQ(OrderCompare(Value::Null(), Value::Null()), 0);
  EXPECT_EQ(OrderCompare(Value::Int64(1), Value::Float64(1.0)), 0);
  EXPECT_EQ(OrderCompare(Value::Float64(kNaN), Value::Float64(kNaN)), 0);
}

struct ArithCase {
  const char* name;
  absl::StatusOr<Value> (*op)(const Value&, const Value&);
  Value a;
  Value b;
  absl::StatusCode code;  // kOk: `result` is expected
  Value result;
};

TEST(ValueTest, Arithmetic) {
  const ArithCase cases[] = {
      {"add", Add, Value::Int64(2), Value::Int64(3), absl::StatusCode::kOk, Value::Int64(5)},
      {"add overflow", Add, Value::Int64(kMax), Value::Int64(1), absl::StatusCode::kOutOfRange,
       Value()},
      {"sub overflow", Subtract, Value::Int64(kMin), Value::Int64(1), absl::StatusCode::kOutOfRange,
       Value()},
      {"mul overflow", Multiply, Value::Int64(kMax / 2 + 1), Value::Int64(2),
       absl::StatusCode::kOutOfRange, Value()},
      {"mul", Multiply, Value::Int64(-4), Value::Int64(5), absl::StatusCode::kOk,
       Value::Int64(-20)},
      {"div truncates", Divide, Value::Int64(-7), Value::Int64(2), absl::StatusCode::kOk,
       Value::Int64(-3)},
      {"div by zero", Divide, Value::Int64(1), Value::Int64(0), absl::StatusCode::kOutOfRange,
       Value()},
      {"float div by zero", Divide, Value::Float64(1), Value::Float64(0),
       absl::StatusCode::kOutOfRange, Value()},
      {"min / -1", Divide, Value::Int64(kMin), Value::Int64(-1), absl::StatusCode::kOutOfRange,
       Value()},
      {"mod", Modulo, Value::Int64(-7), Value::Int64(3), absl::StatusCode::kOk, Value::Int64(-1)},
      {"mod by zero", Modulo, Value::Int64(7), Value::Int64(0), absl::StatusCode::kOutOfRange,
       Value()},
      {"min % -1", Modulo, Value::Int64(kMin), Value::Int64(-1), absl::StatusCode::kOk,
       Value::Int64(0)},
      {"mod float", Modulo, Value::Float64(1), Value::Int64(1), absl::StatusCode::kInvalidArgument,
       Value()},
      {"mixed", Add, Value::Int64(1), Value::Float64(0.5), absl::StatusCode::kOk,
       Value::Float64(1.5)},
      {"null left", Add, Value::Null(), Value::Int64(1), absl::StatusCode::kOk, Value()},
      {"null right div by null", Divide, Value::Int64(1), Value::Null(), absl::StatusCode::kOk,
       Value()},
      {"string plus", Add, Value::String("a"), Value::Int64(1), absl::StatusCode::kInvalidArgument,
       Value()},
      {"concat", Concat, Value::String("ab"), Value::String("c"), absl::StatusCode::kOk,
       Value::String("abc")},
      {"concat bytes", Concat, Value::Bytes("a"), Value::Bytes("b"), absl::StatusCode::kOk,
       Value::Bytes("ab")},
      {"concat null", Concat, Value::String("a"), Value::Null(), absl::StatusCode::kOk, Value()},
      {"concat mixed", Concat, Value::String("a"), Value::Bytes("b"),
       absl::StatusCode::kInvalidArgument, Value()},
  };
  for (const ArithCase& c : cases) {
    SCOPED_TRACE(c.name);
    const absl::StatusOr<Value> r = c.op(c.a, c.b);
    EXPECT_EQ(r.status().code(), c.code) << r.status();
    if (r.ok()) {
      EXPECT_EQ(*r, c.result) << r->ToSqlLiteral();
    }
  }
}

TEST(ValueTest, OverflowMessageNamesTheOperands) {
  const absl::StatusOr<Value> r = Add(Value::Int64(kMax), Value::Int64(1));
  EXPECT_EQ(r.status().message(), "INT64 overflow: 9223372036854775807 + 1");
  EXPECT_EQ(Divide(Value::Int64(1), Value::Int64(0)).status().message(), "division by zero");
}

TEST(ValueTest, Negate) {
  EXPECT_EQ(*Negate(Value::Int64(5)), Value::Int64(-5));
  EXPECT_EQ(*Negate(Value::Float64(1.5)), Value::Float64(-1.5));
  EXPECT_TRUE(Negate(Value::Null())->is_null());
  EXPECT_EQ(Negate(Value::Int64(kMin)).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(Negate(Value::String("a")).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ValueTest, ThreeValuedLogic) {
  const Value t = Value::Bool(true), f = Value::Bool(false), n = Value::Null();
  EXPECT_EQ(*And(t, t), t);
  EXPECT_EQ(*And(f, n), f);
  EXPECT_EQ(*And(n, f), f);
  EXPECT_EQ(*And(t, n), n);
  EXPECT_EQ(*Or(t, n), t);
  EXPECT_EQ(*Or(n, f), n);
  EXPECT_EQ(*Or(f, f), f);
  EXPECT_EQ(*Not(n), n);
  EXPECT_EQ(*Not(t), f);
  EXPECT_FALSE(And(t, Value::Int64(1)).ok());
}

TEST(ValueTest, SqlLiterals) {
  EXPECT_EQ(Value::Null().ToSqlLiteral(), "NULL");
  EXPECT_EQ(Value::Int64(kMin).ToSqlLiteral(), "-9223372036854775808");
  EXPECT_EQ(Value::Float64(1).ToSqlLiteral(), "1.0");
  EXPECT_EQ(Value::Float64(-0.0).ToSqlLiteral(), "-0.0");
  EXPECT_EQ(Value::Float64(0.1).ToSqlLiteral(), "0.1");
  EXPECT_EQ(Value::Float64(1e300).ToSqlLiteral(), "1e+300");
  EXPECT_EQ(Value::Float64(kInf).ToSqlLiteral(), "CAST('inf' AS FLOAT64)");
  EXPECT_EQ(Value::Float64(kNaN).ToSqlLiteral(), "CAST('nan' AS FLOAT64)");
  EXPECT_EQ(Value::Bool(true).ToSqlLiteral(), "TRUE");
  EXPECT_EQ(Value::String("it's").ToSqlLiteral(), "'it''s'");
  EXPECT_EQ(Value::Bytes(std::string("\x00\xff", 2)).ToSqlLiteral(), "x'00ff'");
  EXPECT_EQ(Value::Timestamp(1796637600000000).ToSqlLiteral(),
            "TIMESTAMP '2026-12-07 10:00:00+00'");
}

TEST(ValueTest, ToStringIsForPeople) {
  EXPECT_EQ(Value::String("it's").ToString(), "it's");
  EXPECT_EQ(Value::Bytes("abc").ToString(), "YWJj");
  EXPECT_EQ(Value::Bool(false).ToString(), "false");
  EXPECT_EQ(Value::Float64(2.5).ToString(), "2.5");
  EXPECT_EQ(Value::Timestamp(1).ToString(), "1970-01-01 00:00:00.000001+00");
}

TEST(TimestampTest, ParsesAndFormats) {
  EXPECT_EQ(*ParseTimestamp("2026-12-07 10:00:00+00"), 1796637600000000);
  EXPECT_EQ(*ParseTimestamp("2026-12-07T10:00:00Z"), 1796637600000000);
  EXPECT_EQ(*ParseTimestamp("2026-12-07 11:30:00+01:30"), 1796637600000000);
  EXPECT_EQ(*ParseTimestamp("2026-12-07 02:00:00-0800"), 1796637600000000);
  EXPECT_EQ(*ParseTimestamp("2026-12-07 10:00:00"), 1796637600000000);
  EXPECT_EQ(*ParseTimestamp("1970-01-01"), 0);
  EXPECT_EQ(*ParseTimestamp("1969-12-31 23:59:59.5"), -500000);
  EXPECT_EQ(FormatTimestamp(-500000), "1969-12-31 23:59:59.500000+00");
  EXPECT_EQ(FormatTimestamp(kMinTimestampMicros), "0001-01-01 00:00:00+00");
  EXPECT_EQ(FormatTimestamp(kMaxTimestampMicros), "9999-12-31 23:59:59.999999+00");
  for (int64_t t : {kMinTimestampMicros, int64_t{-1}, int64_t{0}, int64_t{951782400000000},
                    kMaxTimestampMicros}) {
    EXPECT_EQ(*ParseTimestamp(FormatTimestamp(t)), t) << t;
  }
}

TEST(TimestampTest, RefusesBadText) {
  for (const char* bad :
       {"", "2026-13-01", "2026-02-30", "2025-02-29 00:00:00", "2026-1-01", "2026-01-01 24:00:00",
        "2026-01-01 10:00", "2026-01-01 10:00:00.1234567", "2026-01-01 10:00:00+",
        "2026-01-01 10:00:00 PST", "0000-12-31", "9999-12-31 23:59:59-01"}) {
    EXPECT_FALSE(ParseTimestamp(bad).ok()) << bad;
  }
  EXPECT_TRUE(ParseTimestamp("2024-02-29").ok());
}

}  // namespace
}  // namespace meridian::sql
