// WriteLanes: when the client sends its single-key writes (Put, Delete) and which of them go
// together. Pure: no I/O, no clock, no threads; the Client drives it under its mutex and sends the
// WriteBatch RPCs it asks for.
//
// One lane per server address. A write submitted to a lane with fewer than `max_in_flight`
// batches in flight goes out at once, alone; otherwise it queues. When a batch finishes, the
// writes queued meanwhile go out together, oldest first, in one batch of at most `max_items`
// writes and, past its first, `max_bytes` bytes. So an idle client adds no delay, and a busy one
// makes about one RPC per server per round trip instead of one per write.
//
// Thread safety: not thread-safe.
#ifndef MERIDIAN_CLIENT_SRC_WRITE_LANES_H_
#define MERIDIAN_CLIENT_SRC_WRITE_LANES_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace meridian::client {

class WriteLanes {
 public:
  struct Options {
    int max_in_flight = 2;
    size_t max_items = 256;
    size_t max_bytes = 1 << 20;
  };
  // One RPC to send: the tickets of its writes, oldest first.
  struct Batch {
    std::string address;
    std::vector<uint64_t> tickets;
  };

  explicit WriteLanes(Options options) : options_(options) {}

  // A write of `bytes` bytes for `address`, known by `ticket` (unique among the writes not yet
  // finished). The batch to send now, or nullopt when the write waits for a batch to finish.
  std::optional<Batch> Submit(const std::string& address, uint64_t ticket, size_t bytes);

  // A batch sent to `address` finished (answered or failed). The next batch to send, if writes
  // wait for this lane.
  std::optional<Batch> Finished(const std::string& address);

  // Takes a write that still waits out of its queue: true if it was there (it was never sent),
  // false if it went out in a batch.
  bool Withdraw(const std::string& address, uint64_t ticket);

  // Batches in flight to `address`, and writes waiting for it.
  int in_flight(const std::string& address) const;
  size_t queued(const std::string& address) const;

 private:
  struct Queued {
    uint64_t ticket;
    size_t bytes;
  };
  struct Lane {
    int in_flight = 0;
    std::deque<Queued> queue;
  };

  const Options options_;
  std::map<std::string, Lane> lanes_;
};

}  // namespace meridian::client

#endif  // MERIDIAN_CLIENT_SRC_WRITE_LANES_H_
