// `meridian workload tpcc`'s command line: its flags into a tpcc::Config (tpcc.h), then the run.
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "tools/command.h"
#include "tools/tpcc.h"
#include "tools/workload.h"

namespace meridian::tools {
namespace {

// "" when the flags are valid (and in *config), else what is wrong.
std::string ParseTpccFlags(const Flags& flags, tpcc::Config* config) {
  const auto int_flag = [&](const char* name, int64_t min, int64_t max, int64_t* out) {
    return absl::SimpleAtoi(flags.at(name), out) && *out >= min && *out <= max;
  };
  int64_t v = 0;
  if (!int_flag("warehouses", 1, 10'000, &v)) return "--warehouses must be in 1..10000";
  config->warehouses = static_cast<int>(v);
  if (!int_flag("items", 100, 100'000, &v)) return "--items must be in 100..100000";
  config->items = static_cast<int>(v);
  if (!int_flag("customers", 30, 3'000, &v)) return "--customers must be in 30..3000";
  config->customers = static_cast<int>(v);
  if (!int_flag("load_threads", 1, 64, &v)) return "--load_threads must be in 1..64";
  config->load_threads = static_cast<int>(v);
  if (!int_flag("txn_deadline_ms", 1, 3'600'000, &v)) return "--txn_deadline_ms must be positive";
  config->txn_deadline_ms = v;
  if (!absl::SimpleAtoi(flags.at("seed"), &config->seed)) return "--seed must be an integer";
  double seconds = 0;
  if (!flags.at("duration").empty() &&
      (!absl::SimpleAtod(flags.at("duration"), &seconds) || seconds <= 0 || seconds > 86'400)) {
    return "--duration must be a positive number of seconds (at most a day)";
  }
  config->duration = absl::Seconds(seconds);
  config->load = flags.at("load") == "true";
  config->check = flags.at("check") == "true";
  config->wait = flags.at("wait") == "true";
  config->spread = flags.at("spread") == "true";
  config->json_path = flags.at("json");
  config->target = flags.at("target");
  config->pg_isolation = flags.at("pg_isolation");
  config->testing_skip_new_order_row = flags.at("testing_skip_new_order_row") == "true";
  if (!config->target.empty() && !absl::StartsWith(config->target, "postgresql://") &&
      !absl::StartsWith(config->target, "postgres://")) {
    return "--target must be empty (Meridian) or a postgresql:// connection URI";
  }
  if (flags.at("clients").empty()) {
    config->clients = config->warehouses * (config->wait ? 10 : 2);
  } else if (int_flag("clients", 1, 10'000, &v)) {
    config->clients = static_cast<int>(v);
  } else {
    return "--clients must be in 1..10000";
  }
  if (!config->load && !config->check && config->duration == absl::ZeroDuration()) {
    return "tpcc needs --load, --check or --duration";
  }
  if (!config->json_path.empty() && config->duration == absl::ZeroDuration()) {
    return "--json needs a run (--duration)";
  }
  return "";
}

}  // namespace

int RunTpccCommand(const Flags& flags) {
  tpcc::Config config;
  if (const std::string error = ParseTpccFlags(flags, &config); !error.empty()) {
    std::fprintf(stderr,
                 "meridian workload tpcc: %s\nUsage: meridian workload tpcc --placement=ADDR "
                 "--warehouses=N --duration=S [--load] [--check] [--wait] [--json=FILE]\n",
                 error.c_str());
    return kExitUsage;
  }
  std::unique_ptr<Client> client;
  if (config.target.empty()) {
    client = ConnectOrPrint("workload", flags);
    if (client == nullptr) return kExitUsage;
  }
  return tpcc::RunTpcc(client.get(), config);
}

}  // namespace meridian::tools
