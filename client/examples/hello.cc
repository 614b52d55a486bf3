// The smallest Meridian application: connect, put, get, print.
//   hello 127.0.0.1:7000[,127.0.0.1:7001,...]
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "meridian/client.h"

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
  if (absl::Status s = (*client)->Put("hello", "world"); !s.ok()) {
    std::fprintf(stderr, "put: %s\n", s.ToString().c_str());
    return 1;
  }
  auto value = (*client)->Get("hello");
  if (!value.ok()) {
    std::fprintf(stderr, "get: %s\n", value.status().ToString().c_str());
    return 1;
  }
  std::printf("hello -> %s\n", value->has_value() ? (*value)->c_str() : "(not found)");
  return 0;
}
