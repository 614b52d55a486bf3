// Paxos commit benchmark: a 3-replica group (paxos::Replica over GroupLogStorage) on three real
// Paxos logs (storage::PaxosLog) on disk, with every Ready synced before it is acknowledged.
// Reports, per load level, proposals/s and commit latency percentiles (Propose on the leader ->
// entry applied on the leader), plus how well phase 2 batches: entries per Accept message and per
// synced write.
//
//   build/bench/paxos_bench                    # 1, 8 and 64 proposers, 3 s each
//   build/bench/paxos_bench --seconds=10 --proposers=1,64,256 --json=out.json
//
// Setup and choices:
//  * One storage::PaxosLog per replica, each in its own directory under $MERIDIAN_BENCH_DIR
//    (default /tmp; must be a real disk, tmpfs makes fsync free), removed at exit.
//  * Each replica runs on its own thread (the role of its strand in the spanserver) with an
//    inbox, so the three replicas' fsyncs overlap as they would on three machines (here they share
//    one disk and 2 cores). Each thread carries out a Ready strictly in the header's order: send
//    `messages`, write hard state + entries in one PaxosLog batch with sync=true, send
//    `messages_after_persist`, apply `committed`, Advance(). The log is written directly (one
//    group per log, so a GroupCommitWriter would have nothing to merge).
//  * Transport: zero latency, lossless; a message is pushed straight into the receiver's inbox and
//    handed to its Step() on the receiver's thread. No serialization (codec) cost is measured.
//  * Time: real time. TT.now() = [t - 1 ms, t + 1 ms] with t = a steady clock anchored at the
//    system time at start (monotonic, microseconds since the Unix epoch). That is a fake epsilon,
//    good enough for a bench: leases only need every replica to read the same clock.
//  * Load: closed-loop proposers driven on the leader's own thread: each proposer proposes one
//    100-byte command, waits until it is applied on the leader, and proposes the next at once (no
//    think time). N proposers = N proposals outstanding at all times. Proposals made between two
//    TakeReady calls travel in one Accept per follower and one synced write per replica; that is
//    the batching whose effect the bench shows. Replica 1 campaigns first and leads throughout.
//  * Throughput counts proposals applied within the window; latency percentiles cover the same
//    proposals. After each window the load stops and the group drains before the next level.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "replication/group_log_storage.h"
#include "spanserver/paxos/replica.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/write_batch.h"

namespace meridian::paxos {
namespace {

constexpr int kReplicas = 3;
constexpr GroupId kGroup = 1;
constexpr size_t kCommandBytes = 100;
constexpr int64_t kEpsilonUs = 1000;
constexpr int64_t kTickEveryUs = 1000;

using SteadyClock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) { bench::Die("paxos_bench", what); }

// Real time, in microseconds since the Unix epoch, never going backwards.
class Clock {
 public:
  Clock()
      : start_(SteadyClock::now()),
        base_us_(std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count()) {}
  int64_t NowUs() const {
    return base_us_ +
           std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start_)
               .count();
  }
  // A bench stand-in for TrueTime: a fixed +-1 ms around the local clock.
  Interval TT() const {
    const int64_t t = NowUs();
    return Interval{t - kEpsilonUs, t + kEpsilonUs};
  }

 private:
  SteadyClock::time_point start_;
  int64_t base_us_;
};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

struct Counters {
  std::atomic<uint64_t> synced_writes{0};
  std::atomic<uint64_t> synced_entries{0};
  std::atomic<uint64_t> accepts_with_entries{0};  // Accept messages sent that carry entries
  std::atomic<uint64_t> accepted_entries{0};      // entries carried by them
};

struct CounterSnapshot {
  uint64_t synced_writes = 0;
  uint64_t synced_entries = 0;
  uint64_t accepts_with_entries = 0;
  uint64_t accepted_entries = 0;
};

// Closed-loop load on the leader; touched only on the leader's thread.
struct Workload {
  int target = 0;  // proposals to keep outstanding
  bool measuring = false;
  uint64_t next_seq = 0;
  struct Outstanding {
    std::string command;
    int64_t start_ns = 0;
  };
  std::map<Index, Outstanding> outstanding;
  std::vector<int64_t> latencies_ns;  // of proposals applied while measuring
};

