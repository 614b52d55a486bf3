// RowStore: what the executor reads and writes through. It wraps one KV transaction attempt or one
// snapshot (kv.h) and keeps sql_lite's own write buffer on top of it:
//  - read-your-writes: Get and Scan overlay the buffered Puts and Deletes on the KV reads (the
//    SDK's Transaction does not show a transaction its own writes, so this overlay lives here);
//  - statement atomicity: Savepoint() marks the buffer, RollbackTo() undoes every write after the
//    mark (an undo log), so a failing statement leaves the transaction as the statement found it;
//  - Flush(txn) hands the buffer to a KV transaction, once, just before the attempt commits.
// A store made read-only refuses Put and Delete (FAILED_PRECONDITION). A store over a snapshot
// remembers it (snapshot()), so that its statements use the schema in effect at the snapshot's
// timestamp (catalog.h); a store over a read-write transaction reads the newest data under locks.
// The reader can be swapped (set_reader, set_snapshot), so that a session's open transaction keeps
// its buffer across the snapshots its statements read (session.cc).
//
// Thread safety: none; a RowStore belongs to one attempt on one thread, like the KV handle under
// it (which must outlive it).
#ifndef MERIDIAN_SQL_LITE_ROW_STORE_H_
#define MERIDIAN_SQL_LITE_ROW_STORE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sql_lite/kv.h"

namespace meridian::sql {

class RowStore {
 public:
  RowStore(KvReader* reader, bool writable) : reader_(reader), writable_(writable) {}
  RowStore(KvTransaction* txn, bool writable) : reader_(txn), txn_(txn), writable_(writable) {}
  RowStore(KvSnapshot* snapshot, bool writable)
      : reader_(snapshot), snapshot_(snapshot), writable_(writable) {}

  bool read_only() const { return !writable_; }
  // The snapshot the store reads, or nullptr when it reads a read-write transaction.
  const KvSnapshot* snapshot() const { return snapshot_; }
  // The read-write transaction the store reads, or nullptr.
  KvTransaction* transaction() const { return txn_; }
  void set_reader(KvReader* reader) {
    reader_ = reader;
    snapshot_ = nullptr;
    txn_ = nullptr;
  }
  void set_snapshot(KvSnapshot* snapshot) {
    reader_ = snapshot;
    snapshot_ = snapshot;
    txn_ = nullptr;
  }

  // While one lives, the store's point reads (Get, GetMany) of keys it has no buffered write of
  // go through KvReader::GetForUpdate / GetManyForUpdate when the store reads a read-write
  // transaction: a statement reading the rows it is about to write (UPDATE's and DELETE's rows,
  // subqueries of their WHERE included; INSERT's keys) locks them as a write would.
  class ForUpdate {
   public:
    explicit ForUpdate(RowStore& store) : store_(store), was_(store.for_update_) {
      store.for_update_ = true;
    }
    ~ForUpdate() { store_.for_update_ = was_; }
    ForUpdate(const ForUpdate&) = delete;
    ForUpdate& operator=(const ForUpdate&) = delete;

   private:
    RowStore& store_;
    const bool was_;
  };

  absl::StatusOr<std::optional<std::string>> Get(std::string_view key);
  // Get of every key, the ones without a buffered write read together (KvReader::GetMany).
  absl::StatusOr<std::vector<std::optional<std::string>>> GetMany(
      const std::vector<std::string>& keys);
  // Like KvReader::Scan, with this store's buffered writes applied.
  absl::StatusOr<std::vector<KvPair>> Scan(std::string_view start, std::string_view end,
                                           int64_t limit);
  absl::Status Put(std::string_view key, std::string_view value);
  absl::Status Delete(std::string_view key);

  // Marks the buffer; RollbackTo(mark) undoes every Put/Delete made after it.
  size_t Savepoint() const { return undo_.size(); }
  void RollbackTo(size_t mark);

  // True when a buffered write has a key starting with `prefix`.
  bool HasWritesUnder(std::string_view prefix) const;
  // Sends the buffered writes to `txn`. Call once, at the end of the attempt.
  void Flush(KvTransaction& txn) const;

 private:
  absl::Status Write(std::string_view key, std::optional<std::string> value);

  // Whether point reads lock for update (ForUpdate) — only ever of a read-write transaction.
  bool ReadsForUpdate() const { return for_update_ && snapshot_ == nullptr && writable_; }

  KvReader* reader_;
  const KvSnapshot* snapshot_ = nullptr;
  KvTransaction* txn_ = nullptr;
  bool writable_;
  bool for_update_ = false;
  // key -> value, or nullopt for a buffered delete.
  std::map<std::string, std::optional<std::string>, std::less<>> writes_;
  // (key, what writes_ held for it before: nullopt when the key was not buffered).
  std::vector<std::pair<std::string, std::optional<std::optional<std::string>>>> undo_;
};

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_ROW_STORE_H_
