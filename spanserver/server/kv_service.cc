#include "spanserver/server/kv_service.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "proto/kv.grpc.pb.h"
#include "proto/rpc.h"
#include "replication/group_host.h"
#include "replication/grpc_tls.h"
#include "spanserver/paxos/replica.h"
#include "spanserver/server/admission.h"
#include "spanserver/server/routing_table.h"
#include "spanserver/server/server_metrics.h"
#include "spanserver/server/txn_service.h"
#include "spanserver/storage/engine.h"
#include "spanserver/tablet/txn_tablet.h"
#include "truetime/truetime.h"
#include "txn/range_guard.h"
#include "txn/transaction_manager.h"

namespace meridian::spanserver {
namespace {

using rpc::ToGrpc;

using truetime::Timestamp;

// Scans read the engine in chunks so that a scan of large values never holds more than about
// kMaxScanBytes plus one chunk in memory.
constexpr size_t kScanChunkRows = 64;

}  // namespace

class KvService::Impl final : public proto::Kv::CallbackService {
 public:
  Impl(RoutingTable* routing, storage::Engine* engine, TxnService* txns,
       KvService::ClockStatusFn clock_status)
      : routing_(routing), engine_(engine), txns_(txns), clock_status_(std::move(clock_status)) {}

  void Shutdown() { shut_down_.store(true); }

  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* ctx, const proto::PutRequest* request,
                                proto::PutResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (!rpc::AdmitProtocol(ctx, reactor)) return reactor;
    std::shared_ptr<replication::GroupHost> host = Admitted(
        ctx, reactor, AdmitWrite(request->range(), request->key(), request->value(), false));
    if (host == nullptr) return reactor;
    Write(ctx, reactor, std::move(host), request->range(),
          txn::Mutation{request->key(), request->value()},
          [response](Timestamp ts) { response->set_commit_ts(ts); });
    return reactor;
  }

  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* ctx,
                                   const proto::DeleteRequest* request,
                                   proto::DeleteResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (!rpc::AdmitProtocol(ctx, reactor)) return reactor;
    std::shared_ptr<replication::GroupHost> host =
        Admitted(ctx, reactor, AdmitWrite(request->range(), request->key(), "", true));
    if (host == nullptr) return reactor;
    Write(ctx, reactor, std::move(host), request->range(),
          txn::Mutation{request->key(), std::nullopt},
          [response](Timestamp ts) { response->set_commit_ts(ts); });
    return reactor;
  }

  // Each item is admitted and committed exactly as a Put or Delete of its own; the call finishes
  // once the last item has its result. Items go to CommitWrite in request order, so two writes
  // of one key in a batch commit in that order.
  grpc::ServerUnaryReactor* WriteBatch(grpc::CallbackServerContext* ctx,
                                       const proto::WriteBatchRequest* request,
                                       proto::WriteBatchResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (!rpc::AdmitProtocol(ctx, reactor)) return reactor;
    const int n = request->writes_size();
    if (n == 0 || n > kMaxWriteBatch) {
      reactor->Finish(ToGrpc(absl::InvalidArgumentError(
          absl::StrCat("a write batch carries 1 to ", kMaxWriteBatch, " writes, not ", n))));
      return reactor;
    }
    if (shut_down_.load()) {
      reactor->Finish(ToGrpc(absl::UnavailableError("the server is shutting down")));
      return reactor;
    }
    for (int i = 0; i < n; ++i) response->add_results();
    // The item that brings the count to 0 finishes the call. Until every item has been started
    // the count stays above 0, so the loop below never touches a finished call's messages.
    auto left = std::make_shared<std::atomic<int>>(n);
    auto settle = [reactor, left] {
      if (left->fetch_sub(1) == 1) reactor->Finish(grpc::Status::OK);
    };
    for (int i = 0; i < n; ++i) {
      const proto::KvWrite& w = request->writes(i);
      proto::KvWriteResult* result = response->mutable_results(i);
      Admission admission = AdmitWrite(w.range(), w.key(), w.value(), w.is_delete());
      if (admission.host == nullptr) {
        result->set_code(static_cast<int>(admission.refusal.status.code()));
        result->set_message(std::string(admission.refusal.status.message()));
        result->set_stale_map(admission.refusal.stale_map);
        settle();
        continue;
      }
      txn::Mutation mutation{w.key(), std::nullopt};
      if (!w.is_delete()) mutation.value = w.value();
      txns_->CommitWrite(
          w.range().group(), std::move(mutation),
          [this, result, host = std::move(admission.host), settle](txn::Reply reply) {
            result->set_code(static_cast<int>(reply.status.code()));
            if (reply.status.ok()) {
              CountWriteCommitted();
              result->set_commit_ts(reply.ts);
            } else {
              result->set_message(std::string(reply.status.message()));
              result->set_stale_map(txn::IsStaleMap(reply.status));
              if (!reply.outcome_unknown && reply.status.code() == absl::StatusCode::kUnavailable) {
                result->set_has_leader_hint(true);
                result->set_leader_hint(NotProposedHint(*host));
              }
            }
            settle();
          });
    }
    return reactor;
  }

  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* ctx, const proto::GetRequest* request,
                                proto::GetResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (!rpc::AdmitProtocol(ctx, reactor)) return reactor;
    std::shared_ptr<replication::GroupHost> host =
        Admit(ctx, reactor, request->range(), request->key());
    if (host == nullptr) return reactor;
    // A strong read-only transaction of one key: it waits for transactions prepared here, so a
    // transaction acknowledged before this Get is seen even when this group has not applied its
    // outcome yet.
    txns_->ReadOnly(request->range().group(), {request->key()},
                    [this, ctx, reactor, host = std::move(host), response](txn::Reply reply) {
                      if (reply.status.ok() && reply.values.size() == 1) {
                        response->set_read_ts(reply.ts);
                        response->set_found(reply.values[0].has_value());
                        if (reply.values[0].has_value()) response->set_value(*reply.values[0]);
                      }
                      FinishWith(ctx, reactor, *host, reply.status);
                    });
    return reactor;
  }

  grpc::ServerUnaryReactor* Scan(grpc::CallbackServerContext* ctx,
                                 const proto::ScanRequest* request,
                                 proto::ScanResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (!rpc::AdmitProtocol(ctx, reactor)) return reactor;
    if (request->start().size() > kMaxKeyBytes || request->end().size() > kMaxKeyBytes) {
      reactor->Finish(ToGrpc(absl::InvalidArgumentError(
          absl::StrCat("scan bounds are limited to ", kMaxKeyBytes, " bytes"))));
      return reactor;
    }
    if (!request->end().empty() && request->end() <= request->start()) {
      reactor->Finish(ToGrpc(absl::InvalidArgumentError("scan end must be above its start")));
      return reactor;
    }
    // An empty start means the start of the group's range (RoutingTable::FindRange).
    RangeEntry range;
    std::shared_ptr<replication::GroupHost> host =
        CheckRoute(ctx, reactor, request->range(), request->start(), &range);
    if (host == nullptr) return reactor;
    const std::string start = std::max(request->start(), range.start);
    std::string end = request->end();
    if (end.empty() || (!range.end.empty() && end > range.end)) end = range.end;
    const size_t limit = request->limit() == 0 ? kDefaultScanLimit : request->limit();
    const uint64_t tablet = request->range().group();
    // The read timestamp is a strong read-only transaction's (no keys): once it is chosen, every
    // record at or below it is applied here, prepared transactions included; the lease read
    // then waits until they are written to the engine, and the scan reads at it.
    auto scan = [this, tablet, start, end, limit,
                 response](Timestamp read_ts) -> absl::StatusOr<std::string> {
      response->set_read_ts(read_ts);
      std::string from = start;
      size_t bytes = 0;
      while (true) {
        const size_t want =
            std::min(kScanChunkRows, limit - static_cast<size_t>(response->rows_size()) + 1);
        ASSIGN_OR_RETURN(std::vector<storage::KeyValue> rows,
                         engine_->Scan(tablet, from, end, read_ts, want));
        for (storage::KeyValue& row : rows) {
          if (static_cast<size_t>(response->rows_size()) == limit ||
              (bytes >= kMaxScanBytes && response->rows_size() > 0)) {
            response->set_more(true);
            return std::string();
          }
          bytes += row.key.size() + row.value.size();
          proto::KeyValue* out = response->add_rows();
          out->set_key(std::move(row.key));
          out->set_value(std::move(row.value));
        }
        if (rows.size() < want) return std::string();
        from = response->rows(response->rows_size() - 1).key() + '\0';
      }
    };
    txns_->ScanTimestamp(
        tablet, start, end, [this, ctx, reactor, host, scan = std::move(scan)](txn::Reply reply) {
          if (!reply.status.ok()) {
            FinishWith(ctx, reactor, *host, reply.status);
            return;
          }
          host->Read([scan, ts = reply.ts] { return scan(ts); },
                     [this, ctx, reactor, host](absl::StatusOr<std::string> result) {
                       FinishWith(ctx, reactor, *host, result.status());
                     });
        });
    return reactor;
  }

  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* ctx,
                                   const proto::ServerStatusRequest* /*request*/,
                                   proto::ServerStatusResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (!rpc::AdmitProtocol(ctx, reactor)) return reactor;
    const ServerIdentity self = routing_->identity();
    response->set_server_id(self.id);
    response->set_zone(self.zone);
    response->set_address(self.address);
    if (clock_status_) clock_status_(response->mutable_clock());
    for (const auto& [group, host] : routing_->Hosts()) {
      const replication::GroupState state = host->state();
      proto::GroupStatus* out = response->add_groups();
      out->set_group(group);
      out->set_role(paxos::RoleName(state.role));
      out->set_leader(state.leader);
      out->set_has_lease(state.has_lease);
      out->set_last_index(state.last_index);
      out->set_compacted(state.compacted);
      out->set_installing_snapshot(state.installing_snapshot);
      out->set_dropped_messages(state.dropped_messages);
      out->set_refused_messages(state.refused_messages);
      out->set_fenced(state.fenced);
      out->set_commit(state.commit);
      out->set_applied(state.applied);
      for (paxos::ReplicaId member : state.members) out->add_replicas(member);
    }
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* TransferLeader(grpc::CallbackServerContext* ctx,
                                           const proto::TransferLeaderRequest* request,
                                           proto::TransferLeaderResponse* /*response*/) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (!rpc::AdmitProtocol(ctx, reactor)) return reactor;
    if (absl::Status allowed = replication::AuthorizeAdmin(*ctx, "TransferLeader"); !allowed.ok()) {
      reactor->Finish(ToGrpc(allowed));
      return reactor;
    }
    if (request->target_server() == 0) {
      reactor->Finish(ToGrpc(absl::InvalidArgumentError("target_server is 0")));
      return reactor;
    }
    if (shut_down_.load()) {
      reactor->Finish(ToGrpc(absl::UnavailableError("the server is shutting down")));
      return reactor;
    }
    std::shared_ptr<replication::GroupHost> host = routing_->FindHost(request->group());
    if (host == nullptr) {
      FinishRefused(ctx, reactor, NotHosted(request->group()));
      return reactor;
    }
    host->TransferLeadership(request->target_server(),
                             [this, ctx, reactor, host](absl::Status status) {
                               FinishWith(ctx, reactor, *host, status);
                             });
    return reactor;
  }

 private:
  // Where a request may go: the host of its group, or why not (admission.h).
  struct Admission {
    std::shared_ptr<replication::GroupHost> host;
    Refusal refusal;  // when host is null
  };

  static Admission Refused(Refusal refusal) { return {nullptr, std::move(refusal)}; }

  // The admission's host, or nullptr once `reactor` was finished with its refusal.
  std::shared_ptr<replication::GroupHost> Admitted(grpc::CallbackServerContext* ctx,
                                                   grpc::ServerUnaryReactor* reactor,
                                                   Admission admission) {
    if (admission.host != nullptr) return std::move(admission.host);
    FinishRefused(ctx, reactor, admission.refusal);
    return nullptr;
  }

  // The address of the group's leader when this replica knows one and it is another server.
  std::optional<std::string> OtherLeader(const replication::GroupHost& host) const {
    const replication::GroupState state = host.state();
    if (state.leader == paxos::kNoReplica || state.leader == state.self) return std::nullopt;
    std::string address = routing_->AddressOf(state.leader);
    if (address.empty()) return std::nullopt;
    return address;
  }

  // The leader hint of a write refused before it was proposed (UNAVAILABLE, outcome known): the
  // other leader's address, or "" when this replica knows none (a leader handing over, an
  // election). Sent even when empty, because the hint is what tells the client that nothing was
  // proposed (rpc.h): without one it must report the write's outcome as unknown, and a planned
  // leader move made clients fail writes that had never been proposed.
  std::string NotProposedHint(const replication::GroupHost& host) const {
    return OtherLeader(host).value_or("");
  }

  // Finishes the call with `status`; an UNAVAILABLE from a replica that knows another leader
  // carries that leader's address.
  void FinishWith(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                  const replication::GroupHost& host, const absl::Status& status) {
    FinishWithLeaderHint(
        ctx, reactor, status,
        status.code() == absl::StatusCode::kUnavailable ? OtherLeader(host) : std::nullopt);
  }

  // A well-formed key routed to a group hosted here, or nullptr once `reactor` was finished with
  // the error (INVALID_ARGUMENT, or UNAVAILABLE with the stale-map marker).
  std::shared_ptr<replication::GroupHost> Admit(grpc::CallbackServerContext* ctx,
                                                grpc::ServerUnaryReactor* reactor,
                                                const proto::RangeRef& range,
                                                const std::string& key) {
    if (absl::Status malformed = CheckKey(key, "key"); !malformed.ok()) {
      reactor->Finish(ToGrpc(malformed));
      return nullptr;
    }
    return Admitted(ctx, reactor, Route(range, key));
  }

  // A put of `value` (or a delete, which carries none) of a well-formed key, routed.
  Admission AdmitWrite(const proto::RangeRef& range, const std::string& key,
                       const std::string& value, bool is_delete) {
    if (is_delete && !value.empty()) {
      return Refused(Malformed(absl::InvalidArgumentError("a delete carries no value")));
    }
    if (value.size() > kMaxValueBytes) {
      return Refused(Malformed(absl::InvalidArgumentError(
          absl::StrCat("value is ", value.size(), " bytes; the limit is ", kMaxValueBytes))));
    }
    if (absl::Status malformed = CheckKey(key, "key"); !malformed.ok()) {
      return Refused(Malformed(malformed));
    }
    return Route(range, key);
  }

  std::shared_ptr<replication::GroupHost> CheckRoute(grpc::CallbackServerContext* ctx,
                                                     grpc::ServerUnaryReactor* reactor,
                                                     const proto::RangeRef& ref,
                                                     const std::string& key,
                                                     RangeEntry* range = nullptr) {
    return Admitted(ctx, reactor, Route(ref, key, range));
  }

  // The host of `ref`'s group when the range is current here and holds `key` (its entry in
  // `*range` when not null).
  Admission Route(const proto::RangeRef& ref, std::string_view key, RangeEntry* range = nullptr) {
    if (shut_down_.load()) return Refused(ShuttingDown());
    std::shared_ptr<replication::GroupHost> host = routing_->FindHost(ref.group());
    if (host == nullptr) return Refused(NotHosted(ref.group()));
    if (std::optional<Refusal> stale = CheckOwnership(*routing_, ref, {key}, range)) {
      return Refused(*std::move(stale));
    }
    return {std::move(host), {}};
  }

  // Commits the write as a transaction of its own (TxnService::CommitWrite), which takes the
  // key's lock and does the commit wait before it replies.
  void Write(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
             std::shared_ptr<replication::GroupHost> host, const proto::RangeRef& range,
             txn::Mutation mutation, std::function<void(Timestamp)> set_commit_ts) {
    txns_->CommitWrite(range.group(), std::move(mutation),
                       [this, ctx, reactor, host = std::move(host),
                        set_commit_ts = std::move(set_commit_ts)](txn::Reply reply) {
                         if (reply.status.ok()) {
                           CountWriteCommitted();
                           set_commit_ts(reply.ts);
                           reactor->Finish(grpc::Status::OK);
                         } else if (reply.outcome_unknown) {
                           // No leader hint: the client must not retry it as if nothing happened.
                           reactor->Finish(ToGrpc(reply.status));
                         } else if (reply.status.code() == absl::StatusCode::kUnavailable) {
                           FinishWithLeaderHint(ctx, reactor, reply.status, NotProposedHint(*host));
                         } else {
                           FinishWith(ctx, reactor, *host, reply.status);
                         }
                       });
  }

  RoutingTable* const routing_;
  storage::Engine* const engine_;
  TxnService* const txns_;
  const KvService::ClockStatusFn clock_status_;
  std::atomic<bool> shut_down_{false};
};

KvService::KvService(RoutingTable* routing, storage::Engine* engine, TxnService* txns,
                     ClockStatusFn clock_status)
    : impl_(std::make_unique<Impl>(routing, engine, txns, std::move(clock_status))) {}

KvService::~KvService() = default;

grpc::Service* KvService::service() { return impl_.get(); }

void KvService::Shutdown() { impl_->Shutdown(); }

}  // namespace meridian::spanserver
