// Storage micro benchmarks on a real LevelDB on disk: synced and unsynced single writes,
// group-committed synced writes from 1, 8 and 64 threads, MVCC point reads and 100-row scans.
//
//   build/bench/storage_bench                                  # console table
//   build/bench/storage_bench --benchmark_out=storage.json --benchmark_out_format=json
//
// Stores are created under $MERIDIAN_BENCH_DIR (default /tmp), which must be on a real disk for
// the synced figures to mean anything (tmpfs makes fsync free), and removed at exit. Group-commit
// runs report items_per_second (caller writes/s) plus leveldb_writes (merged LevelDB writes/s)
// and merge_size (caller batches per LevelDB write).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "common/random.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/group_commit_writer.h"

namespace meridian::storage {
namespace {

constexpr int kValueBytes = 100;
constexpr int kPreloadedKeys = 100000;
constexpr int kScanRows = 100;

const std::string& BenchRoot() {
  static const std::string root = [] {
    const char* dir = std::getenv("MERIDIAN_BENCH_DIR");
    std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/meridian_storage_bench_" +
                       std::to_string(getpid());
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
    return path;
  }();
  return root;
}

// A fresh, empty store for one benchmark run.
std::unique_ptr<Engine> OpenFresh(const std::string& name) {
  static std::atomic<int> counter{0};
  const std::string path = BenchRoot() + "/" + name + "_" + std::to_string(counter++);
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(path);
  if (!engine.ok()) {
    std::fprintf(stderr, "open %s: %s\n", path.c_str(), engine.status().ToString().c_str());
    std::abort();
  }
  return std::move(*engine);
}

std::string Key(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "user%010llu", static_cast<unsigned long long>(i));
  return buf;
}

void CheckOk(const absl::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    std::abort();
  }
}

void SingleWrites(benchmark::State& state, bool sync) {
  std::unique_ptr<Engine> engine = OpenFresh(sync ? "synced" : "unsynced");
  const std::string value(kValueBytes, 'v');
  uint64_t i = 0;
  for (auto _ : state) {
    WriteBatch batch;
    batch.Put(1, Key(i), static_cast<Timestamp>(i + 1), value);
    CheckOk(engine->Write(batch, sync));
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_SyncedWrite(benchmark::State& state) { SingleWrites(state, true); }
void BM_UnsyncedWrite(benchmark::State& state) { SingleWrites(state, false); }
BENCHMARK(BM_SyncedWrite)->UseRealTime();
BENCHMARK(BM_UnsyncedWrite);

// Every thread issues synced one-row writes through one shared GroupCommitWriter. Thread 0 owns
// the store; Google Benchmark holds the other threads at a barrier until its setup is done.
std::unique_ptr<Engine> gc_engine;
std::unique_ptr<GroupCommitWriter> gc_writer;

void BM_GroupCommitSynced(benchmark::State& state) {
  if (state.thread_index() == 0) {
    gc_engine = OpenFresh("group_commit");
    gc_writer = std::make_unique<GroupCommitWriter>(gc_engine.get());
  }
  const std::string value(kValueBytes, 'v');
  uint64_t i = 0;
  for (auto _ : state) {
    WriteBatch batch;
    batch.Put(state.thread_index(), Key(i), static_cast<Timestamp>(i + 1), value);
    CheckOk(gc_writer->Write(std::move(batch), /*sync=*/true));
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    gc_writer->Shutdown();
    const GroupCommitWriter::Stats stats = gc_writer->stats();
    state.counters["leveldb_writes"] =
        benchmark::Counter(static_cast<double>(stats.leveldb_writes), benchmark::Counter::kIsRate);
    state.counters["merge_size"] = static_cast<double>(stats.batches) /
                                   static_cast<double>(std::max<uint64_t>(1, stats.leveldb_writes));
    gc_writer.reset();
    gc_engine.reset();
  }
}
BENCHMARK(BM_GroupCommitSynced)->Threads(1)->Threads(8)->Threads(64)->UseRealTime();

// A store with kPreloadedKeys keys of two versions each (ts 10 and 20), shared by the read
// benchmarks and built on first use.
Engine& PreloadedStore() {
  static std::unique_ptr<Engine> engine = [] {
    std::unique_ptr<Engine> e = OpenFresh("preloaded");
    const std::string value(kValueBytes, 'v');
    for (int start = 0; start < kPreloadedKeys; start += 1000) {
      WriteBatch batch;
      for (int i = start; i < start + 1000; ++i) {
        batch.Put(1, Key(i), 10, value);
        batch.Put(1, Key(i), 20, value);
      }
      CheckOk(e->Write(batch, false));
    }
    return e;
  }();
  return *engine;
}

void BM_PointRead(benchmark::State& state) {
  Engine& engine = PreloadedStore();
  Random rng(1);
  for (auto _ : state) {
    absl::StatusOr<std::optional<std::string>> got =
        engine.Get(1, Key(rng.Uniform(kPreloadedKeys)), 15);
    if (!got.ok() || !got->has_value()) std::abort();
    benchmark::DoNotOptimize(got);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PointRead);

void BM_Scan100(benchmark::State& state) {
  Engine& engine = PreloadedStore();
  Random rng(2);
  for (auto _ : state) {
    absl::StatusOr<std::vector<KeyValue>> rows =
        engine.Scan(1, Key(rng.Uniform(kPreloadedKeys - kScanRows)), "", 25, kScanRows);
    if (!rows.ok() || rows->size() != kScanRows) std::abort();
    benchmark::DoNotOptimize(rows);
  }
  state.SetItemsProcessed(state.iterations() * kScanRows);
}
BENCHMARK(BM_Scan100);

}  // namespace
}  // namespace meridian::storage

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::filesystem::remove_all(meridian::storage::BenchRoot());
  return 0;
}
