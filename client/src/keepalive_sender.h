// KeepaliveSender: keeps the locks of running transactions from timing out at their groups.
//
// Thread safety: thread-safe; its one thread of its own calls the TxnTransport.
#ifndef MERIDIAN_CLIENT_SRC_KEEPALIVE_SENDER_H_
#define MERIDIAN_CLIENT_SRC_KEEPALIVE_SENDER_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace meridian::client {

class TxnTransport;

// Sends keepalives for the transactions that hold locks, from one thread of its own (started at
// the first Add), every `interval`; remembers those a server answered ABORTED (wounded).
class KeepaliveSender {
 public:
  // `transport` outlives the sender.
  KeepaliveSender(TxnTransport* transport, std::chrono::milliseconds interval);
  ~KeepaliveSender();  // stops and joins the thread
  KeepaliveSender(const KeepaliveSender&) = delete;
  KeepaliveSender& operator=(const KeepaliveSender&) = delete;

  // Keep `txn` alive at `group` (routed by `key`) until Remove(txn).
  void Add(uint64_t txn, uint64_t group, const std::string& key);
  void Remove(uint64_t txn);
  // A keepalive for `txn` was answered ABORTED.
  bool Wounded(uint64_t txn);

 private:
  struct Entry {
    std::map<uint64_t, std::string> groups;  // group -> routing key
    bool wounded = false;
  };
  void Loop();

  TxnTransport* const transport_;
  const std::chrono::milliseconds interval_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::map<uint64_t, Entry> txns_ ABSL_GUARDED_BY(mu_);
  std::thread thread_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meridian::client

#endif  // MERIDIAN_CLIENT_SRC_KEEPALIVE_SENDER_H_
