#include "sql_lite/row_store.h"

#include "common/check.h"
#include "common/status_macros.h"

namespace meridian::sql {

absl::StatusOr<std::optional<std::string>> RowStore::Get(std::string_view key) {
  auto it = writes_.find(key);
  if (it != writes_.end()) return it->second;
  return ReadsForUpdate() ? reader_->GetForUpdate(key) : reader_->Get(key);
}

absl::StatusOr<std::vector<std::optional<std::string>>> RowStore::GetMany(
    const std::vector<std::string>& keys) {
  std::vector<std::optional<std::string>> values(keys.size());
  std::vector<std::string> stored;
  std::vector<size_t> stored_at;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto it = writes_.find(keys[i]);
    if (it != writes_.end()) {
      values[i] = it->second;
    } else {
      stored.push_back(keys[i]);
      stored_at.push_back(i);
    }
  }
  if (stored.empty()) return values;
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> read,
                   ReadsForUpdate() ? reader_->GetManyForUpdate(stored) : reader_->GetMany(stored));
  for (size_t j = 0; j < stored_at.size() && j < read.size(); ++j) {
    values[stored_at[j]] = std::move(read[j]);
  }
  return values;
}

absl::StatusOr<std::vector<KvPair>> RowStore::Scan(std::string_view start, std::string_view end,
                                                   int64_t limit) {
  auto first = writes_.lower_bound(start);
  auto last = end.empty() ? writes_.end() : writes_.lower_bound(end);
  // Each buffered delete hides at most one stored pair, so asking the KV layer for `limit` plus
  // the number of buffered deletes in range yields at least `limit` pairs at or below the last
  // stored key whenever the stored scan was cut short: the merge fills `out` before it could
  // report a buffered key past a stored key the KV layer did not return.
  int64_t deletes = 0;
  for (auto it = first; it != last; ++it) deletes += it->second.has_value() ? 0 : 1;
  ASSIGN_OR_RETURN(std::vector<KvPair> stored,
                   reader_->Scan(start, end, limit > 0 ? limit + deletes : 0));
  std::vector<KvPair> out;
  auto s = stored.begin();
  auto w = first;
  const auto full = [&] { return limit > 0 && static_cast<int64_t>(out.size()) >= limit; };
  while (!full() && (s != stored.end() || w != last)) {
    const bool take_write = s == stored.end() || (w != last && w->first <= s->key);
    if (!take_write) {
      out.push_back(std::move(*s++));
      continue;
    }
    if (s != stored.end() && s->key == w->first) ++s;  // the buffered write replaces it
    if (w->second.has_value()) out.push_back({w->first, *w->second});
    ++w;
  }
  return out;
}

absl::Status RowStore::Write(std::string_view key, std::optional<std::string> value) {
  if (read_only()) {
    return absl::FailedPreconditionError("cannot write in a read-only transaction");
  }
  auto it = writes_.find(key);
  if (it == writes_.end()) {
    undo_.emplace_back(std::string(key), std::nullopt);
    writes_.emplace(std::string(key), std::move(value));
  } else {
    undo_.emplace_back(std::string(key), it->second);
    it->second = std::move(value);
  }
  return absl::OkStatus();
}

absl::Status RowStore::Put(std::string_view key, std::string_view value) {
  return Write(key, std::string(value));
}

absl::Status RowStore::Delete(std::string_view key) { return Write(key, std::nullopt); }

void RowStore::RollbackTo(size_t mark) {
  CHECK(mark <= undo_.size());
  while (undo_.size() > mark) {
    auto& [key, previous] = undo_.back();
    if (previous.has_value()) {
      writes_[key] = std::move(*previous);
    } else {
      writes_.erase(key);
    }
    undo_.pop_back();
  }
}

bool RowStore::HasWritesUnder(std::string_view prefix) const {
  auto it = writes_.lower_bound(prefix);
  return it != writes_.end() && std::string_view(it->first).substr(0, prefix.size()) == prefix;
}

void RowStore::Flush(KvTransaction& txn) const {
  for (const auto& [key, value] : writes_) {
    if (value.has_value()) {
      txn.Put(key, *value);
    } else {
      txn.Delete(key);
    }
  }
}

}  // namespace meridian::sql
