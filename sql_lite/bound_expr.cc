#include "sql_lite/bound_expr.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "sql_lite/testing_plants.h"
#include "sql_lite/text_util.h"
#include "sql_lite/timestamp.h"

namespace meridian::sql {
namespace {

absl::StatusOr<Value> EvalBinary(const BoundExpr& e, const EvalContext& ctx) {
  ASSIGN_OR_RETURN(Value a, Eval(*e.args[0], ctx));
  if (e.binary == BinaryOp::kAnd && !a.is_null() && a.type() == Type::kBool && !a.bool_value()) {
    return a;  // FALSE AND anything
  }
  if (e.binary == BinaryOp::kOr && !a.is_null() && a.type() == Type::kBool && a.bool_value()) {
    return a;  // TRUE OR anything
  }
  ASSIGN_OR_RETURN(Value b, Eval(*e.args[1], ctx));
  switch (e.binary) {
    case BinaryOp::kOr:
      return Or(a, b);
    case BinaryOp::kAnd:
      return And(a, b);
    case BinaryOp::kEq:
      if (MutableTestingPlants().null_equals_null && a.is_null() && b.is_null()) {
        return Value::Bool(true);
      }
      return Compare(CompareOp::kEq, a, b);
    case BinaryOp::kNe:
      return Compare(CompareOp::kNe, a, b);
    case BinaryOp::kLt:
      return Compare(CompareOp::kLt, a, b);
    case BinaryOp::kLe:
      return Compare(CompareOp::kLe, a, b);
    case BinaryOp::kGt:
      return Compare(CompareOp::kGt, a, b);
    case BinaryOp::kGe:
      return Compare(CompareOp::kGe, a, b);
    case BinaryOp::kAdd:
      return Add(a, b);
    case BinaryOp::kSubtract:
      return Subtract(a, b);
    case BinaryOp::kConcat:
      return Concat(a, b);
    case BinaryOp::kMultiply:
      return Multiply(a, b);
    case BinaryOp::kDivide:
      return Divide(a, b);
    case BinaryOp::kModulo:
      return Modulo(a, b);
  }
  return absl::InternalError("unknown binary operator");
}

// `a` IN the values: TRUE on a match, else NULL when a or any value was NULL, else FALSE. Over no
// values it is FALSE, even for a NULL `a` (x IN (empty subquery)).
absl::StatusOr<Value> InValues(const Value& a, const std::vector<Value>& values, bool negated) {
  bool saw_null = a.is_null() && !values.empty();
  bool found = false;
  for (const Value& v : values) {
    if (found || a.is_null()) break;
    ASSIGN_OR_RETURN(Value eq, Compare(CompareOp::kEq, a, v));
    if (eq.is_null()) {
      saw_null = true;
    } else if (eq.bool_value()) {
      found = true;
    }
  }
  Value result = found ? Value::Bool(true) : saw_null ? Value::Null() : Value::Bool(false);
  return negated ? Not(result) : result;
}

absl::StatusOr<Value> EvalFunction(const BoundExpr& e, const EvalContext& ctx) {
  std::vector<Value> args;
  for (const BoundPtr& arg : e.args) {
    ASSIGN_OR_RETURN(Value v, Eval(*arg, ctx));
    args.push_back(std::move(v));
  }
  if (e.function == "COALESCE") {
    for (Value& v : args) {
      if (!v.is_null()) return std::move(v);
    }
    return Value::Null();
  }
  const Value& a = args[0];
  if (a.is_null()) return Value::Null();
  if (e.function == "ABS") {
    if (a.type() == Type::kFloat64) return Value::Float64(std::fabs(a.float64_value()));
    if (a.int64_value() == std::numeric_limits<int64_t>::min()) {
      return absl::OutOfRangeError("ABS overflows INT64");
    }
    return Value::Int64(std::llabs(a.int64_value()));
  }
  if (e.function == "LENGTH") {
    return Value::Int64(static_cast<int64_t>(a.type() == Type::kString ? a.string_value().size()
                                                                       : a.bytes_value().size()));
  }
  if (e.function == "LOWER") return Value::String(absl::AsciiStrToLower(Sv(a.string_value())));
  if (e.function == "UPPER") return Value::String(absl::AsciiStrToUpper(Sv(a.string_value())));
  return absl::InternalError(absl::StrCat("unknown function ", e.function));
}

absl::StatusOr<Value> EvalSubquery(const BoundExpr& e, const EvalContext& ctx) {
  ASSIGN_OR_RETURN(std::vector<Row> rows, ctx.runner->RunSubquery(*e.subquery, ctx));
  if (e.kind == BoundKind::kExists) return Value::Bool(!rows.empty());
  if (e.kind == BoundKind::kSubquery) {
    if (rows.size() > 1) {
      return absl::OutOfRangeError(
          absl::StrCat("scalar subquery at ", PosToString(e.pos), " returned more than one row"));
    }
    return rows.empty() ? Value::Null() : rows[0][0];
  }
  ASSIGN_OR_RETURN(Value a, Eval(*e.args[0], ctx));
  std::vector<Value> values;
  values.reserve(rows.size());
  for (Row& r : rows) values.push_back(std::move(r[0]));
  return InValues(a, values, e.negated);
}

absl::StatusOr<Value> EvalOther(const BoundExpr& e, const EvalContext& ctx) {
  switch (e.kind) {
    case BoundKind::kInList: {
      ASSIGN_OR_RETURN(Value a, Eval(*e.args[0], ctx));
      std::vector<Value> values;
      for (size_t i = 1; i < e.args.size(); ++i) {
        ASSIGN_OR_RETURN(Value v, Eval(*e.args[i], ctx));
        values.push_back(std::move(v));
      }
      return InValues(a, values, e.negated);
    }
    case BoundKind::kBetween: {
      ASSIGN_OR_RETURN(Value a, Eval(*e.args[0], ctx));
      ASSIGN_OR_RETURN(Value low, Eval(*e.args[1], ctx));
      ASSIGN_OR_RETURN(Value high, Eval(*e.args[2], ctx));
      ASSIGN_OR_RETURN(Value ge, Compare(CompareOp::kGe, a, low));
      ASSIGN_OR_RETURN(Value le, Compare(CompareOp::kLe, a, high));
      ASSIGN_OR_RETURN(Value both, And(ge, le));
      return e.negated ? Not(both) : both;
    }
    case BoundKind::kLike: {
      ASSIGN_OR_RETURN(Value a, Eval(*e.args[0], ctx));
      ASSIGN_OR_RETURN(Value p, Eval(*e.args[1], ctx));
      if (a.is_null() || p.is_null()) return Value::Null();
      const bool is_string = a.type() == Type::kString;
      const bool match = LikeMatch(is_string ? a.string_value() : a.bytes_value(),
                                   p.type() == Type::kString ? p.string_value() : p.bytes_value());
      return Value::Bool(match != e.negated);
    }
    case BoundKind::kFunction:
      return EvalFunction(e, ctx);
    case BoundKind::kCast: {
      ASSIGN_OR_RETURN(Value a, Eval(*e.args[0], ctx));
      return CastValue(a, e.type);
    }
    default:
      return EvalSubquery(e, ctx);
  }
}

absl::StatusOr<Value> CastFromString(const std::string& s, Type type) {
  const auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot cast ", Value::String(s).ToSqlLiteral(), " to ", Sv(TypeName(type))));
  };
  switch (type) {
    case Type::kInt64: {
      int64_t v;
      const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return bad();
      return Value::Int64(v);
    }
    case Type::kFloat64: {
      const std::string lower = absl::AsciiStrToLower(s);
      if (lower == "inf" || lower == "+inf") return Value::Float64(INFINITY);
      if (lower == "-inf") return Value::Float64(-INFINITY);
      if (lower == "nan") return Value::Float64(NAN);
      char* end = nullptr;
      const double d = std::strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size()) return bad();
      return Value::Float64(d);
    }
    case Type::kBool: {
      const std::string lower = absl::AsciiStrToLower(s);
      if (lower == "true") return Value::Bool(true);
      if (lower == "false") return Value::Bool(false);
      return bad();
    }
    case Type::kBytes:
      return Value::Bytes(s);
    case Type::kTimestamp: {
      ASSIGN_OR_RETURN(int64_t micros, ParseTimestamp(s));
      return Value::Timestamp(micros);
    }
    default:
      return Value::String(s);
  }
}

}  // namespace

