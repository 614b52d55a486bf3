#include "placement/status_page.h"

#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace meridian::placement {
namespace {

constexpr const char* kEventKinds[] = {
    "leading",       "registered",   "down",         "up",     "drained",
    "undrained",     "removed",      "leader",       "fenced", "storage_failed",
    "group_created", "move_started", "move_finished"};

metrics::Counter& EventCounter(const std::string& kind) {
  static const auto* const counters = [] {
    auto* made = new std::map<std::string, metrics::Counter*>();
    for (const char* k : kEventKinds) {
      (*made)[k] = &metrics::DefaultRegistry().AddCounter(
          "meridian_placement_events_total",
          "Placement events this replica observed while leading, by kind (registered, down, up, "
          "leader, move_started, move_finished, ...).",
          {{"kind", k}});
    }
    return made;
  }();
  return *counters->at(kind);
}

// ["a", "b") as `meridian status` shows ranges; an empty end is +inf.
std::string RangeText(const std::string& start, const std::string& end) {
  return absl::StrCat("[\"", PrintableKey(start), "\", ",
                      end.empty() ? "+inf" : absl::StrCat("\"", PrintableKey(end), "\""), ")");
}

std::string MoveText(const proto::MoveInfo& m) {
  if (m.kind() == proto::MoveInfo::SPLIT) {
    return absl::StrCat("split ", m.id(), " of ", RangeText(m.start(), m.end()), " in group ",
                        m.from_group(), " at \"", PrintableKey(m.split_key()), "\"");
  }
  return absl::StrCat("move ", m.id(), " of ", RangeText(m.start(), m.end()), " from group ",
                      m.from_group(), " to group ", m.to_group());
}

std::string ServerState(const proto::ServerInfo& s) {
  if (s.removed()) return "removed";
  if (!s.alive()) return "down";
  if (s.draining()) return "draining";
  return s.storage_failed().empty() ? "up" : "storage_failed";
}

uint64_t GroupBytes(const proto::GroupInfo& g) {
  uint64_t bytes = 0;
  for (const proto::RangeStats& r : g.range_stats()) bytes += r.approx_bytes();
  return bytes;
}

std::string ServersJson(const proto::Topology& t) {
  std::map<uint64_t, int> replicas;
  std::map<uint64_t, int> leads;
  for (const proto::GroupInfo& g : t.groups()) {
    for (uint64_t r : g.replicas()) ++replicas[r];
    if (g.leader() != 0) ++leads[g.leader()];
  }
  std::vector<std::string> out;
  for (const proto::ServerInfo& s : t.servers()) {
    out.push_back(absl::StrCat("{\"id\":", s.id(), ",\"zone\":", JsonString(s.zone()),
                               ",\"address\":", JsonString(s.address()),
                               ",\"state\":", JsonString(ServerState(s)),
                               ",\"replicas\":", replicas[s.id()], ",\"leads\":", leads[s.id()],
                               ",\"storage_failed\":", JsonString(s.storage_failed()), "}"));
  }
  return absl::StrCat("[", absl::StrJoin(out, ","), "]");
}

std::string GroupsJson(const proto::Topology& t) {
  std::map<uint64_t, std::string> addresses;
  for (const proto::ServerInfo& s : t.servers()) addresses[s.id()] = s.address();
  std::map<uint64_t, int> ranges;
  for (const proto::RangeInfo& r : t.ranges()) ++ranges[r.group()];
  std::vector<std::string> out;
  for (const proto::GroupInfo& g : t.groups()) {
    std::vector<std::string> fenced;
    for (const proto::ReplicaFence& f : g.fenced()) {
      fenced.push_back(
          absl::StrCat("{\"server\":", f.server(), ",\"reason\":", JsonString(f.reason()), "}"));
    }
    out.push_back(absl::StrCat(
        "{\"id\":", g.id(), ",\"leader\":", g.leader(),
        ",\"leader_address\":", JsonString(g.leader() == 0 ? "" : addresses[g.leader()]),
        ",\"replicas\":[", absl::StrJoin(g.replicas(), ","), "],\"ranges\":", ranges[g.id()],
        ",\"bytes\":", GroupBytes(g), ",\"refused\":", g.refusals_size(), ",\"fenced\":[",
        absl::StrJoin(fenced, ","), "]}"));
  }
  return absl::StrCat("[", absl::StrJoin(out, ","), "]");
}

std::string RangesJson(const proto::Topology& t) {
  std::vector<std::string> out;
  for (const proto::RangeInfo& r : t.ranges()) {
    out.push_back(absl::StrCat("{\"range\":", JsonString(RangeText(r.start(), r.end())),
                               ",\"group\":", r.group(), ",\"generation\":", r.generation(), "}"));
  }
  return absl::StrCat("[", absl::StrJoin(out, ","), "]");
}

std::string MovesJson(const proto::Topology& t) {
  std::vector<std::string> out;
  for (const proto::MoveInfo& m : t.moves()) {
    out.push_back(absl::StrCat("{\"id\":", m.id(), ",\"what\":", JsonString(MoveText(m)),
                               ",\"phase\":", JsonString(m.phase()),
                               ",\"switched\":", m.switched() ? "true" : "false", "}"));
  }
  return absl::StrCat("[", absl::StrJoin(out, ","), "]");
}

}  // namespace

