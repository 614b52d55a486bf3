// How `meridian workload append` runs its transactions: through the SDK's key-value transactions
// (workload_append.cc) or through SQL statements on sql_lite (workload_append_sql.cc, --sql). The
// driver (workload_append.cc) chooses the operations and records the history; a backend only
// carries them out, so both are checked by the same `meridian check-history`.
//
// Thread safety: Prepare runs before any worker exists; each AppendWorker is used by one thread.
#ifndef MERIDIAN_TOOLS_APPEND_BACKEND_H_
#define MERIDIAN_TOOLS_APPEND_BACKEND_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "meridian/client.h"
#include "tools/history/history.h"
#include "tools/workload.h"

namespace meridian::tools {

// What a transaction did: its operations with every read's list filled in, and its commit (or
// snapshot) timestamp when the backend knows it (for diagnostics only).
struct AppendOutcome {
  std::vector<history::Op> ops;
  std::optional<int64_t> ts;
};

class AppendWorker {
 public:
  virtual ~AppendWorker() = default;
  // Runs `ops` (reads and appends) in one read-write transaction; `attempts` counts the attempts
  // made. Errors as the SDK's: IsOutcomeUnknown(status) when the commit may have happened,
  // DATA_LOSS when a key held something that is not a list.
  virtual absl::StatusOr<AppendOutcome> ReadWrite(const std::vector<history::Op>& ops,
                                                  int* attempts) = 0;
  // Runs `ops` (reads only) in one strong read-only transaction.
  virtual absl::StatusOr<AppendOutcome> ReadOnly(const std::vector<history::Op>& ops) = 0;
};

class AppendBackend {
 public:
  virtual ~AppendBackend() = default;
  // Makes `count` keys, each holding an empty list, and returns their names as the history
  // records them. Prints what it set up.
  virtual absl::StatusOr<std::vector<std::string>> Prepare(int count) = 0;
  virtual std::unique_ptr<AppendWorker> NewWorker() = 0;
};

std::unique_ptr<AppendBackend> NewSdkAppendBackend(Client& client, const WorkloadConfig& config);
std::unique_ptr<AppendBackend> NewSqlAppendBackend(Client& client, const WorkloadConfig& config);

// The list stored in `value` (comma-separated decimal integers; a leading comma is allowed, as
// the SQL backend appends ",N" to an empty string). DATA_LOSS naming `key` when malformed.
absl::StatusOr<std::vector<int64_t>> ParseAppendList(const std::optional<std::string>& value,
                                                     const std::string& key);

}  // namespace meridian::tools

#endif  // MERIDIAN_TOOLS_APPEND_BACKEND_H_
