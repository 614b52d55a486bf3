#include "tests/unit/golden/golden_script.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

namespace meridian::testing {

std::vector<GoldenCase> ParseGoldenScript(const std::string& text) {
  std::vector<GoldenCase> cases;
  std::istringstream in(text);
  std::string line;
  std::string comments;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      comments += line + "\n";
      continue;
    }
    GoldenCase c{std::exchange(comments, ""), line, ""};
    std::getline(in, line);  // "----"
    while (std::getline(in, line) && !line.empty()) c.expected += line + "\n";
    cases.push_back(std::move(c));
  }
  return cases;
}

void RunGoldenScript(const std::string& path,
                     const std::function<std::string(const std::string& command)>& run) {
  std::ifstream file(path);
  ASSERT_TRUE(file.good()) << "cannot read " << path;
  std::stringstream buffer;
  buffer << file.rdbuf();
  const std::vector<GoldenCase> cases = ParseGoldenScript(buffer.str());
  ASSERT_FALSE(cases.empty()) << path << " holds no command";
  const bool rewrite = std::getenv("MERIDIAN_REWRITE_GOLDEN") != nullptr;
  std::string rewritten;
  for (const GoldenCase& c : cases) {
    const std::string actual = run(c.command);
    if (rewrite) {
      rewritten += c.comments + c.command + "\n----\n" + actual + "\n";
    } else {
      EXPECT_EQ(c.expected, actual) << "command: " << c.command;
    }
  }
  if (rewrite) std::ofstream(path) << rewritten;
}

}  // namespace meridian::testing
