// The pure bookkeeping of one transaction attempt (transaction.h): the buffered writes (the last
// write of a key wins; a read of a written key sees it), what each group was asked to read and
// must write, and the choice of the two-phase-commit coordinator. No I/O; TxnAttempt
// (txn_engine.h) drives it.
//
// Thread safety: not thread-safe; one attempt runs on one thread.
#ifndef MERIDIAN_CLIENT_SRC_TXN_BUFFER_H_
#define MERIDIAN_CLIENT_SRC_TXN_BUFFER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "meridian/transaction.h"

namespace meridian::client {

class TxnBuffer {
 public:
  // What a group does at commit: its writes and the keys read there (to check their locks).
  struct GroupWork {
    std::string routing_key;  // a key of the group, to route its RPCs by
    std::vector<std::string> reads;
    std::vector<std::pair<std::string, std::string>> read_ranges;  // spans scanned: [start, end)
    std::vector<Mutation> writes;
  };

  void Put(std::string key, std::string value) { writes_[std::move(key)] = std::move(value); }
  void Delete(std::string key) { writes_[std::move(key)] = std::nullopt; }

  // What a Get of `key` answers without asking a server: the buffered write (nullopt inside =
  // deleted) or the value read earlier under the lock still held; nullopt when it must read.
  std::optional<std::optional<std::string>> Lookup(const std::string& key) const;

  // A read of `key` at `group` returned `value`.
  void RecordRead(uint64_t group, const std::string& key, std::optional<std::string> value);
  // A scan at `group` read (and S-locked) [start, end); `routing_key` is a key of the group.
  void RecordScan(uint64_t group, const std::string& routing_key, std::string start,
                  std::string end);
  // The buffered writes of keys in [start, end) (empty end: +infinity), in key order.
  std::vector<std::pair<std::string, std::optional<std::string>>> WritesIn(
      const std::string& start, const std::string& end) const;

  // The groups read so far (each with its routing key), for keepalives and aborts.
  const std::map<uint64_t, GroupWork>& read_groups() const { return read_groups_; }
  const std::map<std::string, std::optional<std::string>>& writes() const { return writes_; }

  // Every group the commit involves: the read groups plus the group of each write, as
  // `group_of` places it (keyed by group id, writes in key order).
  std::map<uint64_t, GroupWork> CommitPlan(
      const std::map<std::string, uint64_t>& group_of_write) const;

 private:
  std::map<std::string, std::optional<std::string>> writes_;
  std::map<std::string, std::optional<std::string>> reads_;
  std::map<uint64_t, GroupWork> read_groups_;
};

// The coordinator of a multi-group commit: the group with the most writes (ties: the lowest id),
// so most data goes in the one record that decides. `plan` must not be empty.
uint64_t ChooseCoordinator(const std::map<uint64_t, TxnBuffer::GroupWork>& plan);

}  // namespace meridian::client

#endif  // MERIDIAN_CLIENT_SRC_TXN_BUFFER_H_
