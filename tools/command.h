// The `meridian` command line's subcommands and their hand-parsed flags.
//
// meridian.cc dispatches argv[1] to a Command, answers --help and rejects unknown flags, so a new
// subcommand (status, kv, sql, workload) is one Command added to its list. Flags are written
// --name=value; a boolean flag may also be written --name. A flag with a one-letter alias may
// also be written -a VALUE (a boolean: -a). Exit codes: kExitOk, kExitError (the
// command ran and failed), kExitUsage (bad command line). Thread safety: no shared state.
#ifndef MERIDIAN_TOOLS_COMMAND_H_
#define MERIDIAN_TOOLS_COMMAND_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace meridian {
class Client;
}  // namespace meridian

namespace meridian::tools {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

struct FlagSpec {
  std::string name;           // without the leading "--"
  std::string default_value;  // "false" for a boolean flag
  std::string help;
  bool is_bool = false;
  std::string alias = {};  // a short form: "e" lets `-e VALUE` stand for `--execute=VALUE`
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
  // A command that also takes positional words (`kv put KEY VALUE`) sets these instead of `run`:
  // the usage of its words for --help, and the runner, which gets every word that is not a flag
  // (every word after a "--" counts as positional, so a key may start with "--").
  std::string args_usage = {};
  int (*run_with_args)(const Flags& flags, const std::vector<std::string>& args) = nullptr;
};

// `words` (the words after the command name) with every short flag written the long way: "-e"
// followed by a value becomes "--execute=VALUE" (a "-e" with no word after it becomes "--execute",
// which ParseFlags then refuses), and a boolean "-x" becomes "--x". Other words, and every word
// after a "--", are kept as they are.
std::vector<std::string> ExpandShortFlags(const std::vector<std::string>& words,
                                          const std::vector<FlagSpec>& specs);

// Parses `args` (the words after the command name) against `specs`. INVALID_ARGUMENT, with a
// message naming the offending word, for a word that is not --name or --name=value, an unknown
// flag, a value-less non-boolean flag, or a boolean that is not true/false.
absl::StatusOr<Flags> ParseFlags(const std::vector<std::string>& args,
                                 const std::vector<FlagSpec>& specs);

// The `demo` subcommand: a whole local cluster, a live workload and a shell (cluster_demo.cc).
Command ClusterDemoCommand();

// The `storage-demo` subcommand: TrueTime and MVCC storage, step by step (demo.cc).
Command StorageDemoCommand();

// `status`: the topology of a running cluster (status.cc).
Command StatusCommand();

// `kv`: put, get, delete and scan through the C++ SDK (kv.cc).
Command KvCommand();

// `sql`: a SQL shell over a running cluster (sql.cc).
Command SqlCommand();

// `server remove ID`: retires a server whose data is lost (server.cc).
Command ServerCommand();

// `placement split KEY`, `placement move-range KEY --to_group=G` and `placement policy KEY
// [--replicas=N] [--zones=...] [--leader_zone=Z]`: range and group operations
// (placement.cc).
Command PlacementCommand();

// `certs create-ca|create-node|create-client`: a development CA and certificates
// (certs_command.cc).
Command CertsCommand();

// `check-history`: checks a list-append history file for strict serializability
// (check_history.cc).
Command CheckHistoryCommand();

// `workload bank|append`: transactional workloads with their checks (workload.cc).
Command WorkloadCommand();

// `failover-demo`: throughput across a fault on a local cluster, plotted, with the recovery time
// and a check that no acknowledged write was lost (failover_demo.cc).
Command FailoverDemoCommand();

// Shared by status and kv (status.cc): the addresses of --placement, else of $MERIDIAN_PLACEMENT
// (comma-separated HOST:PORTs; empty when neither is set), and a Client connected to them with
// --deadline_ms (nullptr, after printing why, on failure).
std::vector<std::string> PlacementAddresses(const Flags& flags);
// Prints "meridian COMMAND: MESSAGE", the usage line (`args_usage`) and where the flags are, to
// stderr; returns kExitUsage.
int PrintUsage(const std::string& command, const std::string& args_usage,
               const std::string& message);
// With --tls_dir (or $MERIDIAN_TLS_DIR): mutual TLS with DIR/ca.crt and DIR/client.crt + key
// (or node.crt + key); without: plaintext, which only a server run with --insecure accepts.
std::unique_ptr<Client> ConnectOrPrint(const std::string& command, const Flags& flags);
// The --tls_dir flag every command with --placement takes (status.cc).
FlagSpec TlsDirFlag();
// The integer flag `name` in [min, max]; INVALID_ARGUMENT saying so otherwise (status.cc).
absl::StatusOr<int> IntFlag(const Flags& flags, const std::string& name, int min, int max);
// A key typed on a command line: as given, except that \xHH (two hex digits) stands for that
// byte ("\x41bc" -> "Abc"; "\x5c" writes a backslash).
std::string UnescapeBytes(const std::string& word);

}  // namespace meridian::tools

#endif  // MERIDIAN_TOOLS_COMMAND_H_
