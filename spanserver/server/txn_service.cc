// TxnService implementation; see txn_service.h.
#include "spanserver/server/txn_service.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "proto/rpc.h"
#include "proto/txn.grpc.pb.h"
#include "replication/group_host.h"
#include "spanserver/server/admission.h"
#include "spanserver/server/group_message_gate.h"
#include "spanserver/server/kv_service.h"
#include "spanserver/server/routing_table.h"
#include "spanserver/server/server_metrics.h"
#include "spanserver/tablet/txn_tablet.h"
#include "txn/range_guard.h"
#include "txn/transaction_manager.h"

namespace meridian::spanserver {
namespace {

using rpc::ToGrpc;

txn::TxnRef FromProto(const proto::TxnRef& t) { return txn::TxnRef{t.id(), t.start_ts()}; }

std::vector<txn::Mutation> FromProto(
    const google::protobuf::RepeatedPtrField<proto::Mutation>& in) {
  std::vector<txn::Mutation> out;
  out.reserve(in.size());
  for (const proto::Mutation& m : in) {
    out.push_back(txn::Mutation{
        m.key(), m.is_delete() ? std::nullopt : std::optional<std::string>(m.value())});
  }
  return out;
}

proto::GroupMessageRequest::Type ToProto(txn::GroupMessage::Type type) {
  switch (type) {
    case txn::GroupMessage::Type::kOutcome:
      return proto::GroupMessageRequest::OUTCOME;
    case txn::GroupMessage::Type::kInquiry:
      return proto::GroupMessageRequest::INQUIRY;
    case txn::GroupMessage::Type::kAck:
      return proto::GroupMessageRequest::ACK;
    case txn::GroupMessage::Type::kPrepared:
      return proto::GroupMessageRequest::PREPARED;
  }
  return proto::GroupMessageRequest::INQUIRY;
}

txn::GroupMessage::Type FromProto(proto::GroupMessageRequest::Type type) {
  switch (type) {
    case proto::GroupMessageRequest::OUTCOME:
      return txn::GroupMessage::Type::kOutcome;
    case proto::GroupMessageRequest::ACK:
      return txn::GroupMessage::Type::kAck;
    case proto::GroupMessageRequest::PREPARED:
      return txn::GroupMessage::Type::kPrepared;
    default:
      return txn::GroupMessage::Type::kInquiry;
  }
}

std::vector<std::string> Keys(const google::protobuf::RepeatedPtrField<std::string>& in) {
  return std::vector<std::string>(in.begin(), in.end());
}

void FillValues(const txn::Reply& reply,
                google::protobuf::RepeatedPtrField<proto::ValueOrNone>* out) {
  for (const std::optional<std::string>& v : reply.values) {
    proto::ValueOrNone* value = out->Add();
    value->set_found(v.has_value());
    if (v.has_value()) value->set_value(*v);
  }
}

std::vector<txn::KeyRange> Ranges(const google::protobuf::RepeatedPtrField<proto::KeySpan>& in) {
  std::vector<txn::KeyRange> out;
  out.reserve(in.size());
  for (const proto::KeySpan& s : in) out.push_back(txn::KeyRange{s.start(), s.end()});
  return out;
}

// A scan's rows, whether the limit cut it, and the span it read.
template <typename Response>
void FillScan(const txn::Reply& reply, const txn::ScanSpan& scan, Response* response) {
  for (const txn::Row& row : reply.rows) {
    proto::KeyValue* kv = response->add_rows();
    kv->set_key(row.key);
    kv->set_value(row.value);
  }
  response->set_more(reply.more);
  response->mutable_scanned()->set_start(scan.range.start);
  response->mutable_scanned()->set_end(scan.range.end);
}

// The keys a prepare touches (reads, then writes), for the route check.
std::vector<std::string> KeysOf(const proto::TxnPrepareRequest& p) {
  std::vector<std::string> keys = Keys(p.reads());
  for (const proto::Mutation& m : p.writes()) keys.push_back(m.key());
  return keys;
}

txn::PrepareRequest FromProto(const proto::TxnPrepareRequest& p) {
  return txn::PrepareRequest{FromProto(p.txn()), p.coordinator(), FromProto(p.writes()),
                             Keys(p.reads()), Ranges(p.read_ranges())};
}

}  // namespace

GroupMessageRoute RouteGroupMessage(const std::vector<uint64_t>& replicas, bool leader_only,
                                    bool hosted_here, uint64_t believed_leader, uint64_t self) {
  GroupMessageRoute route;
  std::vector<uint64_t> targets = replicas;
  if (leader_only && hosted_here && believed_leader != paxos::kNoReplica &&
      std::find(replicas.begin(), replicas.end(), believed_leader) != replicas.end()) {
    targets.assign(1, believed_leader);
  }
  for (uint64_t server : targets) {
    if (hosted_here && server == self) {
      route.local = true;
    } else {
      route.remote.push_back(server);
    }
  }
  return route;
}

class TxnService::Impl final : public proto::Txn::CallbackService {
 public:
  Impl(RoutingTable* routing, uint64_t server_id, TxnService::PeerSender send_to_server)
      : routing_(routing), server_id_(server_id), send_to_server_(std::move(send_to_server)) {}

