#include "sql_lite/value.h"

#include <charconv>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "common/status_macros.h"
#include "sql_lite/text_util.h"
#include "sql_lite/timestamp.h"

namespace meridian::sql {
namespace {

constexpr double kTwoTo63 = 9223372036854775808.0;

std::string FormatDouble(double v) {
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof(buf), v);
  CHECK(result.ec == std::errc());
  return std::string(buf, result.ptr);
}

// Exact comparison of an integer with a non-NaN double.
int CompareIntDouble(int64_t i, double d) {
  if (d >= kTwoTo63) return -1;
  if (d < -kTwoTo63) return 1;
  const double whole = std::trunc(d);
  const int64_t w = static_cast<int64_t>(whole);
  if (i != w) return i < w ? -1 : 1;
  const double frac = d - whole;
  return frac > 0 ? -1 : (frac < 0 ? 1 : 0);
}

template <typename T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

bool IsNumeric(Type t) { return t == Type::kInt64 || t == Type::kFloat64; }

double AsDouble(const Value& v) {
  return v.type() == Type::kInt64 ? static_cast<double>(v.int64_value()) : v.float64_value();
}

// Compares two non-NULL numbers; nullopt when either is NaN.
std::optional<int> CompareNumbers(const Value& a, const Value& b) {
  const bool a_int = a.type() == Type::kInt64;
  const bool b_int = b.type() == Type::kInt64;
  if (a_int && b_int) return Cmp(a.int64_value(), b.int64_value());
  if ((!a_int && std::isnan(a.float64_value())) || (!b_int && std::isnan(b.float64_value()))) {
    return std::nullopt;
  }
  if (a_int) return CompareIntDouble(a.int64_value(), b.float64_value());
  if (b_int) return -CompareIntDouble(b.int64_value(), a.float64_value());
  return Cmp(a.float64_value(), b.float64_value());
}

// Compares two non-NULL values of one type (numbers excepted: see CompareNumbers).
int CompareSameType(const Value& a, const Value& b) {
  switch (a.type()) {
    case Type::kBool:
      return Cmp(a.bool_value(), b.bool_value());
    case Type::kString:
      return Cmp(a.string_value(), b.string_value());
    case Type::kBytes:
      return Cmp(a.bytes_value(), b.bytes_value());
    case Type::kTimestamp:
      return Cmp(a.timestamp_micros(), b.timestamp_micros());
    default:
      CHECK(false);
  }
  return 0;
}

// Where a type's values sit in the total order.
int TypeRank(Type t) {
  switch (t) {
    case Type::kNull:
      return 0;
    case Type::kBool:
      return 1;
    case Type::kInt64:
    case Type::kFloat64:
      return 2;
    case Type::kString:
      return 3;
    case Type::kBytes:
      return 4;
    case Type::kTimestamp:
      return 5;
  }
  return 6;
}

absl::Status TypeError(std::string_view op, const Value& a, const Value& b) {
  return absl::InvalidArgumentError(absl::StrCat(
      "no operator ", Sv(op), " for ", Sv(TypeName(a.type())), " and ", Sv(TypeName(b.type()))));
}

absl::Status Overflow(std::string_view op, const Value& a, const Value& b) {
  return absl::OutOfRangeError(
      absl::StrCat("INT64 overflow: ", a.ToSqlLiteral(), " ", Sv(op), " ", b.ToSqlLiteral()));
}

enum class ArithOp { kAdd, kSub, kMul, kDiv };

absl::StatusOr<Value> IntArith(ArithOp op, std::string_view name, const Value& a, const Value& b) {
  const int64_t x = a.int64_value();
  const int64_t y = b.int64_value();
  int64_t r = 0;
  bool overflow = false;
  switch (op) {
    case ArithOp::kAdd:
      overflow = __builtin_add_overflow(x, y, &r);
      break;
    case ArithOp::kSub:
      overflow = __builtin_sub_overflow(x, y, &r);
      break;
    case ArithOp::kMul:
      overflow = __builtin_mul_overflow(x, y, &r);
      break;
    case ArithOp::kDiv:
      if (y == 0) return absl::OutOfRangeError("division by zero");
      overflow = x == INT64_MIN && y == -1;
      if (!overflow) r = x / y;
      break;
  }
  if (overflow) return Overflow(name, a, b);
  return Value::Int64(r);
}

absl::StatusOr<Value> Arith(ArithOp op, std::string_view name, const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return Value::Null();
  if (!IsNumeric(a.type()) || !IsNumeric(b.type())) return TypeError(name, a, b);
  if (a.type() == Type::kInt64 && b.type() == Type::kInt64) return IntArith(op, name, a, b);
  const double x = AsDouble(a);
  const double y = AsDouble(b);
  switch (op) {
    case ArithOp::kAdd:
      return Value::Float64(x + y);
    case ArithOp::kSub:
      return Value::Float64(x - y);
    case ArithOp::kMul:
      return Value::Float64(x * y);
    case ArithOp::kDiv:
      if (y == 0) return absl::OutOfRangeError("division by zero");
      return Value::Float64(x / y);
  }
  return absl::InternalError("unknown arithmetic operator");
}

// BOOL or NULL operands for the logic operators: 0 false, 1 true, 2 NULL.
absl::StatusOr<int> Truth(const Value& v, std::string_view op) {
  if (v.is_null()) return 2;
  if (v.type() != Type::kBool) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(op), " needs BOOL operands, not ", Sv(TypeName(v.type()))));
  }
  return v.bool_value() ? 1 : 0;
}

}  // namespace

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kNull:
      return "NULL";
    case Type::kInt64:
      return "INT64";
    case Type::kFloat64:
      return "FLOAT64";
    case Type::kBool:
      return "BOOL";
    case Type::kString:
      return "STRING";
    case Type::kBytes:
      return "BYTES";
    case Type::kTimestamp:
      return "TIMESTAMP";
  }
  return "UNKNOWN";
}