StatusTracker::StatusTracker(size_t max_events) : max_events_(max_events) {
  // Registers the event counters now: Record runs under mu_, and the registry's mutex must never
  // be taken under it (a scrape takes the registry's, then mu_ in the collectors).
  EventCounter(kEventKinds[0]);
}
StatusTracker::~StatusTracker() = default;

void StatusTracker::Record(int64_t now_us, const std::string& kind, std::string text) {
  EventCounter(kind).Increment();
  events_.push_back(StatusEvent{now_us, kind, std::move(text)});
  while (events_.size() > max_events_) events_.pop_front();
}

void StatusTracker::Observe(const proto::Topology& topology, bool leading, int64_t now_us) {
  absl::MutexLock lock(&mu_);
  if (leading && leading_ && have_latest_) {
    CompareServers(topology, now_us);
    CompareGroupsAndMoves(topology, now_us);
  } else if (leading) {
    Record(now_us, "leading",
           absl::StrCat("this placement replica leads: ", topology.servers_size(), " servers, ",
                        topology.groups_size(), " groups, ", topology.ranges_size(), " ranges"));
  }
  latest_ = topology;
  have_latest_ = true;
  leading_ = leading;
  observed_us_ = now_us;
}

void StatusTracker::CompareServers(const proto::Topology& now, int64_t now_us) {
  std::map<uint64_t, const proto::ServerInfo*> before;
  for (const proto::ServerInfo& s : latest_.servers()) before[s.id()] = &s;
  for (const proto::ServerInfo& s : now.servers()) {
    const std::string who = absl::StrCat("server ", s.id(), " (", s.zone(), ", ", s.address(), ")");
    auto it = before.find(s.id());
    if (it == before.end()) {
      Record(now_us, "registered", who + " registered");
      continue;
    }
    const proto::ServerInfo& old = *it->second;
    if (s.removed() && !old.removed()) Record(now_us, "removed", who + " removed");
    if (s.removed()) continue;
    if (old.alive() && !s.alive()) Record(now_us, "down", who + " declared down: no heartbeat");
    if (!old.alive() && s.alive()) Record(now_us, "up", who + " is up");
    if (!s.storage_failed().empty() && old.storage_failed().empty()) {
      Record(now_us, "storage_failed", who + "'s storage failed: " + s.storage_failed());
    }
    if (s.draining() != old.draining()) {
      Record(now_us, s.draining() ? "drained" : "undrained",
             who + (s.draining() ? " is being drained" : " is no longer drained"));
    }
  }
}

void StatusTracker::CompareGroupsAndMoves(const proto::Topology& now, int64_t now_us) {
  std::map<uint64_t, uint64_t> leaders;            // group -> leader before
  std::set<std::pair<uint64_t, uint64_t>> fenced;  // (group, server) fenced before
  for (const proto::GroupInfo& g : latest_.groups()) {
    leaders[g.id()] = g.leader();
    for (const proto::ReplicaFence& f : g.fenced()) fenced.emplace(g.id(), f.server());
  }
  for (const proto::GroupInfo& g : now.groups()) {
    for (const proto::ReplicaFence& f : g.fenced()) {
      if (fenced.contains({g.id(), f.server()})) continue;
      Record(now_us, "fenced",
             absl::StrCat("group ", g.id(), "'s replica on server ", f.server(),
                          " is fenced: ", f.reason()));
    }
    auto it = leaders.find(g.id());
    if (it == leaders.end()) {
      Record(
          now_us, "group_created",
          absl::StrCat("group ", g.id(), " created on servers ", absl::StrJoin(g.replicas(), ",")));
    } else if (it->second != g.leader()) {
      Record(now_us, "leader",
             g.leader() == 0
                 ? absl::StrCat("group ", g.id(), " has no leader (was server ", it->second, ")")
                 : absl::StrCat("group ", g.id(), " leader: server ", g.leader(),
                                it->second == 0 ? "" : absl::StrCat(" (was ", it->second, ")")));
    }
  }
  std::map<uint64_t, const proto::MoveInfo*> moves_before;
  for (const proto::MoveInfo& m : latest_.moves()) moves_before[m.id()] = &m;
  for (const proto::MoveInfo& m : now.moves()) {
    if (moves_before.erase(m.id()) == 0) Record(now_us, "move_started", MoveText(m) + " started");
  }
  for (const auto& [id, m] : moves_before) Record(now_us, "move_finished", MoveText(*m) + " done");
}

std::vector<StatusEvent> StatusTracker::Events() const {
  absl::MutexLock lock(&mu_);
  return std::vector<StatusEvent>(events_.begin(), events_.end());
}

