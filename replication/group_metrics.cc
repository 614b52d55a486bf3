#include "replication/group_metrics.h"

#include <algorithm>
#include <string>

namespace meridian::replication {
namespace {

metrics::Histogram& PaxosRounds() {
  static metrics::Histogram& rounds = metrics::DefaultRegistry().AddHistogram(
      "meridian_paxos_round_seconds",
      "From a slot appended to its group leader's log to its entry applied there: a majority's "
      "accept and the synced writes (one sample per growth of the log).",
      metrics::LatencyBuckets());
  return rounds;
}

}  // namespace

GroupMetrics::GroupMetrics(paxos::GroupId group)
    : leader_changes_(metrics::DefaultRegistry().AddCounter(
          "meridian_leader_changes_total",
          "Times a replica here saw its group get a new leader (per group).",
          {{"group", std::to_string(group)}})),
      lease_remaining_(metrics::DefaultRegistry().AddGauge(
          "meridian_lease_remaining_seconds",
          "The leader lease this replica holds, seconds until it ends (0: not a leader with a "
          "lease), per group.",
          {{"group", std::to_string(group)}})) {
  PaxosRounds();  // exported (empty) before the first proposal
}

void GroupMetrics::OnLeader(paxos::ReplicaId leader) {
  // A replica that briefly knows no leader (an election) and then the same one saw no change.
  if (leader == paxos::kNoReplica || leader == leader_) return;
  leader_ = leader;
  leader_changes_.Increment();
}

void GroupMetrics::OnPublished(const GroupState& state, truetime::Timestamp lease_end,
                               truetime::Interval now) {
  OnLeader(state.leader);
  const int64_t remaining_us = state.has_lease ? std::max<int64_t>(0, lease_end - now.latest) : 0;
  lease_remaining_.Set(static_cast<double>(remaining_us) / 1e6);
  OnLog(state.role == paxos::Role::kLeader, state.last_index);
}

void GroupMetrics::OnLog(bool leading, paxos::Index last_index) {
  if (!leading) {
    timed_.clear();
    seen_ = last_index;
    return;
  }
  if (last_index <= seen_) return;
  seen_ = last_index;
  if (timed_.size() < kMaxTimedSlots) {
    timed_.emplace_back(last_index, std::chrono::steady_clock::now());
  }
}

void GroupMetrics::OnApplied(paxos::Index applied) {
  const auto now = std::chrono::steady_clock::now();
  while (!timed_.empty() && timed_.front().first <= applied) {
    PaxosRounds().Observe(std::chrono::duration<double>(now - timed_.front().second).count());
    timed_.pop_front();
  }
}

}  // namespace meridian::replication
