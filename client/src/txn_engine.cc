#include "client/src/txn_engine.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/src/retry_policy.h"
#include "client/src/router.h"
#include "common/metrics.h"

namespace meridian::client {
namespace {

using Clock = std::chrono::steady_clock;

int64_t WallMicros() { return absl::ToUnixMicros(absl::Now()); }

// splitmix64's finalizer: spreads the bits of `x`.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Differs between clients of one process and between processes, whatever their seeds.
uint64_t ClientSalt() {
  static std::atomic<uint64_t> clients{0};
  const uint64_t n = clients.fetch_add(1);
  const auto now = static_cast<uint64_t>(Clock::now().time_since_epoch().count());
  return Mix(Mix(static_cast<uint64_t>(getpid())) ^ Mix(now) ^ (n << 48));
}

void ToProto(const Mutation& m, proto::Mutation* out) {
  out->set_key(m.key);
  if (m.value.has_value()) {
    out->set_value(*m.value);
  } else {
    out->set_is_delete(true);
  }
}

// Runs fn(0..n-1), in parallel threads when n > 1.
template <typename Fn>
void ForEachParallel(size_t n, const Fn& fn) {
  if (n == 1) {
    fn(0);
    return;
  }
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (size_t i = 0; i < n; ++i) threads.emplace_back([&fn, i] { fn(i); });
  for (std::thread& t : threads) t.join();
}

// Sets the values of the keys `indexes` in `*result` from `response`.
absl::Status FillValues(const proto::SnapshotReadResponse& response,
                        const std::vector<size_t>& indexes, ReadResult* result) {
  if (static_cast<size_t>(response.values_size()) != indexes.size()) {
    return absl::InternalError(absl::StrCat("read of ", indexes.size(), " keys answered ",
                                            response.values_size(), " values"));
  }
  for (size_t j = 0; j < indexes.size(); ++j) {
    result->values[indexes[j]] = ValueOf(response.values(static_cast<int>(j)));
  }
  return absl::OkStatus();
}

// A strong read of one group: its leader picks the timestamp.
absl::Status ReadAtLeader(TxnTransport* transport, const std::vector<std::string>& keys,
                          const KeysByGroup::value_type& group_keys, SteadyTime deadline,
                          ReadResult* result) {
  const auto& [group, indexes] = group_keys;
  proto::ReadOnlyRequest request;
  for (const size_t i : indexes) request.add_keys(keys[i]);
  proto::SnapshotReadResponse response;
  absl::Status status =
      transport->ReadOnly(group, keys[indexes.front()], request, &response, deadline);
  if (status.ok()) status = FillValues(response, indexes, result);
  result->read_ts = response.read_ts();
  return status;
}

// Reads every group at one timestamp the client chose, at any of its replicas (the leader first
// as ReadLeaderFirst says).
absl::Status ReadSnapshots(TxnTransport* transport, const std::vector<std::string>& keys,
                           const KeysByGroup& by_group, const ReadOnlyOptions& options,
                           SteadyTime deadline, ReadResult* result) {
  result->read_ts = ClientReadTimestamp(options);  // strong: 0, the first server's choice
  const bool leader_first = ReadLeaderFirst(options, result->read_ts);
  for (const auto& [group, indexes] : by_group) {
    proto::SnapshotReadRequest request;
    for (const size_t i : indexes) request.add_keys(keys[i]);
    request.set_read_ts(result->read_ts);
    proto::SnapshotReadResponse response;
    absl::Status status = transport->SnapshotRead(group, keys[indexes.front()], leader_first,
                                                  request, &response, deadline);
    if (status.ok()) status = FillValues(response, indexes, result);
    if (!status.ok()) return status;
    if (result->read_ts == 0) result->read_ts = response.read_ts();
    if (response.read_ts() != result->read_ts || result->read_ts <= 0) {
      return absl::InternalError(absl::StrCat("group ", group, " read at ", response.read_ts(),
                                              ", not at the read's timestamp ", result->read_ts));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<std::string> ValueOf(const proto::ValueOrNone& v) {
  if (!v.found()) return std::nullopt;
  return v.value();
}

absl::StatusOr<KeysByGroup> LocateKeys(TxnTransport* transport,
                                       const std::vector<std::string>& keys, SteadyTime deadline) {
  KeysByGroup by_group;
  for (size_t i = 0; i < keys.size(); ++i) {
    absl::StatusOr<Location> location = transport->Locate(keys[i], deadline);
    if (!location.ok()) return location.status();
    by_group[location->group].push_back(i);
  }
  return by_group;
}

// The timestamp of a read-only read as the options give it (transaction.h "Read-only
// transactions"); 0 for a strong one, whose first server read picks its TT.now().latest (the
// client has no TrueTime of its own).
int64_t ClientReadTimestamp(const ReadOnlyOptions& options) {
  const int64_t now = WallMicros();
  switch (options.mode) {
    case ReadOnlyOptions::Mode::kStrong:
      return 0;  // the first server read picks it
    case ReadOnlyOptions::Mode::kExactTimestamp:
      return options.timestamp_us;
    case ReadOnlyOptions::Mode::kMaxStaleness:
      break;
  }
  return now - options.max_staleness.count();
}

bool ReadLeaderFirst(const ReadOnlyOptions& options, int64_t read_ts) {
  constexpr int64_t kRecentUs = 1'000'000;
  return options.mode == ReadOnlyOptions::Mode::kStrong ||
         (options.mode == ReadOnlyOptions::Mode::kExactTimestamp &&
          read_ts > WallMicros() - kRecentUs);
}

void TxnTransport::PrepareAll(std::vector<PrepareCall>& calls, SteadyTime deadline,
                              const std::function<void()>& sent) {
  if (sent) sent();
  ForEachParallel(calls.size(), [&](size_t i) {
    PrepareCall& call = calls[i];
    call.status = Prepare(call.group, call.key, call.request, &call.response, deadline);
  });
}

namespace {

// TxnTransport::StartCommit's default: Commit() on a thread of its own.
class ThreadPendingCommit final : public TxnTransport::PendingCommit {
 public:
  ThreadPendingCommit(TxnTransport* transport, uint64_t group, const std::string& key,
                      proto::TxnCommitRequest& request, proto::TxnCommitResponse* response,
                      SteadyTime deadline)
      : thread_([this, transport, group, key, &request, response, deadline] {
          status_ = transport->Commit(group, key, request, response, deadline);
        }) {}
  ~ThreadPendingCommit() override {
    if (thread_.joinable()) thread_.join();
  }
  absl::Status Finish() override {
    if (thread_.joinable()) thread_.join();
    return status_;
  }

 private:
  absl::Status status_;  // written by thread_ before it ends
  std::thread thread_;
};

}  // namespace

std::unique_ptr<TxnTransport::PendingCommit> TxnTransport::StartCommit(
    uint64_t group, const std::string& key, proto::TxnCommitRequest& request,
    proto::TxnCommitResponse* response, SteadyTime deadline) {
  return std::make_unique<ThreadPendingCommit>(this, group, key, request, response, deadline);
}

}  // namespace meridian::client

namespace meridian {

// --- Transaction (the public handle) ---

absl::StatusOr<std::optional<std::string>> Transaction::Get(std::string_view key) {
  return attempt_->Get(key);
}
absl::StatusOr<std::optional<std::string>> Transaction::GetForUpdate(std::string_view key) {
  return attempt_->Get(key, /*for_update=*/true);
}
absl::StatusOr<std::vector<std::optional<std::string>>> Transaction::GetMany(
    const std::vector<std::string>& keys, bool for_update) {
  return attempt_->GetMany(keys, for_update);
}
void Transaction::LimitCommitTimestamp(int64_t max_ts) { attempt_->LimitCommitTimestamp(max_ts); }
void Transaction::Put(std::string_view key, std::string_view value) { attempt_->Put(key, value); }
void Transaction::Delete(std::string_view key) { attempt_->Delete(key); }
uint64_t Transaction::id() const { return attempt_->id(); }
int64_t Transaction::start_ts() const { return attempt_->start_ts(); }
int Transaction::attempt() const { return attempt_->attempt(); }

absl::Status ValidateTransactionOptions(const TransactionOptions& options) {
  if (options.deadline.count() <= 0) {
    return absl::InvalidArgumentError("transaction deadline must be positive");
  }
  if (options.max_attempts <= 0) {
    return absl::InvalidArgumentError("transaction max_attempts must be positive");
  }
  return absl::OkStatus();
}

absl::Status ValidateReadOnlyOptions(const ReadOnlyOptions& options) {
  if (options.mode == ReadOnlyOptions::Mode::kExactTimestamp && options.timestamp_us <= 0) {
    return absl::InvalidArgumentError("read-only timestamp_us must be positive");
  }
  if (options.max_staleness.count() < 0) {
    return absl::InvalidArgumentError("read-only max_staleness must not be negative");
  }
  if (options.deadline.count() <= 0) {
    return absl::InvalidArgumentError("read-only deadline must be positive");
  }
  return absl::OkStatus();
}

}  // namespace meridian

namespace meridian::client {

// --- TxnAttempt ---

TxnAttempt::TxnAttempt(TxnTransport* transport, KeepaliveSender* keepalive, uint64_t id,
                       int64_t start_ts, int attempt, SteadyTime deadline)
    : transport_(transport),
      keepalive_(keepalive),
      id_(id),
      start_ts_(start_ts),
      attempt_(attempt),
      deadline_(deadline) {}

TxnAttempt::~TxnAttempt() { keepalive_->Remove(id_); }

proto::TxnRef TxnAttempt::Ref() const {
  proto::TxnRef ref;
  ref.set_id(id_);
  ref.set_start_ts(start_ts_);
  return ref;
}

absl::StatusOr<std::optional<std::string>> TxnAttempt::Get(std::string_view key_view,
                                                           bool for_update) {
  if (!doomed_.ok()) return doomed_;
  std::string key(key_view);
  if (key.empty()) {
    doomed_ = absl::InvalidArgumentError("empty key");
    return doomed_;
  }
  if (std::optional<std::optional<std::string>> known = buffer_.Lookup(key)) return *known;
  if (keepalive_->Wounded(id_)) {
    doomed_ = absl::AbortedError("the transaction was aborted at a server (keepalive)");
    return doomed_;
  }
  // Group 0: the router finds the key's group and follows it if its range moves.
  std::vector<std::optional<std::string>> value(1);
  if (absl::Status s = ReadGroup(0, {key}, {0}, for_update, &value); !s.ok()) return s;
  return std::move(value[0]);
}

absl::StatusOr<std::vector<std::optional<std::string>>> TxnAttempt::GetMany(
    const std::vector<std::string>& keys, bool for_update) {
  if (!doomed_.ok()) return doomed_;
  std::vector<std::optional<std::string>> values(keys.size());
  std::vector<std::string> unread;               // distinct, in first-seen order
  std::map<std::string, size_t> unread_at;       // key -> its index in unread
  std::vector<std::pair<size_t, size_t>> later;  // (index in keys, index in unread)
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].empty()) {
      doomed_ = absl::InvalidArgumentError("empty key");
      return doomed_;
    }
    if (std::optional<std::optional<std::string>> known = buffer_.Lookup(keys[i])) {
      values[i] = *std::move(known);
      continue;
    }
    auto [it, added] = unread_at.try_emplace(keys[i], unread.size());
    if (added) unread.push_back(keys[i]);
    later.emplace_back(i, it->second);
  }
  if (unread.empty()) return values;
  if (keepalive_->Wounded(id_)) {
    doomed_ = absl::AbortedError("the transaction was aborted at a server (keepalive)");
    return doomed_;
  }
  absl::StatusOr<KeysByGroup> by_group = LocateKeys(transport_, unread, deadline_);
  if (!by_group.ok()) {
    doomed_ = by_group.status();
    return doomed_;
  }
  std::vector<std::optional<std::string>> read(unread.size());
  for (const auto& [group, indexes] : *by_group) {
    if (absl::Status s = ReadGroup(group, unread, indexes, for_update, &read); !s.ok()) return s;
  }
  for (const auto& [i, j] : later) values[i] = read[j];
  return values;
}

absl::Status TxnAttempt::ReadGroup(uint64_t group, const std::vector<std::string>& keys,
                                   const std::vector<size_t>& indexes, bool for_update,
                                   std::vector<std::optional<std::string>>* values) {
  proto::TxnReadRequest request;
  *request.mutable_txn() = Ref();
  for (const size_t i : indexes) request.add_keys(keys[i]);
  request.set_for_update(for_update);
  proto::TxnReadResponse response;
  uint64_t used = group;  // the group that served the read (group 0: the one the router found)
  const absl::Status status =
      transport_->Read(group, keys[indexes.front()], request, &response, deadline_, &used);
  if (!status.ok()) {
    // The read may have locked the keys anyway (a reply lost): Abort releases them.
    for (const size_t i : indexes) buffer_.RecordRead(used, keys[i], std::nullopt);
    doomed_ = status;
    return status;
  }
  if (static_cast<size_t>(response.values_size()) != indexes.size()) {
    doomed_ = absl::InternalError(absl::StrCat("read of ", indexes.size(), " keys answered ",
                                               response.values_size(), " values"));
    return doomed_;
  }
  for (size_t j = 0; j < indexes.size(); ++j) {
    (*values)[indexes[j]] = ValueOf(response.values(static_cast<int>(j)));
    buffer_.RecordRead(used, keys[indexes[j]], (*values)[indexes[j]]);
  }
  keepalive_->Add(id_, used, buffer_.read_groups().at(used).routing_key);
  return absl::OkStatus();
}

void TxnAttempt::Put(std::string_view key, std::string_view value) {
  if (key.empty() && doomed_.ok()) doomed_ = absl::InvalidArgumentError("empty key");
  buffer_.Put(std::string(key), std::string(value));
}

void TxnAttempt::Delete(std::string_view key) {
  if (key.empty() && doomed_.ok()) doomed_ = absl::InvalidArgumentError("empty key");
  buffer_.Delete(std::string(key));
}

absl::StatusOr<int64_t> TxnAttempt::Commit() {
  if (!doomed_.ok()) return doomed_;
  if (keepalive_->Wounded(id_)) {
    return absl::AbortedError("the transaction was aborted at a server (keepalive)");
  }
  if (absl::Status planned = Plan(); !planned.ok()) return planned;
  if (plan_.empty()) return 0;  // neither read nor wrote anything
  return plan_.size() == 1 ? CommitOneGroup() : CommitTwoPhase();
}

absl::Status TxnAttempt::Plan() {
  std::map<std::string, uint64_t> group_of;
  for (const auto& [key, value] : buffer_.writes()) {
    absl::StatusOr<Location> location = transport_->Locate(key, deadline_);
    if (!location.ok()) {
      return absl::Status(location.status().code(),
                          absl::StrCat("not committed: cannot locate a written key: ",
                                       location.status().message()));
    }
    group_of[key] = location->group;
  }
  plan_ = buffer_.CommitPlan(group_of);
  return absl::OkStatus();
}

proto::TxnCommitRequest TxnAttempt::CommitRequest(uint64_t group) const {
  const TxnBuffer::GroupWork& work = plan_.at(group);
  proto::TxnCommitRequest request;
  *request.mutable_txn() = Ref();
  for (const Mutation& m : work.writes) ToProto(m, request.add_writes());
  for (const std::string& key : work.reads) request.add_reads(key);
  for (const auto& [start, end] : work.read_ranges) {
    proto::KeySpan* span = request.add_read_ranges();
    span->set_start(start);
    span->set_end(end);
  }
  request.set_max_commit_ts(max_commit_ts_);
  return request;
}

absl::StatusOr<int64_t> TxnAttempt::CommitOneGroup() {
  const auto& [group, work] = *plan_.begin();
  proto::TxnCommitRequest request = CommitRequest(group);
  proto::TxnCommitResponse response;
  const absl::Status status =
      transport_->Commit(group, work.routing_key, request, &response, deadline_);
  if (!status.ok()) return status;
  return response.commit_ts();
}

// The coordinator's Commit goes out together with the prepares, not after their answers: the
// coordinator waits for the participants' own prepare reports anyway (their timestamps are the
// ones it uses), so waiting here as well would cost a client round trip per transaction. Its
// answer is the transaction's outcome.
absl::StatusOr<int64_t> TxnAttempt::CommitTwoPhase() {
  coordinator_ = ChooseCoordinator(plan_);
  std::vector<PrepareCall> calls = PrepareCalls();
  proto::TxnCommitRequest request = CommitRequest(*coordinator_);
  for (const PrepareCall& call : calls) {
    request.add_participants()->set_group(call.group);  // prepare_ts unknown yet: 0
  }
  proto::TxnCommitResponse response;
  std::unique_ptr<TxnTransport::PendingCommit> commit;
  auto start_commit = [&] {
    commit = transport_->StartCommit(*coordinator_, plan_.at(*coordinator_).routing_key, request,
                                     &response, deadline_);
  };
  transport_->PrepareAll(calls, deadline_, start_commit);
  if (commit == nullptr) start_commit();
  const absl::Status prepare_error = FirstPrepareError(calls);
  if (!prepare_error.ok()) AbortAtCoordinator(calls);
  const absl::Status commit_status = commit->Finish();
  if (commit_status.ok()) return response.commit_ts();
  // The prepare's reason says more than the coordinator's "aborted by its client".
  if (!prepare_error.ok() && commit_status.code() == absl::StatusCode::kAborted) {
    return prepare_error;
  }
  return commit_status;
}

std::vector<PrepareCall> TxnAttempt::PrepareCalls() const {
  std::vector<PrepareCall> calls;
  for (const auto& [group, work] : plan_) {
    if (group == *coordinator_) continue;
    PrepareCall& call = calls.emplace_back();
    call.group = group;
    call.key = work.routing_key;
    *call.request.mutable_txn() = Ref();
    call.request.set_coordinator(*coordinator_);
    for (const Mutation& m : work.writes) ToProto(m, call.request.add_writes());
    for (const std::string& key : work.reads) call.request.add_reads(key);
    for (const auto& [start, end] : work.read_ranges) {
      proto::KeySpan* span = call.request.add_read_ranges();
      span->set_start(start);
      span->set_end(end);
    }
  }
  return calls;
}

absl::Status TxnAttempt::FirstPrepareError(const std::vector<PrepareCall>& calls) {
  absl::Status first;
  for (const PrepareCall& call : calls) {
    absl::Status s = call.status;
    if (s.ok()) continue;
    if (IsOutcomeUnknown(s)) {
      s = absl::AbortedError(
          absl::StrCat("prepare at group ", call.group, " not confirmed: ", s.message()));
    }
    if (first.ok() ||
        (s.code() == absl::StatusCode::kAborted && first.code() != absl::StatusCode::kAborted)) {
      first = s;
    }
  }
  return first;
}

// A participant that did not prepare never reports: the abort at the coordinator makes it answer
// the waiting Commit ABORTED, instead of holding its locks until the idle timeout. If the
// coordinator had every report already (a prepare whose answer was lost), the abort comes too late
// and the Commit's answer says committed, which is then the truth.
void TxnAttempt::AbortAtCoordinator(const std::vector<PrepareCall>& calls) {
  proto::TxnAbortRequest abort;
  abort.set_txn(id_);
  abort.set_coordinator(true);
  for (const PrepareCall& call : calls) abort.add_participants(call.group);
  transport_
      ->Abort(*coordinator_, plan_.at(*coordinator_).routing_key, abort,
              std::min(deadline_, Clock::now() + kBestEffortTimeout))
      .IgnoreError();
}

void TxnAttempt::Abort() {
  const std::map<uint64_t, TxnBuffer::GroupWork>& groups =
      plan_.empty() ? buffer_.read_groups() : plan_;
  std::vector<std::pair<uint64_t, std::string>> targets;
  for (const auto& [group, work] : groups) {
    if (group != 0) targets.emplace_back(group, work.routing_key);
  }
  if (targets.empty()) return;
  const SteadyTime deadline = Clock::now() + kBestEffortTimeout;
  ForEachParallel(targets.size(), [&](size_t i) {
    proto::TxnAbortRequest request;
    request.set_txn(id_);
    if (coordinator_ == targets[i].first) {
      request.set_coordinator(true);
      for (const auto& [group, work] : groups) {
        if (group != *coordinator_) request.add_participants(group);
      }
    }
    // Best effort: a lost abort is resolved by the servers' idle timeout or inquiry.
    transport_->Abort(targets[i].first, targets[i].second, request, deadline).IgnoreError();
  });
}

// --- TxnEngine ---

TxnEngine::TxnEngine(TxnTransport* transport, const TxnEngineOptions& options)
    : transport_(transport),
      options_(options),
      id_salt_(ClientSalt()),
      keepalive_(transport, options.keepalive_interval),
      random_(options.seed ^ 0x7478'6e00'0000'0000ULL) {}

uint64_t TxnEngine::NewTxnId() {
  absl::MutexLock lock(&mu_);
  uint64_t id = 0;
  while (id == 0) id = random_.Next() ^ id_salt_;
  return id;
}

Random TxnEngine::ForkRandom() {
  absl::MutexLock lock(&mu_);
  return random_.Fork();
}

absl::StatusOr<int64_t> TxnEngine::Run(const std::function<absl::Status(Transaction&)>& fn,
                                       const TransactionOptions& options) {
  if (absl::Status valid = ValidateTransactionOptions(options); !valid.ok()) return valid;
  const SteadyTime deadline = Clock::now() + options.deadline;
  const int64_t start_ts = WallMicros();
  Random random = ForkRandom();
  Backoff backoff = MakeBackoff(options_.backoff_initial, options_.backoff_max, &random);
  absl::Status last;
  int attempts = 0;
  while (attempts < options.max_attempts) {
    if (attempts > 0) {
      static metrics::Counter& retried = metrics::DefaultRegistry().AddCounter(
          "meridian_client_txn_retries_total",
          "Read-write transactions RunTransaction ran again after an ABORTED attempt.");
      retried.Increment();
      SleepBackoff(backoff, deadline);
      if (Clock::now() >= deadline) break;
    }
    ++attempts;
    TxnAttempt txn(transport_, &keepalive_, NewTxnId(), start_ts, attempts, deadline);
    absl::Status status = fn(txn.handle());
    if (status.ok()) {
      absl::StatusOr<int64_t> committed = txn.Commit();
      if (committed.ok()) return committed;
      if (IsOutcomeUnknown(committed.status())) {
        // Harmless to a decided or logged commit; a coordinator whose commit still waits for
        // locks aborts it, which frees prepared participants at once. The outcome stays unknown.
        txn.Abort();
        return committed;
      }
      status = committed.status();
    }
    txn.Abort();
    if (status.code() != absl::StatusCode::kAborted) return status;
    last = status;
  }
  return absl::AbortedError(
      absl::StrCat("not committed: aborted in all ", attempts,
                   " attempts (deadline or max_attempts reached); last: ", last.message()));
}

absl::StatusOr<ReadResult> TxnEngine::ReadOnly(const std::vector<std::string>& keys,
                                               const ReadOnlyOptions& options) {
  if (absl::Status valid = ValidateReadOnlyOptions(options); !valid.ok()) return valid;
  if (keys.empty()) return absl::InvalidArgumentError("a read-only transaction needs keys");
  for (const std::string& key : keys) {
    if (key.empty()) return absl::InvalidArgumentError("empty key");
  }
  const SteadyTime deadline = Clock::now() + options.deadline;
  Random random = ForkRandom();
  Backoff backoff = MakeBackoff(options_.backoff_initial, options_.backoff_max, &random);
  while (true) {
    absl::StatusOr<KeysByGroup> by_group = LocateKeys(transport_, keys, deadline);
    if (!by_group.ok()) return by_group.status();
    ReadResult result;
    result.values.resize(keys.size());
    absl::Status status;
    if (options.mode == ReadOnlyOptions::Mode::kStrong && by_group->size() == 1) {
      status = ReadAtLeader(transport_, keys, *by_group->begin(), deadline, &result);
    } else {
      status = ReadSnapshots(transport_, keys, *by_group, options, deadline, &result);
    }
    if (status.ok()) return result;
    // ABORTED here only means a range moved between locating and reading: locate again.
    if (status.code() != absl::StatusCode::kAborted || Clock::now() >= deadline) return status;
    SleepBackoff(backoff, deadline);
  }
}

}  // namespace meridian::client
