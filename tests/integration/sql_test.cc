// sql_lite against a real cluster: the whole sqllogictest corpus (tests/sql/*.test) through
// ClientKvDatabase (sql_lite/client_kv.h) and the SDK's locking scans and read-only
// transactions, each file in its own database (key prefix) of one cluster. The same files run on
// the in-memory KV in the unit tests; here the answers must be the same over Paxos groups, 2PC
// across ranges and snapshot reads.
#include <filesystem>
#include <fstream>
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

TEST_F(SqlTest, TheShellRunsStatementsAndStopsAtTheFirstError) {
  StartCluster(24900);
  const std::string sql = std::string(MERIDIAN_CLI_PATH) +
                          " sql --placement=" + absl::StrJoin(cluster_->placement_addresses(), ",");
  const std::string file = dir_ + "/statements.sql";
  auto run = [&](const std::string& statements, std::string* output) {
    std::ofstream(file) << statements;
    return RunCommand(sql + " --file=" + file, output);
  };
  std::string output;
  EXPECT_EQ(run("CREATE TABLE c (cid INT64 NOT NULL, name STRING) PRIMARY KEY (cid);\n"
                "INSERT INTO c (cid, name) VALUES (1, 'ann'), (2, 'bob');\n"
                "SELECT name FROM c ORDER BY cid;\n",
                &output),
            0)
      << output;
  EXPECT_NE(output.find("ann"), std::string::npos) << output;
  EXPECT_NE(output.find("(2 rows"), std::string::npos) << output;
  output.clear();
  EXPECT_EQ(run("SELECT nosuch FROM c; SELECT 1;", &output), 1) << output;
  EXPECT_NE(output.find("ERROR: INVALID_ARGUMENT: unknown column nosuch at line 1, column 8"),
            std::string::npos)
      << output;
  EXPECT_EQ(output.find("(1 row"), std::string::npos) << output;  // stopped at the error
}

}  // namespace
}  // namespace meridian::integration
