// `meridian`: the user's command line. Dispatches argv[1] to a Command (command.h).
#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tools/command.h"

namespace meridian::tools {

std::vector<std::string> ExpandShortFlags(const std::vector<std::string>& words,
                                          const std::vector<FlagSpec>& specs) {
  std::vector<std::string> out;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (word == "--") {
      out.insert(out.end(), words.begin() + static_cast<std::ptrdiff_t>(i), words.end());
      break;
    }
    const auto spec = std::find_if(specs.begin(), specs.end(), [&](const FlagSpec& s) {
      return !s.alias.empty() && word == "-" + s.alias;
    });
    if (spec == specs.end()) {
      out.push_back(word);
    } else if (spec->is_bool || i + 1 == words.size()) {
      out.push_back("--" + spec->name);
    } else {
      out.push_back(absl::StrCat("--", spec->name, "=", words[++i]));
    }
  }
  return out;
}

absl::StatusOr<Flags> ParseFlags(const std::vector<std::string>& args,
                                 const std::vector<FlagSpec>& specs) {
  Flags flags;
  for (const FlagSpec& spec : specs) flags[spec.name] = spec.default_value;
  for (const std::string& arg : args) {
    if (!absl::StartsWith(arg, "--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", arg, "' (flags are written --name=value)"));
    }
    const size_t eq = std::min(arg.find('='), arg.size());
    const std::string name = arg.substr(2, eq - 2);
    const auto spec =
        std::find_if(specs.begin(), specs.end(), [&](const FlagSpec& s) { return s.name == name; });
    if (spec == specs.end()) return absl::InvalidArgumentError("unknown flag --" + name);
    if (eq == arg.size() && !spec->is_bool) {
      return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
    }
    const std::string value = eq == arg.size() ? "true" : arg.substr(eq + 1);
    if (spec->is_bool && value != "true" && value != "false") {
      return absl::InvalidArgumentError(absl::StrCat("flag --", name, " takes true or false"));
    }
    flags[name] = value;
  }
  return flags;
}

namespace {

// Every command that talks to a cluster (it has --placement) also takes --tls_dir, which
// ConnectOrPrint reads.
std::vector<Command> AllCommands() {
  std::vector<Command> commands = {ClusterDemoCommand(),  StorageDemoCommand(), StatusCommand(),
                                   KvCommand(),           ServerCommand(),      PlacementCommand(),
                                   CheckHistoryCommand(), WorkloadCommand(),    SqlCommand(),
                                   FailoverDemoCommand(), CertsCommand()};
  for (Command& command : commands) {
    const bool talks = std::any_of(command.flags.begin(), command.flags.end(),
                                   [](const FlagSpec& f) { return f.name == "placement"; });
    if (talks && command.name != "demo" && command.name != "failover-demo") {
      command.flags.push_back(TlsDirFlag());
    }
  }
  return commands;
}

void PrintMainHelp(FILE* out) {
  std::fprintf(out,
               "meridian: the command line of Meridian, a Spanner-style database.\n\n"
               "Usage: meridian <command> [--flag=value ...]\n"
               "       meridian <command> --help\n\nCommands:\n");
  for (const Command& command : AllCommands()) {
    std::fprintf(out, "  %-13s %s\n", command.name.c_str(), command.summary.c_str());
  }
}

void PrintCommandHelp(const Command& command) {
  std::printf("Usage: meridian %s%s%s [--flag=value ...]\n\n%s\n\nFlags:\n", command.name.c_str(),
              command.args_usage.empty() ? "" : " ", command.args_usage.c_str(),
              command.description.c_str());
  for (const FlagSpec& flag : command.flags) {
    const std::string form =
        absl::StrCat(flag.alias.empty() ? "" : absl::StrCat("-", flag.alias, ", "), "--", flag.name,
                     flag.is_bool ? "" : "=...");
    std::printf("  %-26s %s%s\n", form.c_str(), flag.help.c_str(),
                flag.default_value.empty()
                    ? ""
                    : absl::StrCat(" (default: ", flag.default_value, ")").c_str());
  }
}

int Main(int argc, char** argv) {
  const std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty()) {
    PrintMainHelp(stderr);
    return kExitUsage;
  }
  if (words[0] == "--help" || words[0] == "-h" || words[0] == "help") {
    PrintMainHelp(stdout);
    return kExitOk;
  }
  for (const Command& command : AllCommands()) {
    if (command.name != words[0]) continue;
    // Flags to parse, and (for a command with run_with_args) the other words, in order.
    std::vector<std::string> args;
    std::vector<std::string> positional;
    bool only_positional = false;
    const std::vector<std::string> rest =
        ExpandShortFlags(std::vector<std::string>(words.begin() + 1, words.end()), command.flags);
    for (auto word = rest.begin(); word != rest.end(); ++word) {
      if (only_positional) {
        positional.push_back(*word);
      } else if (*word == "--help" || *word == "-h") {
        PrintCommandHelp(command);
        return kExitOk;
      } else if (command.run_with_args != nullptr && *word == "--") {
        only_positional = true;
      } else if (command.run_with_args != nullptr && !absl::StartsWith(*word, "--")) {
        positional.push_back(*word);
      } else {
        args.push_back(*word);
      }
    }
    absl::StatusOr<Flags> flags = ParseFlags(args, command.flags);
    if (!flags.ok()) {
      std::fprintf(stderr, "meridian %s: %s\nRun 'meridian %s --help' for its flags.\n",
                   command.name.c_str(), std::string(flags.status().message()).c_str(),
                   command.name.c_str());
      return kExitUsage;
    }
    return command.run_with_args != nullptr ? command.run_with_args(*flags, positional)
                                            : command.run(*flags);
  }
  std::fprintf(stderr, "meridian: unknown %s '%s'\nRun 'meridian --help' for the commands.\n",
               absl::StartsWith(words[0], "-") ? "flag" : "command", words[0].c_str());
  return kExitUsage;
}

}  // namespace
}  // namespace meridian::tools

int main(int argc, char** argv) { return meridian::tools::Main(argc, argv); }
