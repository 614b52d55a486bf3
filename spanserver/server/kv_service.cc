#include "spanserver/server/kv_service.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
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
#include "replication/group_host.h"
#include "spanserver/paxos/replica.h"
#include "spanserver/server/routing_table.h"
#include "spanserver/storage/engine.h"
#include "spanserver/tablet/tablet.h"
#include "truetime/truetime.h"

namespace meridian::spanserver {
namespace {

using truetime::Interval;
using truetime::Timestamp;

constexpr char kStaleMapKey[] = "meridian-stale-map";
constexpr char kLeaderKey[] = "meridian-leader";
// Scans read the engine in chunks so that a scan of large values never holds more than about
// kMaxScanBytes plus one chunk in memory.
constexpr size_t kScanChunkRows = 64;

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::Status CheckKey(const std::string& key, const char* what) {
  if (key.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  if (key.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is ", key.size(), " bytes; the limit is ", kMaxKeyBytes));
  }
  return absl::OkStatus();
}

}  // namespace

class KvService::Impl final : public proto::Kv::CallbackService {
 public:
  Impl(RoutingTable* routing, truetime::TrueTime* truetime, storage::Engine* engine,
       boost::asio::io_context& io)
      : routing_(routing), truetime_(truetime), engine_(engine), io_(io) {}

