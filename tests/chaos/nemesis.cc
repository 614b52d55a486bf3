#include "tests/chaos/nemesis.h"

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"

namespace meridian::chaos {
namespace {

constexpr FaultKind kAllFaults[] = {FaultKind::kKill, FaultKind::kStop, FaultKind::kPartition,
                                    FaultKind::kClock, FaultKind::kDisk};

}  // namespace

const char* FaultName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kKill:
      return "kill";
    case FaultKind::kStop:
      return "stop";
    case FaultKind::kPartition:
      return "partition";
    case FaultKind::kClock:
      return "clock";
    case FaultKind::kDisk:
      return "disk";
  }
  return "unknown";
}

absl::StatusOr<std::vector<FaultKind>> ParseFaults(const std::string& list) {
  if (list == "all") return std::vector<FaultKind>(std::begin(kAllFaults), std::end(kAllFaults));
  std::vector<FaultKind> faults;
  for (const absl::string_view name : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    const FaultKind* found = std::find_if(std::begin(kAllFaults), std::end(kAllFaults),
                                          [&](FaultKind k) { return name == FaultName(k); });
    if (found == std::end(kAllFaults)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown fault '", name, "': expected kill, stop, partition, clock, disk or all"));
    }
    if (std::find(faults.begin(), faults.end(), *found) == faults.end()) faults.push_back(*found);
  }
  return faults;
}

Nemesis::Nemesis(tools::LocalCluster* cluster, NemesisOptions options, uint64_t seed,
                 NftPartitioner* partitioner, SmallDisk* disk, std::string disk_server,
                 absl::Time origin)
    : cluster_(cluster),
      options_(std::move(options)),
      random_(seed),
      partitioner_(partitioner),
      disk_(disk),
      disk_server_(std::move(disk_server)),
      origin_(origin) {}

std::map<std::string, int> Nemesis::counts() const {
  std::map<std::string, int> counts;
  for (const FaultEvent& event : events_) ++counts[event.fault];
  return counts;
}

absl::Duration Nemesis::Draw(absl::Duration min, absl::Duration max) {
  const int64_t lo = absl::ToInt64Milliseconds(min);
  const int64_t hi = std::max(lo, absl::ToInt64Milliseconds(max));
  return absl::Milliseconds(random_.Range(lo, hi));
}

std::vector<std::string> Nemesis::Spanservers() const { return cluster_->server_names(); }

std::string Nemesis::DrawProcess() {
  std::vector<std::string> names;
  for (const tools::ProcessState& p : cluster_->supervisor().Processes()) {
    names.push_back(p.spec.name);
  }
  return names[random_.Uniform(names.size())];
}

std::string Nemesis::Host(const std::string& name) const {
  const std::string address = cluster_->address(name);
  return address.substr(0, address.rfind(':'));
}

absl::Status Nemesis::SetClockOffset(const std::string& name, int64_t offset_us) {
  const std::string path = cluster_->ClockOffsetFile(name);
  if (path.empty()) return absl::FailedPreconditionError("the cluster has no clock offset files");
  // Replaced whole (rename), so the server never reads half a number.
  {
    std::ofstream out(path + ".tmp", std::ios::trunc);
    out << offset_us << "\n";
    if (!out.flush()) return absl::InternalError("cannot write " + path + ".tmp");
  }
  std::error_code error;
  std::filesystem::rename(path + ".tmp", path, error);
  if (error) return absl::InternalError("cannot rename onto " + path + ": " + error.message());
  return absl::OkStatus();
}

