// `meridian demo`: a whole local cluster in one command. Starts placementd and one spanserver per
// zone (or more) as child processes, waits until every group has a leader, runs a short live
// workload through the SDK, prints the topology, then offers a small shell (or, with --no_shell,
// waits). Whatever happens — quit, Ctrl-C, SIGTERM, an error — every child it started is stopped
// and reaped before it exits.
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "meridian/client.h"
#include "meridian/sql.h"
#include "sql_lite/client_kv.h"
#include "tools/command.h"
#include "tools/local_cluster.h"
#include "tools/sql_print.h"
#include "tools/stop_signal.h"

namespace meridian::tools {
namespace {

// ---------------------------------------------------------------------------------------------
// The live workload.

double Percentile(std::vector<int64_t>& us, double p) {
  if (us.empty()) return 0;
  std::sort(us.begin(), us.end());
  const size_t i = std::min(us.size() - 1, static_cast<size_t>(p * static_cast<double>(us.size())));
  return static_cast<double>(us[i]) / 1000.0;
}

// Key i of n: its first byte spreads the keys over every range (ranges split on the first byte).
std::string WorkloadKey(int i, int n) {
  return absl::StrCat(std::string(1, static_cast<char>(i * 256 / n)), "demo-", i);
}

struct WorkloadResult {
  std::vector<int64_t> put_us, get_us;
  int errors = 0;
  int wrong_reads = 0;
  std::string first_error;
};

// Threads own disjoint keys, so each knows the last value it wrote to each of its keys and checks
// every read against it (a put with an unknown outcome makes its key unchecked from then on).
void RunWorkloadThread(Client& client, int thread, int threads, int keys, absl::Time end,
                       WorkloadResult& out) {
  Random random(static_cast<uint64_t>(thread) + 1);
  std::map<int, std::optional<std::string>> expected;  // nullopt: unknown
  std::vector<int> mine;
  for (int i = thread; i < keys; i += threads) mine.push_back(i);
  int seq = 0;
  while (!StopRequested() && absl::Now() < end) {
    const int i = mine[random.Uniform(mine.size())];
    const std::string key = WorkloadKey(i, keys);
    const auto start = std::chrono::steady_clock::now();
    const bool put = random.Uniform(2) == 0;
    absl::Status status;
    if (put) {
      const std::string value = absl::StrCat("v", thread, "-", seq++);
      status = client.Put(key, value);
      expected[i] = status.ok() ? std::optional<std::string>(value) : std::nullopt;
    } else {
      absl::StatusOr<std::optional<std::string>> got = client.Get(key);
      status = got.status();
      if (got.ok() && expected.contains(i) && expected[i].has_value() && *got != expected[i]) {
        ++out.wrong_reads;
      }
    }
    const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now() - start)
                           .count();
    if (!status.ok()) {
      if (out.errors++ == 0) out.first_error = status.ToString();
      continue;
    }
    (put ? out.put_us : out.get_us).push_back(us);
  }
}

void RunWorkload(Client& client, absl::Duration duration, int keys) {
  constexpr int kThreads = 4;
  std::printf("\nLive workload through the SDK: %d threads, %d keys, 50%% puts / 50%% gets, %s\n",
              kThreads, keys, absl::FormatDuration(duration).c_str());
  std::fflush(stdout);
  std::vector<WorkloadResult> results(kThreads);
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  const absl::Time end = start + duration;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back(RunWorkloadThread, std::ref(client), t, kThreads, keys, end,
                         std::ref(results[t]));
  }
  for (std::thread& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  WorkloadResult all;
  for (WorkloadResult& r : results) {
    all.put_us.insert(all.put_us.end(), r.put_us.begin(), r.put_us.end());
    all.get_us.insert(all.get_us.end(), r.get_us.begin(), r.get_us.end());
    all.errors += r.errors;
    all.wrong_reads += r.wrong_reads;
    if (all.first_error.empty()) all.first_error = r.first_error;
  }
  const size_t puts = all.put_us.size(), gets = all.get_us.size();
  std::printf("  %-5s %7zu ok  %8.0f ops/s   p50 %6.2f ms   p99 %6.2f ms\n", "puts", puts,
              static_cast<double>(puts) / seconds, Percentile(all.put_us, 0.5),
              Percentile(all.put_us, 0.99));
  std::printf("  %-5s %7zu ok  %8.0f ops/s   p50 %6.2f ms   p99 %6.2f ms\n", "gets", gets,
              static_cast<double>(gets) / seconds, Percentile(all.get_us, 0.5),
              Percentile(all.get_us, 0.99));
  std::printf("  errors: %d%s%s; reads that missed the latest acknowledged write: %d\n", all.errors,
              all.errors > 0 ? " (first: " : "",
              all.errors > 0 ? (all.first_error + ")").c_str() : "", all.wrong_reads);
  std::printf(
      "  (every put is a one-write transaction: its key's lock, a Paxos write across 3 zones "
      "and commit wait for TrueTime's epsilon; a get is a read-only transaction at the leader, "
      "under its lease)\n");
  std::fflush(stdout);
}

// ---------------------------------------------------------------------------------------------
// Printing the cluster.

void PrintProcesses(const LocalCluster& cluster) {
  std::printf("\nProcesses (cluster.json: %s)\n", cluster.manifest_path().c_str());
  std::printf("  %-12s %-10s %-7s %-16s %-8s %s\n", "name", "role", "zone", "address", "pid",
              "log");
  for (const ProcessState& p : cluster.supervisor().Processes()) {
    std::printf("  %-12s %-10s %-7s %-16s %-8s %s\n", p.spec.name.c_str(), p.spec.role.c_str(),
                p.spec.zone.empty() ? "-" : p.spec.zone.c_str(), p.spec.address.c_str(),
                p.pid != 0 ? absl::StrCat(p.pid).c_str() : "down", p.spec.log.c_str());
  }
  const std::string status_page = cluster.http_url("placement-1");
  if (!status_page.empty()) {
    std::printf("\nStatus page: %s/  (every process serves /metrics on its port + %d)\n",
                status_page.c_str(), cluster.options().http_port_offset);
  }
}

// The topology, with server ids translated to process names.
void PrintTopology(LocalCluster& cluster, Client& client) {
  absl::StatusOr<Topology> topology = client.GetTopology();
  if (!topology.ok()) {
    std::printf("topology: %s\n", topology.status().ToString().c_str());
    return;
  }
  std::map<uint64_t, std::string> names;
  for (const meridian::ServerInfo& server : topology->servers) {
    std::string name = server.address;
    for (const ProcessState& p : cluster.supervisor().Processes()) {
      if (p.spec.address == server.address) name = p.spec.name;
    }
    names[server.id] = server.removed ? name + "(removed)" : name;
  }
  auto name_of = [&](uint64_t id) {
    return id == 0 ? std::string("(none)") : absl::StrCat(names[id], " (", id, ")");
  };
  std::printf("\nTopology (placement leader %s)\n  zones: %s\n  servers:\n",
              topology->placement_leader.c_str(), absl::StrJoin(topology->zones, ", ").c_str());
  for (const meridian::ServerInfo& server : topology->servers) {
    std::printf("    %-16s %-7s %-16s %s\n", name_of(server.id).c_str(), server.zone.c_str(),
                server.address.c_str(),
                server.removed ? "removed"
                : server.alive ? "alive"
                               : "DOWN");
  }
  std::printf("  groups:\n");
  for (const meridian::GroupInfo& group : topology->groups) {
    std::vector<std::string> replicas;
    for (uint64_t id : group.replicas) replicas.push_back(names[id]);
    std::vector<std::string> ranges;
    for (const meridian::RangeInfo& r : topology->ranges) {
      if (r.group == group.id) {
        ranges.push_back(absl::StrCat("[\"", EscapeBytes(r.start), "\", ",
                                      r.end.empty() ? "+inf" : "\"" + EscapeBytes(r.end) + "\"",
                                      ") gen ", r.generation));
      }
    }
    std::printf("    group %-3llu leader %-16s replicas %-26s ranges %s\n",
                static_cast<unsigned long long>(group.id), name_of(group.leader).c_str(),
                absl::StrJoin(replicas, ",").c_str(), absl::StrJoin(ranges, " ").c_str());
  }
  for (const RangeMove& m : topology->moves) {
    std::printf(
        "  %s %llu of [\"%s\", %s): %s\n", m.kind == RangeMove::Kind::kSplit ? "split" : "move",
        static_cast<unsigned long long>(m.id), EscapeBytes(m.start).c_str(),
        m.end.empty() ? "+inf" : ("\"" + EscapeBytes(m.end) + "\"").c_str(), m.phase.c_str());
  }
  if (const std::string attention = FormatAttention(*topology); !attention.empty()) {
    std::printf("  needs an operator:\n%s", attention.c_str());
  }
  std::fflush(stdout);
}

void PrintStatus(LocalCluster& cluster, Client& client) {
  PrintTopology(cluster, client);
  std::printf("  replicas (as each server reports them):\n");
  for (const std::string& name : cluster.server_names()) {
    absl::StatusOr<proto::ServerStatusResponse> status = cluster.ServerStatus(name);
    if (!status.ok()) {
      std::printf("    %-8s %s\n", name.c_str(),
                  cluster.supervisor().Running(name) ? status.status().ToString().c_str()
                                                     : "down (restart it with: restart NAME)");
      continue;
    }
    std::vector<std::string> groups;
    std::vector<std::string> fenced;
    for (const proto::GroupStatus& g : status->groups()) {
      if (!g.fenced().empty()) fenced.push_back(absl::StrCat("g", g.group(), ": ", g.fenced()));
      // Peer messages refused for out-of-bounds or forged fields show only when there are any.
      const std::string refused =
          g.refused_messages() > 0 ? absl::StrCat(" refused", g.refused_messages()) : "";
      groups.push_back(absl::StrFormat("g%d:%s%s c%d/a%d log%d%s%s", g.group(),
                                       g.fenced().empty() ? g.role() : "FENCED",
                                       g.has_lease() ? "+lease" : "", g.commit(), g.applied(),
                                       g.last_index() - std::min(g.last_index(), g.compacted()),
                                       g.installing_snapshot() ? "+snapshot" : "", refused));
    }
    std::printf("    %-8s id %-3llu %s\n", name.c_str(),
                static_cast<unsigned long long>(status->server_id()),
                absl::StrJoin(groups, "  ").c_str());
    for (const std::string& line : fenced) std::printf("      fenced %s\n", line.c_str());
    if (!status->clock().unavailable().empty()) {
      std::printf("      clock UNAVAILABLE (serving nothing): %s\n",
                  status->clock().unavailable().c_str());
    }
  }
  std::fflush(stdout);
}

// ---------------------------------------------------------------------------------------------
// The shell.

constexpr char kShellHelp[] =
    "Commands:\n"
    "  put KEY VALUE        write one key (a Paxos write in its group, with commit wait)\n"
    "  get KEY              read one key at its group's leader\n"
    "  del KEY              delete one key\n"
    "  scan [START [END]]   up to 50 keys with START <= key < END, across ranges\n"
    "  status               topology, leaders and each replica's commit/applied index\n"
    "  kill-leader GROUP    kill -9 the server leading GROUP; a new leader takes over\n"
    "  restart NAME         restart a stopped process (same argv and data dir)\n"
    "  wipe NAME            kill -9 a server and empty its data directory (a failed disk)\n"
    "  remove-server ID     retire a server whose data is lost (meridian server remove)\n"
    "  drain NAME           move every replica off a running server (meridian server drain)\n"
    "  split KEY            split the range holding KEY at KEY (meridian placement split)\n"
    "  move KEY GROUP       move the range holding KEY to GROUP, or to a new group with\n"
    "                       GROUP = new (meridian placement move-range); status shows it\n"
    "  add-server ZONE      start one more spanserver in ZONE (zone-a, ...)\n"
    "  sql STATEMENT;       run SQL on one line, as `meridian sql` does (database default,\n"
    "                       keys under sql/default/); sql \\d lists the tables\n"
    "  help                 this text\n"
    "  quit                 stop the cluster and exit (also Ctrl-C or Ctrl-D)\n"
    "Keys and values are words; write \\xHH for a byte (keys split across ranges by first byte:\n"
    "with 8 ranges, a..z all fall in one range; try put \\x10a 1, put \\xf0b 2, scan).\n";

void ShowElapsed(std::chrono::steady_clock::time_point start) {
  std::printf(
      "  (%.2f ms)\n",
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
}

constexpr size_t kScanLimit = 50;

// "split KEY" or "move KEY GROUP|new": asks placement and says what it recorded.
void RunRangeOperation(const std::vector<std::string>& words, Client& client) {
  const std::string key = UnescapeBytes(words[1]);
  uint64_t group = kNewGroup;
  if (words[0] == "move" && words[2] != "new" &&
      (!absl::SimpleAtoi(words[2], &group) || group == kNewGroup)) {
    std::printf("move takes a group id (see status) or new\n");
    return;
  }
  const absl::StatusOr<RangeMove> move =
      words[0] == "split" ? client.SplitRange(key) : client.MoveRange(key, group);
  if (!move.ok()) {
    std::printf("%s\n", move.status().ToString().c_str());
    return;
  }
  const std::string range =
      absl::StrCat("[\"", EscapeBytes(move->start), "\", ",
                   move->end.empty() ? "+inf" : "\"" + EscapeBytes(move->end) + "\"", ")");
  if (move->kind == RangeMove::Kind::kSplit) {
    std::printf("split %llu recorded: %s of group %llu splits at \"%s\" (watch status)\n",
                static_cast<unsigned long long>(move->id), range.c_str(),
                static_cast<unsigned long long>(move->from_group),
                EscapeBytes(move->split_key).c_str());
  } else {
    std::printf(
        "move %llu recorded: %s goes from group %llu to group %llu; placement copies it, "
        "switches the map, then erases the old copy (watch status)\n",
        static_cast<unsigned long long>(move->id), range.c_str(),
        static_cast<unsigned long long>(move->from_group),
        static_cast<unsigned long long>(move->to_group));
  }
}

// The commands on processes and servers (kill-leader, wipe, remove-server, add-server, drain,
// restart); false when `words` is none of them.
bool RunServerCommand(const std::vector<std::string>& words, LocalCluster& cluster,
                      Client& client) {
  const std::string& cmd = words[0];
  if (cmd == "kill-leader" && words.size() == 2) {
    uint64_t group = 0;
    if (!absl::SimpleAtoi(words[1], &group)) {
      std::printf("kill-leader takes a group id (see status)\n");
      return true;
    }
    const absl::StatusOr<std::string> leader = cluster.GroupLeader(group);
    if (!leader.ok()) {
      std::printf("%s\n", leader.status().ToString().c_str());
      return true;
    }
    const pid_t pid = cluster.supervisor().Pid(*leader);
    const absl::Status s = cluster.Kill(*leader);
    if (!s.ok()) {
      std::printf("%s\n", s.ToString().c_str());
      return true;
    }
    std::printf(
        "kill -9 %s (pid %d), leader of group %llu. Its groups elect new leaders once its\n"
        "lease runs out (--paxos_lease_ms=%lld); reads and writes continue. Bring it back\n"
        "with: restart %s\n",
        leader->c_str(), static_cast<int>(pid), static_cast<unsigned long long>(group),
        static_cast<long long>(cluster.options().paxos_lease_ms), leader->c_str());
  } else if (cmd == "wipe" && words.size() == 2) {
    const absl::Status s = cluster.Wipe(words[1]);
    if (!s.ok()) {
      std::printf("%s\n", s.ToString().c_str());
      return true;
    }
    std::printf(
        "killed %s and emptied its data directory. restart %s: it comes back as a new data\n"
        "directory, which placement refuses at the old server's address (status shows why)\n"
        "until you retire the old id with: remove-server ID. It never votes with the\n"
        "promises it lost.\n",
        words[1].c_str(), words[1].c_str());
  } else if (cmd == "remove-server" && words.size() == 2) {
    uint64_t id = 0;
    if (!absl::SimpleAtoi(words[1], &id) || id == 0) {
      std::printf("remove-server takes a server id (see status)\n");
      return true;
    }
    const absl::Status s = client.RemoveServer(id);
    std::printf("%s\n", s.ok() ? "removed: a blank server at its address joins as a new one"
                               : s.ToString().c_str());
  } else if (cmd == "add-server" && words.size() == 2) {
    absl::StatusOr<std::string> name = cluster.AddServer(words[1]);
    if (name.ok()) {
      std::printf(
          "started %s in %s: it registers as a new server; placement gives it replicas\n"
          "when one is needed there (a dead or drained server's)\n",
          name->c_str(), words[1].c_str());
    } else {
      std::printf("%s\n", name.status().ToString().c_str());
    }
  } else if (cmd == "drain" && words.size() == 2) {
    absl::StatusOr<proto::ServerStatusResponse> status = cluster.ServerStatus(words[1]);
    if (!status.ok()) {
      std::printf("%s: %s\n", words[1].c_str(), status.status().ToString().c_str());
      return true;
    }
    const absl::Status s = client.DrainServer(status->server_id());
    std::printf("%s\n", s.ok() ? "draining: its replicas move to other servers one at a time "
                                 "(watch status)"
                               : s.ToString().c_str());
  } else if (cmd == "restart" && words.size() == 2) {
    const absl::Status s = cluster.Restart(words[1]);
    if (s.ok()) {
      std::printf(
          "restarted %s (pid %d) with its old argv and data dir; it catches up from\n"
          "its peers (watch its applied index in: status)\n",
          words[1].c_str(), static_cast<int>(cluster.supervisor().Pid(words[1])));
    } else {
      std::printf("%s\n", s.ToString().c_str());
    }
  } else {
    return false;
  }
  return true;
}

// Runs one shell line; returns false on quit.
bool RunShellLine(const std::string& line, LocalCluster& cluster, Client& client,
                  sql::Session& sql) {
  const std::vector<std::string> words =
      absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  if (words.empty()) return true;
  const std::string& cmd = words[0];
  const auto start = std::chrono::steady_clock::now();
  if (cmd == "quit" || cmd == "exit") return false;
  if (cmd == "help") {
    std::printf("%s", kShellHelp);
  } else if (cmd == "put" && words.size() == 3) {
    const absl::Status s = client.Put(UnescapeBytes(words[1]), UnescapeBytes(words[2]));
    std::printf("%s", s.ok() ? "OK" : s.ToString().c_str());
    ShowElapsed(start);
  } else if (cmd == "get" && words.size() == 2) {
    const absl::StatusOr<std::optional<std::string>> v = client.Get(UnescapeBytes(words[1]));
    if (!v.ok()) {
      std::printf("%s", v.status().ToString().c_str());
    } else if (!v->has_value()) {
      std::printf("(not found)");
    } else {
      std::printf("\"%s\"", EscapeBytes(**v).c_str());
    }
    ShowElapsed(start);
  } else if ((cmd == "del" || cmd == "delete") && words.size() == 2) {
    const absl::Status s = client.Delete(UnescapeBytes(words[1]));
    std::printf("%s", s.ok() ? "OK" : s.ToString().c_str());
    ShowElapsed(start);
  } else if (cmd == "scan" && words.size() <= 3) {
    const std::string from = words.size() > 1 ? UnescapeBytes(words[1]) : "";
    const std::string to = words.size() > 2 ? UnescapeBytes(words[2]) : "";
    const auto rows = client.Scan(from, to, kScanLimit);
    if (!rows.ok()) {
      std::printf("%s", rows.status().ToString().c_str());
    } else {
      for (const auto& [k, v] : *rows) {
        std::printf("  \"%s\" = \"%s\"\n", EscapeBytes(k).c_str(), EscapeBytes(v).c_str());
      }
      std::printf(
          "%zu rows%s", rows->size(),
          rows->size() == kScanLimit ? " (the limit; scan on from the last key for more)" : "");
    }
    ShowElapsed(start);
  } else if (cmd == "status" && words.size() == 1) {
    PrintStatus(cluster, client);
  } else if ((cmd == "split" && words.size() == 2) || (cmd == "move" && words.size() == 3)) {
    RunRangeOperation(words, client);
  } else if (cmd == "sql" && words.size() > 1) {
    const size_t at = line.find("sql") + 3;  // the statement is the rest of the line, as typed
    RunText(sql, std::string_view(line).substr(at), "", /*stop_on_error=*/false);
  } else if (!RunServerCommand(words, cluster, client)) {
    std::printf("unknown command or wrong arguments: %s\n%s", line.c_str(), kShellHelp);
  }
  std::fflush(stdout);
  return true;
}

void ReportUnexpectedExits(LocalCluster& cluster) {
  for (const std::string& exit : cluster.ReapUnexpected()) {
    std::printf("\n! %s (log in %s/logs)\n", exit.c_str(), cluster.options().dir.c_str());
    std::fflush(stdout);
  }
}

// Reads lines from stdin until quit, EOF, a stop signal or `end`.
void RunShell(LocalCluster& cluster, Client& client, std::optional<absl::Time> end) {
  std::printf("\n%s", kShellHelp);
  sql::ClientKvOptions sql_options;
  sql_options.key_prefix = "sql/default/";  // meridian sql's --database=default
  sql::ClientKvDatabase sql_db(&client, sql_options);
  sql::Session sql(&sql_db);
  std::string pending;
  bool prompt = true;
  while (!StopRequested() && (!end.has_value() || absl::Now() < *end)) {
    if (prompt) {
      std::printf("meridian> ");
      std::fflush(stdout);
      prompt = false;
    }
    pollfd fd{.fd = STDIN_FILENO, .events = POLLIN, .revents = 0};
    const int ready = poll(&fd, 1, 200);
    ReportUnexpectedExits(cluster);
    if (ready <= 0) continue;  // timeout or EINTR
    char buf[4096];
    const ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n < 0) continue;
    if (n == 0) {
      std::printf("\n");
      return;  // EOF (Ctrl-D)
    }
    pending.append(buf, static_cast<size_t>(n));
    size_t newline;
    while ((newline = pending.find('\n')) != std::string::npos) {
      const std::string line = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      if (!RunShellLine(line, cluster, client, sql)) return;
      prompt = true;
      if (StopRequested()) return;
    }
  }
}

// ---------------------------------------------------------------------------------------------

absl::Status RunDemo(const Flags& flags, LocalClusterOptions options, bool no_shell,
                     std::optional<absl::Duration> duration, absl::Duration workload) {
  const std::optional<absl::Time> end =
      duration.has_value() ? std::optional<absl::Time>(absl::Now() + *duration) : std::nullopt;
  LocalCluster cluster(options);
  std::printf("Starting a local Meridian cluster in %s\n", options.dir.c_str());
  std::printf(
      "  %d placement replica(s), %d zone(s) x %d spanserver(s), %d ranges, "
      "TrueTime fixed epsilon %lld us, Paxos lease %lld ms\n",
      options.placement_replicas, options.zones, options.servers_per_zone, options.ranges,
      static_cast<long long>(options.truetime_epsilon_us),
      static_cast<long long>(options.paxos_lease_ms));
  if (options.secure) {
    std::printf("  mutual TLS everywhere: certificates in %s/tls (admin client: %s/tls/admin)\n",
                options.dir.c_str(), options.dir.c_str());
  } else {
    std::printf(
        "\n  *** WARNING: INSECURE. Every process runs --insecure: plaintext, no authentication;\n"
        "  *** anyone who reaches these ports may read, write and administer the cluster.\n"
        "  *** `meridian demo --secure` runs it with mutual TLS.\n\n");
  }
  std::fflush(stdout);
  RETURN_IF_ERROR(cluster.Start());
  PrintProcesses(cluster);
  std::printf("\nWaiting for placement to bootstrap and every group to elect a leader");
  std::fflush(stdout);
  const auto wait_start = std::chrono::steady_clock::now();
  std::string last_missing;
  const absl::Status ready = cluster.WaitReady(
      absl::Seconds(60),
      [&last_missing](const std::string& missing) {
        // A dot per second while nothing changes, a line when something does.
        std::printf("%s", missing == last_missing ? "." : ("\n  . " + missing).c_str());
        std::fflush(stdout);
        last_missing = missing;
      },
      [] { return StopRequested(); });
  if (!ready.ok()) {
    std::printf("\n");
    return ready;
  }
  std::printf("\nReady in %.1f s.\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - wait_start).count());
  ClientOptions client_options;
  client_options.deadline = std::chrono::milliseconds(5000);
  if (options.secure) client_options.tls = ClientTlsOptions::FromDir(cluster.admin_tls_dir());
  absl::StatusOr<std::unique_ptr<Client>> client =
      Client::Connect(cluster.placement_addresses(), client_options);
  if (!client.ok()) return client.status();
  if (workload > absl::ZeroDuration() && !StopRequested()) RunWorkload(**client, workload, 300);
  if (!StopRequested()) PrintTopology(cluster, **client);
  ReportUnexpectedExits(cluster);
  if (!no_shell) {
    RunShell(cluster, **client, end);
  } else if (!StopRequested()) {
    if (duration.has_value()) {
      std::printf("\nRunning for %s (--duration); Ctrl-C stops earlier.\n",
                  absl::FormatDuration(*duration).c_str());
    } else {
      std::printf("\nRunning until Ctrl-C or SIGTERM.\n");
    }
    std::fflush(stdout);
    while (!StopRequested() && (!end.has_value() || absl::Now() < *end)) {
      SleepUnlessStopping(absl::Milliseconds(200));
      ReportUnexpectedExits(cluster);
    }
  }
  if (StopRequested()) std::printf("\nReceived %s.", strsignal(StopSignal()));
  (void)flags;
  client->reset();
  std::printf("\nStopping the cluster...\n");
  std::fflush(stdout);
  cluster.StopAll();
  std::printf("Stopped %zu processes. Data and logs kept in %s\n",
              cluster.supervisor().Processes().size(), options.dir.c_str());
  return absl::OkStatus();
}

int Run(const Flags& flags) {
  LocalClusterOptions options;
  absl::Status parsed;
  auto take = [&](const std::string& name, int min, int max) {
    absl::StatusOr<int> v = IntFlag(flags, name, min, max);
    parsed.Update(v.status());
    return v.ok() ? *v : 0;
  };
  options.zones = take("zones", 1, 26);
  options.servers_per_zone = take("servers_per_zone", 1, 9);
  options.ranges = take("ranges", 1, 256);
  options.base_port = take("base_port", 1024, 65000);
  options.placement_replicas = take("placement_replicas", 1, 3);
  options.truetime_epsilon_us = take("truetime_epsilon_us", 0, 1'000'000);
  options.paxos_lease_ms = take("paxos_lease_ms", 100, 60'000);
  options.http_port_offset = take("http_port_offset", 0, 10'000);
  options.spanserver_flags.push_back(
      absl::StrCat("--max_log_mb=", take("max_log_mb", 0, 1'000'000)));
  options.placement_flags.push_back(
      absl::StrCat("--dead_server_timeout_s=", take("dead_server_timeout_s", 0, 86'400)));
  const int workload_ms = take("workload_ms", 0, 600'000);
  std::optional<absl::Duration> duration;
  if (!flags.at("duration").empty()) duration = absl::Seconds(take("duration", 0, 86'400 * 365));
  if (parsed.ok() && options.placement_replicas == 2) {
    parsed = absl::InvalidArgumentError("--placement_replicas must be 1 or 3");
  }
  if (!parsed.ok()) {
    std::fprintf(stderr, "meridian demo: %s\n", std::string(parsed.message()).c_str());
    return kExitUsage;
  }
  if (absl::Status s = FindSiblingBinaries(options); !s.ok()) {
    std::fprintf(stderr, "meridian demo: %s\n", std::string(s.message()).c_str());
    return kExitError;
  }
  options.dir = flags.at("dir");
  if (options.dir.empty()) {
    char templ[] = "/tmp/meridian-demo-XXXXXX";
    if (mkdtemp(templ) == nullptr) {
      std::perror("meridian demo: mkdtemp");
      return kExitError;
    }
    options.dir = templ;
  }
  options.dir = std::filesystem::absolute(options.dir).string();
  options.secure = flags.at("secure") == "true";
  InstallStopSignalHandlers();
  const absl::Status status = RunDemo(flags, options, flags.at("no_shell") == "true", duration,
                                      absl::Milliseconds(workload_ms));
  std::fflush(stdout);
  if (!status.ok()) {
    if (status.code() == absl::StatusCode::kCancelled && StopRequested()) return kExitOk;
    std::fprintf(stderr, "meridian demo: %s\n", status.ToString().c_str());
    return kExitError;
  }
  return kExitOk;
}

}  // namespace

Command ClusterDemoCommand() {
  Command command;
  command.name = "demo";
  command.summary = "a whole local cluster: placementd + spanservers, a live workload and a shell";
  command.description =
      "Starts placementd and zones x servers_per_zone spanservers as child processes on\n"
      "127.0.0.1 (logs and data under --dir, every process with its argv in cluster.json),\n"
      "waits until every Paxos group has a leader, runs a short workload through the SDK,\n"
      "prints the topology and opens a shell (put/get/scan/status/kill-leader/restart/\n"
      "wipe/remove-server/drain/split/move).\n"
      "With --no_shell it runs for --duration seconds, or until Ctrl-C/SIGTERM. Every child\n"
      "is stopped when it exits, whatever the reason. With --secure every connection uses\n"
      "mutual TLS; other commands reach it with --tls_dir=DIR/tls/admin.";
  command.flags = {{"zones", "3", "number of zones (zone-a, zone-b, ...)"},
                   {"servers_per_zone", "1", "spanservers per zone"},
                   {"ranges", "8", "initial ranges (= Paxos groups), split on the first key byte"},
                   {"duration", "", "seconds to run, then stop (default: until quit or a signal)"},
                   {"no_shell", "false", "no interactive shell: just run", /*is_bool=*/true},
                   {"dir", "", "data and log directory (default: a new /tmp/meridian-demo-XXXXXX)"},
                   {"base_port", "7400", "first port: placement, then the spanservers"},
                   {"http_port_offset", "100",
                    "each process serves HTTP (/metrics; placementd's status page) on its port "
                    "+ this (0: none)"},
                   {"placement_replicas", "1", "placementd replicas: 1 or 3"},
                   {"truetime_epsilon_us", "1000", "TrueTime epsilon of the fixed clock source"},
                   {"paxos_lease_ms", "2000", "Paxos leader lease"},
                   {"max_log_mb", "64", "each group's Paxos log is compacted to stay near this"},
                   {"dead_server_timeout_s", "30",
                    "a server silent this long has its replicas moved (0: never)"},
                   {"workload_ms", "2000", "length of the live workload (0: none)"},
                   {"secure", "false",
                    "mutual TLS everywhere: certificates made under DIR/tls (default: every "
                    "process runs --insecure, with a warning)",
                    /*is_bool=*/true}};
  command.run = Run;
  return command;
}

}  // namespace meridian::tools
