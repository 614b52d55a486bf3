// Transaction histories of the list-append workload ("Elle-style"), in memory and as JSON lines.
//
// A history is the sequence of events a workload saw: a process invokes a transaction, then the
// transaction completes ok (committed, read results known), fail (definitely did not commit) or
// info (outcome unknown: it may or may not have committed). Each transaction is a list of ops on
// string keys: append a unique int64 to the list at a key, or read the whole list. The exact file
// grammar is in docs/history-format.md; the checker is append_checker.h.
//
// Invariants of a well-formed history (ValidateHistory checks them all):
//  * event i has index i (so event i is line i + 1 of a file) and time_us never decreases;
//  * a process has at most one outstanding transaction; a completion matches the process's
//    pending invoke op for op (same kinds, keys and appended values); an invoke's reads are null
//    and an ok completion's reads are lists (fail and info completions may leave them null);
//  * each (key, appended value) pair is invoked at most once in the whole history;
//  * commit_ts appears only on ok events.
// An invoke still pending at the end counts as info.
//
// Two ways to record: HistoryBuilder keeps the events in memory (the simulator), HistoryWriter
// appends them to a file, one flushed line per event (a real-cluster workload, many threads).
// Both number the events and keep time_us non-decreasing by raising an earlier time to the last
// one recorded; this is sound for real-time order as long as a workload records an invoke before
// it sends the transaction and a completion after the reply arrived.
//
// Thread safety: plain values and pure functions, except HistoryWriter (thread-safe) and
// HistoryBuilder (not thread-safe).
#ifndef MERIDIAN_TOOLS_HISTORY_HISTORY_H_
#define MERIDIAN_TOOLS_HISTORY_HISTORY_H_

#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace meridian::history {

enum class OpKind : uint8_t { kAppend, kRead };

struct Op {
  OpKind kind = OpKind::kRead;
  std::string key;
  int64_t value = 0;                         // kAppend: the appended value
  std::optional<std::vector<int64_t>> read;  // kRead: the list read; nullopt when not known

  bool operator==(const Op&) const = default;
};

Op Append(std::string key, int64_t value);
Op Read(std::string key);                               // result not known (an invoke)
Op Read(std::string key, std::vector<int64_t> result);  // a completed read

enum class EventType : uint8_t { kInvoke, kOk, kFail, kInfo };

// "invoke", "ok", "fail", "info".
const char* EventTypeName(EventType type);

struct Event {
  int64_t index = 0;
  EventType type = EventType::kInvoke;
  int64_t process = 0;
  int64_t time_us = 0;
  std::vector<Op> txn;
  std::optional<int64_t> commit_ts;  // ok only; for diagnostics

  bool operator==(const Event&) const = default;
};

using History = std::vector<Event>;

// One JSON line, without the trailing newline.
std::string EventToJson(const Event& event);

// Parses one line (without its newline). INVALID_ARGUMENT naming the column or field at fault.
absl::StatusOr<Event> ParseEvent(std::string_view line);

// Parses a whole file's text, then ValidateHistory. Errors start with "line N: ". A last line
// without its newline is accepted; an empty line is not.
absl::StatusOr<History> ParseHistory(std::string_view text);
absl::StatusOr<History> ReadHistoryFile(const std::string& path);
absl::Status WriteHistoryFile(const std::string& path, const History& history);

// Checks the invariants listed at the top. INVALID_ARGUMENT "line N: ..." for the first breach.
absl::Status ValidateHistory(const History& history);

// Numbers events and checks the invariants as they are recorded; shared by the two recorders.
class EventSequencer {
 public:
  // Sets event->index, raises event->time_us to the last time recorded, and checks the event
  // against the history so far. On error nothing is recorded and `event` is left as it was.
  absl::Status Next(Event* event);
  // Like Next for an event already numbered: its index must be the next one and its time must not
  // be earlier than the last one.
  absl::Status Verify(const Event& event);
  int64_t size() const { return next_index_; }

 private:
  // The checks and bookkeeping common to Next and Verify, for an event whose index and time are
  // already right.
  absl::Status Accept(const Event& event);

  struct Pending {
    int64_t index = 0;
    std::vector<Op> txn;
  };
  int64_t next_index_ = 0;
  int64_t last_time_us_ = std::numeric_limits<int64_t>::min();
  absl::flat_hash_map<int64_t, Pending> pending_;  // by process
  absl::flat_hash_set<std::pair<std::string, int64_t>> appended_;
};

// Builds a history in memory. Each call records one event and returns its index; a breach of the
// invariants returns FAILED_PRECONDITION and records nothing. Not thread-safe.
class HistoryBuilder {
 public:
  // `txn`'s reads should be Read(key) (null).
  absl::StatusOr<int64_t> Invoke(int64_t process, int64_t time_us, std::vector<Op> txn);
  // `txn` is the invoked txn with every read's result filled in.
  absl::StatusOr<int64_t> Ok(int64_t process, int64_t time_us, std::vector<Op> txn,
                             std::optional<int64_t> commit_ts = std::nullopt);
  // Fail and Info repeat the pending invoke's ops (reads null).
  absl::StatusOr<int64_t> Fail(int64_t process, int64_t time_us);
  absl::StatusOr<int64_t> Info(int64_t process, int64_t time_us);
  // Any event; its index is assigned.
  absl::StatusOr<int64_t> Add(Event event);

  const History& history() const { return history_; }
  History Take() && { return std::move(history_); }

 private:
  absl::StatusOr<int64_t> Complete(EventType type, int64_t process, int64_t time_us);

  EventSequencer sequencer_;
  History history_;
  absl::flat_hash_map<int64_t, std::vector<Op>> pending_txn_;  // by process, for Fail/Info
};

// Appends events to a file as JSON lines, flushing after each line so that a crash of the
// workload loses at most the line being written. Thread-safe: workers may share one writer.
class HistoryWriter {
 public:
  // Creates (or truncates) `path`.
  static absl::StatusOr<std::unique_ptr<HistoryWriter>> Create(const std::string& path);
  ~HistoryWriter();
  HistoryWriter(const HistoryWriter&) = delete;
  HistoryWriter& operator=(const HistoryWriter&) = delete;

  // Like HistoryBuilder::Add: assigns the index, checks the invariants (FAILED_PRECONDITION,
  // nothing written), writes one line. INTERNAL if the write fails; the writer is then closed.
  absl::StatusOr<int64_t> Write(Event event);
  // Flushes and closes; later Writes fail. Also done by the destructor.
  absl::Status Close();

 private:
  HistoryWriter(std::string path, FILE* file) : path_(std::move(path)), file_(file) {}

  const std::string path_;
  absl::Mutex mu_;
  FILE* file_ ABSL_GUARDED_BY(mu_);
  EventSequencer sequencer_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meridian::history

#endif  // MERIDIAN_TOOLS_HISTORY_HISTORY_H_
