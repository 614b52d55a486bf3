// MovementService implementation; see movement_service.h.
#include "spanserver/server/movement_service.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/key_encoding.h"
#include "common/status_macros.h"
#include "proto/movement.grpc.pb.h"
#include "proto/rpc.h"
#include "replication/group_host.h"
#include "replication/grpc_tls.h"
#include "spanserver/server/admission.h"
#include "spanserver/server/kv_service.h"
#include "spanserver/server/routing_table.h"
#include "spanserver/server/txn_service.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/format.h"
#include "spanserver/tablet/txn_tablet.h"
#include "truetime/truetime.h"
#include "txn/records.h"

namespace meridian::spanserver {
namespace {

using rpc::ToGrpc;

constexpr uint32_t kDefaultExportBytes = 512 << 10;
constexpr uint32_t kMaxExportBytes = 4 << 20;
// An ingest's versions must fit one Paxos entry (paxos::Options::max_command_bytes, 1 MiB).
constexpr size_t kMaxIngestBytes = 900 << 10;
// Versions a Drop erases per log record.
constexpr uint64_t kDropLimit = 20'000;

absl::Status CheckRange(const proto::RangeClaim& r) {
  if (!r.end().empty() && r.end() <= r.start()) {
    return absl::InvalidArgumentError("the range's end must be above its start (or empty)");
  }
  if (r.start().size() > kMaxKeyBytes || r.end().size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError("range bounds are limited in size like keys");
  }
  return absl::OkStatus();
}

txn::RangeClaim FromProto(const proto::RangeClaim& r) {
  return txn::RangeClaim{r.start(), r.end(), r.generation()};
}

// The raw engine keys of every version of `tablet`'s keys in [start, end).
std::pair<std::string, std::string> RawBounds(uint64_t tablet, std::string_view start,
                                              std::string_view end) {
  return {storage::format::UserKeyPrefix(tablet, start),
          end.empty() ? keyenc::PrefixSuccessor(storage::format::TabletDataPrefix(tablet))
                      : storage::format::UserKeyPrefix(tablet, end)};
}

// One thread that runs posted work in order; its destructor runs what is still queued, then
// joins (every queued Export must still finish its call).
class ReaderThread {
 public:
  ReaderThread() : thread_([this] { Loop(); }) {}
  ~ReaderThread() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    thread_.join();
  }
  void Post(std::function<void()> work) {
    absl::MutexLock lock(&mu_);
    queue_.push_back(std::move(work));
  }

 private:
  void Loop() {
    for (;;) {
      std::function<void()> work;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](ReaderThread* t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(t->mu_) {
              return t->stopping_ || !t->queue_.empty();
            },
            this));
        if (queue_.empty()) return;  // stopping, nothing left
        work = std::move(queue_.front());
        queue_.pop_front();
      }
      work();
    }
  }

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // last: starts once the rest is built
};

}  // namespace

class MovementService::Impl final : public proto::Movement::CallbackService {
 public:
  Impl(RoutingTable* routing, TxnService* txns, storage::Engine* engine,
       truetime::TrueTime* truetime)
      : routing_(routing), txns_(txns), engine_(engine), truetime_(truetime) {}

