// Log records; see records.h for the grammar.
#include "txn/records.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/kv.pb.h"

namespace meridian::txn {
namespace {

using MutationsProto = google::protobuf::RepeatedPtrField<proto::Mutation>;
using BytesProto = google::protobuf::RepeatedPtrField<std::string>;

void ToProto(Mutation m, proto::Mutation* out) {
  out->set_key(std::move(m.key));
  if (m.value.has_value()) {
    out->set_value(std::move(*m.value));
  } else {
    out->set_is_delete(true);
  }
}

void ToProto(std::vector<Mutation> writes, MutationsProto* out) {
  out->Reserve(static_cast<int>(writes.size()));
  for (Mutation& m : writes) ToProto(std::move(m), out->Add());
}

void ToProto(std::vector<std::string> keys, BytesProto* out) {
  out->Reserve(static_cast<int>(keys.size()));
  for (std::string& k : keys) *out->Add() = std::move(k);
}

std::vector<Mutation> FromProto(MutationsProto* in) {
  std::vector<Mutation> out;
  out.reserve(in->size());
  for (proto::Mutation& m : *in) {
    out.push_back(Mutation{
        std::move(*m.mutable_key()),
        m.is_delete() ? std::nullopt : std::optional<std::string>(std::move(*m.mutable_value()))});
  }
  return out;
}

std::vector<std::string> FromProto(BytesProto* in) {
  std::vector<std::string> out;
  out.reserve(in->size());
  for (std::string& k : *in) out.push_back(std::move(k));
  return out;
}

// Fills `c`'s op from each kind of record.
struct ToCommand {
  proto::TabletCommand* c;