  struct Target {
    std::shared_ptr<replication::GroupHost> host;
    tablet::TxnTablet* tablet = nullptr;
  };

  void AddTablet(uint64_t group, std::shared_ptr<replication::GroupHost> host,
                 tablet::TxnTablet* tablet) {
    absl::MutexLock lock(&mu_);
    tablets_[group] = Target{std::move(host), tablet};
  }

  void RemoveTablet(uint64_t group) {
    absl::MutexLock lock(&mu_);
    tablets_.erase(group);
  }

  // The held group messages that the new membership admits are delivered (outside the lock).
  void SetGroupMembers(std::map<uint64_t, std::vector<uint64_t>> members) {
    GroupMessageGate::Released released;
    {
      absl::MutexLock lock(&mu_);
      members_ = members;
      released = gate_.SetMembers(std::move(members), NowMs());
    }
    CountRefused(released.dropped);
    for (const std::string& wire : released.deliver) Deliver(wire);
  }

  void Shutdown() { shut_down_.store(true); }

  void ReadOnly(uint64_t group, std::vector<std::string> keys,
                std::optional<std::pair<std::string, std::string>> scan,
                std::function<void(txn::Reply)> done) {
    std::optional<Target> t = FindOrFail(group, done);
    if (!t) return;
    t->host->WithReplica([t, scan = std::move(scan), req = txn::ReadOnlyRequest{std::move(keys)},
                          done = std::move(done)](paxos::Replica* r, truetime::Interval now) {
      txn::Reply reply;
      if (r == nullptr) {
        reply.status = absl::UnavailableError("the group's replica is not running");
      } else if (scan.has_value()) {
        reply.status = t->tablet->CheckServed(scan->first, scan->second);
      }
      if (!reply.status.ok()) {
        done(std::move(reply));
        return;
      }
      t->tablet->ReadOnly(*r, now, req, done);
    });
  }

  void CommitWrite(uint64_t group, txn::Mutation mutation, std::function<void(txn::Reply)> done) {
    std::optional<Target> t = FindOrFail(group, done);
    if (!t) return;
    auto attempt = std::make_shared<WriteAttempt>();
    attempt->target = *t;
    attempt->request.writes.push_back(std::move(mutation));
    attempt->done = std::move(done);
    TryWrite(std::move(attempt));
  }

