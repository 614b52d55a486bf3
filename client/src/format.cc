// EscapeBytes and FormatTopology (client.h): text renderings for terminals.
#include <algorithm>
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

std::string ServerName(const Topology& topology, uint64_t id) {
  if (id == 0) return "-";
  for (const ServerInfo& server : topology.servers) {
    if (server.id == id) return absl::StrCat(id, " (", server.zone, ")");
  }
  return absl::StrCat(id);
}

}  // namespace

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
      {"SERVER", "ZONE", "ADDRESS", "ALIVE", "PAXOS PEERS AT"}};
  for (const ServerInfo& s : topology.servers) {
    servers.push_back({absl::StrCat(s.id), s.zone, s.address, s.alive ? "yes" : "NO",
                       s.peer_address.empty() ? "-" : s.peer_address});
  }
  absl::StrAppend(&out, "Servers (", topology.servers.size(), "):\n", Table(servers), "\n");

  std::vector<std::vector<std::string>> groups = {{"GROUP", "REPLICAS", "LEADER"}};
  for (const GroupInfo& g : topology.groups) {
    std::vector<std::string> replicas;
    for (const uint64_t id : g.replicas) replicas.push_back(ServerName(topology, id));
    groups.push_back(
        {absl::StrCat(g.id), absl::StrJoin(replicas, ", "), ServerName(topology, g.leader)});
  }
  absl::StrAppend(&out, "Groups (", topology.groups.size(), "):\n", Table(groups), "\n");

  std::vector<std::vector<std::string>> ranges = {{"START", "", "END", "GROUP", "GENERATION"}};
  for (const RangeInfo& r : topology.ranges) {
    ranges.push_back({r.start.empty() ? "(min)" : absl::StrCat("\"", EscapeBytes(r.start), "\""),
                      "..", r.end.empty() ? "(max)" : absl::StrCat("\"", EscapeBytes(r.end), "\""),
                      absl::StrCat(r.group), absl::StrCat(r.generation)});
  }
  absl::StrAppend(&out, "Ranges (", topology.ranges.size(), "):\n", Table(ranges));
  return out;
}

}  // namespace meridian