TestingPlants& MutableTestingPlants() {
  static TestingPlants plants;
  return plants;
}

absl::StatusOr<Value> CastValue(const Value& v, Type type) {
  if (v.is_null() || v.type() == type) return v;
  const auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot cast ", v.ToSqlLiteral(), " to ", Sv(TypeName(type))));
  };
  switch (v.type()) {
    case Type::kInt64:
      if (type == Type::kFloat64) return Value::Float64(static_cast<double>(v.int64_value()));
      if (type == Type::kBool) return Value::Bool(v.int64_value() != 0);
      if (type == Type::kString) return Value::String(v.ToString());
      return bad();
    case Type::kFloat64: {
      const double d = v.float64_value();
      if (type == Type::kString) return Value::String(v.ToString());
      if (type != Type::kInt64) return bad();
      const double r = std::nearbyint(d);
      if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0)) {
        return absl::OutOfRangeError(absl::StrCat("cannot cast ", v.ToSqlLiteral(), " to INT64"));
      }
      return Value::Int64(static_cast<int64_t>(r));
    }
    case Type::kBool:
      if (type == Type::kInt64) return Value::Int64(v.bool_value() ? 1 : 0);
      if (type == Type::kString) return Value::String(v.bool_value() ? "true" : "false");
      return bad();
    case Type::kString:
      return CastFromString(v.string_value(), type);
    case Type::kBytes:
      if (type == Type::kString) return Value::String(v.bytes_value());
      return bad();
    case Type::kTimestamp:
      if (type == Type::kString) return Value::String(FormatTimestamp(v.timestamp_micros()));
      return bad();
    case Type::kNull:
      break;
  }
  return bad();
}