using Task = std::function<void()>;

class Node {
 public:
  Node(ReplicaId id, const std::string& dir, const Clock* clock, std::vector<Node*>* peers)
      : clock_(clock), peers_(peers) {
    absl::StatusOr<std::unique_ptr<storage::PaxosLog>> paxos_log = storage::PaxosLog::Open(dir);
    if (!paxos_log.ok()) Die("open " + dir + ": " + paxos_log.status().ToString());
    paxos_log_ = std::move(*paxos_log);
    log_ = std::make_unique<replication::GroupLogStorage>(paxos_log_.get(), kGroup);
    Options options;
    options.group = kGroup;
    options.id = id;
    options.members = {1, 2, 3};
    options.seed = id;
    replica_ = std::make_unique<Replica>(options, log_.get(), clock_->TT());
  }

  ~Node() { Stop(); }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

  void Deliver(Message m) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      inbox_.push_back(std::move(m));
    }
    cv_.notify_one();
  }

  // Runs `fn` on this node's thread and waits for its result.
  template <typename T>
  T Call(std::function<T()> fn) {
    std::promise<T> promise;
    std::future<T> future = promise.get_future();
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back([&] { promise.set_value(fn()); });
    }
    cv_.notify_one();
    return future.get();
  }

  // Only on this node's thread (inside Call).
  Replica& replica() { return *replica_; }
  Workload& workload() { return workload_; }

  CounterSnapshot Snapshot() const {
    return {counters_.synced_writes.load(), counters_.synced_entries.load(),
            counters_.accepts_with_entries.load(), counters_.accepted_entries.load()};
  }

 private:
  void Run() {
    int64_t last_tick = 0;
    while (true) {
      std::deque<Message> inbox;
      std::deque<Task> tasks;
      {
        std::unique_lock<std::mutex> lock(mu_);
        const bool busy = replica_->HasReady() || CanPropose();
        if (!busy) {
          cv_.wait_for(lock, std::chrono::microseconds(kTickEveryUs),
                       [&] { return stop_ || !inbox_.empty() || !tasks_.empty(); });
        }
        if (stop_) return;
        inbox.swap(inbox_);
        tasks.swap(tasks_);
      }
      Interval now = clock_->TT();
      for (const Message& m : inbox) replica_->Step(m, now);
      for (Task& task : tasks) task();
      if (now.latest - last_tick >= kTickEveryUs) {
        replica_->Tick(now);
        last_tick = now.latest;
      }
      Refill(now);
      if (replica_->HasReady()) HandleReady();
    }
  }

  bool CanPropose() const {
    return replica_->role() == Role::kLeader &&
           static_cast<int>(workload_.outstanding.size()) < workload_.target;
  }

  void Refill(Interval now) {
    while (CanPropose()) {
      std::string command = "proposal-" + std::to_string(workload_.next_seq++);
      command.resize(kCommandBytes, '.');
      const int64_t start_ns = NowNs();
      absl::StatusOr<Index> index = replica_->Propose(command, now);
      if (!index.ok()) {
        if (index.status().code() == absl::StatusCode::kResourceExhausted) return;
        Die("propose: " + index.status().ToString());
      }
      workload_.outstanding[*index] = {std::move(command), start_ns};
    }
  }

  void Send(std::vector<Message>& messages) {
    for (Message& m : messages) {
      if (m.type == MessageType::kAccept && !m.entries.empty()) {
        counters_.accepts_with_entries.fetch_add(1, std::memory_order_relaxed);
        counters_.accepted_entries.fetch_add(m.entries.size(), std::memory_order_relaxed);
      }
      if (m.to < 1 || m.to > peers_->size()) Die("message to unknown replica " + m.ToString());
      (*peers_)[m.to - 1]->Deliver(std::move(m));
    }
  }

  // Carries out one Ready in the order replica.h prescribes.
  void HandleReady() {
    Ready ready = replica_->TakeReady();
    Send(ready.messages);    // 1
    if (ready.MustSync()) {  // 2
      storage::PaxosLogBatch batch;
      log_->AddToBatch(ready, &batch);
      absl::Status s = paxos_log_->Write(batch, /*sync=*/true);
      if (!s.ok()) Die("write: " + s.ToString());
      counters_.synced_writes.fetch_add(1, std::memory_order_relaxed);
      counters_.synced_entries.fetch_add(ready.entries.size(), std::memory_order_relaxed);
    }
    Send(ready.messages_after_persist);  // 3
    const int64_t applied_ns = NowNs();  // 4: the state machine is the latency recorder
    for (const Entry& e : ready.committed) {
      auto it = workload_.outstanding.find(e.index);
      if (it == workload_.outstanding.end()) continue;
      if (e.type != EntryType::kNormal || e.command != it->second.command) {
        Die("proposal at slot " + std::to_string(e.index) + " lost to " + e.ToString());
      }
      if (workload_.measuring) workload_.latencies_ns.push_back(applied_ns - it->second.start_ns);
      workload_.outstanding.erase(it);
    }
    replica_->Advance(clock_->TT());  // 5
  }

  const Clock* clock_;
  std::vector<Node*>* peers_;
  std::unique_ptr<storage::PaxosLog> paxos_log_;
  std::unique_ptr<replication::GroupLogStorage> log_;
  std::unique_ptr<Replica> replica_;
  Workload workload_;
  Counters counters_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Message> inbox_;
  std::deque<Task> tasks_;
  bool stop_ = false;
  std::thread thread_;
};