  // The protocol check, and placement's node certificate (or an admin's): moving data between
  // groups is an admin operation. False when it finished the call.
  static bool AdmitCaller(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                          const char* rpc) {
    if (!rpc::AdmitProtocol(ctx, reactor)) return false;
    absl::Status allowed = replication::AuthorizeAdmin(*ctx, rpc);
    if (!allowed.ok()) reactor->Finish(rpc::ToGrpc(allowed));
    return allowed.ok();
  }

  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* ctx,
                                   const proto::ExportRequest* request,
                                   proto::ExportResponse* response) override {
    auto* reactor = ctx->DefaultReactor();
    if (!AdmitCaller(ctx, reactor, "Movement.Export")) return reactor;
    proto::RangeClaim range;
    range.set_start(request->start());
    range.set_end(request->end());
    std::optional<Group> g = Admit(ctx, reactor, request->group(), range);
    if (!g) return reactor;
    const uint32_t max_bytes = request->max_bytes() == 0
                                   ? kDefaultExportBytes
                                   : std::min(request->max_bytes(), kMaxExportBytes);
    // The bound and the horizon are read on the strand, the versions on the reader thread: a
    // page of megabytes read on the strand would hold up the group's requests meanwhile.
    g->host->Read(
        [this, g = *g, request, response]() -> absl::StatusOr<std::string> {
          RETURN_IF_ERROR(ExportBounds(g, *request, response));
          return std::string();
        },
        [this, ctx, reactor, g = *g, request, response,
         max_bytes](absl::StatusOr<std::string> result) {
          if (!result.ok()) {
            Finish(ctx, reactor, g, result.status());
            return;
          }
          reader_.Post([this, ctx, reactor, g, request, response, max_bytes] {
            Finish(ctx, reactor, g, ExportVersions(g, *request, max_bytes, response));
          });
        });
    return reactor;
  }

  grpc::ServerUnaryReactor* Ingest(grpc::CallbackServerContext* ctx,
                                   const proto::IngestRequest* request,
                                   proto::IngestResponse*) override {
    auto* reactor = ctx->DefaultReactor();
    if (!AdmitCaller(ctx, reactor, "Movement.Ingest")) return reactor;
    std::optional<Group> g = Admit(ctx, reactor, request->group(), request->range());
    if (!g) return reactor;
    txn::OwnershipRecord record{
        txn::OwnershipRecord::Op::kIngest, {FromProto(request->range())}, {}, 0, 0};
    size_t bytes = 0;
    for (const proto::RangeVersion& v : request->versions()) {
      bytes += v.key().size() + v.value().size() + 16;
      absl::Status bad;
      if (v.key().empty() || v.ts() <= 0 ||
          !txn::InRange(v.key(), request->range().start(), request->range().end())) {
        bad = absl::InvalidArgumentError("a version is empty, untimed or outside the range");
      } else if (bytes > kMaxIngestBytes && !record.versions.empty()) {
        // One version alone may be larger (a value near the size limit moves by itself).
        bad = absl::InvalidArgumentError(absl::StrCat("an ingest carries at most ", kMaxIngestBytes,
                                                      " bytes of versions, or one version"));
      }
      if (!bad.ok()) {
        reactor->Finish(ToGrpc(bad));
        return reactor;
      }
      record.versions.push_back(txn::Version{
          v.key(), v.ts(), v.is_delete() ? std::nullopt : std::optional<std::string>(v.value())});
    }
    Log(*g, std::move(record), 0, nullptr,
        [this, ctx, reactor, g = *g](absl::StatusOr<tablet::TxnTablet::OwnershipResult> r) {
          Finish(ctx, reactor, g, r.status());
        });
    return reactor;
  }

  grpc::ServerUnaryReactor* Release(grpc::CallbackServerContext* ctx,
                                    const proto::ReleaseRequest* request,
                                    proto::ReleaseResponse* response) override {
    auto* reactor = ctx->DefaultReactor();
    if (!AdmitCaller(ctx, reactor, "Movement.Release")) return reactor;
    std::optional<Group> g = Admit(ctx, reactor, request->group(), request->range());
    if (!g) return reactor;
    const txn::RangeClaim range = FromProto(request->range());
    if (range.generation == 0) {
      reactor->Finish(ToGrpc(absl::InvalidArgumentError("a release names the next generation")));
      return reactor;
    }
    g->host->WithReplica([this, ctx, reactor, g = *g, range, response](paxos::Replica* r,
                                                                       truetime::Interval now) {
      if (r == nullptr) {
        Finish(ctx, reactor, g, absl::UnavailableError("the group's replica is not running"));
        return;
      }
      g.tablet->Fence(*r, now, range, now.earliest + kReleaseFenceUs);
      // The busy check runs again right before the proposal (Log's `ready`), on the strand.
      auto ready = [g, range]() -> absl::Status {
        const size_t busy = g.tablet->BusyIn(range.start, range.end);
        if (busy == 0) return absl::OkStatus();
        return absl::UnavailableError(
            absl::StrCat("range busy: ", busy,
                         " locks or prepared transactions are still in it; it is fenced "
                         "(new ones are refused): call again"));
      };
      txn::OwnershipRecord record{txn::OwnershipRecord::Op::kRelease, {range}, {}, 0, 0};
      Log(g, std::move(record), 0, std::move(ready),
          [this, ctx, reactor, g, response](absl::StatusOr<tablet::TxnTablet::OwnershipResult> r) {
            if (r.ok()) {
              response->set_release_ts(r->ts);
              response->set_horizon(engine_->GcHorizon(g.id));
            }
            Finish(ctx, reactor, g, r.status());
          });
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* Adopt(grpc::CallbackServerContext* ctx,
                                  const proto::AdoptRequest* request,
                                  proto::AdoptResponse* response) override {
    auto* reactor = ctx->DefaultReactor();
    if (!AdmitCaller(ctx, reactor, "Movement.Adopt")) return reactor;
    if (request->claims().empty()) {
      reactor->Finish(ToGrpc(absl::InvalidArgumentError("an adopt names at least one range")));
      return reactor;
    }
    std::optional<Group> g = Admit(ctx, reactor, request->group(), request->claims(0));
    if (!g) return reactor;
    txn::OwnershipRecord record{txn::OwnershipRecord::Op::kAdopt, {}, {}, request->horizon(), 0};
    for (const proto::RangeClaim& c : request->claims()) {
      absl::Status bad = CheckRange(c);
      if (bad.ok() && c.generation() == 0) {
        bad = absl::InvalidArgumentError("an adopted range names its generation");
      }
      if (!bad.ok()) {
        reactor->Finish(ToGrpc(bad));
        return reactor;
      }
      record.claims.push_back(FromProto(c));
    }
    Log(*g, std::move(record), request->above_ts() + 1, nullptr,
        [this, ctx, reactor, g = *g,
         response](absl::StatusOr<tablet::TxnTablet::OwnershipResult> r) {
          if (r.ok()) response->set_adopt_ts(r->ts);
          Finish(ctx, reactor, g, r.status());
        });
    return reactor;
  }

  grpc::ServerUnaryReactor* Drop(grpc::CallbackServerContext* ctx,
                                 const proto::DropRequest* request,
                                 proto::DropResponse* response) override {
    auto* reactor = ctx->DefaultReactor();
    if (!AdmitCaller(ctx, reactor, "Movement.Drop")) return reactor;
    std::optional<Group> g = Admit(ctx, reactor, request->group(), request->range());
    if (!g) return reactor;
    txn::OwnershipRecord record{
        txn::OwnershipRecord::Op::kDrop, {FromProto(request->range())}, {}, 0, kDropLimit};
    const auto [lo, hi] = RawBounds(g->id, request->range().start(), request->range().end());
    Log(*g, std::move(record), 0, nullptr,
        [this, ctx, reactor, g = *g, response, lo = lo,
         hi = hi](absl::StatusOr<tablet::TxnTablet::OwnershipResult> r) {
          absl::Status status = r.status();
          if (r.ok()) {
            response->set_erased(r->erased);
            // The record's batch is written when its proposer hears of it: what is left is left.
            absl::StatusOr<std::vector<storage::KeyValue>> left =
                engine_->ReadRaw(nullptr, lo, hi, 1);
            status = left.status();
            if (left.ok()) response->set_done(left->empty());
          }
          Finish(ctx, reactor, g, status);
        });
    return reactor;
  }

 private:
  struct Group {
    uint64_t id = 0;
    std::shared_ptr<replication::GroupHost> host;
    tablet::TxnTablet* tablet = nullptr;
  };
  using Done = std::function<void(absl::StatusOr<tablet::TxnTablet::OwnershipResult>)>;

  std::optional<Group> Admit(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                             uint64_t group, const proto::RangeClaim& range) {
    (void)ctx;
    absl::Status status = CheckRange(range);
    Group g{group, nullptr, nullptr};
    if (status.ok() && !txns_->FindTablet(group, &g.host, &g.tablet)) {
      status = absl::UnavailableError(absl::StrCat("group ", group, " is not hosted here"));
    }
    if (status.ok()) return g;
    reactor->Finish(ToGrpc(status));
    return std::nullopt;
  }

  // Export's checks, bound and horizon, on the strand (see movement.proto). The horizon is read
  // before the versions: a collection that erases versions of a later page raised the horizon
  // first, and the mover adopts with the highest horizon any page of the move answered.
  absl::Status ExportBounds(const Group& g, const proto::ExportRequest& request,
                            proto::ExportResponse* response) {
    truetime::Timestamp upto = request.upto_ts();
    if (request.after_ts() > 0 || request.released_generation() > 0) {
      const std::optional<txn::Ownership::Claim> claim =
          g.tablet->ownership().Covering(request.start(), request.end());
      if (!claim.has_value() || claim->owned ||
          claim->generation != request.released_generation()) {
        return absl::FailedPreconditionError(
            "the changes of a range are exported only once it is released at that generation");
      }
      // Released: every version of the range is final, and was written before the release
      // was answered.
      if (upto == 0) upto = truetime::kMaxTimestamp;
    } else if (upto == 0) {
      upto = g.tablet->ExportBound();
    }
    response->set_upto_ts(upto);
    response->set_horizon(engine_->GcHorizon(g.id));
    return absl::OkStatus();
  }

  // Export's versions, on the reader thread: every version at or below the bound is final and
  // in the engine (ExportBound), and versions above it are skipped, so reading the engine's
  // current state off the strand sees exactly what the strand would have.
  absl::Status ExportVersions(const Group& g, const proto::ExportRequest& request,
                              uint32_t max_bytes, proto::ExportResponse* response) {
    const truetime::Timestamp upto = response->upto_ts();
    auto [lo, hi] = RawBounds(g.id, request.start(), request.end());
    if (!request.cursor().empty()) lo = request.cursor() + '\0';
    ASSIGN_OR_RETURN(std::vector<storage::KeyValue> raw,
                     engine_->ReadRaw(nullptr, lo, hi, max_bytes));
    for (const storage::KeyValue& kv : raw) {
      storage::format::DataKeyParts parts;
      RETURN_IF_ERROR(storage::format::ParseDataKey(kv.key, &parts));
      if (parts.ts <= request.after_ts() || parts.ts > upto) continue;
      bool tombstone = false;
      std::string_view value;
      RETURN_IF_ERROR(storage::format::ParseDataValue(kv.value, &tombstone, &value));
      proto::RangeVersion* v = response->add_versions();
      v->set_key(std::move(parts.user_key));
      v->set_ts(parts.ts);
      if (tombstone) {
        v->set_is_delete(true);
      } else {
        v->set_value(std::string(value));
      }
    }
    if (!raw.empty()) response->set_cursor(raw.back().key);
    return absl::OkStatus();
  }

  // Proposes `record` at a timestamp from the replica (above `at_least`) once `ready` (run on
  // the strand right before the proposal; may be null) says OK, and answers `done` once it
  // applied here. A refused record is FAILED_PRECONDITION.
  void Log(const Group& g, txn::OwnershipRecord record, truetime::Timestamp at_least,
           std::function<absl::Status()> ready, Done done) {
    auto make = [this, record = std::move(record), at_least,
                 ready = std::move(ready)](paxos::Replica& r) -> absl::StatusOr<std::string> {
      if (ready) RETURN_IF_ERROR(ready());
      ASSIGN_OR_RETURN(const truetime::Interval now, truetime_->Now());
      ASSIGN_OR_RETURN(const truetime::Timestamp ts, r.AssignTimestamp(now, at_least));
      return txn::EncodeRecord(txn::Record{ts, record});
    };
    g.host->Propose(std::move(make), [done = std::move(done)](absl::StatusOr<std::string> result) {
      if (!result.ok()) {
        done(result.status());
        return;
      }
      absl::StatusOr<tablet::TxnTablet::OwnershipResult> r =
          tablet::TxnTablet::DecodeOwnershipResult(*result);
      if (r.ok() && r->refused) {
        done(absl::FailedPreconditionError(
            "the group refused the ownership change (a prepared transaction touches the range, "
            "or it drops a range it still serves)"));
        return;
      }
      done(std::move(r));
    });
  }

  // Finishes with `status`; an UNAVAILABLE names the leader when this replica knows another.
  void Finish(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor, const Group& g,
              const absl::Status& status) {
    std::optional<std::string> hint;
    if (status.code() == absl::StatusCode::kUnavailable) {
      const paxos::ReplicaId leader = g.host->leader();
      if (leader != paxos::kNoReplica) hint = routing_->AddressOf(leader);
    }
    FinishWithLeaderHint(ctx, reactor, status, hint);
  }

  RoutingTable* const routing_;
  TxnService* const txns_;
  storage::Engine* const engine_;
  truetime::TrueTime* const truetime_;
  ReaderThread reader_;  // last: destroyed (drained) first
};

MovementService::MovementService(RoutingTable* routing, TxnService* txns, storage::Engine* engine,
                                 truetime::TrueTime* truetime)
    : impl_(std::make_unique<Impl>(routing, txns, engine, truetime)) {}
MovementService::~MovementService() = default;
grpc::Service* MovementService::service() { return impl_.get(); }

}  // namespace meridian::spanserver
