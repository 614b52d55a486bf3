#include "sql_lite/encoding.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/key_encoding.h"
#include "common/status_macros.h"
#include "sql_lite/text_util.h"

namespace meridian::sql {
namespace {

constexpr char kNullTag = 0x01;
constexpr char kValueTag = 0x02;
constexpr char kRowFormatVersion = 0x01;

uint64_t OrderedDoubleBits(double d) {
  if (d != d) return 0;  // every NaN: first
  if (d == 0) d = 0.0;   // -0 == +0
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof(bits));
  return (bits & (uint64_t{1} << 63)) ? ~bits : bits | (uint64_t{1} << 63);
}

double DoubleFromOrderedBits(uint64_t bits) {
  if (bits == 0) return std::numeric_limits<double>::quiet_NaN();
  bits = (bits & (uint64_t{1} << 63)) ? bits & ~(uint64_t{1} << 63) : ~bits;
  double d;
  std::memcpy(&d, &bits, sizeof(d));
  return d;
}

absl::Status Malformed(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("malformed ", Sv(what)));
}

void AppendAscPart(std::string* dst, const Value& value) {
  if (value.is_null()) {
    dst->push_back(kNullTag);
    return;
  }
  dst->push_back(kValueTag);
  switch (value.type()) {
    case Type::kInt64:
      keyenc::AppendInt64(dst, value.int64_value());
      break;
    case Type::kTimestamp:
      keyenc::AppendInt64(dst, value.timestamp_micros());
      break;
    case Type::kFloat64:
      keyenc::AppendUint64(dst, OrderedDoubleBits(value.float64_value()));
      break;
    case Type::kBool:
      dst->push_back(value.bool_value() ? 1 : 0);
      break;
    case Type::kString:
      keyenc::AppendBytes(dst, value.string_value());
      break;
    case Type::kBytes:
      keyenc::AppendBytes(dst, value.bytes_value());
      break;
    case Type::kNull:
      break;
  }
}

absl::Status ConsumeAscPart(std::string_view* in, Type type, Value* value) {
  if (in->empty()) return Malformed("key part");
  const char tag = in->front();
  in->remove_prefix(1);
  if (tag == kNullTag) {
    *value = Value::Null();
    return absl::OkStatus();
  }
  if (tag != kValueTag) return Malformed("key part tag");
  int64_t i;
  uint64_t u;
  std::string s;
  switch (type) {
    case Type::kInt64:
      RETURN_IF_ERROR(keyenc::ConsumeInt64(in, &i));
      *value = Value::Int64(i);
      return absl::OkStatus();
    case Type::kTimestamp:
      RETURN_IF_ERROR(keyenc::ConsumeInt64(in, &i));
      *value = Value::Timestamp(i);
      return absl::OkStatus();
    case Type::kFloat64:
      RETURN_IF_ERROR(keyenc::ConsumeUint64(in, &u));
      *value = Value::Float64(DoubleFromOrderedBits(u));
      return absl::OkStatus();
    case Type::kBool:
      if (in->empty() || static_cast<uint8_t>(in->front()) > 1) return Malformed("BOOL key part");
      *value = Value::Bool(in->front() == 1);
      in->remove_prefix(1);
      return absl::OkStatus();
    case Type::kString:
    case Type::kBytes:
      RETURN_IF_ERROR(keyenc::ConsumeBytes(in, &s));
      *value = type == Type::kString ? Value::String(std::move(s)) : Value::Bytes(std::move(s));
      return absl::OkStatus();
    case Type::kNull:
      break;
  }
  return Malformed("key part type");
}

// The key parts of `values` for `columns` of `table`.
absl::Status AppendParts(std::string* dst, const TableSchema& table,
                         const std::vector<KeyColumn>& columns, const std::vector<Value>& values,
                         size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) {
    const KeyColumn& k = columns[i];
    RETURN_IF_ERROR(AppendKeyPart(dst, values[i], table.columns[k.column].type, k.descending));
  }
  return absl::OkStatus();
}

absl::Status ConsumeParts(std::string_view* in, const TableSchema& table,
                          const std::vector<KeyColumn>& columns, size_t begin, size_t end,
                          std::vector<Value>* out) {
  for (size_t i = begin; i < end; ++i) {
    Value v;
    RETURN_IF_ERROR(
        ConsumeKeyPart(in, table.columns[columns[i].column].type, columns[i].descending, &v));
    out->push_back(std::move(v));
  }
  return absl::OkStatus();
}

