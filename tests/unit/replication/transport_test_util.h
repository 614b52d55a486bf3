// Helpers shared by the transport tests: a received-message sink, a bounded poll, and a
// recognizable Accept message.
#ifndef MERIDIAN_TESTS_UNIT_REPLICATION_TRANSPORT_TEST_UTIL_H_
#define MERIDIAN_TESTS_UNIT_REPLICATION_TRANSPORT_TEST_UTIL_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "spanserver/paxos/types.h"

namespace meridian::replication::testing {

// What a transport delivered, in order (filled from the transport's threads).
struct Inbox {
  std::mutex mu;
  std::vector<paxos::Message> received;

  std::function<void(paxos::Message)> Sink() {
    return [this](paxos::Message m) {
      std::lock_guard<std::mutex> lock(mu);
      received.push_back(std::move(m));
    };
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return received.size();
  }
};

// Polls `pred` every 2 ms for at most 5 s (delivery happens on other threads).
inline bool WaitUntil(const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(5000);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return pred();
}

// An Accept of group 4 carrying one entry at `index` whose command starts "cmd<index>" (padded
// with 'x' to `command_bytes`).
inline paxos::Message Msg(uint64_t from, uint64_t to, uint64_t index, size_t command_bytes = 0) {
  paxos::Message m;
  m.type = paxos::MessageType::kAccept;
  m.group = 4;
  m.from = from;
  m.to = to;
  m.index = index;
  std::string command = absl::StrCat("cmd", index);
  command.resize(std::max(command.size(), command_bytes), 'x');
  m.entries.push_back({.index = index,
                       .ballot = {1, from},
                       .type = paxos::EntryType::kNormal,
                       .command = std::move(command)});
  return m;
}

}  // namespace meridian::replication::testing

#endif  // MERIDIAN_TESTS_UNIT_REPLICATION_TRANSPORT_TEST_UTIL_H_
