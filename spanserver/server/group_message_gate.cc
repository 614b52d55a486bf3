// GroupMessageGate implementation; see group_message_gate.h.
#include "spanserver/server/group_message_gate.h"

#include <algorithm>

namespace meridian::spanserver {
namespace {

bool Lists(const std::map<uint64_t, std::vector<uint64_t>>& members, uint64_t group,
           uint64_t server) {
  auto it = members.find(group);
  return it != members.end() &&
         std::find(it->second.begin(), it->second.end(), server) != it->second.end();
}

}  // namespace

bool GroupMessageGate::IsMember(uint64_t server, uint64_t group, int64_t now_ms) const {
  if (!members_.has_value()) return false;
  if (Lists(*members_, group, server)) return true;
  auto it = departed_.find({group, server});
  return it != departed_.end() && now_ms - it->second < departed_grace_ms_;
}

GroupMessageGate::Verdict GroupMessageGate::Admit(Arrival& arrival, int64_t now_ms) {
  if (IsMember(arrival.from_server, arrival.from_group, now_ms)) return Verdict::kDeliver;
  if (held_.size() >= kMaxHeld || held_bytes_ + arrival.wire.size() > kMaxHeldBytes) {
    ++dropped_;
    return Verdict::kDropped;
  }
  held_bytes_ += arrival.wire.size();
  held_.push_back(std::move(arrival));
  return Verdict::kHeld;
}

GroupMessageGate::Released GroupMessageGate::SetMembers(
    std::map<uint64_t, std::vector<uint64_t>> members, int64_t now_ms) {
  // Servers the previous topology listed and this one does not start their grace period; a
  // server listed again ends it, and expired periods are forgotten.
  if (members_.has_value()) {
    for (const auto& [group, servers] : *members_) {
      for (uint64_t server : servers) {
        if (!Lists(members, group, server))
          departed_.emplace(std::make_pair(group, server), now_ms);
      }
    }
  }
  for (auto it = departed_.begin(); it != departed_.end();) {
    const bool listed = Lists(members, it->first.first, it->first.second);
    it = (listed || now_ms - it->second >= departed_grace_ms_) ? departed_.erase(it) : ++it;
  }
  members_ = std::move(members);
  // The held messages were refused by the previous view: this one decides for good.
  Released released;
  for (Arrival& a : held_) {
    if (IsMember(a.from_server, a.from_group, now_ms)) {
      released.deliver.push_back(std::move(a.wire));
    } else {
      ++released.dropped;
    }
  }
  dropped_ += released.dropped;
  held_.clear();
  held_bytes_ = 0;
  return released;
}

}  // namespace meridian::spanserver
