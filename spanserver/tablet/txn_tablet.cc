// TxnTablet implementation; see txn_tablet.h.
#include "spanserver/tablet/txn_tablet.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <iterator>
#include <map>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/check.h"
#include "common/key_encoding.h"
#include "common/status_macros.h"
#include "proto/kv.pb.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/format.h"
#include "spanserver/storage/write_batch.h"
#include "spanserver/tablet/tablet.h"
#include "truetime/truetime.h"
#include "txn/records.h"

namespace meridian::tablet {
namespace {

constexpr char kOwnershipResultTag[] = "ownership:";

std::vector<std::string_view> KeysOf(const std::vector<txn::Mutation>& writes,
                                     const std::vector<std::string>& reads) {
  std::vector<std::string_view> keys(reads.begin(), reads.end());
  for (const txn::Mutation& m : writes) keys.push_back(m.key);
  return keys;
}

bool IsOwnershipEntry(const paxos::Entry& entry) {
  if (entry.type != paxos::EntryType::kNormal) return false;
  absl::StatusOr<txn::Record> record = txn::DecodeRecord(entry.command);
  return record.ok() && std::holds_alternative<txn::OwnershipRecord>(record->body);
}

}  // namespace

absl::StatusOr<TxnTablet::OwnershipResult> TxnTablet::DecodeOwnershipResult(
    std::string_view bytes) {
  OwnershipResult out;
  int refused = 0;
  absl::string_view result(bytes.data(), bytes.size());
  if (!absl::ConsumePrefix(&result, kOwnershipResultTag) ||
      std::sscanf(std::string(result).c_str(), "%d:%" SCNd64 ":%" SCNu64, &refused, &out.ts,
                  &out.erased) != 3) {
    return absl::InternalError(absl::StrCat("not an ownership record's result: ", result));
  }
  out.refused = refused != 0;
  return out;
}

// The manager's Store over the engine. While a batch is set (ApplyToBatch), writes go into it
// and into `pending_`, the versions written to batches the host has not written yet; reads look
// there first. Records apply in increasing timestamp order, so a pending version of a key is
// newer than any the engine holds, and the newest pending one at or below a read's timestamp is
// the answer when there is one.
class TxnTablet::EngineStore : public txn::Store {
 public:
  EngineStore(uint64_t tablet, storage::Engine* engine) : tablet_(tablet), engine_(engine) {}

  absl::StatusOr<std::optional<std::string>> Get(std::string_view key,
                                                 truetime::Timestamp ts) override {
    if (auto it = pending_.find(absl::string_view(key.data(), key.size())); it != pending_.end()) {
      auto version = it->second.upper_bound(ts);
      if (version != it->second.begin()) return std::prev(version)->second;
    }
    return engine_->Get(tablet_, key, ts);
  }

  // The engine's rows merged with the pending versions: a key's pending version at or below `ts`
  // is newer than any the engine holds, so it decides (a delete hides the key). Each pending key
  // hides at most one engine row, so `limit` plus their number of engine rows is enough.
  absl::StatusOr<std::vector<txn::Row>> Scan(std::string_view start, std::string_view end,
                                             truetime::Timestamp ts, size_t limit) override {
    std::map<std::string, std::optional<std::string>> overlay;  // the pending keys in range
    for (const auto& [key, versions] : pending_) {
      if (!txn::InRange(key, start, end)) continue;
      auto version = versions.upper_bound(ts);
      if (version != versions.begin()) overlay.emplace(key, std::prev(version)->second);
    }
    ASSIGN_OR_RETURN(std::vector<storage::KeyValue> engine,
                     engine_->Scan(tablet_, start, end, ts, limit + overlay.size()));
    std::vector<txn::Row> rows;
    auto pending = overlay.begin();
    auto emit = [&](const std::string& key, const std::optional<std::string>& value) {
      if (value.has_value() && rows.size() < limit) rows.push_back(txn::Row{key, *value});
    };
    for (storage::KeyValue& kv : engine) {
      for (; pending != overlay.end() && pending->first < kv.key; ++pending) {
        emit(pending->first, pending->second);
      }
      if (pending != overlay.end() && pending->first == kv.key) {
        emit(pending->first, pending->second);
        ++pending;
        continue;
      }
      emit(kv.key, kv.value);
    }
    // Pending keys past the engine's last row count only when the engine had no more rows.
    if (engine.size() < limit + overlay.size()) {
      for (; pending != overlay.end(); ++pending) emit(pending->first, pending->second);
    }
    return rows;
  }

