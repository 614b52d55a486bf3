// The `meridian` command line's subcommands and their hand-parsed flags.
//
// meridian.cc dispatches argv[1] to a Command, answers --help and rejects unknown flags, so a new
// subcommand (status, kv, sql, workload) is one Command added to its list. Flags are written
// --name=value; a boolean flag may also be written --name. Exit codes: kExitOk, kExitError (the
// command ran and failed), kExitUsage (bad command line). Thread safety: no shared state.
#ifndef MERIDIAN_TOOLS_COMMAND_H_
#define MERIDIAN_TOOLS_COMMAND_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace meridian::tools {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

struct FlagSpec {
  std::string name;           // without the leading "--"
  std::string default_value;  // "false" for a boolean flag
  std::string help;
  bool is_bool = false;
};

// Every flag of a command by name, its default when not given on the command line.
using Flags = absl::flat_hash_map<std::string, std::string>;

struct Command {
  std::string name;
  std::string summary;      // one line, for `meridian --help`
  std::string description;  // a paragraph, for `meridian <name> --help`
  std::vector<FlagSpec> flags;
  // Runs the command and returns its exit code. Prints its output to stdout, errors to stderr.
  int (*run)(const Flags& flags) = nullptr;
};

// Parses `args` (the words after the command name) against `specs`. INVALID_ARGUMENT, with a
// message naming the offending word, for a word that is not --name or --name=value, an unknown
// flag, a value-less non-boolean flag, or a boolean that is not true/false.
absl::StatusOr<Flags> ParseFlags(const std::vector<std::string>& args,
                                 const std::vector<FlagSpec>& specs);

// The `demo` subcommand: TrueTime and MVCC storage, step by step (demo.cc).
Command DemoCommand();

}  // namespace meridian::tools

#endif  // MERIDIAN_TOOLS_COMMAND_H_
