// The steady workloads that `meridian failover-demo` keeps running across a fault, behind one
// small interface so that another workload (TPC-C) plugs in beside the kv one: Start(threads),
// Stop(), and a WorkloadMeter that counts every committed operation as it is acknowledged.
// Afterwards Verify reads back what the workload was told was committed.
//
// The kv workload: `threads` clients share one SDK Client; client t owns its own keys, spread
// over every range of the map (the j-th of its keys lies in range j mod #ranges), and Puts a
// fresh value ("c<t>-<seq>") into a random one of them, one Put at a time. AckLedger records the
// outcome of each Put, and Verify reads every key back with strong reads and checks it.
//
// What a key may hold at the end (AckLedger::Allowed). Its values are unique, and each client's
// writes to its own keys are sequential, so:
//  - the value of its last acknowledged Put: a later Put that was not applied cannot replace it;
//  - or the value of any Put whose outcome was unknown (IsOutcomeUnknown: sent, then the answer
//    was lost). Not only those after the last acknowledged Put: an unknown write's request may
//    still be in flight when the client moves on, and land later (the SDK does not cancel it);
//  - nothing at all only if no Put of the key was acknowledged.
// Any other Put error means, by the SDK's contract (client.h), the write was not applied; its
// value must never appear. A key holding anything else is reported: "lost" when it does not hold
// its acknowledged value.
//
// Thread safety: WorkloadMeter and AckLedger are thread-safe. A FailoverWorkload is driven by
// one thread (Start, Stop, Verify in that order); its own client threads run in between.
#ifndef MERIDIAN_TOOLS_FAILOVER_WORKLOAD_H_
#define MERIDIAN_TOOLS_FAILOVER_WORKLOAD_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "meridian/client.h"
#include "tools/failover_timeline.h"

namespace meridian::tools {

// Counts what a workload's clients finish, for the sampler.
class WorkloadMeter {
 public:
  explicit WorkloadMeter(absl::Time start) : gaps_(start) {}
  // An operation was committed and acknowledged at `now`.
  void Committed(absl::Time now) {
    committed_.fetch_add(1, std::memory_order_relaxed);
    gaps_.Ack(now);
  }
  // An operation failed with `status` (its outcome possibly unknown).
  void Failed(const absl::Status& status);
  // "3 UNAVAILABLE (outcome unknown), first: ...; 1 ABORTED, first: ..." — the errors by kind,
  // with the first message of each; "" when none.
  std::string DescribeErrors() const;

  int64_t committed() const { return committed_.load(std::memory_order_relaxed); }
  int64_t errors() const { return errors_.load(std::memory_order_relaxed); }
  GapTracker& gaps() { return gaps_; }

 private:
  std::atomic<int64_t> committed_{0};
  std::atomic<int64_t> errors_{0};
  GapTracker gaps_;
  struct ErrorKind {
    int64_t count = 0;
    std::string first;
  };
  mutable absl::Mutex mu_;
  std::map<std::string, ErrorKind> error_kinds_ ABSL_GUARDED_BY(mu_);  // by code (+ unknown)
};

struct VerifyReport {
  int64_t keys = 0;                   // keys read back
  int64_t unknown_writes = 0;         // writes whose outcome was unknown (either value allowed)
  std::vector<std::string> problems;  // one line per key that holds what it may not
  int64_t lost = 0;                   // of those, keys without their acknowledged value
};

class FailoverWorkload {
 public:
  virtual ~FailoverWorkload() = default;
  // One line for the output: what the clients do.
  virtual std::string Describe() const = 0;
  // Prepares what the clients need (keys, tables and their rows) before any time is measured.
  virtual absl::Status Prepare() { return absl::OkStatus(); }
  // Starts `threads` client threads that run until Stop, counting into `meter` (not owned; it
  // outlives the workload's Stop).
  virtual absl::Status Start(int threads, WorkloadMeter* meter) = 0;
  // Stops the client threads and waits for them (each finishes the operation it is in).
  virtual void Stop() = 0;
  // After Stop: reads back what was acknowledged; problems listed in the report.
  virtual absl::StatusOr<VerifyReport> Verify() = 0;
};

// Per key: the last acknowledged value and every value whose outcome is unknown (see above).
class AckLedger {
 public:
  void Acknowledged(const std::string& key, const std::string& value);
  void Unknown(const std::string& key, const std::string& value);
  // Tests only: records, for one key with an acknowledged write, a value that was never written
  // (a bug in the bookkeeping the check must catch). False when no key has an acknowledged write.
  bool CorruptOneForTesting();

  // The problem with `key` holding `read` ("" when it may hold it); `lost` set when it does not
  // hold its acknowledged value.
  std::string Check(const std::string& key, const std::optional<std::string>& read,
                    bool* lost) const;
  int64_t unknown_writes() const;

 private:
  struct Record {
    std::optional<std::string> acknowledged;
    std::vector<std::string> unknown;
  };
  mutable absl::Mutex mu_;
  std::map<std::string, Record> records_ ABSL_GUARDED_BY(mu_);
  int64_t unknown_writes_ ABSL_GUARDED_BY(mu_) = 0;
};

struct KvWorkloadOptions {
  int keys = 1000;  // over all clients
  uint64_t seed = 1;
  bool testing_corrupt_ack = false;  // AckLedger::CorruptOneForTesting before Verify
};

// The kv workload (above) through `client` (not owned; shared by the client threads).
std::unique_ptr<FailoverWorkload> MakeKvWorkload(Client* client, const KvWorkloadOptions& options);

}  // namespace meridian::tools

#endif  // MERIDIAN_TOOLS_FAILOVER_WORKLOAD_H_