  void Shutdown() { shut_down_.store(true); }

  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* ctx, const proto::PutRequest* request,
                                proto::PutResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (request->value().size() > kMaxValueBytes) {
      reactor->Finish(ToGrpc(absl::InvalidArgumentError(absl::StrCat(
          "value is ", request->value().size(), " bytes; the limit is ", kMaxValueBytes))));
      return reactor;
    }
    std::shared_ptr<replication::GroupHost> host =
        Admit(ctx, reactor, request->range(), request->key());
    if (host == nullptr) return reactor;
    Write(
        ctx, reactor, host,
        [key = request->key(), value = request->value()](Timestamp ts) {
          return tablet::EncodePutCommand(ts, key, value);
        },
        [response](Timestamp ts) { response->set_commit_ts(ts); });
    return reactor;
  }

  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* ctx,
                                   const proto::DeleteRequest* request,
                                   proto::DeleteResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    std::shared_ptr<replication::GroupHost> host =
        Admit(ctx, reactor, request->range(), request->key());
    if (host == nullptr) return reactor;
    Write(
        ctx, reactor, host,
        [key = request->key()](Timestamp ts) { return tablet::EncodeDeleteCommand(ts, key); },
        [response](Timestamp ts) { response->set_commit_ts(ts); });
    return reactor;
  }

  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* ctx, const proto::GetRequest* request,
                                proto::GetResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    std::shared_ptr<replication::GroupHost> host =
        Admit(ctx, reactor, request->range(), request->key());
    if (host == nullptr) return reactor;
    const uint64_t tablet = request->range().group();
    // The read runs on the group's strand before `done`, which alone finishes the call, so the
    // response is still ours to fill.
    auto read = [this, tablet, key = request->key(), response]() -> absl::StatusOr<std::string> {
      ASSIGN_OR_RETURN(Interval now, truetime_->Now());
      ASSIGN_OR_RETURN(std::optional<std::string> value, engine_->Get(tablet, key, now.latest));
      response->set_read_ts(now.latest);
      response->set_found(value.has_value());
      if (value.has_value()) response->set_value(std::move(*value));
      return std::string();
    };
    host->Read(std::move(read), [this, ctx, reactor, host](absl::StatusOr<std::string> result) {
      FinishWith(ctx, reactor, *host, result.status());
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* Scan(grpc::CallbackServerContext* ctx,
                                 const proto::ScanRequest* request,
                                 proto::ScanResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
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
    auto read = [this, tablet, start, end, limit, response]() -> absl::StatusOr<std::string> {
      ASSIGN_OR_RETURN(Interval now, truetime_->Now());
      response->set_read_ts(now.latest);
      std::string from = start;
      size_t bytes = 0;
      while (true) {
        const size_t want =
            std::min(kScanChunkRows, limit - static_cast<size_t>(response->rows_size()) + 1);
        ASSIGN_OR_RETURN(std::vector<storage::KeyValue> rows,
                         engine_->Scan(tablet, from, end, now.latest, want));
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
    host->Read(std::move(read), [this, ctx, reactor, host](absl::StatusOr<std::string> result) {
      FinishWith(ctx, reactor, *host, result.status());
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* ctx,
                                   const proto::ServerStatusRequest* /*request*/,
                                   proto::ServerStatusResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    const ServerIdentity self = routing_->identity();
    response->set_server_id(self.id);
    response->set_zone(self.zone);
    response->set_address(self.address);
    for (const auto& [group, host] : routing_->Hosts()) {
      const replication::GroupState state = host->state();
      proto::GroupStatus* out = response->add_groups();
      out->set_group(group);
      out->set_role(paxos::RoleName(state.role));
      out->set_leader(state.leader);
      out->set_has_lease(state.has_lease);
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
      FinishStale(ctx, reactor, absl::StrCat("group ", request->group(), " is not hosted here"));
      return reactor;
    }
    host->TransferLeadership(request->target_server(),
                             [this, ctx, reactor, host](absl::Status status) {
                               FinishWith(ctx, reactor, *host, status);
                             });
    return reactor;
  }

 private:
  void FinishStale(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                   const std::string& why) {
    ctx->AddTrailingMetadata(kStaleMapKey, "1");
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "stale map: " + why));
  }

  // Finishes the call with `status`; an UNAVAILABLE from a replica that knows another leader
  // carries that leader's address.
  void FinishWith(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                  const replication::GroupHost& host, const absl::Status& status) {
    if (status.code() == absl::StatusCode::kUnavailable) {
      const replication::GroupState state = host.state();
      if (state.leader != paxos::kNoReplica && state.leader != state.self) {
        const std::string address = routing_->AddressOf(state.leader);
        if (!address.empty()) ctx->AddTrailingMetadata(kLeaderKey, address);
      }
    }
    reactor->Finish(ToGrpc(status));
  }

  // The host of the request's group when the request's range is current and holds `key`;
  // otherwise finishes the call and returns null.
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
    return CheckRoute(ctx, reactor, range, key);
  }

  std::shared_ptr<replication::GroupHost> CheckRoute(grpc::CallbackServerContext* ctx,
                                                     grpc::ServerUnaryReactor* reactor,
                                                     const proto::RangeRef& ref,
                                                     const std::string& key,
                                                     RangeEntry* range = nullptr) {
    if (shut_down_.load()) {
      reactor->Finish(ToGrpc(absl::UnavailableError("the server is shutting down")));
      return nullptr;
    }
    std::shared_ptr<replication::GroupHost> host = routing_->FindHost(ref.group());
    if (host == nullptr) {
      FinishStale(ctx, reactor, absl::StrCat("group ", ref.group(), " is not hosted here"));
      return nullptr;
    }
    std::optional<RangeEntry> found = routing_->FindRange(ref.group(), ref.generation(), key);
    if (!found.has_value()) {
      FinishStale(ctx, reactor,
                  absl::StrCat("group ", ref.group(), " generation ", ref.generation(),
                               " does not own the key"));
      return nullptr;
    }
    if (range != nullptr) *range = *std::move(found);
    return host;
  }

  void Write(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
             std::shared_ptr<replication::GroupHost> host,
             std::function<std::string(Timestamp)> encode,
             std::function<void(Timestamp)> set_commit_ts) {
    auto make_command =
        [this, encode = std::move(encode)](paxos::Replica& replica) -> absl::StatusOr<std::string> {
      ASSIGN_OR_RETURN(Interval now, truetime_->Now());
      ASSIGN_OR_RETURN(Timestamp ts, replica.AssignTimestamp(now, 0));
      return encode(ts);
    };
    auto done = [this, ctx, reactor, host,
                 set_commit_ts = std::move(set_commit_ts)](absl::StatusOr<std::string> result) {
      if (!result.ok()) {
        FinishWith(ctx, reactor, *host, result.status());
        return;
      }
      absl::StatusOr<Timestamp> ts = tablet::DecodeApplyResult(*result);
      if (!ts.ok()) {
        reactor->Finish(ToGrpc(ts.status()));
        return;
      }
      set_commit_ts(*ts);
      CommitWait(*ts, [reactor](absl::Status status) { reactor->Finish(ToGrpc(status)); });
    };
    host->Propose(std::move(make_command), std::move(done));
  }

  // Runs `done` once TT.after(ts) holds, re-checking on an Asio timer (about 2 epsilon).
  void CommitWait(Timestamp ts, std::function<void(absl::Status)> done) {
    absl::StatusOr<Interval> now = truetime_->Now();
    if (!now.ok()) {
      done(absl::UnavailableError(absl::StrCat("commit wait: ", now.status().message())));
      return;
    }
    if (now->After(ts)) {
      done(absl::OkStatus());
      return;
    }
    auto timer = std::make_shared<boost::asio::steady_timer>(io_);
    timer->expires_after(std::chrono::microseconds(ts - now->earliest + 1));
    timer->async_wait([this, timer, ts, done = std::move(done)](const boost::system::error_code&) {
      CommitWait(ts, done);
    });
  }

  RoutingTable* const routing_;
  truetime::TrueTime* const truetime_;
  storage::Engine* const engine_;
  boost::asio::io_context& io_;
  std::atomic<bool> shut_down_{false};
};

KvService::KvService(RoutingTable* routing, truetime::TrueTime* truetime, storage::Engine* engine,
                     boost::asio::io_context& io)
    : impl_(std::make_unique<Impl>(routing, truetime, engine, io)) {}

KvService::~KvService() = default;

grpc::Service* KvService::service() { return impl_.get(); }

void KvService::Shutdown() { impl_->Shutdown(); }

}  // namespace meridian::spanserver
