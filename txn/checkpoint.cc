// Checkpoint images; see checkpoint.h for the grammar.
#include "txn/checkpoint.h"

#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "proto/checkpoint.pb.h"

namespace meridian::txn {
namespace {

using IdsProto = google::protobuf::RepeatedField<uint64_t>;

void ToProto(const std::vector<TxnId>& ids, IdsProto* out) {
  out->Reserve(static_cast<int>(ids.size()));
  for (TxnId id : ids) out->Add(id);
}

std::vector<TxnId> FromProto(const IdsProto& in) { return {in.begin(), in.end()}; }

absl::Status CheckAscending(const std::vector<TxnId>& ids, const char* what) {
  for (size_t i = 1; i < ids.size(); ++i) {
    if (ids[i - 1] >= ids[i]) {
      return absl::DataLossError(absl::StrCat("checkpoint: ", what, " are not in ascending order (",
                                              ids[i - 1], " before ", ids[i], ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckDistinct(const std::vector<TxnId>& ids, const char* what) {
  absl::flat_hash_set<TxnId> seen;
  seen.reserve(ids.size());
  for (TxnId id : ids) {
    if (!seen.insert(id).second) {
      return absl::DataLossError(absl::StrCat("checkpoint: ", what, " name ", id, " twice"));
    }
  }
  return absl::OkStatus();
}

// ---- applied state ---------------------------------------------------------------------------

void ToProto(const AppliedState::Image& a, proto::TxnAppliedImage* out) {
  out->set_index(a.index);
  out->set_last_write_ts(a.last_write_ts);
  out->set_paxos_safe(a.paxos_safe);
}

AppliedState::Image FromProto(const proto::TxnAppliedImage& in) {
  return AppliedState::Image{in.index(), in.last_write_ts(), in.paxos_safe()};
}

// ---- participant -----------------------------------------------------------------------------

void ToProto(const Participant::Prepared& p, proto::TxnPreparedImage* out) {
  out->set_txn(p.ref.id);
  out->set_start_ts(p.ref.start_ts);
  out->set_prepare_ts(p.prepare_ts);
  out->set_coordinator(p.coordinator);
  out->mutable_writes()->Reserve(static_cast<int>(p.writes.size()));
  for (const Mutation& m : p.writes) {
    proto::Mutation* w = out->add_writes();
    w->set_key(m.key);
    if (m.value.has_value()) {
      w->set_value(*m.value);
    } else {
      w->set_is_delete(true);
    }
  }
  out->mutable_reads()->Reserve(static_cast<int>(p.reads.size()));
  for (const std::string& k : p.reads) out->add_reads(k);
  for (const KeyRange& range : p.read_ranges) {
    proto::KeySpan* span = out->add_read_ranges();
    span->set_start(range.start);
    span->set_end(range.end);
  }
}

Participant::Prepared FromProto(proto::TxnPreparedImage* in) {
  Participant::Prepared p;
  p.prepare_ts = in->prepare_ts();
  p.ref = TxnRef{in->txn(), in->start_ts()};
  p.coordinator = in->coordinator();
  p.writes.reserve(in->writes_size());
  for (proto::Mutation& m : *in->mutable_writes()) {
    p.writes.push_back(Mutation{
        std::move(*m.mutable_key()),
        m.is_delete() ? std::nullopt : std::optional<std::string>(std::move(*m.mutable_value()))});
  }
  p.reads.reserve(in->reads_size());
  for (std::string& k : *in->mutable_reads()) p.reads.push_back(std::move(k));
  for (proto::KeySpan& span : *in->mutable_read_ranges()) {
    p.read_ranges.push_back(
        KeyRange{std::move(*span.mutable_start()), std::move(*span.mutable_end())});
  }
  return p;
}

void ToProto(const Participant::Image& image, proto::TxnParticipantImage* out) {
  out->mutable_prepared()->Reserve(static_cast<int>(image.prepared.size()));
  for (const Participant::Prepared& p : image.prepared) ToProto(p, out->add_prepared());
  ToProto(image.finished, out->mutable_finished());
}

absl::StatusOr<Participant::Image> FromProto(proto::TxnParticipantImage* in) {
  Participant::Image image;
  std::vector<TxnId> ids;
  ids.reserve(in->prepared_size());
  for (proto::TxnPreparedImage& p : *in->mutable_prepared()) {
    ids.push_back(p.txn());
    image.prepared.push_back(FromProto(&p));
  }
  RETURN_IF_ERROR(CheckAscending(ids, "prepared transactions"));
  image.finished = FromProto(in->finished());
  RETURN_IF_ERROR(CheckDistinct(image.finished, "finished outcomes"));
  return image;
}

// ---- decisions -------------------------------------------------------------------------------

void ToProto(const DecisionMemory::Image& image, proto::TxnDecisionImage* out) {
  out->mutable_decisions()->Reserve(static_cast<int>(image.decisions.size()));
  for (const auto& [txn, d] : image.decisions) {
    proto::TxnDecisionEntry* e = out->add_decisions();
    e->set_txn(txn);
    e->set_committed(d.committed);
    e->set_commit_ts(d.commit_ts);
    for (GroupId g : d.participants) e->add_participants(g);
  }
  ToProto(image.local_decisions, out->mutable_local_decisions());
  ToProto(image.abort_decisions, out->mutable_abort_decisions());
  ToProto(image.unforgotten_commits, out->mutable_unforgotten_commits());
  ToProto(image.forgotten_commits, out->mutable_forgotten_commits());
  ToProto(image.forgotten_aborts, out->mutable_forgotten_aborts());
}

absl::StatusOr<DecisionMemory::Image> FromProto(const proto::TxnDecisionImage& in) {
  DecisionMemory::Image image;
  std::vector<TxnId> ids;
  ids.reserve(in.decisions_size());
  image.decisions.reserve(in.decisions_size());
  for (const proto::TxnDecisionEntry& e : in.decisions()) {
    ids.push_back(e.txn());
    image.decisions.emplace_back(
        e.txn(), Decision{e.committed(), e.commit_ts(), FromProto(e.participants())});
  }
  RETURN_IF_ERROR(CheckAscending(ids, "decisions"));
  image.local_decisions = FromProto(in.local_decisions());
  image.abort_decisions = FromProto(in.abort_decisions());
  image.unforgotten_commits = FromProto(in.unforgotten_commits());
  RETURN_IF_ERROR(CheckAscending(image.unforgotten_commits, "unforgotten commits"));
  image.forgotten_commits = FromProto(in.forgotten_commits());
  RETURN_IF_ERROR(CheckDistinct(image.forgotten_commits, "forgotten commits"));
  image.forgotten_aborts = FromProto(in.forgotten_aborts());
  RETURN_IF_ERROR(CheckDistinct(image.forgotten_aborts, "forgotten aborts"));
  return image;
}

// ---- ownership claims ------------------------------------------------------------------------

void ToProto(const std::vector<Ownership::Entry>& claims,
             google::protobuf::RepeatedPtrField<proto::TxnClaimImage>* out) {
  for (const Ownership::Entry& e : claims) {
    proto::TxnClaimImage* c = out->Add();
    c->set_start(e.start);
    c->set_end(e.claim.end);
    c->set_generation(e.claim.generation);
    c->set_released(!e.claim.owned);
    c->set_ts(e.claim.ts);
  }
}

absl::StatusOr<std::vector<Ownership::Entry>> FromProto(
    const google::protobuf::RepeatedPtrField<proto::TxnClaimImage>& in) {
  std::vector<Ownership::Entry> out;
  for (const proto::TxnClaimImage& c : in) {
    // Ascending and disjoint: each claim starts at or after the previous one's end.
    if (!out.empty() && (out.back().claim.end.empty() || c.start() < out.back().claim.end)) {
      return absl::DataLossError("checkpoint: range claims overlap or are out of order");
    }
    out.push_back(Ownership::Entry{
        c.start(), Ownership::Claim{c.end(), c.generation(), !c.released(), c.ts()}});
  }
  return out;
}

}  // namespace

std::string EncodeCheckpoint(const CheckpointImage& image) {
  proto::TxnCheckpoint c;
  c.set_version(kCheckpointVersion);
  c.set_group(image.group);
  ToProto(image.applied, c.mutable_applied());
  ToProto(image.participant, c.mutable_participant());
  ToProto(image.decisions, c.mutable_decisions());
  ToProto(image.ownership, c.mutable_claims());
  c.set_end(kCheckpointEnd);
  return c.SerializeAsString();
}

absl::StatusOr<CheckpointImage> DecodeCheckpoint(std::string_view bytes) {
  proto::TxnCheckpoint c;
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !c.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("checkpoint: not a transaction checkpoint image");
  }
  if (c.version() != kCheckpointVersion) {
    return absl::DataLossError(absl::StrCat("checkpoint: image version ", c.version(),
                                            ", but this code reads version ", kCheckpointVersion));
  }
  if (c.end() != kCheckpointEnd) {
    return absl::DataLossError("checkpoint: the image is cut short (its end marker is missing)");
  }
  CheckpointImage image;
  image.group = c.group();
  image.applied = FromProto(c.applied());
  ASSIGN_OR_RETURN(image.participant, FromProto(c.mutable_participant()));
  ASSIGN_OR_RETURN(image.decisions, FromProto(c.decisions()));
  ASSIGN_OR_RETURN(image.ownership, FromProto(c.claims()));
  return image;
}

}  // namespace meridian::txn
