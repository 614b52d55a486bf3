// The log-record grammar of records.h: every kind round-trips, the bytes are the
// proto::TabletCommand the grammar names (logs written before this code must still read), and
// malformed records are DATA_LOSS.
#include "txn/records.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proto/kv.pb.h"
#include "txn/transaction_manager.h"

namespace meridian::txn {
namespace {

std::vector<Record> EveryKind() {
  return {
      Record{5, WriteRecord{Mutation{"k", "v"}}},
      Record{6, WriteRecord{Mutation{"k", std::nullopt}}},
      Record{7, WriteRecord{Mutation{"k", ""}}},  // a put of an empty value, not a delete
      Record{8, CommitRecord{9,
                             3,
                             {Mutation{"a", "1"}, Mutation{"b", std::nullopt}},
                             {"r1", std::string("\0r2", 3)},
                             {ParticipantRef{2, 6}, ParticipantRef{3, 7}}}},
      Record{9, CommitRecord{10, 4, {}, {}, {}}},
      Record{10, PrepareRecord{11, 2, 1, {Mutation{"p", "q"}}, {"p", "r"}}},
      Record{10, PrepareRecord{12, 2, 1, {}, {}, {KeyRange{"a", "m"}, KeyRange{"x", ""}}}},
      Record{11, FinishRecord{11, true, 9}},
      Record{12, FinishRecord{12, false, 0}},
      Record{13, AbortRecord{14, {2, 3}}},
      Record{14, AbortRecord{15, {}}},
      Record{15, SafeTimeRecord{}},
      Record{16, SafeTimeRecord{{9, 10}}},
      Record{17, OwnershipRecord{OwnershipRecord::Op::kIngest,
                                 {RangeClaim{"a", "m", 0}},
                                 {Version{"b", 3, "x"}, Version{"c", 4, std::nullopt}},
                                 0,
                                 0}},
      Record{18,
             OwnershipRecord{OwnershipRecord::Op::kRelease, {RangeClaim{"a", "", 5}}, {}, 0, 0}},
      Record{19, OwnershipRecord{OwnershipRecord::Op::kAdopt,
                                 {RangeClaim{"", "a", 6}, RangeClaim{"a", "m", 6}},
                                 {},
                                 12,
                                 0}},
      Record{20, OwnershipRecord{OwnershipRecord::Op::kDrop, {RangeClaim{"a", "m", 5}}, {}, 0, 99}},
  };
}

TEST(RecordsTest, EveryKindRoundTrips) {
  for (const Record& r : EveryKind()) {
    absl::StatusOr<Record> back = DecodeRecord(EncodeRecord(r));
    ASSERT_TRUE(back.ok()) << RecordToString(r) << ": " << back.status();
    EXPECT_EQ(*back, r) << RecordToString(r) << " came back as " << RecordToString(*back);
  }
}

// The bytes are the TabletCommand of proto/kv.proto, field for field.
TEST(RecordsTest, BytesAreTheTabletCommandTheGrammarNames) {
  proto::TabletCommand prepare;
  prepare.set_commit_ts(10);
  proto::TxnPrepare* p = prepare.mutable_txn_prepare();
  p->set_txn(11);
  p->set_start_ts(2);
  p->set_coordinator(1);
  proto::Mutation* m = p->add_writes();
  m->set_key("p");
  m->set_value("q");
  p->add_reads("p");
  EXPECT_EQ(EncodeRecord(Record{10, PrepareRecord{11, 2, 1, {Mutation{"p", "q"}}, {"p"}}}),
            prepare.SerializeAsString());

  proto::TabletCommand del;
  del.set_commit_ts(6);
  del.mutable_delete_()->set_key("k");
  EXPECT_EQ(EncodeRecord(Record{6, WriteRecord{Mutation{"k", std::nullopt}}}),
            del.SerializeAsString());

  proto::TabletCommand forget;
  forget.set_commit_ts(16);
  forget.mutable_safe_time()->add_forget(9);
  EXPECT_EQ(EncodeRecord(Record{16, SafeTimeRecord{{9}}}), forget.SerializeAsString());

  proto::TabletCommand safe;
  safe.set_commit_ts(15);
  safe.mutable_safe_time();
  EXPECT_EQ(EncodeSafeTimeRecord(15), safe.SerializeAsString());
}

TEST(RecordsTest, AMutationMarkedDeleteHasNoValueWhateverItCarries) {
  proto::TabletCommand c;
  c.set_commit_ts(4);
  proto::Mutation* m = c.mutable_txn_commit()->add_writes();
  m->set_key("k");
  m->set_value("ignored");
  m->set_is_delete(true);
  absl::StatusOr<Record> r = DecodeRecord(c.SerializeAsString());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(std::get<CommitRecord>(r->body).writes, (std::vector<Mutation>{{"k", std::nullopt}}));
}

TEST(RecordsTest, MalformedRecordsAreDataLoss) {
  proto::TabletCommand no_op;
  no_op.set_commit_ts(5);
  proto::TabletCommand zero_ts;
  zero_ts.mutable_put()->set_key("k");
  proto::TabletCommand negative_ts;
  negative_ts.set_commit_ts(-1);
  negative_ts.mutable_safe_time();
  proto::TabletCommand empty_put;
  empty_put.set_commit_ts(5);
  empty_put.mutable_put()->set_value("v");
  proto::TabletCommand empty_delete;
  empty_delete.set_commit_ts(5);
  empty_delete.mutable_delete_();
  const std::string bad[] = {
      "\xff\xff garbage",
      no_op.SerializeAsString(),
      zero_ts.SerializeAsString(),
      negative_ts.SerializeAsString(),
      empty_put.SerializeAsString(),
      empty_delete.SerializeAsString(),
      "",  // every field left out: no timestamp, no op
  };
  for (const std::string& bytes : bad) {
    absl::StatusOr<Record> r = DecodeRecord(bytes);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  }
}

TEST(RecordsTest, RecordToStringNamesTheKindAndItsFields) {
  EXPECT_EQ(RecordToString(Record{10, PrepareRecord{11, 2, 1, {Mutation{"p", "q"}}, {"p"}}}),
            "prepare ts=10 txn=11 start=2 coordinator=1 writes=[p=q] reads=[p]");
  EXPECT_EQ(
      RecordToString(Record{8, CommitRecord{9, 3, {Mutation{"a", std::nullopt}}, {}, {{2, 6}}}}),
      "commit ts=8 txn=9 start=3 writes=[a=<delete>] reads=[] participants=[2@6]");
  EXPECT_EQ(RecordToString(Record{11, FinishRecord{11, true, 9}}),
            "finish ts=11 txn=11 committed@9");
  EXPECT_EQ(RecordToString(Record{13, AbortRecord{14, {2, 3}}}),
            "abort ts=13 txn=14 participants=[2,3]");
  EXPECT_EQ(RecordToString(Record{15, SafeTimeRecord{}}), "safe_time ts=15");
  EXPECT_EQ(RecordToString(Record{5, WriteRecord{Mutation{"k\n", "v"}}}), "put ts=5 k\\n=v");
}

}  // namespace
}  // namespace meridian::txn
