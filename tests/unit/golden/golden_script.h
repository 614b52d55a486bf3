// Golden interaction scripts, in the style of etcd raft's testdata: a file of commands, each
// followed by "----" and the output it produced, separated by blank lines; "#" lines before a
// command are comments. RunGoldenScript runs every command through the test's runner and expects
// the recorded output; with MERIDIAN_REWRITE_GOLDEN=1 it rewrites the file with what the runner
// printed now (comments kept), for review in the diff. Used by the Paxos and 2PC interaction
// tests. Thread safety: one test thread.
#ifndef MERIDIAN_TESTS_UNIT_GOLDEN_GOLDEN_SCRIPT_H_
#define MERIDIAN_TESTS_UNIT_GOLDEN_GOLDEN_SCRIPT_H_

#include <functional>
#include <string>
#include <vector>

namespace meridian::testing {

struct GoldenCase {
  std::string comments;  // the "#" lines before the command, kept by a rewrite
  std::string command;
  std::string expected;
};

std::vector<GoldenCase> ParseGoldenScript(const std::string& text);

// Runs the script at `path` (a gtest failure per differing command, or for a missing or empty
// file). `run` takes a command and returns its output ("...\n").
void RunGoldenScript(const std::string& path,
                     const std::function<std::string(const std::string& command)>& run);

}  // namespace meridian::testing

#endif  // MERIDIAN_TESTS_UNIT_GOLDEN_GOLDEN_SCRIPT_H_
