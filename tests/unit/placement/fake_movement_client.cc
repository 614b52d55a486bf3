#include "tests/unit/placement/fake_movement_client.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace meridian::placement {
namespace {

bool InRange(const std::string& key, const std::string& start, const std::string& end) {
  return start <= key && (end.empty() || key < end);
}

bool Overlap(const std::string& a_start, const std::string& a_end, const std::string& b_start,
             const std::string& b_end) {
  return (a_end.empty() || b_start < a_end) && (b_end.empty() || a_start < b_end);
}

// Cursor: "TS:KEY" of the last version answered.
std::string CursorOf(const std::pair<std::string, int64_t>& at) {
  return absl::StrCat(at.second, ":", at.first);
}

bool ParseCursor(const std::string& cursor, std::pair<std::string, int64_t>* at) {
  const size_t colon = cursor.find(':');
  if (colon == std::string::npos) return false;
  at->first = cursor.substr(colon + 1);
  return absl::SimpleAtoi(cursor.substr(0, colon), &at->second);
}

}  // namespace

template <typename T>
T FakeMovementClient::Call(Method method, uint64_t group, const std::function<T()>& body) {
  {
    absl::MutexLock lock(&mu_);
    ++calls_[method];
  }
  if (before) {
    if (absl::Status status = before(method, group); !status.ok()) return status;
  }
  T result = body();
  if (result.ok() && after) after(method, group);
  return result;
}

int64_t FakeMovementClient::NextTs() {
  absl::StatusOr<truetime::Interval> now = truetime_->Now();
  last_ts_ = std::max(last_ts_ + 1, now.ok() ? now->latest : 0);
  return last_ts_;
}

const FakeMovementClient::Released* FakeMovementClient::FindRelease(const Group& group,
                                                                    const std::string& start,
                                                                    const std::string& end,
                                                                    uint64_t generation) const {
  for (const Released& r : group.released) {
    if (r.range.start() == start && r.range.end() == end && r.range.generation() == generation) {
      return &r;
    }
  }
  return nullptr;
}

absl::StatusOr<int64_t> FakeMovementClient::Write(uint64_t group, const std::string& key,
                                                  const std::string& value, bool is_delete) {
  absl::MutexLock lock(&mu_);
  Group& g = groups_[group];
  for (const Released& r : g.released) {
    if (InRange(key, r.range.start(), r.range.end())) {
      return absl::FailedPreconditionError("the range holding the key is released");
    }
  }
  const int64_t ts = NextTs();
  g.versions[{key, ts}] = Version{is_delete ? "" : value, is_delete};
  return ts;
}

FakeMovementClient::Versions FakeMovementClient::VersionsIn(uint64_t group,
                                                            const std::string& start,
                                                            const std::string& end) const {
  absl::MutexLock lock(&mu_);
  Versions out;
  const auto g = groups_.find(group);
  if (g == groups_.end()) return out;
  for (const auto& [at, version] : g->second.versions) {
    if (InRange(at.first, start, end)) out.emplace(at, version);
  }
  return out;
}

std::vector<proto::RangeClaim> FakeMovementClient::Adopted(uint64_t group) const {
  absl::MutexLock lock(&mu_);
  const auto g = groups_.find(group);
  return g == groups_.end() ? std::vector<proto::RangeClaim>() : g->second.adopted;
}

int64_t FakeMovementClient::Horizon(uint64_t group) const {
  absl::MutexLock lock(&mu_);
  const auto g = groups_.find(group);
  return g == groups_.end() ? 0 : g->second.horizon;
}

void FakeMovementClient::SetHorizon(uint64_t group, int64_t horizon) {
  absl::MutexLock lock(&mu_);
  groups_[group].horizon = horizon;
}

int FakeMovementClient::Calls(Method method) const {
  absl::MutexLock lock(&mu_);
  const auto it = calls_.find(method);
  return it == calls_.end() ? 0 : it->second;
}

std::vector<std::string> FakeMovementClient::Violations() const {
  absl::MutexLock lock(&mu_);
  return violations_;
}

size_t FakeMovementClient::MaxIngestBytes() const {
  absl::MutexLock lock(&mu_);
  return max_ingest_bytes_;
}

absl::StatusOr<proto::ExportResponse> FakeMovementClient::Export(
    const proto::ExportRequest& request) {
  if (on_export) on_export(request);
  return Call<absl::StatusOr<proto::ExportResponse>>(
      Method::kExport, request.group(), [&]() -> absl::StatusOr<proto::ExportResponse> {
        absl::MutexLock lock(&mu_);
        Group& g = groups_[request.group()];
        if (request.after_ts() > 0 && FindRelease(g, request.start(), request.end(),
                                                  request.released_generation()) == nullptr) {
          violations_.push_back("export after_ts > 0 of a range not released");
          return absl::FailedPreconditionError("the range is not released at that generation");
        }
        proto::ExportResponse response;
        response.set_upto_ts(request.upto_ts() != 0 ? request.upto_ts() : NextTs());
        response.set_horizon(g.horizon);
        auto it = g.versions.begin();
        if (!request.cursor().empty()) {
          std::pair<std::string, int64_t> at;
          if (!ParseCursor(request.cursor(), &at)) return absl::InvalidArgumentError("cursor");
          it = g.versions.upper_bound(at);
        }
        std::pair<std::string, int64_t> last;
        for (; it != g.versions.end(); ++it) {
          const auto& [at, version] = *it;
          if (!InRange(at.first, request.start(), request.end())) continue;
          if (at.second <= request.after_ts() || at.second > response.upto_ts()) continue;
          if (response.versions_size() == export_page_versions) {
            response.set_cursor(CursorOf(last));
            break;
          }
          last = at;
          proto::RangeVersion* out = response.add_versions();
          out->set_key(at.first);
          out->set_ts(at.second);
          out->set_value(version.value);
          out->set_is_delete(version.is_delete);
        }
        return response;
      });
}

