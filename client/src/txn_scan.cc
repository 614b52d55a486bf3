// Range reads in transactions (transaction.h Transaction::Scan, ReadOnlyTransaction) and the
// read-only transaction of several reads.
//
// A scan of [start, end) goes range by range: each request asks the group holding the cursor
// for its part of the span, which the server clips to the group's range and answers with the
// rows, whether its limit cut them ("more") and the span it read ("scanned"). The next request
// starts after the last row when the limit cut the page, else at the scanned span's end, until
// the caller's limit or `end` is reached or the last range was read. A read-write scan locks
// every scanned span and records it for the commit (the prepares check the locks are still
// held), and merges the transaction's buffered writes into each page's segment of the key space.
#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/src/router.h"
#include "client/src/txn_engine.h"

namespace meridian::client {
namespace {

using Clock = std::chrono::steady_clock;
using Rows = std::vector<std::pair<std::string, std::string>>;

// Rows per scan request at most (the servers allow 10,000).
constexpr size_t kScanPage = 1000;

// One page of a scan, as a server answered it.
struct Page {
  Rows rows;
  bool more = false;
  std::string scanned_start;
  std::string scanned_end;  // empty: +infinity
  uint64_t group = 0;
};

template <typename Response>
Page PageOf(Response& response, uint64_t group) {
  Page page;
  for (proto::KeyValue& kv : *response.mutable_rows()) {
    page.rows.emplace_back(std::move(*kv.mutable_key()), std::move(*kv.mutable_value()));
  }
  page.more = response.more();
  page.scanned_start = response.scanned().start();
  page.scanned_end = response.scanned().end();
  page.group = group;
  return page;
}

absl::Status CheckScanArgs(std::string_view start, std::string_view end, size_t limit) {
  if (limit == 0) return absl::InvalidArgumentError("scan limit must be positive");
  if (!end.empty() && end <= start) {
    return absl::InvalidArgumentError("scan end must be empty or after start");
  }
  return absl::OkStatus();
}

// Where the key space a page covered ends: after its last row when its limit cut it, else at the
// end of the span it read ("" = +infinity); an error for a reply that would not advance.
absl::StatusOr<std::string> PageEnd(const Page& page, const std::string& cursor) {
  if (page.more) {
    if (page.rows.empty()) {
      return absl::InternalError("scan reply said 'more' but carried no rows");
    }
    return page.rows.back().first + std::string(1, '\0');
  }
  if (!page.scanned_end.empty() && page.scanned_end <= cursor) {
    return absl::InternalError("scan reply's span ends before the scan's cursor");
  }
  return page.scanned_end;
}

// Runs the scan of the file comment: `fetch(cursor, want)` reads one page from `cursor`;
// `segment(page, cursor, page_end, rows)` adds the page's rows of [cursor, page_end) to `rows`.
template <typename Fetch, typename Segment>
absl::StatusOr<Rows> ScanPages(const std::string& start, const std::string& end, size_t limit,
                               Fetch&& fetch, Segment&& segment) {
  Rows rows;
  std::string cursor = start;
  while (rows.size() < limit && (end.empty() || cursor < end)) {
    absl::StatusOr<Page> page = fetch(cursor, std::min(limit - rows.size(), kScanPage));
    if (!page.ok()) return page.status();
    absl::StatusOr<std::string> page_end = PageEnd(*page, cursor);
    if (!page_end.ok()) return page_end.status();
    segment(*page, cursor, *page_end, &rows);
    if (page_end->empty()) break;
    cursor = *std::move(page_end);
  }
  if (rows.size() > limit) rows.resize(limit);
  return rows;
}

}  // namespace

absl::StatusOr<Rows> TxnAttempt::Scan(std::string_view start_view, std::string_view end_view,
                                      size_t limit) {
  if (!doomed_.ok()) return doomed_;
  if (absl::Status bad = CheckScanArgs(start_view, end_view, limit); !bad.ok()) {
    doomed_ = bad;
    return bad;
  }
  if (keepalive_->Wounded(id_)) {
    doomed_ = absl::AbortedError("the transaction was aborted at a server (keepalive)");
    return doomed_;
  }
  const std::string start(start_view);
  const std::string end(end_view);
  auto fetch = [&](const std::string& cursor, size_t want) -> absl::StatusOr<Page> {
    proto::TxnReadRequest request;
    *request.mutable_txn() = Ref();
    request.mutable_scan()->set_start(cursor);
    request.mutable_scan()->set_end(end);
    // Buffered deletes may hide rows: ask for that many more.
    size_t deletes = 0;
    for (const auto& [key, value] : buffer_.WritesIn(cursor, end)) deletes += !value.has_value();
    request.set_scan_limit(static_cast<uint32_t>(std::min(want + deletes, kScanPage)));
    proto::TxnReadResponse response;
    uint64_t group = 0;
    const absl::Status status = transport_->Read(0, cursor, request, &response, deadline_, &group);
    if (!status.ok()) {
      // The scan may have locked the span anyway (a reply lost): Abort releases it.
      if (group != 0) buffer_.RecordScan(group, cursor, cursor, end);
      return status;
    }
    Page page = PageOf(response, group);
    buffer_.RecordScan(group, page.scanned_start.empty() ? cursor : page.scanned_start,
                       page.scanned_start, page.scanned_end);
    keepalive_->Add(id_, group, buffer_.read_groups().at(group).routing_key);
    return page;
  };
  // The page's rows with the buffered writes of [cursor, page_end) merged in.
  auto segment = [&](Page& page, const std::string& cursor, const std::string& page_end,
                     Rows* rows) {
    const std::string until =
        page_end.empty() ? end : (end.empty() ? page_end : std::min(end, page_end));
    std::map<std::string, std::optional<std::string>> merged;
    for (auto& [key, value] : page.rows) merged.emplace(std::move(key), std::move(value));
    for (auto& [key, value] : buffer_.WritesIn(cursor, until)) merged[key] = value;
    for (auto& [key, value] : merged) {
      if (value.has_value()) rows->emplace_back(key, std::move(*value));
    }
  };
  absl::StatusOr<Rows> rows = ScanPages(start, end, limit, fetch, segment);
  if (!rows.ok()) doomed_ = rows.status();
  return rows;
}

namespace {

// ReadOnlyTransaction over the transport: every read at one timestamp, at any replica.
class ReadOnlyTxn final : public ReadOnlyTransaction {
 public:
  ReadOnlyTxn(TxnTransport* transport, ReadOnlyOptions options, Random random,
              const TxnEngineOptions& engine)
      : transport_(transport),
        options_(options),
        // 0 for a strong transaction: its first read asks the server for TT.now().latest.
        read_ts_(ClientReadTimestamp(options)),
        random_(std::move(random)),
        backoff_(MakeBackoff(engine.backoff_initial, engine.backoff_max, &random_)) {}

