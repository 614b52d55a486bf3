// EscapeBytes and FormatTopology (client.h): text renderings for terminals.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "meridian/client.h"

namespace meridian {
namespace {

// Columns padded to their widest cell, two spaces apart; no trailing spaces.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&line, row[i]);
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    absl::StrAppend(&out, "  ", line, "\n");
  }
  return out;
}

const ServerInfo* FindServer(const Topology& topology, uint64_t id) {
  for (const ServerInfo& server : topology.servers) {
    if (server.id == id) return &server;
  }
  return nullptr;
}

std::string ServerName(const Topology& topology, uint64_t id) {
  if (id == 0) return "-";
  const ServerInfo* server = FindServer(topology, id);
  if (server == nullptr) return absl::StrCat(id);
  return absl::StrCat(id, " (", server->zone,
                      server->removed    ? ", removed"
                      : server->draining ? ", draining"
                                         : "",
                      ")");
}

bool Refuses(const GroupInfo& group, uint64_t server) {
  return std::any_of(group.refusals.begin(), group.refusals.end(),
                     [server](const ReplicaRefusal& r) { return r.server == server; });
}

// The longest and shortest Paxos log among the group's live replicas ("-" when none reported).
std::string FormatLogSizes(const GroupInfo& group) {
  if (group.logs.empty()) return "-";
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const ReplicaLog& l : group.logs) {
    lo = std::min(lo, l.entries);
    hi = std::max(hi, l.entries);
  }
  return lo == hi ? absl::StrCat(hi) : absl::StrCat(lo, "-", hi);
}

// The replicas catching up from a snapshot, or "-".
std::string FormatInstalls(const Topology& topology, const GroupInfo& group) {
  std::vector<std::string> installing;
  for (const ReplicaLog& l : group.logs) {
    if (l.installing_snapshot) installing.push_back("to " + ServerName(topology, l.server));
  }
  return installing.empty() ? "-" : absl::StrJoin(installing, ", ");
}

// Replicas of `group` that are alive and serve it.
size_t LiveReplicas(const Topology& topology, const GroupInfo& group) {
  return std::count_if(group.replicas.begin(), group.replicas.end(), [&](uint64_t id) {
    const ServerInfo* server = FindServer(topology, id);
    return server != nullptr && server->alive && !Refuses(group, id);
  });
}

// How many groups list `server` as a replica.
size_t ReplicaCount(const Topology& topology, uint64_t server) {
  return std::count_if(
      topology.groups.begin(), topology.groups.end(), [server](const GroupInfo& g) {
        return std::find(g.replicas.begin(), g.replicas.end(), server) != g.replicas.end();
      });
}

// "default", or its parts: "5 replicas; zones a,b,c; leader in a".
std::string FormatPolicy(const Policy& policy) {
  std::vector<std::string> parts;
  if (policy.replicas != 0) parts.push_back(absl::StrCat(policy.replicas, " replicas"));
  if (!policy.zones.empty()) parts.push_back("zones " + absl::StrJoin(policy.zones, ","));
  if (!policy.leader_zone.empty()) parts.push_back("leader in " + policy.leader_zone);
  return parts.empty() ? "default" : absl::StrJoin(parts, "; ");
}

// "-" when unknown, else bytes in the largest unit that keeps the number at 1 or more.
std::string FormatSize(const std::optional<uint64_t>& bytes) {
  if (!bytes.has_value()) return "-";
  if (*bytes < 1024) return absl::StrCat(*bytes, " B");
  const char* const units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(*bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", value, units[unit]);
}

std::string Key(const std::string& key, const char* if_empty) {
  return key.empty() ? if_empty : absl::StrCat("\"", EscapeBytes(key), "\"");
}

// The moves table: id, kind, range, groups (from -> to, or where it splits), phase.
std::string FormatMoves(const Topology& topology) {
  std::vector<std::vector<std::string>> rows = {{"MOVE", "KIND", "RANGE", "GROUPS", "PHASE"}};
  for (const RangeMove& m : topology.moves) {
    const bool split = m.kind == RangeMove::Kind::kSplit;
    rows.push_back({absl::StrCat(m.id), split ? "split" : "move",
                    absl::StrCat(Key(m.start, "(min)"), " .. ", Key(m.end, "(max)")),
                    split ? absl::StrCat(m.from_group, " at ", Key(m.split_key, "(min)"))
                          : absl::StrCat(m.from_group, " -> ", m.to_group),
                    m.phase.empty() ? "-" : m.phase});
  }
  return absl::StrCat("Moves in progress (", topology.moves.size(), "):\n", Table(rows));
}

}  // namespace

std::string FormatAttention(const Topology& topology) {
  std::string out;
  for (const RegistrationRefusal& r : topology.refused_registrations) {
    absl::StrAppend(&out, "  - a server at ", r.address, " (zone ", r.zone,
                    ") is refused registration: ", r.reason, "\n");
  }
  for (const GroupInfo& g : topology.groups) {
    for (const ReplicaRefusal& r : g.refusals) {
      absl::StrAppend(&out, "  - group ", g.id, ": server ", r.server,
                      " refuses to start its replica: ", r.reason, "\n");
    }
    std::vector<std::string> removed;
    for (const uint64_t id : g.replicas) {
      const ServerInfo* server = FindServer(topology, id);
      if (server != nullptr && server->removed) removed.push_back(absl::StrCat(id));
    }
    if (!removed.empty()) {
      absl::StrAppend(&out, "  - group ", g.id, " runs on ", g.replicas.size() - removed.size(),
                      " of its ", g.replicas.size(), " replicas: server ",
                      absl::StrJoin(removed, ", "),
                      " was removed; placement is moving the replica to a live server\n");
    }
  }
  return out;
}

