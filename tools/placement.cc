// `meridian placement`: range and group operations an operator asks placement for.
//   meridian placement split KEY                       the range holding KEY splits at KEY
//   meridian placement move-range KEY --to_group=G     the range holding KEY moves to group G
//   meridian placement move-range KEY --to_group=new   ... to a new group placement creates
//   meridian placement policy KEY [--replicas=N] [--zones=a,b,c] [--leader_zone=Z]
//                                                      sets the policy of the group holding KEY
// Each answers once placement has recorded the operation; the data moves in the background and
// `meridian status` lists it under "Moves in progress" until the map has switched, and shows
// each group's policy.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "meridian/client.h"
#include "tools/command.h"

namespace meridian::tools {
namespace {

constexpr char kUsage[] =
    "split KEY | move-range KEY --to_group=G|new | policy KEY [--replicas=3|5] "
    "[--zones=A,B,C] [--leader_zone=Z]";

int Usage(const std::string& message) { return PrintUsage("placement", kUsage, message); }

std::string Quoted(const std::string& key) { return absl::StrCat("\"", EscapeBytes(key), "\""); }

std::string PolicyText(const Policy& policy) {
  return absl::StrCat(
      policy.replicas == 0 ? "as many replicas as it has"
                           : absl::StrCat(policy.replicas, " replicas, each in its own zone"),
      policy.zones.empty() ? ", in any zones" : ", in zones " + absl::StrJoin(policy.zones, ","),
      policy.leader_zone.empty() ? ", any leader zone"
                                 : ", its leader in zone " + policy.leader_zone);
}

std::string RangeText(const RangeMove& move) {
  return absl::StrCat("[", Quoted(move.start), ", ", move.end.empty() ? "+inf" : Quoted(move.end),
                      ")");
}

int Split(Client& client, const std::string& key) {
  absl::StatusOr<RangeMove> split = client.SplitRange(key);
  if (!split.ok()) {
    std::fprintf(stderr, "meridian placement: cannot split at %s: %s\n", Quoted(key).c_str(),
                 std::string(split.status().message()).c_str());
    return kExitError;
  }
  std::printf(
      "split %llu recorded: %s of group %llu becomes two ranges at %s, generation %llu.\n"
      "Both halves stay in group %llu; `meridian status` shows the split until the map has it.\n",
      static_cast<unsigned long long>(split->id), RangeText(*split).c_str(),
      static_cast<unsigned long long>(split->from_group), Quoted(split->split_key).c_str(),
      static_cast<unsigned long long>(split->generation),
      static_cast<unsigned long long>(split->from_group));
  return kExitOk;
}

int MoveRange(Client& client, const std::string& key, uint64_t to_group) {
  absl::StatusOr<RangeMove> move = client.MoveRange(key, to_group);
  if (!move.ok()) {
    std::fprintf(stderr, "meridian placement: cannot move the range holding %s: %s\n",
                 Quoted(key).c_str(), std::string(move.status().message()).c_str());
    return kExitError;
  }
  std::printf(
      "move %llu recorded: %s from group %llu to %sgroup %llu, generation %llu.\n"
      "Placement copies it in the background, then switches the map and erases the old copy;\n"
      "`meridian status` shows its phase until it is done. Reads and writes go on meanwhile\n"
      "(writes to the range pause briefly while it changes hands).\n",
      static_cast<unsigned long long>(move->id), RangeText(*move).c_str(),
      static_cast<unsigned long long>(move->from_group), to_group == kNewGroup ? "new " : "",
      static_cast<unsigned long long>(move->to_group),
      static_cast<unsigned long long>(move->generation));
  return kExitOk;
}

int SetPolicy(Client& client, const std::string& key, const Policy& policy) {
  absl::StatusOr<uint64_t> group = client.SetPolicy(key, policy);
  if (!group.ok()) {
    std::fprintf(stderr, "meridian placement: cannot set the policy of the group holding %s: %s\n",
                 Quoted(key).c_str(), std::string(group.status().message()).c_str());
    return kExitError;
  }
  std::printf(
      "group %llu (which holds %s) has the policy: %s.\n"
      "Every range of group %llu follows it. Placement adds, removes or moves its replicas and\n"
      "moves its leader one step at a time; `meridian status` shows the groups as they change.\n",
      static_cast<unsigned long long>(*group), Quoted(key).c_str(), PolicyText(policy).c_str(),
      static_cast<unsigned long long>(*group));
  return kExitOk;
}

// The policy the flags describe, or a usage error in *error.
Policy PolicyFromFlags(const Flags& flags, std::string* error) {
  Policy policy;
  if (const std::string& n = flags.at("replicas"); !n.empty()) {
    if (!absl::SimpleAtoi(n, &policy.replicas) || (policy.replicas != 3 && policy.replicas != 5)) {
      *error = absl::StrCat("--replicas must be 3 or 5, got '", n, "'");
    }
  }
  if (const std::string& zones = flags.at("zones"); !zones.empty()) {
    policy.zones = absl::StrSplit(zones, ',');
  }
  policy.leader_zone = flags.at("leader_zone");
  return policy;
}

// Why the flags do not fit operation `op`, or "".
std::string FlagMisuse(const std::string& op, const Flags& flags) {
  if (op != "move-range" && !flags.at("to_group").empty()) return "--to_group is for move-range";
  for (const char* name : {"replicas", "zones", "leader_zone"}) {
    if (op != "policy" && !flags.at(name).empty()) {
      return absl::StrCat("--", name, " is for policy");
    }
  }
  return "";
}

int Run(const Flags& flags, const std::vector<std::string>& args) {
  if (args.empty()) return Usage("missing operation");
  const std::string& op = args[0];
  if (op != "split" && op != "move-range" && op != "policy") {
    return Usage(absl::StrCat("unknown operation '", op, "'"));
  }
  if (args.size() != 2) return Usage(absl::StrCat("'", op, "' takes one KEY"));
  if (std::string misuse = FlagMisuse(op, flags); !misuse.empty()) return Usage(misuse);
  const std::string key = UnescapeBytes(args[1]);
  uint64_t to_group = kNewGroup;
  const std::string& to = flags.at("to_group");
  if (op == "move-range") {
    if (to.empty()) return Usage("move-range needs --to_group=G (a group id, or new)");
    if (to != "new" && (!absl::SimpleAtoi(to, &to_group) || to_group == 0)) {
      return Usage(absl::StrCat("--to_group must be a group id (see meridian status) or new, got '",
                                to, "'"));
    }
  }
  std::string error;
  const Policy policy = PolicyFromFlags(flags, &error);
  if (!error.empty()) return Usage(error);
  if (PlacementAddresses(flags).empty()) {
    return Usage("--placement=HOST:PORT[,HOST:PORT...] (or $MERIDIAN_PLACEMENT) is required");
  }
  std::unique_ptr<Client> client = ConnectOrPrint("placement", flags);
  if (client == nullptr) return kExitError;
  if (op == "policy") return SetPolicy(*client, key, policy);
  return op == "split" ? Split(*client, key) : MoveRange(*client, key, to_group);
}

}  // namespace

Command PlacementCommand() {
  return Command{
      .name = "placement",
      .summary = "split a range, move one to another (or a new) group, or set a group's policy",
      .description =
          "split KEY: the range holding KEY becomes [start, KEY) and [KEY, end), both in its\n"
          "group, at a new generation of the range map (clients refresh their maps). Refused\n"
          "when KEY is a range boundary already or the range is being moved or split.\n"
          "move-range KEY --to_group=G: the range holding KEY moves to Paxos group G. Placement\n"
          "copies its versions to G in the background, fences writes to it at the old group,\n"
          "copies what was written meanwhile, lets G serve it and switches the map, then erases\n"
          "the old copy. --to_group=new first creates a group with one replica per zone on the\n"
          "least loaded live servers. Refused for an unknown group, the range's own group, or a\n"
          "range being moved or split. Repeating the same command while it runs is harmless.\n"
          "Both answer once placement has recorded the operation; `meridian status` lists it\n"
          "under \"Moves in progress\" with its phase until it is done.\n"
          "policy KEY [--replicas=3|5] [--zones=A,B,C] [--leader_zone=Z]: sets the policy of the\n"
          "group that holds KEY. Policies are per group: every range of that group takes it (a\n"
          "range moved to another group takes that group's). The whole policy is set: a flag\n"
          "left out takes its default (--replicas: as many as the group has; --zones: any;\n"
          "--leader_zone: any). Placement then adds or removes replicas, one per zone, keeps them\n"
          "in the listed zones and moves the leader into --leader_zone, one step at a time.\n"
          "Refused, with nothing changed, for replicas other than 3 or 5, an unknown zone, or a\n"
          "policy the live servers cannot meet (N replicas need N listed zones with a live\n"
          "server that is not draining). `meridian status` shows each group's policy.\n"
          "KEY is taken as given, except that \\xHH stands for one byte (ranges split on bytes:\n"
          "with 8 ranges, \\x60 starts the one holding a..z).",
      .flags = {{"placement", "",
                 "placementd addresses HOST:PORT[,HOST:PORT...]; default "
                 "$MERIDIAN_PLACEMENT"},
                {"to_group", "", "move-range: the target group id, or new"},
                {"replicas", "", "policy: 3 or 5 replicas (default: as many as the group has)"},
                {"zones", "", "policy: the zones replicas may be in, A,B,C (default: any)"},
                {"leader_zone", "", "policy: the zone the leader should be in (default: any)"},
                {"deadline_ms", "10000", "give up after this long"}},
      .args_usage = kUsage,
      .run_with_args = Run,
  };
}

}  // namespace meridian::tools