struct Result {
  int proposers = 0;
  double seconds = 0;
  uint64_t proposals = 0;
  double proposals_per_s = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0, mean_ms = 0;
  double entries_per_accept = 0;
  double entries_per_sync = 0;     // over all three replicas' synced writes
  double synced_writes_per_s = 0;  // per replica (average)
};

double Percentile(const std::vector<int64_t>& sorted_ns, double q) {
  return bench::PercentileMs(sorted_ns, q, 1'000'000);
}

class Group {
 public:
  explicit Group(const std::string& root) {
    for (int i = 0; i < kReplicas; ++i) {
      const std::string dir = root + "/replica" + std::to_string(i + 1);
      nodes_.push_back(std::make_unique<Node>(i + 1, dir, &clock_, &peers_));
      peers_.push_back(nodes_.back().get());
    }
    for (auto& node : nodes_) node->Start();
  }
  ~Group() {
    for (auto& node : nodes_) node->Stop();
  }

  Node& leader() { return *nodes_[0]; }

  // Replica 1 campaigns; waits until it leads and its first no-op is committed.
  void Elect() {
    leader().Call<bool>([this] {
      leader().replica().Campaign(clock_.TT());
      return true;
    });
    const auto deadline = SteadyClock::now() + std::chrono::seconds(10);
    while (SteadyClock::now() < deadline) {
      const bool ready = leader().Call<bool>([this] {
        Replica& r = leader().replica();
        return r.role() == Role::kLeader && r.commit() >= r.last_index() && r.commit() > 0;
      });
      if (ready) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    Die("replica 1 did not become leader within 10 s");
  }

  Result Run(int proposers, double seconds) {
    CounterSnapshot before[kReplicas];
    const int64_t t0 = leader().Call<int64_t>([&] {
      for (int i = 0; i < kReplicas; ++i) before[i] = nodes_[i]->Snapshot();
      Workload& w = leader().workload();
      w.latencies_ns.clear();
      w.measuring = true;
      w.target = proposers;
      return NowNs();
    });
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    CounterSnapshot after[kReplicas];
    std::vector<int64_t> latencies;
    const int64_t t1 = leader().Call<int64_t>([&] {
      for (int i = 0; i < kReplicas; ++i) after[i] = nodes_[i]->Snapshot();
      Workload& w = leader().workload();
      w.measuring = false;
      w.target = 0;
      latencies.swap(w.latencies_ns);
      return NowNs();
    });
    Drain();

    Result r;
    r.proposers = proposers;
    r.seconds = static_cast<double>(t1 - t0) / 1e9;
    r.proposals = latencies.size();
    r.proposals_per_s = static_cast<double>(r.proposals) / r.seconds;
    std::sort(latencies.begin(), latencies.end());
    r.p50_ms = Percentile(latencies, 0.50);
    r.p90_ms = Percentile(latencies, 0.90);
    r.p99_ms = Percentile(latencies, 0.99);
    r.max_ms = latencies.empty() ? 0 : static_cast<double>(latencies.back()) / 1e6;
    double sum = 0;
    for (int64_t l : latencies) sum += static_cast<double>(l);
    r.mean_ms = latencies.empty() ? 0 : sum / static_cast<double>(latencies.size()) / 1e6;
    uint64_t writes = 0, entries = 0, accepts = 0, accepted = 0;
    for (int i = 0; i < kReplicas; ++i) {
      writes += after[i].synced_writes - before[i].synced_writes;
      entries += after[i].synced_entries - before[i].synced_entries;
      accepts += after[i].accepts_with_entries - before[i].accepts_with_entries;
      accepted += after[i].accepted_entries - before[i].accepted_entries;
    }
    r.entries_per_accept =
        accepts == 0 ? 0 : static_cast<double>(accepted) / static_cast<double>(accepts);
    r.entries_per_sync =
        writes == 0 ? 0 : static_cast<double>(entries) / static_cast<double>(writes);
    r.synced_writes_per_s = static_cast<double>(writes) / kReplicas / r.seconds;
    return r;
  }

 private:
  // Waits until every outstanding proposal has been applied on the leader.
  void Drain() {
    const auto deadline = SteadyClock::now() + std::chrono::seconds(30);
    while (SteadyClock::now() < deadline) {
      if (leader().Call<bool>([this] { return leader().workload().outstanding.empty(); })) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    Die("outstanding proposals did not commit within 30 s");
  }

  Clock clock_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<Node*> peers_;
};

// The first line of `path` containing every word of `needles`, or "" (for the footer).
std::string FindLine(const std::string& path, const std::vector<std::string>& needles) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    bool all = true;
    for (const std::string& n : needles) all = all && line.find(n) != std::string::npos;
    if (all) return line;
  }
  return "";
}

