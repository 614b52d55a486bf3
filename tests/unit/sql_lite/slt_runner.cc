// Runs sqllogictest files (tests/sql/*.test) against sql_lite on the in-memory KV (memory_kv.h).
//
// Format (SQLite's sqllogictest, with rows on one line):
//   # comment
//   statement ok                      the SQL below must succeed
//   statement error <regex>           it must fail; <regex> (optional) must occur in the status
//                                     text "CODE: message"
//   query <types> [nosort|rowsort]    the SQL below, then "----", then the expected rows: one row
//                                     per line, values separated by one space. Types: I (INT64),
//                                     R (FLOAT64, printed with 3 decimals), T (anything as text).
//                                     NULL prints as NULL, the empty string as (empty).
//   remember NAME [before_schema_change]
//                                     sets the INT64 parameter @NAME, which every later statement
//                                     of the file gets: the timestamp of a strong read now, or the
//                                     last microsecond before the newest schema version takes
//                                     effect (for SET READ_TIMESTAMP = @NAME: reads in the past
//                                     without absolute timestamps, which a cluster's real clock
//                                     would make differ from run to run).
// A record ends at a blank line. Each file runs in a fresh database and session.
// Flags: --abort_first_attempts makes every transaction's first attempt abort after it ran (the
// executor must be restartable and give the same answers). --placement=HOST:PORT[,...] runs the
// files against a Meridian cluster instead (sql_lite/client_kv.h), each file in a database of
// its own under the key prefix "slt/<file name>/".
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "meridian/client.h"
#include "meridian/sql.h"
#include "sql_lite/catalog.h"
#include "sql_lite/client_kv.h"
#include "sql_lite/memory_kv.h"
#include "sql_lite/row_store.h"

namespace meridian::sql {
namespace {

struct Record {
  int line = 0;
  std::vector<std::string> header;  // words of the first line
  std::string sql;
  std::vector<std::string> expected;
};

std::vector<std::string> Words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::vector<Record> ReadRecords(std::istream& in) {
  std::vector<Record> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    Record r;
    r.line = n;
    r.header = Words(line);
    bool results = false;
    while (std::getline(in, line)) {
      ++n;
      if (line.empty()) break;
      if (line == "----") {
        results = true;
      } else if (results) {
        r.expected.push_back(line);
      } else {
        r.sql += (r.sql.empty() ? "" : "\n") + line;
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string Format(const Value& v, char type) {
  if (v.is_null()) return "NULL";
  if (type == 'R' && (v.type() == Type::kFloat64 || v.type() == Type::kInt64)) {
    char buf[64];
    const double d =
        v.type() == Type::kFloat64 ? v.float64_value() : static_cast<double>(v.int64_value());
    std::snprintf(buf, sizeof(buf), "%.3f", d);
    return buf;
  }
  std::string s = v.ToString();
  return s.empty() ? "(empty)" : s;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += "  " + l + "\n";
  return out;
}

// A `remember` record: sets params[NAME].
std::string Remember(KvDatabase& kv, const Record& r, Params& params) {
  const bool before_change = r.header.size() == 3 && r.header[2] == "before_schema_change";
  if (r.header.size() != 2 && !before_change) return "remember NAME [before_schema_change]";
  VersionRow row;
  absl::StatusOr<int64_t> ts = kv.RunReadOnly(ReadBound::Strong(), [&](KvSnapshot& snapshot) {
    RowStore store(&snapshot, false);
    absl::StatusOr<VersionRow> read = ReadVersionRow(store);
    if (read.ok()) row = *read;
    return read.status();
  });
  if (!ts.ok()) return "remember failed: " + ts.status().ToString();
  params[r.header[1]] = Value::Int64(before_change ? row.effective_ts - 1 : *ts);
  return "";
}

// An empty string when the record passed, else what went wrong.
std::string RunRecord(Session& session, KvDatabase& kv, const Record& r, Params& params) {
  const std::string& kind = r.header[0];
  if (kind == "remember") return Remember(kv, r, params);
  absl::StatusOr<ResultSet> result = session.Execute(r.sql, params);
  if (kind == "statement") {
    const bool want_ok = r.header.size() > 1 && r.header[1] == "ok";
    if (want_ok) return result.ok() ? "" : "failed: " + result.status().ToString();
    if (result.ok()) return "succeeded but an error was expected";
    std::string pattern;
    for (size_t i = 2; i < r.header.size(); ++i) pattern += (i > 2 ? " " : "") + r.header[i];
    if (!pattern.empty() && !std::regex_search(result.status().ToString(), std::regex(pattern))) {
      return "error " + result.status().ToString() + " does not match /" + pattern + "/";
    }
    return "";
  }
  if (kind != "query" || r.header.size() < 2) return "unknown record " + kind;
  if (!result.ok()) return "query failed: " + result.status().ToString();
  const std::string& types = r.header[1];
  if (types.size() != result->column_names.size()) {
    return "query has " + std::to_string(result->column_names.size()) + " columns, types say " +
           std::to_string(types.size());
  }
  std::vector<std::string> actual;
  for (const std::vector<Value>& row : result->rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) line += (i ? " " : "") + Format(row[i], types[i]);
    actual.push_back(line);
  }
  std::vector<std::string> expected = r.expected;
  if (r.header.size() > 2 && r.header[2] == "rowsort") {
    std::sort(actual.begin(), actual.end());
    std::sort(expected.begin(), expected.end());
  }
  if (actual == expected) return "";
  return "wrong result\nexpected:\n" + Join(expected) + "actual:\n" + Join(actual);
}

// Runs the file at `path` on `kv` (a fresh database).
int RunFileOn(const std::string& path, KvDatabase* kv) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "cannot open " << path << "\n";
    return 1;
  }
  Session session(kv);
  Params params;
  int failures = 0, count = 0;
  for (const Record& r : ReadRecords(in)) {
    ++count;
    const std::string problem = RunRecord(session, *kv, r, params);
    if (problem.empty()) continue;
    ++failures;
    std::cerr << path << ":" << r.line << ": " << problem << "\n  sql: " << r.sql << "\n";
  }
  std::cout << path << ": " << count << " records, " << failures << " failed\n";
  return failures == 0 ? 0 : 1;
}

int RunFile(const std::string& path, bool abort_first, Client* cluster) {
  if (cluster != nullptr) {
    ClientKvOptions options;
    options.key_prefix = "slt/" + path.substr(path.find_last_of('/') + 1) + "/";
    ClientKvDatabase kv(cluster, options);
    return RunFileOn(path, &kv);
  }
  MemoryKvOptions options;
  options.abort_every_first_attempt = abort_first;
  MemoryKv kv(options);
  return RunFileOn(path, &kv);
}

}  // namespace
}  // namespace meridian::sql

int main(int argc, char** argv) {
  bool abort_first = false;
  std::unique_ptr<meridian::Client> cluster;
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--abort_first_attempts") {
      abort_first = true;
      continue;
    }
    if (arg.rfind("--placement=", 0) == 0) {
      std::vector<std::string> addresses =
          absl::StrSplit(arg.substr(sizeof("--placement=") - 1), ',');
      absl::StatusOr<std::unique_ptr<meridian::Client>> client =
          meridian::Client::Connect(std::move(addresses), meridian::ClientOptions{});
      if (!client.ok()) {
        std::cerr << "cannot connect: " << client.status() << "\n";
        return 2;
      }
      cluster = *std::move(client);
      continue;
    }
    status |= meridian::sql::RunFile(arg, abort_first, cluster.get());
  }
  return status;
}