std::optional<Type> TypeFromName(std::string_view name) {
  for (Type t :
       {Type::kInt64, Type::kFloat64, Type::kBool, Type::kString, Type::kBytes, Type::kTimestamp}) {
    if (EqualsIgnoreCase(name, TypeName(t))) return t;
  }
  return std::nullopt;
}

int64_t Value::int64_value() const {
  CHECK(type_ == Type::kInt64);
  return std::get<int64_t>(rep_);
}
double Value::float64_value() const {
  CHECK(type_ == Type::kFloat64);
  return std::get<double>(rep_);
}
bool Value::bool_value() const {
  CHECK(type_ == Type::kBool);
  return std::get<bool>(rep_);
}
const std::string& Value::string_value() const {
  CHECK(type_ == Type::kString);
  return std::get<std::string>(rep_);
}
const std::string& Value::bytes_value() const {
  CHECK(type_ == Type::kBytes);
  return std::get<std::string>(rep_);
}
int64_t Value::timestamp_micros() const {
  CHECK(type_ == Type::kTimestamp);
  return std::get<int64_t>(rep_);
}

std::string Value::ToString() const {
  switch (type_) {
    case Type::kNull:
      return "NULL";
    case Type::kInt64:
      return absl::StrCat(int64_value());
    case Type::kFloat64:
      return FormatDouble(float64_value());
    case Type::kBool:
      return bool_value() ? "true" : "false";
    case Type::kString:
      return string_value();
    case Type::kBytes:
      return absl::Base64Escape(bytes_value());
    case Type::kTimestamp:
      return FormatTimestamp(timestamp_micros());
  }
  return "";
}

std::string Value::ToSqlLiteral() const {
  switch (type_) {
    case Type::kNull:
      return "NULL";
    case Type::kInt64:
      return absl::StrCat(int64_value());
    case Type::kFloat64: {
      const double v = float64_value();
      if (std::isnan(v)) return "CAST('nan' AS FLOAT64)";
      if (std::isinf(v)) return v > 0 ? "CAST('inf' AS FLOAT64)" : "CAST('-inf' AS FLOAT64)";
      std::string s = FormatDouble(v);
      // Keep it a float when read back: "1" would be an INT64.
      if (s.find_first_of(".e") == std::string::npos) s += ".0";
      return s;
    }
    case Type::kBool:
      return bool_value() ? "TRUE" : "FALSE";
    case Type::kString: {
      std::string out = "'";
      for (char c : string_value()) {
        if (c == '\'') out += '\'';
        out += c;
      }
      return out + "'";
    }
    case Type::kBytes:
      return absl::StrCat("x'", absl::BytesToHexString(bytes_value()), "'");
    case Type::kTimestamp:
      return absl::StrCat("TIMESTAMP '", FormatTimestamp(timestamp_micros()), "'");
  }
  return "";
}

bool operator==(const Value& a, const Value& b) {
  if (a.type_ != b.type_) return false;
  if (a.type_ == Type::kFloat64 && std::isnan(a.float64_value())) {
    return std::isnan(b.float64_value());
  }
  return a.rep_ == b.rep_;
}

