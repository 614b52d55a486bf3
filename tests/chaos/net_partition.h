// NftPartitioner: cuts network links between spanservers that listen on loopback addresses of
// their own (LocalClusterOptions::distinct_loopback_hosts: 127.0.0.2, 127.0.0.3, ...), with
// nftables rules in a table that belongs to this process alone (`ip meridian_chaos_<pid>`).
//
// A cut link between hosts A and B is two rules in the table's output chain, `ip saddr A ip daddr
// B drop` and the reverse. Every packet on loopback passes the output hook once, so this drops
// what A sends to B and what B sends to A: new connections time out, established ones stall until
// TCP gives up (the peer transport's TCP_USER_TIMEOUT is 5 s) and then reconnect in vain. Traffic
// from and to 127.0.0.1 (placement, clients, a spanserver's gRPC calls, which leave from the
// kernel's choice of source address) is untouched: the partition is between servers only. The
// servers' peer transport sends from their own address (replication/tcp_transport.cc), which is
// what makes the source address name the server.
//
// Needs the `nft` tool (Debian's nftables package, scripts/setup.sh) and CAP_NET_ADMIN; Create
// says which is missing so the caller can skip partitions and say why.
//
// Thread safety: none; one thread drives it.
#ifndef MERIDIAN_TESTS_CHAOS_NET_PARTITION_H_
#define MERIDIAN_TESTS_CHAOS_NET_PARTITION_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace meridian::chaos {

class NftPartitioner {
 public:
  using Link = std::pair<std::string, std::string>;  // two IPv4 addresses

  // Creates the table and its empty output chain; `scratch_dir` holds the rule files handed to
  // nft. UNAVAILABLE, saying why, when nft is missing or refuses.
  static absl::StatusOr<std::unique_ptr<NftPartitioner>> Create(const std::string& scratch_dir);
  NftPartitioner(const NftPartitioner&) = delete;
  NftPartitioner& operator=(const NftPartitioner&) = delete;
  ~NftPartitioner();  // deletes the table

  // Replaces the cut links by `links` in one nft transaction (both directions of each).
  absl::Status SetCuts(const std::vector<Link>& links);
  absl::Status HealAll() { return SetCuts({}); }
  const std::vector<Link>& cuts() const { return cuts_; }
  const std::string& table() const { return table_; }

 private:
  NftPartitioner(std::string nft, std::string scratch_dir, std::string table);
  // Runs `nft -f` on `script`; the error carries nft's output.
  absl::Status Run(const std::string& script);

  const std::string nft_;
  const std::string scratch_dir_;
  const std::string table_;
  bool created_ = false;  // the table exists (and the destructor deletes it)
  std::vector<Link> cuts_;
};

}  // namespace meridian::chaos

#endif  // MERIDIAN_TESTS_CHAOS_NET_PARTITION_H_
