// How sql_lite lays SQL rows, index entries and catalog rows out as KV pairs.
//
// Keys (all integers big-endian, built with common/key_encoding.h; every part is prefix-free, so a
// composite key sorts part by part and a prefix of parts is a scan prefix):
//   id          := uint64                                   (table, index; 0 = the catalog)
//   row_key     := level+                                   (one level per table from the
//                                                            top-level ancestor down to the table)
//   level       := id key_part*                             (the table's id, then its primary key
//                                                            columns that its parent's key lacks)
//   key_part    := asc_part | desc_part
//   asc_part    := 0x01                                     (NULL: first)
//                | 0x02 payload
//   desc_part   := asc_part with every byte complemented    (DESC: order reversed, NULL last)
//   payload     := int64                                    (INT64, TIMESTAMP)
//                | 8 bytes: IEEE bits, sign bit flipped if positive, all bits flipped if negative
//                                                           (FLOAT64; -0 is written as +0 and
//                                                            every NaN as 8 zero bytes: first)
//                | 0x00 | 0x01                              (BOOL)
//                | bytes                                    (STRING, BYTES: escaped, terminated)
//   index_key   := id(index) key_part+ key_part*            (the indexed columns; a non-unique
//                                                            index appends the primary key)
//   index_value := key_part*                                (unique: the row's primary key;
//                                                            non-unique: empty)
//   catalog_key := id(0) bytes("version")            -> version_row (catalog.h)
//                | id(0) bytes("schema") int64(version) -> schema_def (catalog.h)
// So an interleaved child's row key is its parent's row key followed by the child's id and the
// rest of its key: a parent row sorts just before its children, and a prefix scan of a parent key
// returns the whole "directory". Decoding a key against one table's ancestry tells whether the key
// is a row of exactly that table (and not of an ancestor, a sibling or a descendant).
//
// Row values (the non-key columns; key columns live in the key only):
//   row_value   := 0x01 column*                             (format version 1)
//   column      := uint32 column_id, type_tag, value        (NULL columns are omitted)
//   type_tag    := the Type enumerator as one byte
//   value       := int64 | 8 bytes IEEE | 0x00 | 0x01 | uint32 length, bytes
// Columns are identified by id, so a row written before a column was added reads that column as
// NULL, and columns of unknown id (dropped) are skipped.
//
// Decoders return INVALID_ARGUMENT on malformed input; outputs are unspecified then.
// Thread-safe: pure functions.
#ifndef MERIDIAN_SQL_LITE_ENCODING_H_
#define MERIDIAN_SQL_LITE_ENCODING_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sql_lite/kv.h"
#include "sql_lite/schema.h"
#include "sql_lite/value.h"

namespace meridian::sql {

inline constexpr uint64_t kCatalogId = 0;

// One key part. INVALID_ARGUMENT when `value` is neither NULL nor of type `type`.
absl::Status AppendKeyPart(std::string* dst, const Value& value, Type type, bool descending);
absl::Status ConsumeKeyPart(std::string_view* in, Type type, bool descending, Value* value);

// The key of the row of `table` whose primary key is `key` (one value per primary key column,
// already of the columns' types). `ancestry` is Schema::Ancestry(table).
absl::StatusOr<std::string> EncodeRowKey(const std::vector<const TableSchema*>& ancestry,
                                         const std::vector<Value>& key);
// The prefix shared by every row of the table (ancestry.back()) whose first key.size() primary
// key columns equal `key` (key.size() <= the primary key's length). With an empty `key` and a
// top-level table, that is just id(table).
absl::StatusOr<std::string> EncodeKeyPrefix(const std::vector<const TableSchema*>& ancestry,
                                            const std::vector<Value>& key);
// Decodes a row key of the table ancestry.back(): true and the primary key in *key when `raw` is
// exactly such a key; false when it is a key of another table in the same id range.
absl::StatusOr<bool> DecodeRowKey(const std::vector<const TableSchema*>& ancestry,
                                  std::string_view raw, std::vector<Value>* key);

std::string EncodeRowValue(const TableSchema& table, const Row& row);
// Fills the non-key columns of *row (sized to the table's columns) from `raw`.
absl::Status DecodeRowValue(const TableSchema& table, std::string_view raw, Row* row);

// The index entry of `row`: its key and value.
absl::StatusOr<KvPair> EncodeIndexEntry(const TableSchema& table, const IndexSchema& index,
                                        const Row& row);
// The prefix of the index entries whose first values.size() indexed columns equal `values`.
absl::StatusOr<std::string> EncodeIndexPrefix(const TableSchema& table, const IndexSchema& index,
                                              const std::vector<Value>& values);
// The primary key of the row an index entry points at.
absl::Status DecodeIndexEntry(const TableSchema& table, const IndexSchema& index,
                              const KvPair& entry, std::vector<Value>* key);

// id(0) bytes(name): the key of a catalog row; id(0) alone is the catalog's prefix.
std::string CatalogKey(std::string_view name);

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_ENCODING_H_