absl::StatusOr<Value> Compare(CompareOp op, const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return Value::Null();
  std::optional<int> c;
  if (IsNumeric(a.type()) && IsNumeric(b.type())) {
    c = CompareNumbers(a, b);
  } else if (a.type() == b.type()) {
    c = CompareSameType(a, b);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot compare ", Sv(TypeName(a.type())), " with ", Sv(TypeName(b.type()))));
  }
  if (!c.has_value()) return Value::Bool(op == CompareOp::kNe);  // NaN
  switch (op) {
    case CompareOp::kEq:
      return Value::Bool(*c == 0);
    case CompareOp::kNe:
      return Value::Bool(*c != 0);
    case CompareOp::kLt:
      return Value::Bool(*c < 0);
    case CompareOp::kLe:
      return Value::Bool(*c <= 0);
    case CompareOp::kGt:
      return Value::Bool(*c > 0);
    case CompareOp::kGe:
      return Value::Bool(*c >= 0);
  }
  return absl::InternalError("unknown comparison operator");
}

int OrderCompare(const Value& a, const Value& b) {
  const int ra = TypeRank(a.type());
  const int rb = TypeRank(b.type());
  if (ra != rb) return ra < rb ? -1 : 1;
  if (a.is_null()) return 0;
  if (ra == TypeRank(Type::kInt64)) {
    const bool a_nan = a.type() == Type::kFloat64 && std::isnan(a.float64_value());
    const bool b_nan = b.type() == Type::kFloat64 && std::isnan(b.float64_value());
    if (a_nan || b_nan) return Cmp(b_nan, a_nan);  // NaN first
    return *CompareNumbers(a, b);
  }
  return CompareSameType(a, b);
}

absl::StatusOr<Value> And(const Value& a, const Value& b) {
  ASSIGN_OR_RETURN(const int x, Truth(a, "AND"));
  ASSIGN_OR_RETURN(const int y, Truth(b, "AND"));
  if (x == 0 || y == 0) return Value::Bool(false);
  if (x == 2 || y == 2) return Value::Null();
  return Value::Bool(true);
}

absl::StatusOr<Value> Or(const Value& a, const Value& b) {
  ASSIGN_OR_RETURN(const int x, Truth(a, "OR"));
  ASSIGN_OR_RETURN(const int y, Truth(b, "OR"));
  if (x == 1 || y == 1) return Value::Bool(true);
  if (x == 2 || y == 2) return Value::Null();
  return Value::Bool(false);
}

absl::StatusOr<Value> Not(const Value& a) {
  ASSIGN_OR_RETURN(const int x, Truth(a, "NOT"));
  if (x == 2) return Value::Null();
  return Value::Bool(x == 0);
}

absl::StatusOr<Value> Add(const Value& a, const Value& b) {
  return Arith(ArithOp::kAdd, "+", a, b);
}
absl::StatusOr<Value> Subtract(const Value& a, const Value& b) {
  return Arith(ArithOp::kSub, "-", a, b);
}
absl::StatusOr<Value> Multiply(const Value& a, const Value& b) {
  return Arith(ArithOp::kMul, "*", a, b);
}
absl::StatusOr<Value> Divide(const Value& a, const Value& b) {
  return Arith(ArithOp::kDiv, "/", a, b);
}

absl::StatusOr<Value> Modulo(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return Value::Null();
  if (a.type() != Type::kInt64 || b.type() != Type::kInt64) return TypeError("%", a, b);
  if (b.int64_value() == 0) return absl::OutOfRangeError("division by zero");
  // INT64_MIN % -1 is 0 mathematically but traps in C++.
  if (b.int64_value() == -1) return Value::Int64(0);
  return Value::Int64(a.int64_value() % b.int64_value());
}

absl::StatusOr<Value> Negate(const Value& a) {
  switch (a.type()) {
    case Type::kNull:
      return Value::Null();
    case Type::kInt64:
      if (a.int64_value() == INT64_MIN) {
        return absl::OutOfRangeError(absl::StrCat("INT64 overflow: -(", a.ToSqlLiteral(), ")"));
      }
      return Value::Int64(-a.int64_value());
    case Type::kFloat64:
      return Value::Float64(-a.float64_value());
    default:
      return absl::InvalidArgumentError(absl::StrCat("no operator - for ", Sv(TypeName(a.type()))));
  }
}

absl::StatusOr<Value> Concat(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return Value::Null();
  if (a.type() == Type::kString && b.type() == Type::kString) {
    return Value::String(a.string_value() + b.string_value());
  }
  if (a.type() == Type::kBytes && b.type() == Type::kBytes) {
    return Value::Bytes(a.bytes_value() + b.bytes_value());
  }
  return TypeError("||", a, b);
}

}  // namespace meridian::sql
