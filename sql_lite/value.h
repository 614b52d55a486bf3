// Value: one typed SQL value (or NULL), and the semantics every later stage of sql_lite shares:
// SQL three-valued comparison and logic, a total order for ORDER BY / GROUP BY / DISTINCT, and
// arithmetic that reports overflow and division by zero instead of wrapping or trapping.
//
// Types are GoogleSQL's scalar types as Spanner stores them: INT64, FLOAT64, BOOL, STRING (UTF-8 is
// not checked), BYTES and TIMESTAMP (microseconds since the Unix epoch, UTC). NULL is untyped: a
// Value of type kNull. Rules:
//  - Comparison: NULL compared with anything is NULL. INT64 and FLOAT64 compare numerically with
//    each other (exactly, without rounding the integer); otherwise both sides must have one type,
//    or the result is INVALID_ARGUMENT. NaN is unequal to everything, itself included (IEEE).
//  - Total order (OrderCompare): NULL < BOOL < numbers < STRING < BYTES < TIMESTAMP; within
//    numbers NaN comes first, and an INT64 equal to a FLOAT64 compares equal (a total preorder).
//    FALSE < TRUE, strings and bytes compare bytewise. DESC reverses it, so NULLs come last.
//  - Arithmetic: NULL in, NULL out. INT64 op INT64 is INT64; OUT_OF_RANGE on overflow. INT64 mixed
//    with FLOAT64 is FLOAT64. `/` on two INT64s truncates toward zero (docs/sql.md says why);
//    dividing by zero (either type) and `%` by zero are OUT_OF_RANGE. `%` takes INT64s only.
//    Other type mixes are INVALID_ARGUMENT. `||` concatenates two STRINGs or two BYTES.
// Thread-safe as any value type: const methods may run concurrently.
#ifndef MERIDIAN_SQL_LITE_VALUE_H_
#define MERIDIAN_SQL_LITE_VALUE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "absl/status/statusor.h"

namespace meridian::sql {

enum class Type : uint8_t { kNull, kInt64, kFloat64, kBool, kString, kBytes, kTimestamp };

// "INT64", "FLOAT64", "BOOL", "STRING", "BYTES", "TIMESTAMP"; "NULL" for kNull.
std::string_view TypeName(Type type);
// The column type named `name`, case-insensitively; nullopt for anything else (and for "NULL").
std::optional<Type> TypeFromName(std::string_view name);

class Value {
 public:
  Value() = default;  // NULL
  static Value Null() { return Value(); }
  static Value Int64(int64_t v) { return Value(Type::kInt64, v); }
  static Value Float64(double v) { return Value(Type::kFloat64, v); }
  static Value Bool(bool v) { return Value(Type::kBool, v); }
  static Value String(std::string v) { return Value(Type::kString, std::move(v)); }
  static Value Bytes(std::string v) { return Value(Type::kBytes, std::move(v)); }
  static Value Timestamp(int64_t micros) { return Value(Type::kTimestamp, micros); }

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }

  // Each accessor CHECKs the type.
  int64_t int64_value() const;
  double float64_value() const;
  bool bool_value() const;
  const std::string& string_value() const;
  const std::string& bytes_value() const;
  int64_t timestamp_micros() const;

  // For people: NULL, 42, 1.5, true, the string's text, bytes in base64, timestamps as
  // "2026-12-07 10:00:00+00".
  std::string ToString() const;
  // SQL text that the parser reads back to an equal value: 42, -1.5, 1e+300, 'it''s', x'00ff',
  // TRUE, NULL, TIMESTAMP '2026-12-07 10:00:00+00'; non-finite floats as
  // CAST('inf' AS FLOAT64) (a cast, not a literal).
  std::string ToSqlLiteral() const;

  // Same type and same content (NULL equals NULL, NaN equals NaN). Not SQL `=`: for tests.
  friend bool operator==(const Value& a, const Value& b);

 private:
  using Rep = std::variant<std::monostate, int64_t, double, bool, std::string>;
  Value(Type type, Rep rep) : type_(type), rep_(std::move(rep)) {}

  Type type_ = Type::kNull;
  Rep rep_;
};

enum class CompareOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

// SQL comparison: a BOOL, or NULL when either side is NULL. INVALID_ARGUMENT when the types cannot
// be compared.
absl::StatusOr<Value> Compare(CompareOp op, const Value& a, const Value& b);

// The ORDER BY order described above: negative, zero or positive.
int OrderCompare(const Value& a, const Value& b);

// Three-valued logic on BOOL or NULL operands; INVALID_ARGUMENT for other types.
absl::StatusOr<Value> And(const Value& a, const Value& b);
absl::StatusOr<Value> Or(const Value& a, const Value& b);
absl::StatusOr<Value> Not(const Value& a);

absl::StatusOr<Value> Add(const Value& a, const Value& b);
absl::StatusOr<Value> Subtract(const Value& a, const Value& b);
absl::StatusOr<Value> Multiply(const Value& a, const Value& b);
absl::StatusOr<Value> Divide(const Value& a, const Value& b);
absl::StatusOr<Value> Modulo(const Value& a, const Value& b);
absl::StatusOr<Value> Negate(const Value& a);
absl::StatusOr<Value> Concat(const Value& a, const Value& b);

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_VALUE_H_