  int64_t read_ts() const override { return read_ts_; }  // 0 until a strong one's first read

  absl::StatusOr<std::vector<std::optional<std::string>>> Get(
      const std::vector<std::string>& keys) override {
    if (keys.empty()) return std::vector<std::optional<std::string>>();
    for (const std::string& key : keys) {
      if (key.empty()) return absl::InvalidArgumentError("empty key");
    }
    const SteadyTime deadline = Clock::now() + options_.deadline;
    return Retrying(deadline, [&]() -> absl::StatusOr<std::vector<std::optional<std::string>>> {
      absl::StatusOr<KeysByGroup> by_group = LocateKeys(transport_, keys, deadline);
      if (!by_group.ok()) return by_group.status();
      std::vector<std::optional<std::string>> values(keys.size());
      for (const auto& [group, indexes] : *by_group) {
        proto::SnapshotReadRequest request;
        for (const size_t i : indexes) request.add_keys(keys[i]);
        request.set_read_ts(read_ts_);
        proto::SnapshotReadResponse response;
        if (absl::Status s = transport_->SnapshotRead(group, keys[indexes.front()], leader_first(),
                                                      request, &response, deadline);
            !s.ok()) {
          return s;
        }
        if (absl::Status s = Adopt(response.read_ts()); !s.ok()) return s;
        if (static_cast<size_t>(response.values_size()) != indexes.size()) {
          return absl::InternalError(absl::StrCat("read of ", indexes.size(), " keys answered ",
                                                  response.values_size(), " values"));
        }
        for (size_t j = 0; j < indexes.size(); ++j) {
          values[indexes[j]] = ValueOf(response.values(static_cast<int>(j)));
        }
      }
      return values;
    });
  }

