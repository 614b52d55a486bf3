// sql_lite against a real cluster: the whole sqllogictest corpus (tests/sql/*.test) through
// ClientKvDatabase (sql_lite/client_kv.h) and the SDK's locking scans and read-only
// transactions, each file in its own database (key prefix) of one cluster. The same files run on
// the in-memory KV in the unit tests; here the answers must be the same over Paxos groups, 2PC
// across ranges and snapshot reads.
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "tests/integration/cluster_fixture.h"

namespace meridian::integration {
namespace {

class SqlTest : public ClusterFixture {};

TEST_F(SqlTest, TheSqlCorpusGivesTheSameAnswersOnACluster) {
  StartCluster(24800);
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(MERIDIAN_SQL_CORPUS_DIR)) {
    if (entry.path().extension() == ".test") files.push_back(entry.path().string());
  }
  ASSERT_FALSE(files.empty());
  std::string command = std::string(MERIDIAN_SLT_RUNNER_PATH) +
                        " --placement=" + absl::StrJoin(cluster_->placement_addresses(), ",");
  for (const std::string& file : files) command += " " + file;
  std::string output;
  const int code = RunCommand(command, &output);
  std::printf("%s", output.c_str());
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find(" 0 failed"), std::string::npos);
}

}  // namespace
}  // namespace meridian::integration