// The value of `key=` in a results line, or "?".
std::string Field(const std::string& line, const std::string& key) {
  const size_t at = line.find(key + "=");
  if (at == std::string::npos) return "?";
  const size_t from = at + key.size() + 1;
  return line.substr(from, line.find(' ', from) - from);
}

void PrintPeers() {
  const std::string dir = "/work/shared/peers/results/";
  const std::string leveldb =
      FindLine(dir + "physical.txt", {"test=leveldb", "sync=1", "batch=1 "});
  if (!leveldb.empty()) {
    std::printf(
        "peers (results files, not run here): LevelDB sync=1 batch=1: %s writes/s, p50 %s us",
        Field(leveldb, "writes_per_s").c_str(), Field(leveldb, "p50_us").c_str());
  }
  const std::string etcd1 = FindLine(dir + "etcd3.txt", {"target=leader", "clients=1 "});
  const std::string etcd64 = FindLine(dir + "etcd3.txt", {"target=leader", "clients=64 "});
  if (!etcd1.empty() || !etcd64.empty()) {
    std::printf("%setcd 3-node put: 1 client %s ops/s (p50 %s ms), 64 clients %s ops/s (p50 %s ms)",
                leveldb.empty() ? "peers: " : "; ", Field(etcd1, "ops_per_s").c_str(),
                Field(etcd1, "p50_ms").c_str(), Field(etcd64, "ops_per_s").c_str(),
                Field(etcd64, "p50_ms").c_str());
  }
  if (!leveldb.empty() || !etcd1.empty() || !etcd64.empty()) std::printf("\n");
}