absl::StatusOr<Nemesis::Active> Nemesis::Begin(FaultKind kind) {
  Active active{.kind = kind, .targets = {}, .event = events_.size()};
  std::string detail;
  switch (kind) {
    case FaultKind::kKill: {
      const std::string name = DrawProcess();
      const pid_t pid = cluster_->supervisor().Pid(name);
      RETURN_IF_ERROR(cluster_->Kill(name));
      active.targets = {name};
      detail = absl::StrCat("kill -9 ", name, " (pid ", pid, ")");
      break;
    }
    case FaultKind::kStop: {
      const std::string name = DrawProcess();
      RETURN_IF_ERROR(cluster_->Signal(name, SIGSTOP));
      active.targets = {name};
      detail = absl::StrCat("SIGSTOP ", name);
      break;
    }
    case FaultKind::kPartition: {
      const std::vector<std::string> servers = Spanservers();
      const std::string a = servers[random_.Uniform(servers.size())];
      std::vector<NftPartitioner::Link> links;
      std::vector<std::string> shown;
      const bool isolate = random_.Bernoulli(0.5);
      std::vector<std::string> others;
      for (const std::string& b : servers) {
        if (b != a) others.push_back(b);
      }
      if (others.empty()) return absl::FailedPreconditionError("one spanserver: no link to cut");
      const std::string only = isolate ? "" : others[random_.Uniform(others.size())];
      for (const std::string& b : servers) {
        if (b == a || (!isolate && b != only)) continue;
        links.push_back({Host(a), Host(b)});
        shown.push_back(absl::StrCat(a, " <-> ", b));
      }
      RETURN_IF_ERROR(partitioner_->SetCuts(links));
      active.targets = {a};
      detail = absl::StrCat(isolate ? "isolate " : "cut ", absl::StrJoin(shown, ", "));
      break;
    }
    case FaultKind::kClock: {
      std::vector<std::string> servers = Spanservers();
      const size_t count = 1 + random_.Uniform(servers.size());
      std::vector<std::string> shown;
      for (size_t i = 0; i < count; ++i) {
        const std::string name = servers[random_.Uniform(servers.size())];
        if (std::find(active.targets.begin(), active.targets.end(), name) != active.targets.end()) {
          continue;
        }
        const int64_t offset =
            random_.Range(-options_.clock_step_max_us, options_.clock_step_max_us);
        RETURN_IF_ERROR(SetClockOffset(name, offset));
        active.targets.push_back(name);
        shown.push_back(absl::StrCat(name, offset >= 0 ? " +" : " ", offset, "us"));
      }
      detail = absl::StrCat("step clocks: ", absl::StrJoin(shown, ", "));
      break;
    }
    case FaultKind::kDisk: {
      // The fault is a disk that fills under a running server. A server still starting (after
      // the last disk fault's restart) that finds its disk full cannot open its store and exits,
      // rightly; that is not the fault meant here.
      if (absl::Status serving = cluster_->ServerStatus(disk_server_).status(); !serving.ok()) {
        return absl::FailedPreconditionError(
            absl::StrCat(disk_server_, " is not serving yet: ", serving.message()));
      }
      const int64_t ballast = disk_->Fill();
      active.targets = {disk_server_};
      detail = absl::StrCat("fill ", disk_server_, "'s disk (", ballast >> 20, " MiB of ballast)");
      break;
    }
  }
  events_.push_back(
      FaultEvent{.start_s = Since(), .end_s = -1, .fault = FaultName(kind), .detail = detail});
  return active;
}

absl::Status Nemesis::End(const Active& active) {
  absl::Status status;
  switch (active.kind) {
    case FaultKind::kKill:
      status = cluster_->Restart(active.targets[0]);
      break;
    case FaultKind::kStop:
      status = cluster_->Signal(active.targets[0], SIGCONT);
      break;
    case FaultKind::kPartition:
      status = partitioner_->HealAll();
      break;
    case FaultKind::kClock:
      for (const std::string& name : active.targets) status.Update(SetClockOffset(name, 0));
      break;
    case FaultKind::kDisk:
      disk_->Free();
      // A group fenced by the full disk comes back only with a restart of its process.
      if (cluster_->supervisor().Running(disk_server_)) status = cluster_->Kill(disk_server_);
      if (status.ok()) status = cluster_->Restart(disk_server_);
      break;
  }
  events_[active.event].end_s = Since();
  return status;
}

