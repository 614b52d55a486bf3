// TxnNode: the movement steps of range moves and splits, as spanserver/server/movement_service.cc
// runs them on a spanserver; see txn_node.h.
//
// Seed: none drawn here. Faults: a crash or restore drops the steps waiting for their record (the
// mover times out and calls again: every step is idempotent). Planted bug:
// testing_release_without_drain skips Release's readiness check. Checkers: none here.
#include <utility>

#include "absl/strings/str_cat.h"
#include "tests/sim/txn_node.h"
#include "txn/ownership.h"
#include "txn/replica_port.h"

namespace meridian::sim {
namespace {

// How long a Release's fence refuses locking requests (spanserver/server/movement_service.h's
// kReleaseFenceUs).
constexpr int64_t kReleaseFenceUs = 10'000'000;
// Versions a Drop erases per record (movement_service.cc's kDropLimit, scaled to the workloads).
constexpr uint64_t kDropLimit = 64;

}  // namespace

const char* MoveOpName(MoveRequest::Op op) {
  static constexpr const char* kNames[] = {"export", "ingest", "release", "adopt", "drop"};
  return kNames[static_cast<int>(op)];
}

void TxnNode::HandleMove(const MoveRequest& request, MoveReplyFn reply) {
  Run(
      [this, request, reply = std::move(reply)] {
        loop()->Trace(absl::StrCat("move ", Name(), " ", MoveOpName(request.op), " [",
                                   request.claims.front().start, ",", request.claims.front().end,
                                   ")@", request.claims.front().generation));
        if (replica().role() != paxos::Role::kLeader) {
          MoveReply r;
          r.status = absl::UnavailableError("not the group's leader");
          reply(r, replica().leader());
          return;
        }
        using Op = MoveRequest::Op;
        const txn::RangeClaim& range = request.claims.front();
        switch (request.op) {
          case Op::kExport:
            reply(Export(request), replica().leader());
            return;
          case Op::kIngest: {
            txn::OwnershipRecord record{txn::OwnershipRecord::Op::kIngest, {range}, {}, 0, 0};
            for (const txn::Version& v : request.versions) {
              if (txn::InRange(v.key, range.start, range.end)) record.versions.push_back(v);
            }
            ProposeMove(std::move(record), 0, reply);
            return;
          }
          case Op::kRelease:
            Release(request, reply);
            return;
          case Op::kAdopt:
            ProposeMove(
                txn::OwnershipRecord{txn::OwnershipRecord::Op::kAdopt, request.claims, {}, 0, 0},
                request.above_ts + 1, reply);
            return;
          case Op::kDrop:
            ProposeMove(
                txn::OwnershipRecord{txn::OwnershipRecord::Op::kDrop, {range}, {}, 0, kDropLimit},
                0, reply);
            return;
        }
      },
      ClockFailure::kDrop);
}

MoveReply TxnNode::Export(const MoveRequest& request) {
  const txn::RangeClaim& range = request.claims.front();
  MoveReply r;
  txn::Timestamp upto = request.upto_ts;
  if (request.after_ts > 0 || request.released_generation > 0) {
    const std::optional<txn::Ownership::Claim> claim =
        manager_->ownership().Covering(range.start, range.end);
    if (!claim.has_value() || claim->owned || claim->generation != request.released_generation) {
      r.status = absl::FailedPreconditionError(
          "the changes of a range are exported only once it is released at that generation");
      return r;
    }
    if (upto == 0) upto = truetime::kMaxTimestamp;
  } else if (upto == 0) {
    // TxnTablet::ExportBound: every version at or below safe time is final, and this store holds
    // nothing unwritten.
    upto = manager_->SafeTime();
  }
  r.upto_ts = upto;
  r.versions = store_->Export(range.start, range.end, request.after_ts, upto);
  return r;
}

void TxnNode::Release(const MoveRequest& request, MoveReplyFn reply) {
  const txn::RangeClaim& range = request.claims.front();
  const truetime::Interval now = Now();
  guard_->Fence(range, now.earliest + kReleaseFenceUs);
  txn::Actions actions;
  txn::PaxosReplicaPort port(replica());
  manager_->WoundIn(port, now, range.start, range.end, &actions);
  Carry(actions);
  const size_t busy = manager_->BusyIn(range.start, range.end);
  if (busy > 0 && !txn_options_.testing_release_without_drain) {
    MoveReply r;
    r.status = absl::UnavailableError(
        absl::StrCat("range busy: ", busy,
                     " locks or prepared transactions are still in it; it is fenced: call again"));
    reply(r, replica().leader());
    return;
  }
  ProposeMove(txn::OwnershipRecord{txn::OwnershipRecord::Op::kRelease, {range}, {}, 0, 0}, 0,
              std::move(reply));
}

void TxnNode::ProposeMove(txn::OwnershipRecord record, txn::Timestamp at_least, MoveReplyFn reply) {
  const truetime::Interval now = Now();
  MoveReply r;
  absl::StatusOr<txn::Timestamp> ts = replica().AssignTimestamp(now, at_least);
  if (!ts.ok()) {
    r.status = ts.status();
    reply(r, replica().leader());
    return;
  }
  const txn::OwnershipRecord::Op op = record.op;
  const txn::RangeClaim range = record.claims.front();
  std::string command = txn::EncodeRecord(txn::Record{*ts, std::move(record)});
  absl::StatusOr<paxos::Index> index = replica().Propose(command, now);
  if (!index.ok()) {
    r.status = index.status();
    reply(r, replica().leader());
    return;
  }
  proposed_moves_[*index] = ProposedMove{std::move(command), op, range, std::move(reply)};
}

void TxnNode::AnswerMove(const paxos::Entry& e, const absl::StatusOr<txn::ApplyResult>& result) {
  auto it = proposed_moves_.find(e.index);
  if (it == proposed_moves_.end()) return;
  ProposedMove proposed = std::move(it->second);
  proposed_moves_.erase(it);
  MoveReply r;
  if (e.type != paxos::EntryType::kNormal || e.command != proposed.command) {
    r.status = absl::UnavailableError("another leader's entry took the record's slot");
  } else if (!result.ok()) {
    r.status = absl::InternalError(result.status().ToString());
  } else if (result->kind == txn::ApplyResult::Kind::kRefused) {
    r.status = absl::FailedPreconditionError(
        "the group refused the ownership change (a prepared transaction touches the range, or "
        "it drops a range it still serves)");
  } else {
    r.ts = result->ts;
    r.erased = result->txn;
    if (proposed.op == txn::OwnershipRecord::Op::kDrop) {
      r.done = store_->Empty(proposed.range.start, proposed.range.end);
    }
  }
  proposed.reply(r, replica().leader());
}

}  // namespace meridian::sim
