// The chaos nemesis: injects faults into a LocalCluster one at a time, each for a while, then
// undoes it, in an order and with targets and durations drawn from a seeded generator
// (common/random.h), until a deadline; Heal() then brings everything back.
//
// Fault kinds (each can be turned off; one that the machine cannot do is skipped by the caller):
//   kill       kill -9 of a process (placementd or a spanserver), restarted after the hold
//   stop       SIGSTOP of a process, SIGCONT after the hold (a process that hangs: its leases
//              run out while it is frozen, and it wakes up believing it still leads)
//   partition  cuts the links between two spanservers, or between one and both others, with
//              nftables rules (net_partition.h), healed after the hold
//   clock      steps the wall clock of one to all spanservers by up to clock_step_max_us either
//              way, through each server's --testing_clock_offset_file
//              (truetime/offset_file_clock.h; the host's clock is never touched), back to 0 after
//              the hold
//   disk       fills the small tmpfs that holds one spanserver's data directory (small_disk.h)
//              while that server serves; after the hold frees it and restarts that server, which
//              is how a fenced group comes back (docs/operations.md)
// A process that exits without the nemesis killing it is a crash: recorded (crashes()) and
// restarted so that the run goes on; the suite fails on it.
//
// Time: the nemesis paces itself on absl::Now(); nothing it checks depends on that pacing.
//
// Thread safety: none. Drive it from the thread that started the cluster (LocalCluster).
#ifndef MERIDIAN_TESTS_CHAOS_NEMESIS_H_
#define MERIDIAN_TESTS_CHAOS_NEMESIS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/random.h"
#include "tests/chaos/net_partition.h"
#include "tests/chaos/small_disk.h"
#include "tools/local_cluster.h"

namespace meridian::chaos {

enum class FaultKind { kKill, kStop, kPartition, kClock, kDisk };

const char* FaultName(FaultKind kind);
// "kill,stop,partition,clock,disk" (any subset, any order) or "all". INVALID_ARGUMENT naming an
// unknown kind.
absl::StatusOr<std::vector<FaultKind>> ParseFaults(const std::string& list);

struct NemesisOptions {
  std::vector<FaultKind> faults;
  // How long a fault lasts, and the calm between two faults: uniform in [min, max].
  absl::Duration hold_min = absl::Seconds(1);
  absl::Duration hold_max = absl::Seconds(5);
  absl::Duration quiet_min = absl::Milliseconds(500);
  absl::Duration quiet_max = absl::Seconds(3);
  // The largest clock step, either way (see ChaosOptions: 100 x TrueTime's epsilon by default).
  int64_t clock_step_max_us = 1000;
  // Planted bug for the suite's own test: Heal leaves one process stopped (SIGSTOP), so the
  // "healed" check must fail.
  bool plant_leave_stopped = false;
};

struct FaultEvent {
  double start_s = 0;  // since the nemesis's origin
  double end_s = -1;   // -1 while in force
  std::string fault;
  std::string detail;  // what was done, to whom
};

class Nemesis {
 public:
  // `cluster` must outlive the nemesis. `partitioner` is needed for kPartition and `disk` (on the
  // data directory of spanserver `disk_server`) for kDisk; either may be null when that kind is
  // not in options.faults.
  Nemesis(tools::LocalCluster* cluster, NemesisOptions options, uint64_t seed,
          NftPartitioner* partitioner, SmallDisk* disk, std::string disk_server, absl::Time origin);

  // Injects faults, one at a time, until `end`; `say` gets a line for each fault begun and
  // undone, `tick` (may be empty) is called about once a second.
  void RunUntil(absl::Time end, const std::function<void(const std::string&)>& say,
                const std::function<void()>& tick);
  // Undoes the fault in force, if any, and restarts every process that is not running; the first
  // error (the others are tried all the same).
  absl::Status Heal(const std::function<void(const std::string&)>& say);
  // SIGCONT to every running process (before stopping the cluster: a stopped process cannot
  // act on SIGTERM).
  void ContinueAll();

  const std::vector<FaultEvent>& events() const { return events_; }
  std::map<std::string, int> counts() const;
  // "span-a1: killed by signal 6 (Aborted)": processes that exited on their own.
  const std::vector<std::string>& crashes() const { return crashes_; }

 private:
  struct Active {
    FaultKind kind = FaultKind::kKill;
    std::vector<std::string> targets;
    size_t event = 0;
  };

  absl::StatusOr<Active> Begin(FaultKind kind);
  absl::Status End(const Active& active);
  // Sleeps until `until` in short steps, reaping and restarting crashed processes.
  void Watch(absl::Time until, const std::function<void()>& tick);
  absl::Duration Draw(absl::Duration min, absl::Duration max);
  std::string DrawProcess();
  std::vector<std::string> Spanservers() const;
  std::string Host(const std::string& name) const;
  absl::Status SetClockOffset(const std::string& name, int64_t offset_us);
  double Since() const { return absl::ToDoubleSeconds(absl::Now() - origin_); }

  tools::LocalCluster* const cluster_;
  const NemesisOptions options_;
  Random random_;
  NftPartitioner* const partitioner_;
  SmallDisk* const disk_;
  const std::string disk_server_;
  const absl::Time origin_;
  std::optional<Active> active_;
  std::vector<FaultEvent> events_;
  std::vector<std::string> crashes_;
};

}  // namespace meridian::chaos

#endif  // MERIDIAN_TESTS_CHAOS_NEMESIS_H_
