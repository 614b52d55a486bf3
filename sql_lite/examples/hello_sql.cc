// The smallest SQL application: connect, create a table, insert, query, print.
//   hello_sql 127.0.0.1:7000[,127.0.0.1:7001,...]
// Its tables live in the SQL database "hello" (keys under sql/hello/), as `meridian sql
// --database=hello` sees them.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "meridian/client.h"
#include "meridian/sql.h"
#include "sql_lite/client_kv.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PLACEMENT_ADDRESS[,PLACEMENT_ADDRESS...]\n", argv[0]);
    return 2;
  }
  std::vector<std::string> placement;
  std::string list = argv[1];
  for (size_t start = 0, comma; start <= list.size(); start = comma + 1) {
    comma = std::min(list.find(',', start), list.size());
    placement.push_back(list.substr(start, comma - start));
  }
  auto client = meridian::Client::Connect(placement);
  if (!client.ok()) {
    std::fprintf(stderr, "connect: %s\n", client.status().ToString().c_str());
    return 1;
  }
  meridian::sql::ClientKvOptions options;
  options.key_prefix = "sql/hello/";
  meridian::sql::ClientKvDatabase db(client->get(), options);
  meridian::sql::Session session(&db);
  for (const char* statement :
       {"CREATE TABLE IF NOT EXISTS greetings (id INT64 NOT NULL, text STRING(MAX), "
        "PRIMARY KEY (id))",
        "INSERT OR UPDATE INTO greetings (id, text) VALUES (1, 'hello, world')"}) {
    if (auto r = session.Execute(statement); !r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
  }
  auto rows = session.Execute("SELECT text FROM greetings WHERE id = @id",
                              {{"id", meridian::sql::Value::Int64(1)}});
  if (!rows.ok()) {
    std::fprintf(stderr, "select: %s\n", rows.status().ToString().c_str());
    return 1;
  }
  for (const auto& row : rows->rows) std::printf("%s\n", row[0].string_value().c_str());
  return 0;
}
