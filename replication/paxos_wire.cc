#include "replication/paxos_wire.h"

#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace meridian::replication {
namespace {

void BallotToProto(const paxos::Ballot& b, proto::Ballot* out) {
  out->set_round(b.round);
  out->set_replica(b.replica);
}

paxos::Ballot BallotFromProto(const proto::Ballot& b) {
  return paxos::Ballot{.round = b.round(), .replica = b.replica()};
}

constexpr uint32_t kMaxMessageType = static_cast<uint32_t>(paxos::MessageType::kTimeoutNow);
constexpr uint32_t kMaxEntryType = static_cast<uint32_t>(paxos::EntryType::kConfig);

// Both directions copy every field; the entries' commands (the bulk: a transaction's writes) are
// moved instead when the source is an rvalue, so a 4 KB value is not copied once more on its way
// to or from the wire.
template <typename M>
void ToProtoImpl(M&& m, proto::PaxosMessage* out) {
  out->Clear();
  out->set_type(static_cast<uint32_t>(m.type));
  out->set_group(m.group);
  out->set_from(m.from);
  out->set_to(m.to);
  BallotToProto(m.ballot, out->mutable_ballot());
  out->set_index(m.index);
  out->set_reject(m.reject);
  BallotToProto(m.promised, out->mutable_promised());
  out->set_more(m.more);
  out->set_commit(m.commit);
  out->set_match(m.match);
  out->set_lease_seq(m.lease_seq);
  out->set_lease_granted(m.lease_granted);
  BallotToProto(m.transfer_from, out->mutable_transfer_from());
  out->set_snapshot(m.snapshot);
  out->set_config_index(m.config_index);
  out->mutable_entries()->Reserve(static_cast<int>(m.entries.size()));
  for (auto& e : m.entries) {
    proto::LogEntry* pe = out->add_entries();
    pe->set_index(e.index);
    BallotToProto(e.ballot, pe->mutable_ballot());
    pe->set_type(static_cast<uint32_t>(e.type));
    if constexpr (std::is_const_v<std::remove_reference_t<M>>) {
      pe->set_command(e.command);
    } else {
      pe->set_command(std::move(e.command));
    }
  }
}

template <typename P>
absl::StatusOr<paxos::Message> FromProtoImpl(P&& p) {
  if (p.type() > kMaxMessageType) {
    return absl::InvalidArgumentError(absl::StrCat("unknown Paxos message type ", p.type()));
  }
  paxos::Message m;
  m.type = static_cast<paxos::MessageType>(p.type());
  m.group = p.group();
  m.from = p.from();
  m.to = p.to();
  m.ballot = BallotFromProto(p.ballot());
  m.index = p.index();
  m.reject = p.reject();
  m.promised = BallotFromProto(p.promised());
  m.more = p.more();
  m.commit = p.commit();
  m.match = p.match();
  m.lease_seq = p.lease_seq();
  m.lease_granted = p.lease_granted();
  m.transfer_from = BallotFromProto(p.transfer_from());
  m.snapshot = p.snapshot();
  m.config_index = p.config_index();
  m.entries.reserve(p.entries_size());
  for (int i = 0; i < p.entries_size(); ++i) {
    const proto::LogEntry& pe = p.entries(i);
    if (pe.type() > kMaxEntryType) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown Paxos entry type ", pe.type(), " in slot ", pe.index()));
    }
    paxos::Entry e;
    e.index = pe.index();
    e.ballot = BallotFromProto(pe.ballot());
    e.type = static_cast<paxos::EntryType>(pe.type());
    if constexpr (std::is_const_v<std::remove_reference_t<P>>) {
      e.command = pe.command();
    } else {
      e.command = std::move(*p.mutable_entries(i)->mutable_command());
    }
    m.entries.push_back(std::move(e));
  }
  return m;
}

}  // namespace

void ToProto(const paxos::Message& m, proto::PaxosMessage* out) { ToProtoImpl(m, out); }
void ToProto(paxos::Message&& m, proto::PaxosMessage* out) { ToProtoImpl(std::move(m), out); }

proto::PaxosMessage ToProto(const paxos::Message& message) {
  proto::PaxosMessage out;
  ToProtoImpl(message, &out);
  return out;
}

absl::StatusOr<paxos::Message> FromProto(const proto::PaxosMessage& p) { return FromProtoImpl(p); }
absl::StatusOr<paxos::Message> FromProto(proto::PaxosMessage&& p) {
  return FromProtoImpl(std::move(p));
}

bool PeerQueue::Push(paxos::Message message) {
  if (Full()) return false;
  proto::PaxosMessage pm;
  ToProto(std::move(message), &pm);
  bytes_ += pm.ByteSizeLong();
  queue_.push_back(std::move(pm));
  return true;
}

bool PeerQueue::PushAttachment(std::string attachment) {
  if (Full()) return false;
  bytes_ += attachment.size();
  attachments_.push_back(std::move(attachment));
  return true;
}

int PeerQueue::TakeInto(proto::PaxosBatch* batch) {
  int moved = 0;
  size_t taken = 0;
  while (!queue_.empty() && taken < kMaxBatchBytes) {
    const size_t size = queue_.front().ByteSizeLong();
    taken += size;
    bytes_ -= size;
    *batch->add_messages() = std::move(queue_.front());
    queue_.pop_front();
    ++moved;
  }
  while (!attachments_.empty() && taken < kMaxBatchBytes) {
    const size_t size = attachments_.front().size();
    taken += size;
    bytes_ -= size;
    batch->add_attachments(std::move(attachments_.front()));
    attachments_.pop_front();
    ++moved;
  }
  return moved;
}

size_t PeerQueue::Clear() {
  const size_t n = queue_.size() + attachments_.size();
  queue_.clear();
  attachments_.clear();
  bytes_ = 0;
  return n;
}

}  // namespace meridian::replication