std::string EscapeBytes(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u > 0x7e) {
      out += absl::StrFormat("\\x%02x", u);
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatTopology(const Topology& topology) {
  std::string out =
      absl::StrCat("Placement leader: ",
                   topology.placement_leader.empty() ? "unknown" : topology.placement_leader,
                   topology.bootstrapped ? "" : "  (not bootstrapped yet)", "\n\n");
  absl::StrAppend(&out, "Zones (", topology.zones.size(),
                  "): ", absl::StrJoin(topology.zones, ", "), "\n\n");

  std::vector<std::vector<std::string>> servers = {
      {"SERVER", "ZONE", "ADDRESS", "ALIVE", "REPLICAS", "PAXOS PEERS AT"}};
  for (const ServerInfo& s : topology.servers) {
    servers.push_back({absl::StrCat(s.id), s.zone, s.address,
                       s.removed    ? "removed"
                       : s.draining ? (s.alive ? "draining" : "NO (draining)")
                       : s.alive    ? "yes"
                                    : "NO",
                       absl::StrCat(ReplicaCount(topology, s.id)),
                       s.peer_address.empty() ? "-" : s.peer_address});
  }
  absl::StrAppend(&out, "Servers (", topology.servers.size(), "):\n", Table(servers), "\n");

  std::vector<std::vector<std::string>> groups = {
      {"GROUP", "REPLICAS", "LIVE", "LEADER", "LOG ENTRIES", "SNAPSHOTS", "POLICY"}};
  for (const GroupInfo& g : topology.groups) {
    std::vector<std::string> replicas;
    for (const uint64_t id : g.replicas) replicas.push_back(ServerName(topology, id));
    groups.push_back({absl::StrCat(g.id), absl::StrJoin(replicas, ", "),
                      absl::StrCat(LiveReplicas(topology, g), "/", g.replicas.size()),
                      ServerName(topology, g.leader), FormatLogSizes(g),
                      FormatInstalls(topology, g), FormatPolicy(g.policy)});
  }
  absl::StrAppend(&out, "Groups (", topology.groups.size(), "):\n", Table(groups), "\n");

  std::vector<std::vector<std::string>> ranges = {
      {"START", "", "END", "GROUP", "GENERATION", "SIZE"}};
  for (const RangeInfo& r : topology.ranges) {
    ranges.push_back({Key(r.start, "(min)"), "..", Key(r.end, "(max)"), absl::StrCat(r.group),
                      absl::StrCat(r.generation), FormatSize(r.approx_bytes)});
  }
  absl::StrAppend(&out, "Ranges (", topology.ranges.size(), "):\n", Table(ranges));
  if (!topology.moves.empty()) absl::StrAppend(&out, "\n", FormatMoves(topology));
  if (const std::string attention = FormatAttention(topology); !attention.empty()) {
    absl::StrAppend(&out, "\nNeeds an operator:\n", attention);
  }
  return out;
}

std::string FormatServerHealth(const std::vector<ServerHealth>& servers) {
  auto ms = [](int64_t us) { return absl::StrFormat("%.2f ms", static_cast<double>(us) / 1000); };
  std::vector<std::vector<std::string>> rows = {{"SERVER", "ADDRESS", "CLOCK", "ERROR", "WIDENED",
                                                 "MAX PEER OFFSET", "VS PLACEMENT", "TIME"}};
  std::string fenced;
  for (const ServerHealth& h : servers) {
    int64_t max_offset = 0;
    int fresh = 0;
    for (const PeerClockInfo& p : h.peer_clocks) {
      if (!p.fresh) continue;
      ++fresh;
      max_offset = std::max(max_offset, p.offset_us < 0 ? -p.offset_us : p.offset_us);
    }
    rows.push_back({absl::StrCat(h.id), h.address, h.clock_source, ms(h.clock_error_us),
                    ms(h.clock_widening_us),
                    absl::StrCat(ms(max_offset), " (", fresh, "/", h.peer_clocks.size(), " peers)"),
                    h.placement_clock.has_value() ? ms(h.placement_clock->offset_us) : "-",
                    h.clock_unavailable.empty() ? "serving" : "UNAVAILABLE"});
    if (!h.clock_unavailable.empty()) {
      absl::StrAppend(&fenced, "  - server ", h.id, ": TrueTime unavailable: ", h.clock_unavailable,
                      "\n");
    }
    for (const auto& [group, why] : h.fenced_groups) {
      absl::StrAppend(&fenced, "  - server ", h.id, " fenced group ", group, ": ", why, "\n");
    }
  }
  std::string out =
      absl::StrCat("Servers' clocks and health (as each reports itself):\n", Table(rows));
  if (!fenced.empty()) absl::StrAppend(&out, "\nNot serving:\n", fenced);
  return out;
}

}  // namespace meridian