  absl::Status Write(truetime::Timestamp ts, const std::vector<txn::Mutation>& writes) override {
    storage::WriteBatch own;
    storage::WriteBatch* batch = batch_ != nullptr ? batch_ : &own;
    for (const txn::Mutation& m : writes) {
      if (m.value.has_value()) {
        batch->Put(tablet_, m.key, ts, *m.value);
      } else {
        batch->Delete(tablet_, m.key, ts);
      }
      if (batch_ != nullptr) pending_[m.key][ts] = m.value;
    }
    if (batch_ != nullptr || own.empty()) return absl::OkStatus();
    return engine_->Write(own, /*sync=*/false);
  }

  // Range moves: copied versions, each at its own timestamp. They are older than versions the
  // engine may already hold for the key only when a retried copy repeats them (the same bytes).
  absl::Status WriteVersions(const std::vector<txn::Version>& versions) override {
    storage::WriteBatch own;
    storage::WriteBatch* batch = batch_ != nullptr ? batch_ : &own;
    for (const txn::Version& v : versions) {
      if (v.value.has_value()) {
        batch->Put(tablet_, v.key, v.ts, *v.value);
      } else {
        batch->Delete(tablet_, v.key, v.ts);
      }
      if (batch_ != nullptr) pending_[v.key][v.ts] = v.value;
    }
    if (batch_ != nullptr || own.empty()) return absl::OkStatus();
    return engine_->Write(own, /*sync=*/false);
  }

  absl::StatusOr<uint64_t> EraseVersions(std::string_view start, std::string_view end,
                                         uint64_t limit) override {
    const std::string lo = storage::format::UserKeyPrefix(tablet_, start);
    const std::string hi = end.empty()
                               ? keyenc::PrefixSuccessor(storage::format::TabletDataPrefix(tablet_))
                               : storage::format::UserKeyPrefix(tablet_, end);
    storage::WriteBatch own;
    storage::WriteBatch* batch = batch_ != nullptr ? batch_ : &own;
    ASSIGN_OR_RETURN(const size_t n, engine_->EraseRange(lo, hi, limit, batch));
    if (batch_ == nullptr && !own.empty()) RETURN_IF_ERROR(engine_->Write(own, /*sync=*/false));
    return n;
  }

  absl::Status RaiseHorizon(truetime::Timestamp horizon) override {
    if (engine_->GcHorizon(tablet_) >= horizon) return absl::OkStatus();
    return engine_->CollectGarbage(tablet_, horizon).status();
  }

  // The oldest timestamp among versions not in the engine yet (kMaxTimestamp when none).
  truetime::Timestamp MinPendingTs() const {
    truetime::Timestamp min = truetime::kMaxTimestamp;
    for (const auto& [key, versions] : pending_) {
      if (!versions.empty()) min = std::min(min, versions.begin()->first);
    }
    return min;
  }

  void set_batch(storage::WriteBatch* batch) { batch_ = batch; }
  // The batches written so far are in the engine.
  void Written() { pending_.clear(); }

