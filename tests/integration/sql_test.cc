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

// `meridian sql` as a user runs it: --file and -e stop at the first error, a script on stdin goes
// on; \d and \d NAME describe the schema; an error shows its line with a caret under the column.
TEST_F(SqlTest, TheShellRunsStatementsMetaCommandsAndPointsAtErrors) {
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
                "CREATE TABLE o (cid INT64 NOT NULL, oid INT64 NOT NULL, amt INT64)\n"
                "  PRIMARY KEY (cid, oid DESC), INTERLEAVE IN PARENT c ON DELETE CASCADE;\n"
                "CREATE UNIQUE INDEX c_by_name ON c (name);\n"
                "INSERT INTO c (cid, name) VALUES (1, 'ann'), (2, 'bob');\n"
                "SELECT name FROM c ORDER BY cid;\n",
                &output),
            0)
      << output;
  EXPECT_NE(output.find("ann"), std::string::npos) << output;
  EXPECT_NE(output.find("(2 rows"), std::string::npos) << output;

  output.clear();
  EXPECT_EQ(run("SELECT 1;\nSELECT nosuch FROM c; SELECT 1;", &output), 1) << output;
  EXPECT_NE(output.find("statements.sql:2: ERROR: INVALID_ARGUMENT: unknown column nosuch at "
                        "line 1, column 8\n"
                        "LINE 1: SELECT nosuch FROM c\n"
                        "               ^\n"),
            std::string::npos)
      << output;
  EXPECT_EQ(output.find("(1 row", output.find("ERROR")), std::string::npos)
      << output;  // stopped at the error

  output.clear();
  EXPECT_EQ(RunCommand(sql + " -e '\\d'", &output), 0) << output;
  EXPECT_NE(output.find("table | parent | primary_key   | indexes\n"
                        "------+--------+---------------+--------\n"
                        "c     | NULL   | cid           | 1\n"
                        "o     | c      | cid, oid DESC | 0\n"),
            std::string::npos)
      << output;
  output.clear();
  EXPECT_EQ(RunCommand(sql + " -e '\\d o'", &output), 0) << output;
  EXPECT_NE(output.find("Table o\n"
                        "column | type  | not_null\n"
                        "-------+-------+---------\n"
                        "cid    | INT64 | true\n"
                        "oid    | INT64 | true\n"
                        "amt    | INT64 | false\n"
                        "PRIMARY KEY (cid, oid DESC)\n"
                        "INTERLEAVE IN PARENT c ON DELETE CASCADE\n"
                        "(no indexes)\n"),
            std::string::npos)
      << output;
  output.clear();
  EXPECT_EQ(RunCommand(sql + " -e '\\d nosuch'", &output), 1) << output;
  EXPECT_NE(output.find("ERROR: NOT_FOUND: table nosuch does not exist"), std::string::npos)
      << output;

  // A script on stdin: a syntax error is pointed at and the script goes on.
  std::ofstream(file) << "\\d c\nSELECT cid,\n  FROM c;\nSELECT COUNT(*) FROM o;\n";
  output.clear();
  EXPECT_EQ(RunCommand(sql + " < " + file, &output), 0) << output;
  EXPECT_NE(output.find("c_by_name | true   | name    |         | PUBLIC\n"), std::string::npos)
      << output;
  EXPECT_NE(output.find("<stdin>:3: ERROR: INVALID_ARGUMENT: "), std::string::npos) << output;
  EXPECT_NE(output.find("LINE 2:   FROM c\n"
                        "          ^\n"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("(1 row"), std::string::npos) << output;  // the statement after it ran
}

}  // namespace
}  // namespace meridian::integration
