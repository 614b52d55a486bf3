// Point-read statements in one request: a read-only statement whose reads are all point Gets can
// run over a snapshot read beforehand in one KvDatabase::ReadKeys call, which the SDK serves at a
// single group's leader at its last commit timestamp (no wait) when the keys share a group —
// instead of a read-only transaction whose first read waits out TrueTime's uncertainty. This is
// how an autocommit point SELECT costs about what the SDK's Get costs (Session::Autocommit).
//
// The keys are found by running the statement once over a PrefetchedSnapshot in discovery mode,
// which answers from the values the previous such statement read (the catalog's version row,
// mostly) and records every key asked for; then every recorded key is read at one timestamp and
// the statement runs for real over a serving PrefetchedSnapshot. Any read the snapshot cannot
// answer (a key not fetched, any Scan) fails with a NotPrefetched status, and a strong read whose
// timestamp trails a schema change fails as the catalog says (IsBehindSchemaChange); the caller
// then runs the statement the ordinary way. Because the real run reads only values of that one
// snapshot, its result is exactly what a read-only transaction at that timestamp would give.
//
// Thread safety: none; one statement's run at a time.
#ifndef MERIDIAN_SQL_LITE_PREFETCH_H_
#define MERIDIAN_SQL_LITE_PREFETCH_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "sql_lite/kv.h"

namespace meridian::sql {

using KeyValues = std::map<std::string, std::optional<std::string>, std::less<>>;

// The status a PrefetchedSnapshot fails a read with when it cannot answer it.
absl::Status NotPrefetched(const char* what);
bool IsNotPrefetched(const absl::Status& status);

class PrefetchedSnapshot final : public KvSnapshot {
 public:
  // Discovery: answers Gets from `guesses`, records every key asked for, and fails any other.
  // Its read_timestamp() is +infinity: the newest schema version is the one in effect.
  static PrefetchedSnapshot Discover(const KeyValues* guesses);
  // Serving: answers Gets from `values`, read at `read_ts` (a strong read's last-commit timestamp
  // when `at_last_commit`), and fails any other.
  static PrefetchedSnapshot Serve(const KeyValues* values, int64_t read_ts, bool at_last_commit);

  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) override;
  absl::StatusOr<std::vector<KvPair>> Scan(std::string_view start, std::string_view end,
                                           int64_t limit) override;
  int64_t read_timestamp() const override { return read_ts_; }
  bool at_last_commit() const override { return at_last_commit_; }

  // Every key Get was asked for, in first-asked order; whether a Scan was asked for.
  const std::vector<std::string>& keys() const { return keys_; }
  bool scanned() const { return scanned_; }

 private:
  PrefetchedSnapshot(const KeyValues* values, int64_t read_ts, bool at_last_commit)
      : values_(values), read_ts_(read_ts), at_last_commit_(at_last_commit) {}

  const KeyValues* values_;
  int64_t read_ts_;
  bool at_last_commit_;
  std::vector<std::string> keys_;
  bool scanned_ = false;
};

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_PREFETCH_H_