  // Sends `m` where RouteGroupMessage says; only the leader's tablet acts on it. A message marked
  // leader_only (the first try on the common path) goes to the leader alone when this server
  // hosts a replica of the group that knows one: followers would drop it, and in a 2PC with many
  // participants the outcomes and acks are most of the group messages. If that belief is stale
  // the message is lost like any other best-effort group message, and the retries (which go to
  // every replica) recover it. The replica on this server gets the message directly; the others
  // get it through the peer transport (send_to_server_), in the frames that carry Paxos traffic
  // to their servers.
  void Send(const txn::GroupMessage& m) {
    if (shut_down_.load()) return;
    std::vector<uint64_t> replicas;
    std::shared_ptr<replication::GroupHost> local;
    {
      absl::MutexLock lock(&mu_);
      auto it = members_.find(m.to);
      if (it != members_.end()) replicas = it->second;
      if (auto t = tablets_.find(m.to); t != tablets_.end()) local = t->second.host;
    }
    const GroupMessageRoute route =
        RouteGroupMessage(replicas, m.leader_only, local != nullptr,
                          local != nullptr ? local->leader() : paxos::kNoReplica, server_id_);
    if (route.local) DeliverLocal(m);
    if (route.remote.empty() || !send_to_server_) return;
    proto::GroupMessageRequest request;
    request.set_type(ToProto(m.type));
    request.set_from(m.from);
    request.set_to(m.to);
    request.set_txn(m.txn);
    request.set_committed(m.committed);
    request.set_commit_ts(m.commit_ts);
    const std::string wire = request.SerializeAsString();
    for (uint64_t server : route.remote) send_to_server_(server, wire);
  }

  // A group message from the peer transport, sent by server `from_server`: dropped when it does
  // not parse (best effort), and unless from_server hosts a replica of the group it claims to
  // come from (group_message_gate.h, which may hold it until the next topology to decide).
  void DeliverFromPeer(uint64_t from_server, std::string_view wire) {
    proto::GroupMessageRequest request;
    if (shut_down_.load() || !request.ParseFromArray(wire.data(), static_cast<int>(wire.size()))) {
      return;
    }
    GroupMessageGate::Arrival arrival{from_server, request.from(), std::string(wire)};
    GroupMessageGate::Verdict verdict;
    {
      absl::MutexLock lock(&mu_);
      verdict = gate_.Admit(arrival, NowMs());
    }
    if (verdict == GroupMessageGate::Verdict::kDropped) CountRefused(1);
    if (verdict == GroupMessageGate::Verdict::kDeliver) Deliver(request);
  }

  // ---- RPCs ------------------------------------------------------------------------------------

