#include "client/src/pending_commit.h"

#include <optional>
#include <utility>

#include "absl/synchronization/notification.h"
#include "client/src/connections.h"

namespace meridian::client {
namespace {

class GrpcPendingCommit final : public TxnTransport::PendingCommit {
 public:
  GrpcPendingCommit(Router& router, ConnectionPool& pool, std::function<absl::Status()> commit,
                    uint64_t group, std::string key, proto::TxnCommitRequest& request,
                    proto::TxnCommitResponse* response, SteadyTime deadline)
      : router_(router),
        pool_(pool),
        commit_(std::move(commit)),
        group_(group),
        key_(std::move(key)),
        request_(request),
        response_(response),
        deadline_(deadline) {}
  ~GrpcPendingCommit() override { WaitForAnswer(); }

  // Sends the first attempt, when the cache names a leader of the group with a connected
  // channel.
  void Start() {
    const std::optional<Location> at = router_.Cached(key_);
    if (!at.has_value() || at->group != group_ || at->leader_address.empty()) return;
    connection_ = pool_.Get(at->leader_address);
    if (connection_.channel->GetState(/*try_to_connect=*/true) != GRPC_CHANNEL_READY) return;
    address_ = at->leader_address;
    SetRange(*at, request_.mutable_range());
    response_->Clear();
    StartContext(&context_, deadline_);
    connection_.txn->async()->Commit(&context_, &request_, response_, [this](grpc::Status s) {
      status_ = std::move(s);
      answered_.Notify();
    });
  }

  absl::Status Finish() override {
    if (address_.empty()) return commit_();
    WaitForAnswer();
    Router::Verdict verdict =
        router_.Judge(CallKind::kWrite, ResultOf(status_, context_), group_, key_, address_);
    if (verdict.final.has_value()) return *std::move(verdict.final);
    // Certainly not taken there: the router learned where to go; go on as Commit() does.
    return commit_();
  }

 private:
  void WaitForAnswer() {
    if (!address_.empty()) answered_.WaitForNotification();
  }

  Router& router_;
  ConnectionPool& pool_;
  const std::function<absl::Status()> commit_;
  const uint64_t group_;
  const std::string key_;
  proto::TxnCommitRequest& request_;
  proto::TxnCommitResponse* const response_;
  const SteadyTime deadline_;
  Connection connection_;
  std::string address_;  // where the first attempt went; empty when it was not sent
  grpc::ClientContext context_;
  absl::Notification answered_;  // the first attempt ended (when it was sent)
  grpc::Status status_;          // its status, once answered_
};

}  // namespace

std::unique_ptr<TxnTransport::PendingCommit> StartPendingCommit(
    Router& router, ConnectionPool& pool, std::function<absl::Status()> commit, uint64_t group,
    std::string key, proto::TxnCommitRequest& request, proto::TxnCommitResponse* response,
    SteadyTime deadline) {
  auto pending = std::make_unique<GrpcPendingCommit>(router, pool, std::move(commit), group,
                                                     std::move(key), request, response, deadline);
  pending->Start();
  return pending;
}

}  // namespace meridian::client
