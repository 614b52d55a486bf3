// Network implementation; see network.h.
//
// Seed: all draws from the injected Random (a held message draws its fresh delay at release, so
// runs without holds draw as before). Faults: drop, duplicate, delay, spikes, cuts, holds,
// partition shapes. Checkers: none.
#include "tests/sim/network.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/check.h"

namespace meridian::sim {

std::string NetworkParams::ToString() const {
  return absl::StrCat("delay=[", delay_min_us, ",", delay_max_us, "]us drop=", drop_p,
                      " dup=", duplicate_p, " spike=", spike_p, "/", spike_max_us, "us");
}

const char* PartitionShapeName(PartitionShape shape) {
  switch (shape) {
    case PartitionShape::kIsolateOne:
      return "isolate_one";
    case PartitionShape::kMajorityMinority:
      return "majority_minority";
    case PartitionShape::kRing:
      return "ring";
    case PartitionShape::kOneWay:
      return "one_way";
  }
  return "?";
}

std::vector<std::pair<Addr, Addr>> PartitionCuts(PartitionShape shape,
                                                 const std::vector<Addr>& nodes, Random& rng) {
  CHECK(!nodes.empty());
  std::vector<Addr> order = nodes;
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.Uniform(i)]);
  std::vector<std::pair<Addr, Addr>> cuts;
  const size_t n = order.size();
  switch (shape) {
    case PartitionShape::kIsolateOne:
      for (size_t i = 1; i < n; ++i) {
        cuts.push_back({order[0], order[i]});
        cuts.push_back({order[i], order[0]});
      }
      break;
    case PartitionShape::kMajorityMinority: {
      const size_t minority = 1 + rng.Uniform(std::max<size_t>(1, (n - 1) / 2));
      for (size_t i = 0; i < minority; ++i) {
        for (size_t j = minority; j < n; ++j) {
          cuts.push_back({order[i], order[j]});
          cuts.push_back({order[j], order[i]});
        }
      }
      break;
    }
    case PartitionShape::kRing:
      // Each node keeps only its two ring neighbours.
      for (size_t i = 0; i < n; ++i) {
        for (size_t j = 0; j < n; ++j) {
          const size_t d = (i + n - j) % n;
          if (i != j && d != 1 && d != n - 1) cuts.push_back({order[i], order[j]});
        }
      }
      break;
    case PartitionShape::kOneWay:
      // One node can still send but hears nothing (or the reverse).
      for (size_t i = 1; i < n; ++i) {
        if (rng.Bernoulli(0.5)) {
          cuts.push_back({order[i], order[0]});
        } else {
          cuts.push_back({order[0], order[i]});
        }
      }
      break;
  }
  return cuts;
}

Network::Network(EventLoop* loop, Random* rng, Deliver deliver)
    : loop_(loop), rng_(rng), deliver_(std::move(deliver)) {}

void Network::Heal(Addr from, Addr to) {
  auto it = cuts_.find({from, to});
  if (it != cuts_.end() && --it->second <= 0) cuts_.erase(it);
}

void Network::Release(Addr from, Addr to) {
  auto it = holds_.find({from, to});
  if (it == holds_.end() || --it->second > 0) return;
  holds_.erase(it);
  Flush({from, to});
}

void Network::ReleaseAll() {
  std::vector<std::pair<Addr, Addr>> links;
  for (const auto& [link, queue] : held_) links.push_back(link);
  holds_.clear();
  for (const auto& link : links) Flush(link);
}

void Network::Flush(std::pair<Addr, Addr> link) {
  auto it = held_.find(link);
  if (it == held_.end()) return;
  std::vector<std::function<void()>> queue = std::move(it->second);
  held_.erase(it);
  for (const auto& arrive : queue) {
    // Still counted in flight: a fresh delay, as if the link had just come back.
    loop_->After(rng_->Range(params_.delay_min_us, params_.delay_max_us),
                 [this, link, arrive] { Arrive(link.first, link.second, arrive); });
  }
}

void Network::Send(Addr from, Addr to, const paxos::Message& m) {
  SendThunk(from, to, [this, to, m] { deliver_(to, m); });
}

void Network::SendThunk(Addr from, Addr to, std::function<void()> arrive) {
  ++sent_;
  if (!LinkUp(from, to) || rng_->Bernoulli(params_.drop_p)) {
    ++dropped_;
    return;
  }
  Schedule(from, to, arrive);
  if (rng_->Bernoulli(params_.duplicate_p)) Schedule(from, to, arrive);
}

void Network::Schedule(Addr from, Addr to, const std::function<void()>& arrive) {
  if (in_flight_ >= params_.max_in_flight) {
    ++dropped_;
    return;
  }
  int64_t delay = rng_->Range(params_.delay_min_us, params_.delay_max_us);
  if (params_.spike_max_us > 0 && rng_->Bernoulli(params_.spike_p)) {
    delay += rng_->Range(0, params_.spike_max_us);
  }
  ++in_flight_;
  loop_->After(delay, [this, from, to, arrive] { Arrive(from, to, arrive); });
}

void Network::Arrive(Addr from, Addr to, const std::function<void()>& arrive) {
  if (holds_.contains({from, to}) && LinkUp(from, to)) {
    held_[{from, to}].push_back(arrive);
    return;
  }
  --in_flight_;
  if (!LinkUp(from, to)) {
    ++dropped_;
    return;
  }
  arrive();
}

}  // namespace meridian::sim