  absl::StatusOr<Rows> Scan(std::string_view start_view, std::string_view end_view,
                            size_t limit) override {
    if (absl::Status bad = CheckScanArgs(start_view, end_view, limit); !bad.ok()) return bad;
    const std::string start(start_view);
    const std::string end(end_view);
    const SteadyTime deadline = Clock::now() + options_.deadline;
    auto fetch = [&](const std::string& cursor, size_t want) -> absl::StatusOr<Page> {
      return Retrying(deadline, [&]() -> absl::StatusOr<Page> {
        absl::StatusOr<Location> location = transport_->Locate(cursor, deadline);
        if (!location.ok()) return location.status();
        proto::SnapshotReadRequest request;
        request.set_read_ts(read_ts_);
        request.mutable_scan()->set_start(cursor);
        request.mutable_scan()->set_end(end);
        request.set_scan_limit(static_cast<uint32_t>(want));
        proto::SnapshotReadResponse response;
        if (absl::Status s = transport_->SnapshotRead(location->group, cursor, leader_first(),
                                                      request, &response, deadline);
            !s.ok()) {
          return s;
        }
        if (absl::Status s = Adopt(response.read_ts()); !s.ok()) return s;
        return PageOf(response, location->group);
      });
    };
    auto segment = [](Page& page, const std::string&, const std::string&, Rows* rows) {
      for (auto& row : page.rows) rows->push_back(std::move(row));
    };
    return ScanPages(start, end, limit, fetch, segment);
  }

 private:
  bool leader_first() const { return ReadLeaderFirst(options_, read_ts_); }

  // The timestamp a read was served at: a strong transaction's first read chooses it, every
  // later read must have used it.
  absl::Status Adopt(int64_t served_at) {
    if (read_ts_ == 0) read_ts_ = served_at;
    if (served_at != read_ts_ || served_at <= 0) {
      return absl::InternalError(absl::StrCat("a read was served at ", served_at,
                                              ", not at the transaction's timestamp ", read_ts_));
    }
    return absl::OkStatus();
  }

  // Runs `read` again while it fails ABORTED, which here only means that a range moved between
  // locating and reading it: locate again.
  template <typename Read>
  auto Retrying(SteadyTime deadline, Read&& read) -> decltype(read()) {
    while (true) {
      auto result = read();
      if (result.ok() || result.status().code() != absl::StatusCode::kAborted ||
          Clock::now() >= deadline) {
        return result;
      }
      SleepBackoff(backoff_, deadline);
    }
  }

  TxnTransport* const transport_;
  const ReadOnlyOptions options_;
  int64_t read_ts_;
  Random random_;    // the backoff's jitter
  Backoff backoff_;  // after random_, which it uses
};

}  // namespace

absl::StatusOr<std::unique_ptr<ReadOnlyTransaction>> TxnEngine::BeginReadOnly(
    const ReadOnlyOptions& options) {
  if (absl::Status valid = ValidateReadOnlyOptions(options); !valid.ok()) return valid;
  return std::unique_ptr<ReadOnlyTransaction>(
      new ReadOnlyTxn(transport_, options, ForkRandom(), options_));
}

}  // namespace meridian::client

namespace meridian {

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Transaction::Scan(
    std::string_view start, std::string_view end, size_t limit) {
  return attempt_->Scan(start, end, limit);
}

}  // namespace meridian
