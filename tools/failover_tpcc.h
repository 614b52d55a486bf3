// `meridian failover-demo --workload=tpcc`: TPC-C's terminals (tpcc.h) as the steady workload
// across the fault. Prepare loads a small population (clause 4.3 shrunk: --items and --customers
// of the tpcc tool, so it loads in seconds) into a fresh SQL database, then runs the terminals
// closed loop; every committed transaction counts as an operation. Verify runs TPC-C's
// consistency conditions (tpcc_check.cc) and checks that every New-Order the terminals were told
// committed is in ORDERS: one missing is a lost write.
//
// Thread safety: as FailoverWorkload's.
#ifndef MERIDIAN_TOOLS_FAILOVER_TPCC_H_
#define MERIDIAN_TOOLS_FAILOVER_TPCC_H_

#include <cstdint>
#include <memory>

#include "meridian/client.h"
#include "tools/failover_workload.h"

namespace meridian::tools {

struct TpccWorkloadOptions {
  int warehouses = 1;
  uint64_t seed = 1;
  // Tests only: Verify forgets nothing but expects one order that was never written (a planted
  // bug in the bookkeeping, which the check must report as lost).
  bool testing_corrupt_ack = false;
};

// The TPC-C workload through `client` (not owned).
std::unique_ptr<FailoverWorkload> MakeTpccWorkload(Client* client,
                                                   const TpccWorkloadOptions& options);

}  // namespace meridian::tools

#endif  // MERIDIAN_TOOLS_FAILOVER_TPCC_H_
