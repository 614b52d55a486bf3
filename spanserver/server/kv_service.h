// KvService: the spanserver's data service (proto/kv.proto): single-key replicated writes with
// commit wait, linearizable leader reads and scans, status and leader transfer, one Paxos group
// per request.
//
// Every request is checked first; a rejected request changes nothing:
//  - INVALID_ARGUMENT for malformed input: empty key, key > 4 KiB, value > 1 MiB;
//  - UNAVAILABLE + trailing metadata "meridian-stale-map"="1" when the group is not hosted here,
//    the generation is not the current one of the group's range holding the key, or the key lies
//    outside that range (RoutingTable).
// Put/Delete commit as a transaction of one write (TxnService::CommitWrite): the key's lock, a
// commit timestamp, one Paxos write, and a reply only once TT.after(commit_ts) holds (commit
// wait, on a timer, never by blocking a gRPC thread). So they are isolated from transactions on
// the same key. A replica that is not the leader answers UNAVAILABLE with "meridian-leader" = the
// leader's address when it knows it (and never on a write whose outcome is unknown).
// WriteBatch carries independent puts and deletes (not a transaction): each item is checked and
// committed as a Put or Delete of its own and gets that call's status, commit timestamp and
// routing markers as its own result.
// Get is a strong read-only transaction of one key (TxnService::ReadOnly: LastTS(), or
// TT.now().latest after the group's prepared transactions resolve); Scan takes its read_ts from
// such a transaction of no keys and then scans the engine at it as a GroupHost::Read (which waits
// until every applied record is written).
//
// Thread safety: gRPC calls its handlers on its own threads; handlers never block. Shutdown() is
// thread-safe; afterwards every new request is answered UNAVAILABLE. Keep gRPC and Asio out of
// this header (pimpl): service() is the object to register with a grpc::ServerBuilder.
#ifndef MERIDIAN_SPANSERVER_SERVER_KV_SERVICE_H_
#define MERIDIAN_SPANSERVER_SERVER_KV_SERVICE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "common/limits.h"

namespace grpc {
class Service;
}  // namespace grpc

namespace meridian {
namespace storage {
class Engine;
}  // namespace storage
namespace proto {
class ClockStatus;
}  // namespace proto

namespace spanserver {

class RoutingTable;
class TxnService;

// kMaxKeyBytes and kMaxValueBytes: common/limits.h.
inline constexpr uint32_t kDefaultScanLimit = 1000;
// The most writes one WriteBatch may carry.
inline constexpr int kMaxWriteBatch = 1000;
// A scan stops (with `more`) once its rows pass this many bytes, below gRPC's 4 MiB message limit.
inline constexpr size_t kMaxScanBytes = 2 << 20;

class KvService {
 public:
  // Fills Status's clock section (clock_monitor.h).
  using ClockStatusFn = std::function<void(proto::ClockStatus*)>;

  // Everything passed in must outlive the service; `txns` commits Put and Delete.
  KvService(RoutingTable* routing, storage::Engine* engine, TxnService* txns,
            ClockStatusFn clock_status = nullptr);
  ~KvService();
  KvService(const KvService&) = delete;
  KvService& operator=(const KvService&) = delete;

  grpc::Service* service();
  void Shutdown();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace spanserver
}  // namespace meridian

#endif  // MERIDIAN_SPANSERVER_SERVER_KV_SERVICE_H_