  void operator()(WriteRecord& r) const {
    if (r.write.value.has_value()) {
      c->mutable_put()->set_key(std::move(r.write.key));
      c->mutable_put()->set_value(std::move(*r.write.value));
    } else {
      c->mutable_delete_()->set_key(std::move(r.write.key));
    }
  }
  void operator()(CommitRecord& r) const {
    proto::TxnCommit* t = c->mutable_txn_commit();
    t->set_txn(r.txn);
    t->set_start_ts(r.start_ts);
    ToProto(std::move(r.writes), t->mutable_writes());
    ToProto(std::move(r.reads), t->mutable_reads());
    for (const ParticipantRef& p : r.participants) {
      proto::TxnParticipant* tp = t->add_participants();
      tp->set_group(p.group);
      tp->set_prepare_ts(p.prepare_ts);
    }
  }
  void operator()(PrepareRecord& r) const {
    proto::TxnPrepare* p = c->mutable_txn_prepare();
    p->set_txn(r.txn);
    p->set_start_ts(r.start_ts);
    p->set_coordinator(r.coordinator);
    ToProto(std::move(r.writes), p->mutable_writes());
    ToProto(std::move(r.reads), p->mutable_reads());
    for (KeyRange& range : r.read_ranges) {
      proto::KeySpan* span = p->add_read_ranges();
      span->set_start(std::move(range.start));
      span->set_end(std::move(range.end));
    }
  }
  void operator()(FinishRecord& r) const {
    proto::TxnFinish* f = c->mutable_txn_finish();
    f->set_txn(r.txn);
    f->set_committed(r.committed);
    f->set_txn_commit_ts(r.commit_ts);
  }
  void operator()(AbortRecord& r) const {
    proto::TxnAbort* a = c->mutable_txn_abort();
    a->set_txn(r.txn);
    for (GroupId g : r.participants) a->add_participants(g);
  }
  void operator()(SafeTimeRecord& r) const {
    proto::SafeTime* s = c->mutable_safe_time();
    for (TxnId txn : r.forget) s->add_forget(txn);
  }
  void operator()(OwnershipRecord& r) const {
    proto::Ownership* o = c->mutable_ownership();
    o->set_op(static_cast<proto::Ownership::Op>(r.op));
    for (RangeClaim& claim : r.claims) {
      proto::RangeClaim* out = o->add_claims();
      out->set_start(std::move(claim.start));
      out->set_end(std::move(claim.end));
      out->set_generation(claim.generation);
    }
    o->mutable_versions()->Reserve(static_cast<int>(r.versions.size()));
    for (Version& v : r.versions) {
      proto::RangeVersion* out = o->add_versions();
      out->set_key(std::move(v.key));
      out->set_ts(v.ts);
      if (v.value.has_value()) {
        out->set_value(std::move(*v.value));
      } else {
        out->set_is_delete(true);
      }
    }
    o->set_horizon(r.horizon);
    o->set_limit(r.limit);
  }
};

absl::StatusOr<RecordBody> OwnershipFromProto(proto::Ownership* o) {
  if (!proto::Ownership::Op_IsValid(o->op()) || o->op() > proto::Ownership::DROP) {
    return absl::DataLossError(absl::StrCat("unknown ownership operation ", o->op()));
  }
  OwnershipRecord r;
  r.op = static_cast<OwnershipRecord::Op>(o->op());
  if (o->claims().empty()) return absl::DataLossError("an ownership record without a range");
  for (proto::RangeClaim& c : *o->mutable_claims()) {
    if (!c.end().empty() && c.end() <= c.start()) {
      return absl::DataLossError("an ownership record with an empty range");
    }
    r.claims.push_back(
        RangeClaim{std::move(*c.mutable_start()), std::move(*c.mutable_end()), c.generation()});
  }
  r.versions.reserve(o->versions_size());
  for (proto::RangeVersion& v : *o->mutable_versions()) {
    r.versions.push_back(Version{
        std::move(*v.mutable_key()), v.ts(),
        v.is_delete() ? std::nullopt : std::optional<std::string>(std::move(*v.mutable_value()))});
  }
  r.horizon = o->horizon();
  r.limit = o->limit();
  return r;
}

absl::StatusOr<RecordBody> WriteFromProto(bool put, proto::TabletCommand* c) {
  std::string* key = put ? c->mutable_put()->mutable_key() : c->mutable_delete_()->mutable_key();
  if (key->empty()) return absl::DataLossError("a single write of an empty key");
  Mutation m{std::move(*key), std::nullopt};
  if (put) m.value = std::move(*c->mutable_put()->mutable_value());
  return WriteRecord{std::move(m)};
}

CommitRecord CommitFromProto(proto::TxnCommit* t) {
  CommitRecord r{
      t->txn(), t->start_ts(), FromProto(t->mutable_writes()), FromProto(t->mutable_reads()), {}};
  r.participants.reserve(t->participants_size());
  for (const proto::TxnParticipant& p : t->participants()) {
    r.participants.push_back(ParticipantRef{p.group(), p.prepare_ts()});
  }
  return r;
}

PrepareRecord PrepareFromProto(proto::TxnPrepare* p) {
  PrepareRecord r{p->txn(),
                  p->start_ts(),
                  p->coordinator(),
                  FromProto(p->mutable_writes()),
                  FromProto(p->mutable_reads()),
                  {}};
  for (proto::KeySpan& span : *p->mutable_read_ranges()) {
    r.read_ranges.push_back(
        KeyRange{std::move(*span.mutable_start()), std::move(*span.mutable_end())});
  }
  return r;
}

absl::StatusOr<RecordBody> BodyFromProto(proto::TabletCommand* c) {
  switch (c->op_case()) {
    case proto::TabletCommand::kPut:
    case proto::TabletCommand::kDelete:
      return WriteFromProto(c->op_case() == proto::TabletCommand::kPut, c);
    case proto::TabletCommand::kTxnCommit:
      return CommitFromProto(c->mutable_txn_commit());
    case proto::TabletCommand::kTxnPrepare:
      return PrepareFromProto(c->mutable_txn_prepare());
    case proto::TabletCommand::kTxnFinish:
      return FinishRecord{c->txn_finish().txn(), c->txn_finish().committed(),
                          c->txn_finish().txn_commit_ts()};
    case proto::TabletCommand::kTxnAbort:
      return AbortRecord{
          c->txn_abort().txn(),
          {c->txn_abort().participants().begin(), c->txn_abort().participants().end()}};
    case proto::TabletCommand::kSafeTime:
      return SafeTimeRecord{{c->safe_time().forget().begin(), c->safe_time().forget().end()}};
    case proto::TabletCommand::kOwnership:
      return OwnershipFromProto(c->mutable_ownership());
    case proto::TabletCommand::OP_NOT_SET:
      break;
  }
  return absl::DataLossError("no operation");
}

std::string MutationsToString(const std::vector<Mutation>& writes) {
  return absl::StrJoin(writes, ",", [](std::string* out, const Mutation& m) {
    absl::StrAppend(out, absl::CEscape(m.key), "=",
                    m.value.has_value() ? absl::CEscape(*m.value) : "<delete>");
  });
}

std::string KeysToString(const std::vector<std::string>& keys) {
  return absl::StrJoin(keys, ",", [](std::string* out, const std::string& k) {
    absl::StrAppend(out, absl::CEscape(k));
  });
}

// The op's name and fields, for RecordToString.
struct Describe {
  std::string operator()(const WriteRecord& r) const {
    return absl::StrCat(r.write.value.has_value() ? "put " : "delete ",
                        MutationsToString({r.write}));
  }
  std::string operator()(const CommitRecord& r) const {
    return absl::StrCat("commit txn=", r.txn, " start=", r.start_ts, " writes=[",
                        MutationsToString(r.writes), "] reads=[", KeysToString(r.reads),
                        "] participants=[",
                        absl::StrJoin(r.participants, ",",
                                      [](std::string* out, const ParticipantRef& p) {
                                        absl::StrAppend(out, p.group, "@", p.prepare_ts);
                                      }),
                        "]");
  }
  std::string operator()(const PrepareRecord& r) const {
    return absl::StrCat("prepare txn=", r.txn, " start=", r.start_ts,
                        " coordinator=", r.coordinator, " writes=[", MutationsToString(r.writes),
                        "] reads=[", KeysToString(r.reads), "]",
                        r.read_ranges.empty() ? "" : " read_ranges=[",
                        absl::StrJoin(r.read_ranges, ",",
                                      [](std::string* out, const KeyRange& range) {
                                        absl::StrAppend(out, absl::CEscape(range.start), "-",
                                                        absl::CEscape(range.end));
                                      }),
                        r.read_ranges.empty() ? "" : "]");
  }
  std::string operator()(const FinishRecord& r) const {
    return r.committed ? absl::StrCat("finish txn=", r.txn, " committed@", r.commit_ts)
                       : absl::StrCat("finish txn=", r.txn, " aborted");
  }
  std::string operator()(const AbortRecord& r) const {
    return absl::StrCat("abort txn=", r.txn, " participants=[", absl::StrJoin(r.participants, ","),
                        "]");
  }
  std::string operator()(const OwnershipRecord& r) const {
    static constexpr const char* kOps[] = {"ingest", "release", "adopt", "drop"};
    return absl::StrCat(
        "ownership ", kOps[static_cast<int>(r.op)], " claims=[",
        absl::StrJoin(r.claims, ",",
                      [](std::string* out, const RangeClaim& c) {
                        absl::StrAppend(out, "[", absl::CEscape(c.start), ",",
                                        c.end.empty() ? "+inf" : absl::CEscape(c.end), ")@",
                                        c.generation);
                      }),
        "] versions=", r.versions.size(), " horizon=", r.horizon, " limit=", r.limit);
  }
  std::string operator()(const SafeTimeRecord& r) const {
    return r.forget.empty() ? "safe_time"
                            : absl::StrCat("safe_time forget=[", absl::StrJoin(r.forget, ","), "]");
  }
};

}  // namespace

std::string EncodeRecord(Record record) {
  proto::TabletCommand c;
  c.set_commit_ts(record.ts);
  std::visit(ToCommand{&c}, record.body);
  return c.SerializeAsString();
}

absl::StatusOr<Record> DecodeRecord(std::string_view bytes) {
  proto::TabletCommand c;
  if (!c.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("not a tablet record");
  }
  if (c.commit_ts() <= 0) {
    return absl::DataLossError(absl::StrCat("timestamp ", c.commit_ts(), " is not positive"));
  }
  absl::StatusOr<RecordBody> body = BodyFromProto(&c);
  if (!body.ok()) return body.status();
  return Record{c.commit_ts(), *std::move(body)};
}

std::string RecordToString(const Record& record) {
  std::string body = std::visit(Describe{}, record.body);
  const size_t space = body.find(' ');
  const std::string ts = absl::StrCat(" ts=", record.ts);
  if (space == std::string::npos) return body + ts;
  return body.insert(space, ts);
}

}  // namespace meridian::txn
