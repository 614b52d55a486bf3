#include "client/src/write_lanes.h"

#include <algorithm>

namespace meridian::client {

std::optional<WriteLanes::Batch> WriteLanes::Submit(const std::string& address, uint64_t ticket,
                                                    size_t bytes) {
  Lane& lane = lanes_[address];
  if (lane.in_flight < options_.max_in_flight && lane.queue.empty()) {
    ++lane.in_flight;
    return Batch{address, {ticket}};
  }
  lane.queue.push_back({ticket, bytes});
  return std::nullopt;
}

std::optional<WriteLanes::Batch> WriteLanes::Finished(const std::string& address) {
  const auto it = lanes_.find(address);
  if (it == lanes_.end()) return std::nullopt;
  Lane& lane = it->second;
  if (lane.in_flight > 0) --lane.in_flight;
  if (lane.queue.empty()) {
    if (lane.in_flight == 0) lanes_.erase(it);
    return std::nullopt;
  }
  Batch batch{address, {}};
  size_t bytes = 0;
  while (!lane.queue.empty() && batch.tickets.size() < options_.max_items) {
    const Queued& next = lane.queue.front();
    if (!batch.tickets.empty() && bytes + next.bytes > options_.max_bytes) break;
    bytes += next.bytes;
    batch.tickets.push_back(next.ticket);
    lane.queue.pop_front();
  }
  ++lane.in_flight;
  return batch;
}

bool WriteLanes::Withdraw(const std::string& address, uint64_t ticket) {
  const auto it = lanes_.find(address);
  if (it == lanes_.end()) return false;
  std::deque<Queued>& queue = it->second.queue;
  const auto found = std::find_if(queue.begin(), queue.end(),
                                  [ticket](const Queued& q) { return q.ticket == ticket; });
  if (found == queue.end()) return false;
  queue.erase(found);
  return true;
}

int WriteLanes::in_flight(const std::string& address) const {
  const auto it = lanes_.find(address);
  return it == lanes_.end() ? 0 : it->second.in_flight;
}

size_t WriteLanes::queued(const std::string& address) const {
  const auto it = lanes_.find(address);
  return it == lanes_.end() ? 0 : it->second.queue.size();
}

}  // namespace meridian::client
