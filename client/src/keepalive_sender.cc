#include "client/src/keepalive_sender.h"

#include <algorithm>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "client/src/txn_engine.h"

namespace meridian::client {

KeepaliveSender::KeepaliveSender(TxnTransport* transport, std::chrono::milliseconds interval)
    : transport_(transport), interval_(interval) {}

KeepaliveSender::~KeepaliveSender() {
  std::thread thread;
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
}

void KeepaliveSender::Add(uint64_t txn, uint64_t group, const std::string& key) {
  absl::MutexLock lock(&mu_);
  txns_[txn].groups.emplace(group, key);
  if (!thread_.joinable() && !stop_) thread_ = std::thread([this] { Loop(); });
}

void KeepaliveSender::Remove(uint64_t txn) {
  absl::MutexLock lock(&mu_);
  txns_.erase(txn);
}

bool KeepaliveSender::Wounded(uint64_t txn) {
  absl::MutexLock lock(&mu_);
  const auto it = txns_.find(txn);
  return it != txns_.end() && it->second.wounded;
}

void KeepaliveSender::Loop() {
  mu_.Lock();
  while (!stop_) {
    mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::FromChrono(interval_));
    if (stop_) break;
    std::vector<std::tuple<uint64_t, uint64_t, std::string>> work;
    for (const auto& [txn, entry] : txns_) {
      if (entry.wounded) continue;
      for (const auto& [group, key] : entry.groups) work.emplace_back(txn, group, key);
    }
    mu_.Unlock();
    std::vector<uint64_t> wounded;
    for (const auto& [txn, group, key] : work) {
      proto::TxnKeepaliveRequest request;
      request.set_txn(txn);
      const absl::Status status = transport_->Keepalive(
          group, key, request,
          std::chrono::steady_clock::now() + std::min(interval_, kBestEffortTimeout));
      if (status.code() == absl::StatusCode::kAborted) wounded.push_back(txn);
    }
    mu_.Lock();
    for (const uint64_t txn : wounded) {
      if (const auto it = txns_.find(txn); it != txns_.end()) it->second.wounded = true;
    }
  }
  mu_.Unlock();
}

}  // namespace meridian::client
