#include "placement/liveness.h"

#include <algorithm>

namespace meridian::placement {
namespace {

// What `server` reported about `group` in `reports`, or nullptr.
const std::string* Find(
    const absl::flat_hash_map<uint64_t, std::map<uint64_t, std::string>>& reports, uint64_t server,
    uint64_t group) {
  auto of_server = reports.find(server);
  if (of_server == reports.end()) return nullptr;
  auto it = of_server->second.find(group);
  return it == of_server->second.end() ? nullptr : &it->second;
}

}  // namespace

void Liveness::RecordHeartbeat(const proto::HeartbeatRequest& heartbeat, int64_t now_us) {
  absl::MutexLock lock(&mu_);
  if (watching_since_us_ == 0 || now_us - last_any_heartbeat_us_ > timeout_us_) {
    watching_since_us_ = now_us;  // a gap: what happened meanwhile was not seen here
  }
  last_any_heartbeat_us_ = std::max(last_any_heartbeat_us_, now_us);
  const uint64_t server = heartbeat.server_id();
  int64_t& last = last_heartbeat_us_[server];
  last = std::max(last, now_us);
  std::map<uint64_t, std::string>& refusals = refusals_[server];
  refusals.clear();
  std::map<uint64_t, proto::ReplicaLog>& logs = logs_[server];
  logs.clear();
  std::map<uint64_t, std::string>& fenced = fenced_[server];
  fenced.clear();
  if (heartbeat.storage_failed().empty()) {
    storage_failed_.erase(server);
  } else {
    storage_failed_[server] = heartbeat.storage_failed();
  }
  for (const proto::GroupReport& report : heartbeat.groups()) {
    if (!report.fenced().empty()) fenced[report.group()] = report.fenced();
    if (!report.refusal().empty()) {
      refusals[report.group()] = report.refusal();
    } else {
      proto::ReplicaLog& log = logs[report.group()];
      log.set_server(server);
      log.set_entries(report.log_entries());
      log.set_installing_snapshot(report.installing_snapshot());
    }
    auto it = leaders_.find(report.group());
    if (report.is_leader()) {
      const bool keep_other = it != leaders_.end() && it->second.server != server &&
                              IsAliveLocked(it->second.server, now_us) && it->second.has_lease &&
                              !report.has_lease();
      if (!keep_other) leaders_[report.group()] = {server, report.has_lease()};
    } else if (it != leaders_.end() && it->second.server == server) {
      leaders_.erase(it);
    }
    const auto now_leader = leaders_.find(report.group());
    if (!report.ranges().empty() && now_leader != leaders_.end() &&
        now_leader->second.server == server) {
      RangeSizes& sizes = range_sizes_[report.group()];
      sizes.server = server;
      sizes.ranges.assign(report.ranges().begin(), report.ranges().end());
    }
  }
}

bool Liveness::IsAlive(uint64_t server, int64_t now_us) const {
  absl::ReaderMutexLock lock(&mu_);
  return IsAliveLocked(server, now_us);
}

int64_t Liveness::DeadFor(uint64_t server, int64_t now_us) const {
  absl::ReaderMutexLock lock(&mu_);
  if (watching_since_us_ == 0) return 0;
  int64_t since = watching_since_us_;
  if (auto it = last_heartbeat_us_.find(server); it != last_heartbeat_us_.end()) {
    since = std::max(since, it->second);
  }
  return std::max<int64_t>(0, now_us - since);
}

int64_t Liveness::WatchingFor(int64_t now_us) const {
  absl::ReaderMutexLock lock(&mu_);
  if (watching_since_us_ == 0) return 0;
  return std::max<int64_t>(0, now_us - watching_since_us_);
}

uint64_t Liveness::LeaderOf(uint64_t group, int64_t now_us) const {
  absl::ReaderMutexLock lock(&mu_);
  return LeaderOfLocked(group, now_us);
}

void Liveness::Annotate(proto::Topology* topology, int64_t now_us) const {
  absl::ReaderMutexLock lock(&mu_);
  for (proto::ServerInfo& server : *topology->mutable_servers()) {
    server.set_alive(!server.removed() && IsAliveLocked(server.id(), now_us));
    if (auto it = storage_failed_.find(server.id());
        it != storage_failed_.end() && server.alive()) {
      server.set_storage_failed(it->second);
    }
  }
  for (proto::GroupInfo& group : *topology->mutable_groups()) {
    group.set_leader(LeaderOfLocked(group.id(), now_us));
    if (const auto sizes = range_sizes_.find(group.id()); sizes != range_sizes_.end() &&
                                                          group.leader() != 0 &&
                                                          sizes->second.server == group.leader()) {
      for (const proto::RangeStats& stats : sizes->second.ranges) *group.add_range_stats() = stats;
    }
    for (const uint64_t server : group.replicas()) {
      if (auto logs = logs_.find(server); logs != logs_.end() && IsAliveLocked(server, now_us)) {
        if (auto log = logs->second.find(group.id()); log != logs->second.end()) {
          *group.add_logs() = log->second;
        }
      }
      if (!IsAliveLocked(server, now_us)) continue;
      if (const std::string* reason = Find(refusals_, server, group.id())) {
        proto::ReplicaRefusal* out = group.add_refusals();
        out->set_server(server);
        out->set_reason(*reason);
      }
      if (const std::string* reason = Find(fenced_, server, group.id())) {
        proto::ReplicaFence* out = group.add_fenced();
        out->set_server(server);
        out->set_reason(*reason);
      }
    }
  }
}

bool Liveness::IsAliveLocked(uint64_t server, int64_t now_us) const {
  auto it = last_heartbeat_us_.find(server);
  return it != last_heartbeat_us_.end() && now_us - it->second <= timeout_us_;
}

uint64_t Liveness::LeaderOfLocked(uint64_t group, int64_t now_us) const {
  auto it = leaders_.find(group);
  if (it == leaders_.end() || !IsAliveLocked(it->second.server, now_us)) return 0;
  return it->second.server;
}

}  // namespace meridian::placement
