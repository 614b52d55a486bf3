// fuzz_seed_gen: writes the seed corpora of tests/fuzz/ from the real encoders, so that the seeds
// are what the code writes today. Usage: fuzz_seed_gen <corpus dir> (tests/fuzz/corpus); it
// (re)writes <dir>/<harness>/seed-<name> and leaves every other file (regression inputs found by
// fuzzing, named after their finding) alone. Each harness's first input byte picks its decoder;
// the seeds below start with that byte.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "common/key_encoding.h"
#include "proto/paxos.pb.h"
#include "replication/group_log_storage.h"
#include "replication/paxos_wire.h"
#include "replication/snapshot.h"
#include "spanserver/paxos/codec.h"
#include "spanserver/paxos/replica_marker.h"
#include "spanserver/storage/format.h"
#include "txn/checkpoint.h"
#include "txn/records.h"

namespace meridian {
namespace {

class Writer {
 public:
  explicit Writer(std::filesystem::path root) : root_(std::move(root)) {}

  void Seed(const std::string& harness, const std::string& name, const std::string& bytes) {
    const std::filesystem::path dir = root_ / harness;
    std::filesystem::create_directories(dir);
    std::ofstream out(dir / ("seed-" + name), std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ++written_;
  }
  // A seed of a harness whose first byte picks the decoder.
  void Seed(const std::string& harness, const std::string& name, char selector,
            const std::string& bytes) {
    Seed(harness, name, std::string(1, selector) + bytes);
  }
  int written() const { return written_; }

 private:
  std::filesystem::path root_;
  int written_ = 0;
};

// ---- paxos_frame: framed PaxosBatches as TcpTransport writes them. The harness's group has
// replicas 1..3 of group 7; replica 1 leads under ballot (1, 1) and has committed slots 1..3.

std::string Frame(const std::vector<paxos::Message>& messages) {
  proto::PaxosBatch batch;
  batch.set_from_server(2);
  batch.set_to_server(1);
  batch.set_protocol_version(4);
  for (const paxos::Message& m : messages) *batch.add_messages() = replication::ToProto(m);
  const std::string body = batch.SerializeAsString();
  const uint32_t n = static_cast<uint32_t>(body.size());
  std::string out{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                  static_cast<char>(n)};
  return out + body;
}

paxos::Message Msg(paxos::MessageType type, paxos::ReplicaId from, paxos::ReplicaId to,
                   paxos::Ballot ballot) {
  paxos::Message m;
  m.type = type;
  m.group = 7;
  m.from = from;
  m.to = to;
  m.ballot = ballot;
  return m;
}

paxos::Entry Entry(paxos::Index index, paxos::Ballot ballot, paxos::EntryType type,
                   std::string command) {
  return paxos::Entry{.index = index, .ballot = ballot, .type = type, .command = command};
}

void PaxosFrameSeeds(Writer& w) {
  using paxos::MessageType;
  const paxos::Ballot leader{1, 1}, rival{2, 2};
  paxos::Message prepare = Msg(MessageType::kPrepare, 2, 3, rival);
  prepare.index = 4;
  prepare.lease_seq = 1;
  w.Seed("paxos_frame", "prepare", Frame({prepare}));

  paxos::Message heartbeat = Msg(MessageType::kAccept, 1, 2, leader);
  heartbeat.commit = 3;
  heartbeat.lease_seq = 9;
  w.Seed("paxos_frame", "heartbeat", Frame({heartbeat}));

  paxos::Message accept = Msg(MessageType::kAccept, 2, 3, rival);
  accept.commit = 3;
  accept.entries = {Entry(4, rival, paxos::EntryType::kNormal, "gamma"),
                    Entry(5, rival, paxos::EntryType::kNoop, "")};
  w.Seed("paxos_frame", "accept", Frame({accept}));

  paxos::Message config = Msg(MessageType::kAccept, 1, 3, leader);
  config.commit = 3;
  config.entries = {Entry(4, leader, paxos::EntryType::kConfig,
                          paxos::EncodeConfig(paxos::Config{{1, 2, 3}, {4}}))};
  w.Seed("paxos_frame", "accept-config", Frame({config}));

  paxos::Message promise = Msg(MessageType::kPromise, 2, 1, leader);
  promise.index = 1;
  promise.commit = 3;
  promise.lease_seq = 1;
  promise.lease_granted = true;
  promise.entries = {Entry(1, leader, paxos::EntryType::kNoop, ""),
                     Entry(2, leader, paxos::EntryType::kNormal, "alpha")};
  paxos::Message accepted = Msg(MessageType::kAccepted, 3, 1, leader);
  accepted.match = 3;
  accepted.lease_seq = 2;
  accepted.lease_granted = true;
  w.Seed("paxos_frame", "promise-accepted", Frame({promise, accepted}));

  paxos::Message reject = Msg(MessageType::kAccepted, 2, 1, leader);
  reject.reject = true;
  reject.promised = rival;
  paxos::Message timeout = Msg(MessageType::kTimeoutNow, 1, 2, leader);
  paxos::Message transfer = Msg(MessageType::kPrepare, 2, 3, rival);
  transfer.transfer_from = leader;
  transfer.index = 4;
  w.Seed("paxos_frame", "two-frames", Frame({reject}) + Frame({timeout, transfer}));

  paxos::Message snapshot = Msg(MessageType::kAccept, 1, 2, leader);
  snapshot.commit = 3;
  snapshot.snapshot = 2;
  w.Seed("paxos_frame", "snapshot-hint", Frame({snapshot}));
}

// ---- paxos_codec: selector 0 entry, 1 hard state, 2 config, 3 replica marker.

void PaxosCodecSeeds(Writer& w) {
  const paxos::Ballot b{5, 2};
  w.Seed("paxos_codec", "entry-normal", 0,
         paxos::EncodeEntry(Entry(9, b, paxos::EntryType::kNormal, "put k v")));
  w.Seed("paxos_codec", "entry-noop", 0,
         paxos::EncodeEntry(Entry(9, b, paxos::EntryType::kNoop, "")));
  w.Seed("paxos_codec", "entry-config", 0,
         paxos::EncodeEntry(Entry(9, b, paxos::EntryType::kConfig,
                                  paxos::EncodeConfig(paxos::Config{{1, 2, 3}, {}}))));
  paxos::HardState hs;
  hs.promised = b;
  hs.members = {1, 2, 3};
  hs.learners = {4};
  hs.config_index = 12;
  w.Seed("paxos_codec", "hard-state", 1, paxos::EncodeHardState(hs));
  // Version 1 (voters alone), which the decoder still reads: built by hand, as no encoder
  // writes it any more.
  paxos::HardState promised_only;
  promised_only.promised = b;
  std::string v1 = paxos::EncodeHardState(promised_only);
  v1 = std::string(1, '\x01') + v1.substr(1, 16) + std::string("\x02\0\0\0", 4) +
       std::string("\x01\0\0\0\0\0\0\0\x02\0\0\0\0\0\0\0", 16);
  w.Seed("paxos_codec", "hard-state-v1", 1, v1);
  w.Seed("paxos_codec", "config", 2, paxos::EncodeConfig(paxos::Config{{1, 2, 3}, {4, 5}}));
  w.Seed("paxos_codec", "marker", 3,
         paxos::EncodeReplicaMarker(paxos::ReplicaMarker{7, 2, 0x1234abcd}));
}

// ---- storage_format: selector 0 data key, 1 data value, 2 log key, 3 tagged keys and horizon
// value, 4 key-encoded components, 5 write-batch operations.

void StorageFormatSeeds(Writer& w) {
  namespace format = storage::format;
  w.Seed("storage_format", "data-key", 0, format::DataKey(3, std::string("k\0y", 3), 1700));
  w.Seed("storage_format", "put-value", 1, format::PutValue("value"));
  w.Seed("storage_format", "tombstone", 1, format::TombstoneValue());
  w.Seed("storage_format", "log-key", 2, format::LogKey(7, 42));
  w.Seed("storage_format", "hard-state-key", 3, format::HardStateKey(7));
  w.Seed("storage_format", "horizon-key", 3, format::HorizonKey(3));
  w.Seed("storage_format", "horizon-value", 3, format::HorizonValue(-5));
  std::string components;
  components += '\x00';
  keyenc::AppendBytes(&components, std::string("a\0b", 3));
  components += '\x01';
  keyenc::AppendUint64(&components, 99);
  components += '\x02';
  keyenc::AppendInt64(&components, -1);
  components += '\x03';
  keyenc::AppendDescendingInt64(&components, 1700);
  w.Seed("storage_format", "components", 4, components);
  // Operations: op byte, then length-prefixed fields (AddWrite in the harness).
  const std::string ops = std::string("\x00\x01\x03\x01k\x02\x06\xa4\x01v", 10) +
                          std::string("\x02\x01\x07\x01\x2a\x05entry", 10) +
                          std::string("\x04\x01\x07\x02hs", 6) + std::string("\x07\x01\x07", 3);
  w.Seed("storage_format", "write-batch", 5, ops);
}

// ---- txn_records: selector 0 log record, 1 txn checkpoint, 2 group checkpoint record,
// 3 compaction record.

void TxnRecordSeeds(Writer& w) {
  const auto record = [&](const std::string& name, txn::Timestamp ts, txn::RecordBody body) {
    w.Seed("txn_records", name, 0, txn::EncodeRecord(txn::Record{ts, std::move(body)}));
  };
  record("put", 10, txn::WriteRecord{{"k", "v"}});
  record("delete", 11, txn::WriteRecord{{"k", std::nullopt}});
  record("commit", 12,
         txn::CommitRecord{.txn = 5,
                           .start_ts = 3,
                           .writes = {{"a", "1"}, {"b", std::nullopt}},
                           .reads = {"c"},
                           .participants = {{2, 11}, {3, 12}}});
  record("prepare", 13,
         txn::PrepareRecord{.txn = 5,
                            .start_ts = 3,
                            .coordinator = 1,
                            .writes = {{"x", "9"}},
                            .reads = {"y"},
                            .read_ranges = {{"p", "q"}}});
  record("finish", 14, txn::FinishRecord{.txn = 5, .committed = true, .commit_ts = 12});
  record("abort", 15, txn::AbortRecord{.txn = 6, .participants = {2, 3}});
  record("safe-time", 16, txn::SafeTimeRecord{.forget = {4, 5}});
  record("ownership", 17,
         txn::OwnershipRecord{.op = txn::OwnershipRecord::Op::kIngest,
                              .claims = {{"m", "n", 2}},
                              .versions = {{"m1", 9, "v"}, {"m2", 8, std::nullopt}}});
  txn::CheckpointImage image;
  image.group = 3;
  image.applied = {.index = 20, .last_write_ts = 100, .paxos_safe = 90};
  txn::Participant::Prepared prepared;
  prepared.prepare_ts = 95;
  prepared.ref.id = 8;
  prepared.coordinator = 1;
  prepared.writes = {{"k", "v"}};
  image.participant.prepared = {prepared};
  image.participant.finished = {5, 6};
  image.decisions.decisions = {{7, txn::Decision{true, 80, {2}}}};
  image.decisions.unforgotten_commits = {7};
  image.ownership = {{"a", {.end = "m", .generation = 2, .owned = true, .ts = 50}}};
  w.Seed("txn_records", "txn-checkpoint", 1, txn::EncodeCheckpoint(image));
  w.Seed("txn_records", "txn-checkpoint-empty", 1, txn::EncodeCheckpoint(txn::CheckpointImage{}));
  w.Seed("txn_records", "group-checkpoint", 2, replication::EncodeCheckpoint(20, "image"));
  w.Seed("txn_records", "compaction", 3, replication::EncodeLegacyCompaction(17));
}

}  // namespace
}  // namespace meridian

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  meridian::Writer w(argv[1]);
  meridian::PaxosFrameSeeds(w);
  meridian::PaxosCodecSeeds(w);
  meridian::StorageFormatSeeds(w);
  meridian::TxnRecordSeeds(w);
  std::printf("wrote %d seeds under %s\n", w.written(), argv[1]);
  return 0;
}