void Nemesis::Watch(absl::Time until, const std::function<void()>& tick) {
  absl::Time next_tick = absl::Now() + absl::Seconds(1);
  while (absl::Now() < until) {
    for (const std::string& crash : cluster_->ReapUnexpected()) {
      crashes_.push_back(absl::StrCat(crash, " (at ", static_cast<int64_t>(Since()), " s)"));
      std::printf("chaos: CRASH %s; restarting it\n", crash.c_str());
      std::fflush(stdout);
      const std::string name = crash.substr(0, crash.find(':'));
      if (absl::Status s = cluster_->Restart(name); !s.ok()) {
        std::printf("chaos: cannot restart %s: %s\n", name.c_str(), s.ToString().c_str());
      }
    }
    if (tick && absl::Now() >= next_tick) {
      tick();
      next_tick = absl::Now() + absl::Seconds(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(
        std::clamp<int64_t>(absl::ToInt64Milliseconds(until - absl::Now()), 0, 100)));
  }
}

void Nemesis::RunUntil(absl::Time end, const std::function<void(const std::string&)>& say,
                       const std::function<void()>& tick) {
  // Bounded: every round waits at least quiet_min + hold_min (>= 1 ms each, Draw), and the
  // loop ends at `end`.
  while (absl::Now() < end && !options_.faults.empty()) {
    Watch(std::min(end, absl::Now() + Draw(options_.quiet_min, options_.quiet_max)), tick);
    if (absl::Now() >= end) break;
    const FaultKind kind = options_.faults[random_.Uniform(options_.faults.size())];
    absl::StatusOr<Active> active = Begin(kind);
    if (!active.ok()) {
      say(absl::StrCat("could not inject ", FaultName(kind), ": ", active.status().ToString()));
      Watch(std::min(end, absl::Now() + absl::Seconds(1)), tick);
      continue;
    }
    active_ = *active;
    say(absl::StrCat("fault: ", events_.back().detail));
    absl::Duration hold = Draw(options_.hold_min, options_.hold_max);
    // A full disk needs writes to notice it: give it twice as long.
    if (kind == FaultKind::kDisk) hold *= 2;
    Watch(std::min(end, absl::Now() + hold), tick);
    const absl::Status ended = End(*active_);
    active_.reset();
    say(absl::StrCat("healed: ", events_.back().detail,
                     ended.ok() ? "" : absl::StrCat(" (", ended.ToString(), ")")));
  }
}

absl::Status Nemesis::Heal(const std::function<void(const std::string&)>& say) {
  absl::Status status;
  if (active_.has_value()) {
    status.Update(End(*active_));
    say(absl::StrCat("healed: ", events_[active_->event].detail));
    active_.reset();
  }
  if (partitioner_ != nullptr) status.Update(partitioner_->HealAll());
  for (const std::string& name : Spanservers()) {
    if (!cluster_->ClockOffsetFile(name).empty()) status.Update(SetClockOffset(name, 0));
  }
  if (disk_ != nullptr && disk_->full()) {
    disk_->Free();
    status.Update(cluster_->Kill(disk_server_));
  }
  ContinueAll();
  for (const tools::ProcessState& p : cluster_->supervisor().Processes()) {
    if (p.pid == 0) status.Update(cluster_->Restart(p.spec.name));
  }
  if (options_.plant_leave_stopped) {
    const std::string name = Spanservers()[random_.Uniform(Spanservers().size())];
    status.Update(cluster_->Signal(name, SIGSTOP));
    say(absl::StrCat("PLANTED: ", name, " is left stopped (SIGSTOP)"));
  }
  return status;
}

void Nemesis::ContinueAll() {
  for (const tools::ProcessState& p : cluster_->supervisor().Processes()) {
    if (p.pid != 0) cluster_->Signal(p.spec.name, SIGCONT).IgnoreError();
  }
}

}  // namespace meridian::chaos