void WriteJson(const std::string& path, const std::vector<Result>& results, double seconds) {
  std::ostringstream out;
  out << "{\n  \"benchmark\": \"paxos_bench\",\n  \"replicas\": " << kReplicas
      << ",\n  \"command_bytes\": " << kCommandBytes << ",\n  \"seconds_per_level\": " << seconds
      << ",\n  \"sync\": true,\n  \"results\": [\n";
  for (size_t i = 0; i < results.size(); ++i) {
    const Result& r = results[i];
    out << "    {\"proposers\": " << r.proposers << ", \"seconds\": " << r.seconds
        << ", \"proposals\": " << r.proposals << ", \"proposals_per_s\": " << r.proposals_per_s
        << ", \"p50_ms\": " << r.p50_ms << ", \"p90_ms\": " << r.p90_ms
        << ", \"p99_ms\": " << r.p99_ms << ", \"max_ms\": " << r.max_ms
        << ", \"mean_ms\": " << r.mean_ms << ", \"entries_per_accept\": " << r.entries_per_accept
        << ", \"entries_per_sync\": " << r.entries_per_sync
        << ", \"synced_writes_per_s_per_replica\": " << r.synced_writes_per_s << "}"
        << (i + 1 < results.size() ? "," : "") << "\n";
  }
  out << "  ]\n}\n";
  std::ofstream file(path);
  file << out.str();
  if (!file) Die("cannot write " + path);
}

constexpr char kUsage[] =
    "usage: paxos_bench [--seconds=S] [--proposers=1,8,64] [--json=PATH]\n"
    "  --seconds=S        measuring time per load level (default 3)\n"
    "  --proposers=LIST   closed-loop proposer counts to run (default 1,8,64)\n"
    "  --json=PATH        where to write the figures (default paxos_bench.json)\n"
    "Stores go under $MERIDIAN_BENCH_DIR (default /tmp), which must be on a real disk.\n";

int Main(int argc, char** argv) {
  double seconds = 3;
  std::string json = "paxos_bench.json";
  std::vector<int> levels = {1, 8, 64};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const std::string& flag) { return bench::FlagValue(argv[i], flag); };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (const char* v = value("--seconds")) {
      seconds = std::atof(v);
      if (seconds <= 0) Die("--seconds must be > 0");
    } else if (const char* v = value("--json")) {
      json = v;
    } else if (const char* v = value("--proposers")) {
      levels.clear();
      std::stringstream list(v);
      std::string item;
      while (std::getline(list, item, ',')) {
        const int n = std::atoi(item.c_str());
        if (n <= 0) Die("bad --proposers entry '" + item + "'");
        levels.push_back(n);
      }
    } else {
      std::fprintf(stderr, "unknown flag %s\n%s", arg.c_str(), kUsage);
      return 1;
    }
  }

  const char* dir = std::getenv("MERIDIAN_BENCH_DIR");
  const std::string root = std::string(dir != nullptr ? dir : "/tmp") + "/meridian_paxos_bench_" +
                           std::to_string(getpid());
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);

  std::vector<Result> results;
  {
    Group group(root);
    group.Elect();
    std::printf(
        "3 replicas, one Paxos log each (sync=1) under %s, %zu-byte commands, %.1f s/level\n",
        root.c_str(), kCommandBytes, seconds);
    std::printf("%9s %12s %8s %8s %8s %8s %11s %10s %12s\n", "proposers", "proposals/s", "p50_ms",
                "p90_ms", "p99_ms", "max_ms", "ent/Accept", "ent/sync", "syncs/s/rep");
    for (int n : levels) {
      Result r = group.Run(n, seconds);
      std::printf("%9d %12.0f %8.3f %8.3f %8.3f %8.3f %11.2f %10.2f %12.0f\n", r.proposers,
                  r.proposals_per_s, r.p50_ms, r.p90_ms, r.p99_ms, r.max_ms, r.entries_per_accept,
                  r.entries_per_sync, r.synced_writes_per_s);
      std::fflush(stdout);
      results.push_back(r);
    }
  }
  std::filesystem::remove_all(root);
  PrintPeers();
  WriteJson(json, results, seconds);
  std::printf("wrote %s\n", json.c_str());
  return 0;
}

}  // namespace
}  // namespace meridian::paxos

int main(int argc, char** argv) { return meridian::paxos::Main(argc, argv); }