bool LikeMatch(std::string_view text, std::string_view pattern) {
  // Iterative matching with backtracking to the last '%' (linear space, no recursion).
  size_t t = 0, p = 0, star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '_' || pattern[p] == text[t])) {
      ++t;
      ++p;
    } else if (p < pattern.size() && pattern[p] == '%') {
      star_p = p++;
      star_t = t;
    } else if (star_p != std::string_view::npos) {
      p = star_p + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

absl::StatusOr<Value> Eval(const BoundExpr& e, const EvalContext& ctx) {
  switch (e.kind) {
    case BoundKind::kLiteral:
      return e.literal;
    case BoundKind::kColumn:
      return (*ctx.row)[e.column];
    case BoundKind::kOuterColumn: {
      const EvalContext* c = &ctx;
      for (int i = 0; i < e.depth; ++i) c = c->outer;
      return (*c->row)[e.column];
    }
    case BoundKind::kOutputRef:
      return (*ctx.outputs)[e.column];
    case BoundKind::kUnary: {
      ASSIGN_OR_RETURN(Value a, Eval(*e.args[0], ctx));
      return e.unary == UnaryOp::kNot ? Not(a) : Negate(a);
    }
    case BoundKind::kBinary:
      return EvalBinary(e, ctx);
    case BoundKind::kIsNull: {
      ASSIGN_OR_RETURN(Value a, Eval(*e.args[0], ctx));
      return Value::Bool(a.is_null() != e.negated);
    }
    default:
      return EvalOther(e, ctx);
  }
}

BoundPtr Clone(const BoundExpr& e) {
  auto out = std::make_unique<BoundExpr>();
  out->kind = e.kind;
  out->type = e.type;
  out->pos = e.pos;
  out->literal = e.literal;
  out->column = e.column;
  out->depth = e.depth;
  out->unary = e.unary;
  out->binary = e.binary;
  out->negated = e.negated;
  out->function = e.function;
  for (const BoundPtr& arg : e.args) out->args.push_back(Clone(*arg));
  out->subquery = e.subquery;
  out->has_subquery = e.has_subquery;
  out->max_slot = e.max_slot;
  out->sql = e.sql;
  return out;
}

absl::StatusOr<bool> EvalPredicate(const BoundExpr& expr, const EvalContext& ctx) {
  ASSIGN_OR_RETURN(Value v, Eval(expr, ctx));
  return !v.is_null() && v.type() == Type::kBool && v.bool_value();
}

}  // namespace meridian::sql