// {"observed_us", "leading", "placement_leader", "bootstrapped", "zones": [name],
//  "servers": [{id, zone, address, state: up|down|draining|removed|storage_failed, replicas,
//               leads, storage_failed: why or ""}],
//  "groups": [{id, leader, leader_address, replicas: [id], ranges, bytes, refused,
//              fenced: [{server, reason}]}],
//  "ranges": [{range, group, generation}], "moves": [{id, what, phase, switched}],
//  "events": [{at_us, kind, text}] newest first}
std::string StatusTracker::StatusJson() const {
  absl::MutexLock lock(&mu_);
  const proto::Topology& t = latest_;
  std::vector<std::string> zones;
  for (const std::string& z : t.zones()) zones.push_back(JsonString(z));
  std::vector<std::string> events;
  for (auto it = events_.rbegin(); it != events_.rend(); ++it) {
    events.push_back(absl::StrCat("{\"at_us\":", it->at_us, ",\"kind\":", JsonString(it->kind),
                                  ",\"text\":", JsonString(it->text), "}"));
  }
  return absl::StrCat(
      "{\"observed_us\":", observed_us_, ",\"leading\":", leading_ ? "true" : "false",
      ",\"placement_leader\":", JsonString(t.placement_leader()),
      ",\"bootstrapped\":", t.bootstrapped() ? "true" : "false", ",\"zones\":[",
      absl::StrJoin(zones, ","), "],\"servers\":", ServersJson(t), ",\"groups\":", GroupsJson(t),
      ",\"ranges\":", RangesJson(t), ",\"moves\":", MovesJson(t), ",\"events\":[",
      absl::StrJoin(events, ","), "]}\n");
}

std::vector<std::unique_ptr<metrics::Registry::CollectorHandle>> StatusTracker::RegisterMetrics() {
  using metrics::Sample;
  metrics::Registry& registry = metrics::DefaultRegistry();
  std::vector<std::unique_ptr<metrics::Registry::CollectorHandle>> handles;
  handles.push_back(registry.AddCollector("meridian_placement_leader",
                                          "1 when this placement replica leads placement.",
                                          metrics::Type::kGauge, [this] {
                                            absl::MutexLock lock(&mu_);
                                            return std::vector<Sample>{{{}, leading_ ? 1.0 : 0.0}};
                                          }));
  handles.push_back(registry.AddCollector(
      "meridian_placement_servers", "Servers known to placement, by state (as the leader sees).",
      metrics::Type::kGauge, [this] {
        std::map<std::string, double> by_state{
            {"up", 0}, {"down", 0}, {"draining", 0}, {"removed", 0}, {"storage_failed", 0}};
        absl::MutexLock lock(&mu_);
        for (const proto::ServerInfo& s : latest_.servers()) ++by_state[ServerState(s)];
        std::vector<Sample> out;
        for (const auto& [state, n] : by_state) out.push_back({{{"state", state}}, n});
        return out;
      }));
  auto count = [&](const char* name, const char* help,
                   std::function<std::vector<Sample>(const proto::Topology&)> samples) {
    handles.push_back(registry.AddCollector(name, help, metrics::Type::kGauge,
                                            [this, samples = std::move(samples)] {
                                              absl::MutexLock lock(&mu_);
                                              return samples(latest_);
                                            }));
  };
  count("meridian_placement_groups", "Data groups in the placement map.",
        [](const proto::Topology& t) {
          return std::vector<Sample>{{{}, static_cast<double>(t.groups_size())}};
        });
  count("meridian_placement_fenced_replicas",
        "Replicas their live servers report fenced (a failed disk, an entry they cannot apply); "
        "placement replaces them while their group keeps a healthy majority without them.",
        [](const proto::Topology& t) {
          double fenced = 0;
          for (const proto::GroupInfo& g : t.groups()) fenced += g.fenced_size();
          return std::vector<Sample>{{{}, fenced}};
        });
  count("meridian_placement_ranges", "Ranges in the placement map.", [](const proto::Topology& t) {
    return std::vector<Sample>{{{}, static_cast<double>(t.ranges_size())}};
  });
  count("meridian_placement_moves_in_progress",
        "Range moves (kind=\"move\") and splits (kind=\"split\") recorded and not finished.",
        [](const proto::Topology& t) {
          double moves = 0, splits = 0;
          for (const proto::MoveInfo& m : t.moves()) {
            (m.kind() == proto::MoveInfo::SPLIT ? splits : moves) += 1;
          }
          return std::vector<Sample>{{{{"kind", "move"}}, moves}, {{{"kind", "split"}}, splits}};
        });
  handles.push_back(registry.AddCollector(
      "meridian_placement_group_bytes",
      "LevelDB's estimate of each group's data on disk (flushed tables, every version), from its "
      "leader's heartbeats.",
      metrics::Type::kGauge, [this] {
        absl::MutexLock lock(&mu_);
        std::vector<Sample> out;
        for (const proto::GroupInfo& g : latest_.groups()) {
          out.push_back({{{"group", std::to_string(g.id())}}, static_cast<double>(GroupBytes(g))});
        }
        return out;
      }));
  return handles;
}

std::string PrintableKey(const std::string& key) {
  std::string out;
  for (unsigned char c : key) {
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\u%04x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace meridian::placement