absl::Status FakeMovementClient::Ingest(const proto::IngestRequest& request) {
  return Call<absl::Status>(Method::kIngest, request.group(), [&]() -> absl::Status {
    absl::MutexLock lock(&mu_);
    Group& g = groups_[request.group()];
    const proto::RangeClaim& range = request.range();
    for (const Released& r : g.released) {
      if (Overlap(r.range.start(), r.range.end(), range.start(), range.end())) {
        violations_.push_back("ingest into a released range");
        return absl::FailedPreconditionError("ingest into a released range");
      }
    }
    size_t bytes = 0;
    for (const proto::RangeVersion& v : request.versions()) {
      if (!InRange(v.key(), range.start(), range.end())) {
        violations_.push_back("ingest of a version outside its range");
        return absl::InvalidArgumentError("version outside the range");
      }
      bytes += v.key().size() + v.value().size() + 16;
    }
    if (bytes > kMaxIngestBytes) {
      violations_.push_back("an ingest of more than 900 KiB");
      return absl::InvalidArgumentError("an ingest carries at most 900 KiB of versions");
    }
    max_ingest_bytes_ = std::max(max_ingest_bytes_, bytes);
    for (const proto::RangeVersion& v : request.versions()) {
      g.versions[{v.key(), v.ts()}] = Version{v.value(), v.is_delete()};
      last_ts_ = std::max(last_ts_, v.ts());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<proto::ReleaseResponse> FakeMovementClient::Release(
    const proto::ReleaseRequest& request) {
  return Call<absl::StatusOr<proto::ReleaseResponse>>(
      Method::kRelease, request.group(), [&]() -> absl::StatusOr<proto::ReleaseResponse> {
        absl::MutexLock lock(&mu_);
        Group& g = groups_[request.group()];
        const proto::RangeClaim& range = request.range();
        proto::ReleaseResponse response;
        response.set_horizon(g.horizon);
        if (const Released* r = FindRelease(g, range.start(), range.end(), range.generation())) {
          response.set_release_ts(r->release_ts);
          return response;
        }
        if (busy_releases > 0) {
          --busy_releases;
          return absl::UnavailableError("range busy");
        }
        g.released.push_back(Released{range, NextTs()});
        response.set_release_ts(g.released.back().release_ts);
        return response;
      });
}

absl::StatusOr<proto::AdoptResponse> FakeMovementClient::Adopt(const proto::AdoptRequest& request) {
  return Call<absl::StatusOr<proto::AdoptResponse>>(
      Method::kAdopt, request.group(), [&]() -> absl::StatusOr<proto::AdoptResponse> {
        absl::StatusOr<truetime::Interval> now = truetime_->Now();
        if (!now.ok()) return now.status();
        absl::MutexLock lock(&mu_);
        for (const proto::RangeClaim& claim : request.claims()) {
          for (const auto& [id, g] : groups_) {
            for (const Released& r : g.released) {
              if (r.range.generation() == claim.generation() && r.release_ts >= now->earliest &&
                  Overlap(r.range.start(), r.range.end(), claim.start(), claim.end())) {
                violations_.push_back("adopt before TT.after(release_ts)");
                return absl::FailedPreconditionError("adopt before TT.after(release_ts)");
              }
            }
          }
        }
        Group& g = groups_[request.group()];
        for (const proto::RangeClaim& claim : request.claims()) {
          std::erase_if(g.adopted, [&](const proto::RangeClaim& c) {
            return Overlap(c.start(), c.end(), claim.start(), claim.end());
          });
          g.adopted.push_back(claim);
        }
        g.horizon = std::max(g.horizon, request.horizon());
        proto::AdoptResponse response;
        response.set_adopt_ts(NextTs());
        return response;
      });
}

absl::StatusOr<proto::DropResponse> FakeMovementClient::Drop(const proto::DropRequest& request) {
  return Call<absl::StatusOr<proto::DropResponse>>(
      Method::kDrop, request.group(), [&]() -> absl::StatusOr<proto::DropResponse> {
        absl::MutexLock lock(&mu_);
        Group& g = groups_[request.group()];
        const proto::RangeClaim& range = request.range();
        if (FindRelease(g, range.start(), range.end(), range.generation()) == nullptr) {
          violations_.push_back("drop of a range not released");
          return absl::FailedPreconditionError("the range is not released at that generation");
        }
        proto::DropResponse response;
        for (auto it = g.versions.begin(); it != g.versions.end();) {
          if (!InRange(it->first.first, range.start(), range.end())) {
            ++it;
            continue;
          }
          if (response.erased() == static_cast<uint64_t>(drop_limit)) return response;
          it = g.versions.erase(it);
          response.set_erased(response.erased() + 1);
        }
        response.set_done(true);
        return response;
      });
}

}  // namespace meridian::placement
