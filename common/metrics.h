// Metrics: counters, gauges and fixed-bucket histograms, and a Registry that renders them in the
// Prometheus text exposition format (version 0.0.4) for a process's /metrics page.
//
//   metrics::Counter& commits = metrics::DefaultRegistry().AddCounter(
//       "meridian_commits_total", "Transactions committed.", {{"kind", "txn"}});
//   commits.Increment();
//
// Hot paths touch only atomics (relaxed): Increment, Set, Add and Observe take no lock and
// allocate nothing. The registry's mutex guards registration and Render only. Values that are
// cheaper to read than to keep up to date (per-group state, bytes on disk) come from collectors:
// callbacks that Render calls to produce a family's samples at scrape time.
//
// Names: a family is identified by its name; registering the same name and labels again returns
// the same metric (so every instance of an adapter in one process shares it), and registering a
// name with another type or help is a CHECK failure. Names match [a-zA-Z_:][a-zA-Z0-9_:]*, label
// names [a-zA-Z_][a-zA-Z0-9_]* and never "le" (histograms' bucket label).
//
// Lifetime: metrics live as long as their registry (DefaultRegistry() is never destroyed), so
// references to them may be kept in statics. A collector lives until its handle is destroyed.
//
// Thread safety: everything here is thread-safe. A collector runs on the thread calling Render,
// under the registry's mutex: it must not call back into the registry.
//
// No gRPC, Asio or I/O here: every component may use it (common/ is the base of ARCHITECTURE.md's
// arrows). The HTTP server that serves Render() lives in http/.
#ifndef MERIDIAN_COMMON_METRICS_H_
#define MERIDIAN_COMMON_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace meridian::metrics {

// Label name -> value pairs, in the order they are rendered.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Increment(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into buckets fixed at construction. A value v falls into the first bucket
// whose upper bound is >= v (Prometheus' `le`), or the implicit +Inf bucket.
class Histogram {
 public:
  // `upper_bounds`: finite, strictly increasing, at least one (CHECKed).
  explicit Histogram(std::vector<double> upper_bounds);

  void Observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;
    // Per bucket, NOT cumulative: counts[i] for upper_bounds[i], and one more for +Inf.
    std::vector<uint64_t> counts;
    double sum = 0;
    uint64_t count() const;
  };
  // The buckets are read one by one while observations continue, so a snapshot may miss the
  // latest ones; its count is always the sum of its buckets.
  Snapshot Read() const;

 private:
  const std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // upper_bounds_.size() + 1
  std::atomic<double> sum_{0};
};

// Bucket bounds in seconds for latencies, 50 µs to 10 s, about x2 apart: a loopback RPC is
// ~0.25 ms, an fsync 0.1-10 ms, a Paxos round ~1 ms, a commit wait ~2 ms (epsilon 1 ms).
std::vector<double> LatencyBuckets();

enum class Type { kCounter, kGauge, kHistogram };

// One sample of a collected family.
struct Sample {
  Labels labels;
  double value = 0;
};

class Registry {
 public:
  Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry();

  Counter& AddCounter(const std::string& name, const std::string& help, Labels labels = {});
  Gauge& AddGauge(const std::string& name, const std::string& help, Labels labels = {});
  // The bounds of a name's first histogram are every one's (CHECKed).
  Histogram& AddHistogram(const std::string& name, const std::string& help,
                          std::vector<double> upper_bounds, Labels labels = {});

  // Removes its collector when destroyed (which waits for a Render that is running it).
  class CollectorHandle {
   public:
    CollectorHandle(Registry* registry, uint64_t id) : registry_(registry), id_(id) {}
    ~CollectorHandle();
    CollectorHandle(const CollectorHandle&) = delete;
    CollectorHandle& operator=(const CollectorHandle&) = delete;

   private:
    Registry* const registry_;
    const uint64_t id_;
  };
  // A family of type counter or gauge whose samples `collect` returns at every Render. Several
  // collectors (and plain metrics) may share one name and type; their samples are rendered
  // together.
  [[nodiscard]] std::unique_ptr<CollectorHandle> AddCollector(
      const std::string& name, const std::string& help, Type type,
      std::function<std::vector<Sample>()> collect);

  // Every family, sorted by name, in the text exposition format.
  std::string Render() const;

 private:
  struct Family;
  Family& FamilyFor(const std::string& name, const std::string& help, Type type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveCollector(uint64_t id);

  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Family>> families_ ABSL_GUARDED_BY(mu_);
  uint64_t next_collector_id_ ABSL_GUARDED_BY(mu_) = 1;
};

// The process's registry, which /metrics serves.
Registry& DefaultRegistry();

// Text-format helpers, exposed for tests: a label value with \, " and newline escaped; a HELP
// text with \ and newline escaped; a number as Prometheus reads it (shortest round-trip form,
// +Inf, -Inf, NaN).
std::string EscapeLabelValue(const std::string& value);
std::string EscapeHelp(const std::string& help);
std::string FormatValue(double value);

}  // namespace meridian::metrics

#endif  // MERIDIAN_COMMON_METRICS_H_