void AppendU32(std::string* dst, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) dst->push_back(static_cast<char>(v >> shift));
}

absl::Status ConsumeU32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return Malformed("row value");
  *v = 0;
  for (int i = 0; i < 4; ++i) *v = (*v << 8) | static_cast<uint8_t>((*in)[i]);
  in->remove_prefix(4);
  return absl::OkStatus();
}

void AppendColumnValue(std::string* dst, const Value& v) {
  uint64_t bits;
  double d;
  switch (v.type()) {
    case Type::kInt64:
      keyenc::AppendInt64(dst, v.int64_value());
      break;
    case Type::kTimestamp:
      keyenc::AppendInt64(dst, v.timestamp_micros());
      break;
    case Type::kFloat64:
      d = v.float64_value();
      std::memcpy(&bits, &d, sizeof(bits));
      keyenc::AppendUint64(dst, bits);
      break;
    case Type::kBool:
      dst->push_back(v.bool_value() ? 1 : 0);
      break;
    case Type::kString:
    case Type::kBytes: {
      const std::string& s = v.type() == Type::kString ? v.string_value() : v.bytes_value();
      AppendU32(dst, static_cast<uint32_t>(s.size()));
      dst->append(s);
      break;
    }
    case Type::kNull:
      break;
  }
}

absl::StatusOr<Value> ConsumeColumnValue(std::string_view* in, Type type) {
  int64_t i;
  uint64_t u;
  uint32_t n;
  double d;
  switch (type) {
    case Type::kInt64:
      RETURN_IF_ERROR(keyenc::ConsumeInt64(in, &i));
      return Value::Int64(i);
    case Type::kTimestamp:
      RETURN_IF_ERROR(keyenc::ConsumeInt64(in, &i));
      return Value::Timestamp(i);
    case Type::kFloat64:
      RETURN_IF_ERROR(keyenc::ConsumeUint64(in, &u));
      std::memcpy(&d, &u, sizeof(d));
      return Value::Float64(d);
    case Type::kBool:
      if (in->empty()) return Malformed("row value");
      i = in->front();
      in->remove_prefix(1);
      return Value::Bool(i != 0);
    case Type::kString:
    case Type::kBytes: {
      RETURN_IF_ERROR(ConsumeU32(in, &n));
      if (in->size() < n) return Malformed("row value");
      std::string s(in->substr(0, n));
      in->remove_prefix(n);
      return type == Type::kString ? Value::String(std::move(s)) : Value::Bytes(std::move(s));
    }
    case Type::kNull:
      break;
  }
  return Malformed("row value type");
}

}  // namespace

absl::Status AppendKeyPart(std::string* dst, const Value& value, Type type, bool descending) {
  if (!value.is_null() && value.type() != type) {
    return absl::InvalidArgumentError(absl::StrCat("key value ", value.ToSqlLiteral(),
                                                   " is not of the key column's type ",
                                                   Sv(TypeName(type))));
  }
  if (!descending) {
    AppendAscPart(dst, value);
    return absl::OkStatus();
  }
  const size_t start = dst->size();
  AppendAscPart(dst, value);
  for (size_t i = start; i < dst->size(); ++i) (*dst)[i] = static_cast<char>(~(*dst)[i]);
  return absl::OkStatus();
}