 private:
  const uint64_t tablet_;
  storage::Engine* const engine_;
  storage::WriteBatch* batch_ = nullptr;
  // key -> timestamp -> value (nullopt: a delete), of writes not in the engine yet.
  absl::flat_hash_map<std::string, std::map<truetime::Timestamp, std::optional<std::string>>>
      pending_;
};

TxnTablet::TxnTablet(uint64_t group, storage::Engine* engine, truetime::TrueTime* truetime,
                     const txn::TransactionManagerOptions& options, Hooks hooks)
    : group_(group),
      engine_(engine),
      truetime_(truetime),
      options_(options),
      hooks_(std::move(hooks)),
      guard_(group, hooks_.map_generation, options.guard),
      store_(std::make_unique<EngineStore>(group, engine)),
      manager_(std::make_unique<txn::TransactionManager>(group, store_.get(), options)),
      safe_time_lag_(&metrics::DefaultRegistry().AddGauge(
          "meridian_safe_time_lag_seconds",
          "How far this replica's safe time (t_safe) trails TT.now().latest, per group: a "
          "snapshot read at a timestamp above t_safe waits here.",
          {{"group", std::to_string(group)}})) {}

TxnTablet::~TxnTablet() = default;

void TxnTablet::Bind(paxos::Replica* replica) {
  // The manager is fresh or restored from the checkpoint the replica continues after.
  replica_ = replica;
  store_->Written();
  FailAll();
}

std::optional<std::string> TxnTablet::Checkpoint() {
  if (restoring_) return std::nullopt;
  return manager_->Checkpoint();
}

absl::Status TxnTablet::Restore(std::string_view image) {
  auto manager = std::make_unique<txn::TransactionManager>(group_, store_.get(), options_);
  RETURN_IF_ERROR(manager->Restore(image));
  manager_ = std::move(manager);
  store_->Written();
  restoring_ = false;
  return absl::OkStatus();
}

std::vector<replication::KeyRange> TxnTablet::DataRanges() const {
  const std::string data = storage::format::TabletDataPrefix(group_);
  const std::string horizon = storage::format::HorizonKey(group_);
  return {{data, keyenc::PrefixSuccessor(data)}, {horizon, horizon + '\0'}};
}

void TxnTablet::BeginRestore() {
  restoring_ = true;
  FailAll();
}

bool TxnTablet::RefuseWhileRestoring(ReplyFn& done) {
  if (!restoring_) return false;
  txn::Reply r;
  r.status = absl::UnavailableError("this replica is installing a snapshot; try another");
  done(std::move(r));
  return true;
}

absl::StatusOr<std::string> TxnTablet::Apply(const paxos::Entry& entry) {
  absl::StatusOr<truetime::Interval> now = truetime_->Now();
  if (!now.ok()) return now.status();
  return ApplyToBatch(entry, nullptr, *now);
}

absl::StatusOr<std::string> TxnTablet::ApplyToBatch(const paxos::Entry& entry,
                                                    storage::WriteBatch* batch,
                                                    truetime::Interval now) {
  CHECK_MSG(replica_ != nullptr, "TxnTablet applied an entry before Bind");
  store_->set_batch(batch);
  txn::Actions actions;
  absl::StatusOr<txn::ApplyResult> result = manager_->Apply(*replica_, entry, now, &actions);
  store_->set_batch(nullptr);
  if (!result.ok()) return result.status();
  Dispatch(std::move(actions));
  if (result->kind == txn::ApplyResult::Kind::kWrite) return EncodeApplyResult(result->ts);
  if (result->kind == txn::ApplyResult::Kind::kOwnership ||
      result->kind == txn::ApplyResult::Kind::kRefused ||
      (result->kind == txn::ApplyResult::Kind::kIgnored && IsOwnershipEntry(entry))) {
    const bool refused = result->kind == txn::ApplyResult::Kind::kRefused;
    return absl::StrCat(kOwnershipResultTag, refused ? 1 : 0, ":", result->ts, ":", result->txn);
  }
  return std::string();
}

truetime::Timestamp TxnTablet::ExportBound() const {
  const truetime::Timestamp pending = store_->MinPendingTs();
  return std::min(manager_->SafeTime(), pending == truetime::kMaxTimestamp ? pending : pending - 1);
}

void TxnTablet::Written() { store_->Written(); }

void TxnTablet::Tick(paxos::Replica& replica, truetime::Interval now) {
  if (restoring_) return;
  txn::Actions actions;
  manager_->Tick(replica, now, &actions);
  Dispatch(std::move(actions));
  PublishMetrics(now);
}

void TxnTablet::PublishMetrics(truetime::Interval now) {
  static metrics::Counter& lock_waits = metrics::DefaultRegistry().AddCounter(
      "meridian_lock_waits_total",
      "Lock requests that had to wait behind a conflicting lock (wound-wait), counted at the "
      "group leaders' ticks.");
  const truetime::Timestamp safe = manager_->SafeTime();
  if (safe > 0)
    safe_time_lag_->Set(static_cast<double>(std::max<int64_t>(0, now.latest - safe)) / 1e6);
  // A new leadership starts a new lock table, whose count starts again from 0.
  const uint64_t waits = manager_->lock_waits();
  lock_waits.Increment(waits >= lock_waits_seen_ ? waits - lock_waits_seen_ : waits);
  lock_waits_seen_ = waits;
}

txn::RequestId TxnTablet::Register(ReplyFn done) {
  const txn::RequestId id = next_id_++;
  waiting_.emplace(id, std::move(done));
  return id;
}

void TxnTablet::Dispatch(txn::Actions actions) {
  for (txn::Reply& reply : actions.replies) {
    auto it = waiting_.find(reply.id);
    if (it == waiting_.end()) continue;
    ReplyFn done = std::move(it->second);
    waiting_.erase(it);
    done(std::move(reply));
  }
  if (hooks_.send) {
    for (const txn::GroupMessage& m : actions.messages) hooks_.send(m);
  }
  if (actions.tick_after != 0 && hooks_.tick_after) hooks_.tick_after(actions.tick_after);
}

void TxnTablet::FailAll() {
  std::map<txn::RequestId, ReplyFn> waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& [id, done] : waiting) {
    txn::Reply r;
    r.id = id;
    r.status = absl::UnavailableError("the group's replica restarted or stopped");
    r.outcome_unknown = true;
    done(std::move(r));
  }
}