  grpc::ServerUnaryReactor* Read(grpc::CallbackServerContext* ctx,
                                 const proto::TxnReadRequest* request,
                                 proto::TxnReadResponse* response) override {
    auto* reactor = ctx->DefaultReactor();
    if (!rpc::AdmitProtocol(ctx, reactor)) return reactor;
    std::optional<txn::ScanSpan> scan;
    std::optional<Target> t =
        AdmitRead(ctx, reactor, request->range(), request->keys(),
                  request->has_scan() ? &request->scan() : nullptr, request->scan_limit(), &scan);
    if (!t) return reactor;
    txn::ReadRequest req{FromProto(request->txn()), Keys(request->keys()), scan,
                         request->for_update()};
    Run(ctx, reactor, *t, [=, this](paxos::Replica& r, truetime::Interval now) {
      t->tablet->Read(r, now, req, [=, this](txn::Reply reply) {
        if (reply.status.ok()) FillValues(reply, response->mutable_values());
        if (reply.status.ok() && scan.has_value()) FillScan(reply, *scan, response);
        CountTxnAnswer(TxnStage::kRead, reply.status);
        FinishWith(ctx, reactor, *t->host, reply);
      });
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* Prepare(grpc::CallbackServerContext* ctx,
                                    const proto::TxnPrepareRequest* request,
                                    proto::TxnPrepareResponse* response) override {
    auto* reactor = ctx->DefaultReactor();
    if (!rpc::AdmitProtocol(ctx, reactor)) return reactor;
    std::optional<Target> t = Admit(ctx, reactor, request->range(), KeysOf(*request));
    if (!t) return reactor;
    txn::PrepareRequest req = FromProto(*request);
    Run(ctx, reactor, *t, [=, this](paxos::Replica& r, truetime::Interval now) {
      t->tablet->Prepare(r, now, req, [=, this](txn::Reply reply) {
        response->set_prepare_ts(reply.ts);
        CountTxnAnswer(TxnStage::kPrepare, reply.status);
        FinishWith(ctx, reactor, *t->host, reply);
      });
    });
    return reactor;
  }

  // Each item as Prepare would take it (Check, then the tablet on the group's strand), answered
  // in its own result; the RPC finishes when the last item is answered.
  grpc::ServerUnaryReactor* PrepareBatch(grpc::CallbackServerContext* ctx,
                                         const proto::TxnPrepareBatchRequest* request,
                                         proto::TxnPrepareBatchResponse* response) override {
    auto* reactor = ctx->DefaultReactor();
    if (!rpc::AdmitProtocol(ctx, reactor)) return reactor;
    if (shut_down_.load()) {
      reactor->Finish(ToGrpc(absl::UnavailableError("the server is shutting down")));
      return reactor;
    }
    const int n = request->prepares_size();
    if (n == 0 || n > kMaxPreparesPerBatch) {
      reactor->Finish(ToGrpc(absl::InvalidArgumentError(absl::StrCat(
          "a prepare batch holds 1 to ", kMaxPreparesPerBatch, " prepares, not ", n))));
      return reactor;
    }
    response->mutable_results()->Reserve(n);
    for (int i = 0; i < n; ++i) response->add_results();
    // Every item answers exactly once; the last answer finishes the RPC (after the loop below has
    // dispatched every item, since the count cannot reach 0 before).
    auto unanswered = std::make_shared<std::atomic<int>>(n);
    auto answered = [reactor, unanswered] {
      if (unanswered->fetch_sub(1, std::memory_order_acq_rel) == 1) {
        reactor->Finish(grpc::Status::OK);
      }
    };
    // Handed to the io thread in one go (GroupHost::WithReplicas): their proposals then share
    // one LevelDB write.
    std::vector<replication::GroupHost::Work> work;
    work.reserve(n);
    for (int i = 0; i < n; ++i) {
      const proto::TxnPrepareRequest& item = request->prepares(i);
      proto::TxnPrepareResult* result = response->mutable_results(i);
      Refusal why;
      std::optional<Target> t = Check(item.range(), KeysOf(item), &why);
      if (!t) {
        result->set_code(static_cast<int32_t>(why.status.code()));
        result->set_message(std::string(why.status.message()));
        result->set_stale_map(why.stale_map);
        answered();
        continue;
      }
      txn::PrepareRequest req = FromProto(item);
      auto prepare = [this, t, req = std::move(req), result, answered](paxos::Replica* r,
                                                                       truetime::Interval now) {
        if (r == nullptr) {
          result->set_code(static_cast<int32_t>(absl::StatusCode::kUnavailable));
          result->set_message("the group's replica is not running");
          answered();
          return;
        }
        t->tablet->Prepare(*r, now, req, [this, t, result, answered](txn::Reply reply) {
          CountTxnAnswer(TxnStage::kPrepare, reply.status);
          result->set_code(static_cast<int32_t>(reply.status.code()));
          result->set_message(std::string(reply.status.message()));
          result->set_stale_map(txn::IsStaleMap(reply.status));
          if (reply.status.ok()) result->set_prepare_ts(reply.ts);
          if (std::optional<std::string> hint = LeaderHint(*t->host, reply)) {
            result->set_has_leader_hint(true);
            result->set_leader_hint(*std::move(hint));
          }
          answered();
        });
      };
      work.push_back({t->host, std::move(prepare)});
    }
    replication::GroupHost::WithReplicas(std::move(work));
    return reactor;
  }

  grpc::ServerUnaryReactor* Commit(grpc::CallbackServerContext* ctx,
                                   const proto::TxnCommitRequest* request,
                                   proto::TxnCommitResponse* response) override {
    auto* reactor = ctx->DefaultReactor();
    if (!rpc::AdmitProtocol(ctx, reactor)) return reactor;
    std::vector<std::string> keys = Keys(request->reads());
    for (const proto::Mutation& m : request->writes()) keys.push_back(m.key());
    std::optional<Target> t = Admit(ctx, reactor, request->range(), keys);
    if (!t) return reactor;
    txn::CommitRequest req{FromProto(request->txn()),      FromProto(request->writes()),
                           Keys(request->reads()),         {},
                           Ranges(request->read_ranges()), request->max_commit_ts()};
    for (const proto::TxnParticipant& p : request->participants()) {
      req.participants.push_back(txn::ParticipantRef{p.group(), p.prepare_ts()});
    }
    const auto received = std::chrono::steady_clock::now();
    Run(ctx, reactor, *t, [=, this](paxos::Replica& r, truetime::Interval now) {
      t->tablet->Commit(r, now, req, [=, this](txn::Reply reply) {
        CountCommitAnswer(received, reply);
        response->set_commit_ts(reply.ts);
        FinishWith(ctx, reactor, *t->host, reply);
      });
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* Abort(grpc::CallbackServerContext* ctx,
                                  const proto::TxnAbortRequest* request,
                                  proto::TxnAbortResponse*) override {
    auto* reactor = ctx->DefaultReactor();
    if (!rpc::AdmitProtocol(ctx, reactor)) return reactor;
    std::optional<Target> t = Admit(ctx, reactor, request->range(), {});
    if (!t) return reactor;
    txn::AbortRequest req{
        request->txn(), request->coordinator(),
        std::vector<uint64_t>(request->participants().begin(), request->participants().end())};
    Run(ctx, reactor, *t, [=](paxos::Replica& r, truetime::Interval now) {
      t->tablet->Abort(r, now, req);
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* Keepalive(grpc::CallbackServerContext* ctx,
                                      const proto::TxnKeepaliveRequest* request,
                                      proto::TxnKeepaliveResponse*) override {
    auto* reactor = ctx->DefaultReactor();
    if (!rpc::AdmitProtocol(ctx, reactor)) return reactor;
    std::optional<Target> t = Admit(ctx, reactor, request->range(), {});
    if (!t) return reactor;
    const uint64_t id = request->txn();
    Run(ctx, reactor, *t, [=, this](paxos::Replica&, truetime::Interval now) {
      txn::Reply reply;
      reply.status = t->tablet->Keepalive(id, now);
      FinishWith(ctx, reactor, *t->host, reply);
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* ReadOnly(grpc::CallbackServerContext* ctx,
                                     const proto::ReadOnlyRequest* request,
                                     proto::SnapshotReadResponse* response) override {
    auto* reactor = ctx->DefaultReactor();
    if (!rpc::AdmitProtocol(ctx, reactor)) return reactor;
    std::optional<txn::ScanSpan> scan;
    std::optional<Target> t =
        AdmitRead(ctx, reactor, request->range(), request->keys(),
                  request->has_scan() ? &request->scan() : nullptr, request->scan_limit(), &scan);
    if (!t) return reactor;
    txn::ReadOnlyRequest req{Keys(request->keys()), scan};
    Run(ctx, reactor, *t, [=, this](paxos::Replica& r, truetime::Interval now) {
      t->tablet->ReadOnly(r, now, req, [=, this](txn::Reply reply) {
        if (reply.status.ok()) FillValues(reply, response->mutable_values());
        if (reply.status.ok() && scan.has_value()) FillScan(reply, *scan, response);
        response->set_read_ts(reply.ts);
        FinishWith(ctx, reactor, *t->host, reply);
      });
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* SnapshotRead(grpc::CallbackServerContext* ctx,
                                         const proto::SnapshotReadRequest* request,
                                         proto::SnapshotReadResponse* response) override {
    auto* reactor = ctx->DefaultReactor();
    if (!rpc::AdmitProtocol(ctx, reactor)) return reactor;
    std::optional<txn::ScanSpan> scan;
    std::optional<Target> t =
        AdmitRead(ctx, reactor, request->range(), request->keys(),
                  request->has_scan() ? &request->scan() : nullptr, request->scan_limit(), &scan);
    if (!t) return reactor;
    txn::SnapshotReadRequest req{Keys(request->keys()), request->read_ts(), scan};
    Run(ctx, reactor, *t, [=](paxos::Replica& r, truetime::Interval now) {
      t->tablet->SnapshotRead(r, now, req, [=](txn::Reply reply) {
        if (reply.status.ok()) FillValues(reply, response->mutable_values());
        if (reply.status.ok() && scan.has_value()) FillScan(reply, *scan, response);
        response->set_read_ts(reply.ts);
        // Any replica serves snapshots: no leader hint.
        FinishWithLeaderHint(ctx, reactor, reply.status, std::nullopt);
      });
    });
    return reactor;
  }

  std::optional<Target> Lookup(uint64_t group) { return Find(group); }

 private:
  static constexpr int kMaxPreparesPerBatch = 1'000;

  // The tablet of `group`, or nullopt after answering `done` UNAVAILABLE (not hosted here, or the
  // server is shutting down).
  std::optional<Target> FindOrFail(uint64_t group, const std::function<void(txn::Reply)>& done) {
    std::optional<Target> t = Find(group);
    if (t && !shut_down_.load()) return t;
    txn::Reply reply;
    reply.status = absl::UnavailableError(t ? "the server is shutting down"
                                            : absl::StrCat("group ", group, " is not hosted here"));
    done(std::move(reply));
    return std::nullopt;
  }

  static int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  // Counts refused group messages, and logs at the first and at every power of two after it
  // (a flood of forged messages must not flood the log too).
  void CountRefused(uint64_t n) {
    if (n == 0) return;
    CountGroupMessagesRefused(n);
    const uint64_t before = refused_.fetch_add(n);
    const uint64_t after = before + n;
    if (std::bit_floor(after) > before) {
      std::fprintf(stderr,
                   "spanserver: dropped a group message whose sending server does not host a "
                   "replica of its sending group (%llu so far)\n",
                   static_cast<unsigned long long>(after));
    }
  }

  // A held message the gate released: its bytes parsed when it arrived.
  void Deliver(const std::string& wire) {
    proto::GroupMessageRequest request;
    if (request.ParseFromString(wire)) Deliver(request);
  }

  // Hands one incoming message to its group's tablet, when the group is hosted here.
  void Deliver(const proto::GroupMessageRequest& request) {
    txn::GroupMessage m;
    m.type = FromProto(request.type());
    m.from = request.from();
    m.to = request.to();
    m.txn = request.txn();
    m.committed = request.committed();
    m.commit_ts = request.commit_ts();
    DeliverLocal(m);
  }

  void DeliverLocal(const txn::GroupMessage& m) {
    std::optional<Target> t = Find(m.to);
    if (!t || shut_down_.load()) return;  // not hosted here: dropped (best effort)
    t->host->WithReplica([t, m](paxos::Replica* r, truetime::Interval now) {
      if (r != nullptr) t->tablet->Receive(*r, now, m);
    });
  }

  // A server-made transaction of one write (CommitWrite), across its tries.
  struct WriteAttempt {
    Target target;
    txn::CommitRequest request;
    std::function<void(txn::Reply)> done;
    int tries = 0;
  };
  // Wounds by older transactions are retried this many times before ABORTED is returned.
  static constexpr int kMaxWriteTries = 8;

  // Transaction ids of CommitWrite: a bijective mix of (server, counter), so distinct from each
  // other and, like the SDK's random ids, colliding with another's only by a 2^-64 chance. The
  // counter starts at a random point in every process: a restarted server that counted from 1
  // again reused the ids of its earlier writes, and a group that still remembered those
  // decisions answered the new writes "committed" without writing them (found by the snapshot
  // integration test, whose restarted server leads again).
  uint64_t NextWriteTxnId() {
    uint64_t x = (server_id_ << 40) ^ next_write_.fetch_add(1);
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x == 0 ? 1 : x;
  }

  void TryWrite(std::shared_ptr<WriteAttempt> attempt) {
    attempt->target.host->WithReplica([this, attempt](paxos::Replica* r, truetime::Interval now) {
      if (r == nullptr) {
        txn::Reply reply;
        reply.status = absl::UnavailableError("the group's replica is not running");
        attempt->done(std::move(reply));
        return;
      }
      // Each try is a new transaction (an aborted id stays aborted) with the first try's
      // priority, so that wound-wait lets it through eventually.
      attempt->request.txn.id = NextWriteTxnId();
      if (attempt->tries++ == 0) attempt->request.txn.start_ts = now.latest;
      attempt->target.tablet->Commit(*r, now, attempt->request, [this, attempt](txn::Reply reply) {
        if (reply.status.code() == absl::StatusCode::kAborted && attempt->tries < kMaxWriteTries &&
            !shut_down_.load()) {
          TryWrite(attempt);
          return;
        }
        attempt->done(std::move(reply));
      });
    });
  }

  std::optional<Target> Find(uint64_t group) {
    absl::MutexLock lock(&mu_);
    auto it = tablets_.find(group);
    if (it == tablets_.end()) return std::nullopt;
    return it->second;
  }

  // The group's tablet when the request's range is current and holds every key; otherwise
  // nullopt, with the answer in `why` (admission.h).
  std::optional<Target> Check(const proto::RangeRef& ref, const std::vector<std::string>& keys,
                              Refusal* why) {
    if (shut_down_.load()) {
      *why = ShuttingDown();
      return std::nullopt;
    }
    for (const std::string& k : keys) {
      if (absl::Status malformed = CheckKey(k, "key"); !malformed.ok()) {
        *why = Malformed(std::move(malformed));
        return std::nullopt;
      }
    }
    std::optional<Target> t = Find(ref.group());
    if (!t) {
      *why = NotHosted(ref.group());
      return std::nullopt;
    }
    if (std::optional<Refusal> stale = CheckOwnership(
            *routing_, ref, std::vector<std::string_view>(keys.begin(), keys.end()))) {
      *why = *std::move(stale);
      return std::nullopt;
    }
    return t;
  }

  // Check(), finishing the call when the request is not taken.
  std::optional<Target> Admit(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                              const proto::RangeRef& ref, const std::vector<std::string>& keys) {
    Refusal why;
    std::optional<Target> t = Check(ref, keys, &why);
    if (!t) FinishRefused(ctx, reactor, why);
    return t;
  }

  // Admit() for a read of `keys` or, when `scan` is given, of that span: its bounds are checked
  // and it is clipped to the range the server's map gives the group at the request's generation
  // (an empty start or end is the range's own), into `*clipped`.
  std::optional<Target> AdmitRead(grpc::CallbackServerContext* ctx,
                                  grpc::ServerUnaryReactor* reactor, const proto::RangeRef& ref,
                                  const google::protobuf::RepeatedPtrField<std::string>& keys,
                                  const proto::KeySpan* scan, uint32_t limit,
                                  std::optional<txn::ScanSpan>* clipped) {
    if (scan == nullptr) return Admit(ctx, reactor, ref, Keys(keys));
    absl::Status bad;
    if (!keys.empty()) {
      bad = absl::InvalidArgumentError("a read names keys or a scan, not both");
    } else if (scan->start().size() > kMaxKeyBytes || scan->end().size() > kMaxKeyBytes) {
      bad = absl::InvalidArgumentError(
          absl::StrCat("scan bounds are limited to ", kMaxKeyBytes, " bytes"));
    } else if (!scan->end().empty() && scan->end() <= scan->start()) {
      bad = absl::InvalidArgumentError("scan end must be above its start");
    }
    if (!bad.ok()) {
      reactor->Finish(ToGrpc(bad));
      return std::nullopt;
    }
    std::vector<std::string> probe;
    if (!scan->start().empty()) probe.push_back(scan->start());
    std::optional<Target> t = Admit(ctx, reactor, ref, probe);
    if (!t) return t;
    std::optional<RangeEntry> range =
        routing_->FindRange(ref.group(), ref.generation(), scan->start());
    if (!range.has_value()) {
      FinishRefused(ctx, reactor, Refusal{txn::StaleMapError("the map moved meanwhile"), true});
      return std::nullopt;
    }
    std::string end = scan->end();
    if (end.empty() || (!range->end.empty() && end > range->end)) end = range->end;
    *clipped = txn::ScanSpan{txn::KeyRange{std::max(scan->start(), range->start), end},
                             limit == 0 ? kDefaultScanLimit : limit};
    return t;
  }

  // Runs `fn` on the group's strand; a host that is not running answers UNAVAILABLE.
  void Run(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor, const Target& t,
           std::function<void(paxos::Replica&, truetime::Interval)> fn) {
    (void)ctx;
    t.host->WithReplica([reactor, fn = std::move(fn)](paxos::Replica* r, truetime::Interval now) {
      if (r == nullptr) {
        reactor->Finish(ToGrpc(absl::UnavailableError("the group's replica is not running")));
        return;
      }
      fn(*r, now);
    });
  }

  // The leader hint an answer carries: for an UNAVAILABLE that did nothing, the leader's address
  // when this replica knows it (empty when not); none for anything else, and never for one whose
  // outcome is unknown (the client must not retry it blindly).
  std::optional<std::string> LeaderHint(const replication::GroupHost& host,
                                        const txn::Reply& reply) {
    if (reply.status.code() != absl::StatusCode::kUnavailable || reply.outcome_unknown) {
      return std::nullopt;
    }
    // Every such UNAVAILABLE did nothing: the marker tells the client it may retry (at the leader
    // named, or after a backoff when the value is empty or names this server).
    const paxos::ReplicaId leader = host.leader();
    return leader != paxos::kNoReplica ? routing_->AddressOf(leader) : std::string();
  }

  void FinishWith(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                  const replication::GroupHost& host, const txn::Reply& reply) {
    FinishWithLeaderHint(ctx, reactor, reply.status, LeaderHint(host, reply));
  }

  RoutingTable* const routing_;
  const uint64_t server_id_;
  const TxnService::PeerSender send_to_server_;
  std::atomic<uint64_t> next_write_{RandomStart()};

  static uint64_t RandomStart() {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }
  std::atomic<bool> shut_down_{false};
  absl::Mutex mu_;
  std::map<uint64_t, Target> tablets_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::vector<uint64_t>> members_ ABSL_GUARDED_BY(mu_);
  GroupMessageGate gate_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> refused_{0};
};

TxnService::TxnService(RoutingTable* routing, uint64_t server_id, PeerSender send_to_server)
    : impl_(std::make_unique<Impl>(routing, server_id, std::move(send_to_server))) {}
TxnService::~TxnService() = default;
grpc::Service* TxnService::service() { return impl_.get(); }
void TxnService::AddTablet(uint64_t group, std::shared_ptr<replication::GroupHost> host,
                           tablet::TxnTablet* tablet) {
  impl_->AddTablet(group, std::move(host), tablet);
}
void TxnService::RemoveTablet(uint64_t group) { impl_->RemoveTablet(group); }
void TxnService::SetGroupMembers(std::map<uint64_t, std::vector<uint64_t>> members) {
  impl_->SetGroupMembers(std::move(members));
}
void TxnService::Send(const txn::GroupMessage& message) { impl_->Send(message); }
void TxnService::DeliverFromPeer(uint64_t from_server, std::string_view wire) {
  impl_->DeliverFromPeer(from_server, wire);
}
void TxnService::CommitWrite(uint64_t group, txn::Mutation mutation,
                             std::function<void(txn::Reply)> done) {
  impl_->CommitWrite(group, std::move(mutation), std::move(done));
}
void TxnService::ReadOnly(uint64_t group, std::vector<std::string> keys,
                          std::function<void(txn::Reply)> done) {
  impl_->ReadOnly(group, std::move(keys), std::nullopt, std::move(done));
}
void TxnService::ScanTimestamp(uint64_t group, std::string start, std::string end,
                               std::function<void(txn::Reply)> done) {
  impl_->ReadOnly(group, {}, std::make_pair(std::move(start), std::move(end)), std::move(done));
}
void TxnService::Shutdown() { impl_->Shutdown(); }
bool TxnService::FindTablet(uint64_t group, std::shared_ptr<replication::GroupHost>* host,
                            tablet::TxnTablet** tablet) {
  std::optional<Impl::Target> t = impl_->Lookup(group);
  if (!t) return false;
  *host = t->host;
  *tablet = t->tablet;
  return true;
}

}  // namespace meridian::spanserver