absl::Status ConsumeKeyPart(std::string_view* in, Type type, bool descending, Value* value) {
  if (!descending) return ConsumeAscPart(in, type, value);
  std::string flipped(*in);
  for (char& c : flipped) c = static_cast<char>(~c);
  std::string_view rest = flipped;
  RETURN_IF_ERROR(ConsumeAscPart(&rest, type, value));
  in->remove_prefix(flipped.size() - rest.size());
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeKeyPrefix(const std::vector<const TableSchema*>& ancestry,
                                            const std::vector<Value>& key) {
  const TableSchema& table = *ancestry.back();
  if (key.size() > table.primary_key.size()) return Malformed("key prefix (too many values)");
  std::string out;
  size_t begin = 0;
  for (const TableSchema* level : ancestry) {
    if (key.size() < begin) break;
    keyenc::AppendUint64(&out, level->id);
    const size_t end = std::min(level->primary_key.size(), key.size());
    RETURN_IF_ERROR(AppendParts(&out, table, table.primary_key, key, begin, end));
    begin = level->primary_key.size();
  }
  return out;
}

absl::StatusOr<std::string> EncodeRowKey(const std::vector<const TableSchema*>& ancestry,
                                         const std::vector<Value>& key) {
  if (key.size() != ancestry.back()->primary_key.size()) return Malformed("row key (arity)");
  return EncodeKeyPrefix(ancestry, key);
}

absl::StatusOr<bool> DecodeRowKey(const std::vector<const TableSchema*>& ancestry,
                                  std::string_view raw, std::vector<Value>* key) {
  const TableSchema& table = *ancestry.back();
  key->clear();
  size_t begin = 0;
  for (const TableSchema* level : ancestry) {
    if (raw.empty()) return false;  // a row of an ancestor
    uint64_t id;
    RETURN_IF_ERROR(keyenc::ConsumeUint64(&raw, &id));
    if (id != level->id) return false;  // another table under the same ancestor
    RETURN_IF_ERROR(
        ConsumeParts(&raw, table, table.primary_key, begin, level->primary_key.size(), key));
    begin = level->primary_key.size();
  }
  return raw.empty();  // more bytes: a descendant's row
}

std::string EncodeRowValue(const TableSchema& table, const Row& row) {
  std::vector<bool> is_key(table.columns.size(), false);
  for (const KeyColumn& k : table.primary_key) is_key[k.column] = true;
  std::string out(1, kRowFormatVersion);
  for (size_t i = 0; i < table.columns.size(); ++i) {
    if (is_key[i] || row[i].is_null()) continue;
    AppendU32(&out, table.columns[i].id);
    out.push_back(static_cast<char>(row[i].type()));
    AppendColumnValue(&out, row[i]);
  }
  return out;
}

absl::Status DecodeRowValue(const TableSchema& table, std::string_view raw, Row* row) {
  if (raw.empty() || raw.front() != kRowFormatVersion) return Malformed("row value version");
  raw.remove_prefix(1);
  while (!raw.empty()) {
    uint32_t id;
    RETURN_IF_ERROR(ConsumeU32(&raw, &id));
    if (raw.empty()) return Malformed("row value");
    const Type type = static_cast<Type>(raw.front());
    raw.remove_prefix(1);
    ASSIGN_OR_RETURN(Value v, ConsumeColumnValue(&raw, type));
    for (size_t i = 0; i < table.columns.size(); ++i) {
      if (table.columns[i].id == id) (*row)[i] = std::move(v);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<KvPair> EncodeIndexEntry(const TableSchema& table, const IndexSchema& index,
                                        const Row& row) {
  KvPair entry;
  keyenc::AppendUint64(&entry.key, index.id);
  std::vector<Value> indexed;
  for (const KeyColumn& k : index.columns) indexed.push_back(row[k.column]);
  RETURN_IF_ERROR(AppendParts(&entry.key, table, index.columns, indexed, 0, indexed.size()));
  const std::vector<Value> key = table.KeyValues(row);
  std::string* pk_dst = index.unique ? &entry.value : &entry.key;
  RETURN_IF_ERROR(AppendParts(pk_dst, table, table.primary_key, key, 0, key.size()));
  return entry;
}

absl::StatusOr<std::string> EncodeIndexPrefix(const TableSchema& table, const IndexSchema& index,
                                              const std::vector<Value>& values) {
  std::string out;
  keyenc::AppendUint64(&out, index.id);
  RETURN_IF_ERROR(AppendParts(&out, table, index.columns, values, 0, values.size()));
  return out;
}

absl::Status DecodeIndexEntry(const TableSchema& table, const IndexSchema& index,
                              const KvPair& entry, std::vector<Value>* key) {
  key->clear();
  std::string_view in = entry.key;
  uint64_t id;
  RETURN_IF_ERROR(keyenc::ConsumeUint64(&in, &id));
  std::vector<Value> indexed;
  RETURN_IF_ERROR(ConsumeParts(&in, table, index.columns, 0, index.columns.size(), &indexed));
  if (index.unique) in = entry.value;
  RETURN_IF_ERROR(ConsumeParts(&in, table, table.primary_key, 0, table.primary_key.size(), key));
  if (!in.empty()) return Malformed("index entry");
  return absl::OkStatus();
}

std::string CatalogKey(std::string_view name) {
  std::string out;
  keyenc::AppendUint64(&out, kCatalogId);
  if (!name.empty()) keyenc::AppendBytes(&out, name);
  return out;
}

}  // namespace meridian::sql