void TxnTablet::Read(paxos::Replica& r, truetime::Interval now, const txn::ReadRequest& req,
                     ReplyFn done) {
  if (RefuseWhileRestoring(done)) return;
  if (RefuseKeys(now, {req.keys.begin(), req.keys.end()}, true, done)) return;
  if (req.scan.has_value() && RefuseRanges(now, {req.scan->range}, true, done)) return;
  txn::Actions a;
  manager_->Read(r, now, Register(std::move(done)), req, &a);
  Dispatch(std::move(a));
}

void TxnTablet::Prepare(paxos::Replica& r, truetime::Interval now, const txn::PrepareRequest& req,
                        ReplyFn done) {
  if (RefuseWhileRestoring(done)) return;
  if (RefuseKeys(now, KeysOf(req.writes, req.reads), true, done)) return;
  if (RefuseRanges(now, req.read_ranges, true, done)) return;
  txn::Actions a;
  manager_->Prepare(r, now, Register(std::move(done)), req, &a);
  Dispatch(std::move(a));
}

void TxnTablet::Commit(paxos::Replica& r, truetime::Interval now, const txn::CommitRequest& req,
                       ReplyFn done) {
  if (RefuseWhileRestoring(done)) return;
  if (RefuseKeys(now, KeysOf(req.writes, req.reads), true, done)) return;
  if (RefuseRanges(now, req.read_ranges, true, done)) return;
  txn::Actions a;
  manager_->Commit(r, now, Register(std::move(done)), req, &a);
  Dispatch(std::move(a));
}

void TxnTablet::ReadOnly(paxos::Replica& r, truetime::Interval now, const txn::ReadOnlyRequest& req,
                         ReplyFn done) {
  if (RefuseWhileRestoring(done)) return;
  if (RefuseKeys(now, {req.keys.begin(), req.keys.end()}, false, done)) return;
  if (req.scan.has_value() && RefuseRanges(now, {req.scan->range}, false, done)) return;
  txn::Actions a;
  manager_->ReadOnly(r, now, Register(std::move(done)), req, &a);
  Dispatch(std::move(a));
}

void TxnTablet::SnapshotRead(paxos::Replica& r, truetime::Interval now,
                             const txn::SnapshotReadRequest& req, ReplyFn done) {
  if (RefuseWhileRestoring(done)) return;
  if (RefuseKeys(now, {req.keys.begin(), req.keys.end()}, false, done)) return;
  if (req.scan.has_value() && RefuseRanges(now, {req.scan->range}, false, done)) return;
  txn::Actions a;
  manager_->SnapshotRead(r, now, Register(std::move(done)), req, &a);
  Dispatch(std::move(a));
}

void TxnTablet::Abort(paxos::Replica& r, truetime::Interval now, const txn::AbortRequest& req) {
  if (restoring_) return;
  txn::Actions a;
  manager_->Abort(r, now, req, &a);
  Dispatch(std::move(a));
}

absl::Status TxnTablet::Keepalive(txn::TxnId txn, truetime::Interval now) {
  if (restoring_) return absl::UnavailableError("this replica is installing a snapshot");
  return manager_->Keepalive(txn, now);
}

void TxnTablet::Receive(paxos::Replica& r, truetime::Interval now,
                        const txn::GroupMessage& message) {
  if (restoring_) return;
  txn::Actions a;
  manager_->Receive(r, now, message, &a);
  Dispatch(std::move(a));
}

}  // namespace meridian::tablet
