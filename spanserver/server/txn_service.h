// TxnService: the spanserver's transaction service (proto/txn.proto) — gRPC callback handlers
// that check a request's route (the group is hosted here, the range generation is current, every
// key lies in the range), hand it to the group's TxnTablet on the group's strand, and answer when
// the tablet replies. Never blocks a gRPC thread.
//
// It also carries group-to-group messages (a coordinator's outcome, a participant's prepare
// report, inquiry or ack): Send() delivers a message to the replicas of the target group that
// RouteGroupMessage picks (only the leader acts on it; a lost message is harmless, participants
// ask again and coordinators resend), using the group membership from the latest topology. They
// travel as attachments on the peer transport, in the frames that carry Paxos traffic (one
// serialized GroupMessageRequest each; DeliverFromPeer takes them in), not in RPCs of their own:
// a 2PC over 50 groups sends about 100 of them per transaction.
//
// Errors follow kv.proto: UNAVAILABLE with "meridian-leader" when this replica is not the leader
// and nothing was done (never on a Commit whose outcome is unknown), "meridian-stale-map" for a
// routing mismatch, ABORTED to retry the transaction, INVALID_ARGUMENT for malformed requests.
// PrepareBatch answers each of its prepares that way in its own TxnPrepareResult (the trailers
// as fields), so one bad item does not fail the others.
//
// Thread safety: all methods are thread-safe. Not widely included (gRPC stays in the .cc).
#ifndef MERIDIAN_SPANSERVER_SERVER_TXN_SERVICE_H_
#define MERIDIAN_SPANSERVER_SERVER_TXN_SERVICE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace grpc {
class Service;
}  // namespace grpc

namespace meridian {
namespace replication {
class GroupHost;
}  // namespace replication
namespace tablet {
class TxnTablet;
}  // namespace tablet
namespace txn {
struct GroupMessage;
struct Mutation;
struct Reply;
}  // namespace txn

namespace spanserver {

class RoutingTable;

// Where a group message goes: to the replica on this server without an RPC (`local`), and to
// the servers in `remote` by RPC. Every replica of the group (`replicas`), except that a
// leader_only message goes to `believed_leader` alone when that is one of them (the belief of the
// group's replica on this server; kNoReplica (0) when there is none or it knows no leader).
// `hosted_here`: this server runs a replica of the group (`self` is this server's id).
struct GroupMessageRoute {
  bool local = false;
  std::vector<uint64_t> remote;
};
GroupMessageRoute RouteGroupMessage(const std::vector<uint64_t>& replicas, bool leader_only,
                                    bool hosted_here, uint64_t believed_leader, uint64_t self);

class TxnService {
 public:
  // Hands a serialized GroupMessageRequest to the peer transport for server `to` (best effort).
  using PeerSender = std::function<void(uint64_t to, std::string wire)>;

  // `routing` must outlive the service. `server_id` makes the ids of CommitWrite's transactions
  // this server's own. `send_to_server` carries group messages to other servers (without it,
  // only the replicas on this server get them).
  TxnService(RoutingTable* routing, uint64_t server_id, PeerSender send_to_server);
  ~TxnService();
  TxnService(const TxnService&) = delete;
  TxnService& operator=(const TxnService&) = delete;

  grpc::Service* service();

  // The tablet of a group hosted here (`tablet` is owned by `host`).
  void AddTablet(uint64_t group, std::shared_ptr<replication::GroupHost> host,
                 tablet::TxnTablet* tablet);
  void RemoveTablet(uint64_t group);
  // Every group's replicas (server ids), from the latest topology.
  void SetGroupMembers(std::map<uint64_t, std::vector<uint64_t>> members);
  // Sends a group message to the replicas of message.to (asynchronously; best effort).
  void Send(const txn::GroupMessage& message);
  // A group message that arrived from peer server `from_server` (authenticated by the peer
  // transport; a serialized GroupMessageRequest): handed to its group's tablet when the group is
  // hosted here and from_server hosts a replica of the message's sending group (checked by a
  // GroupMessageGate, which may hold it until the next SetGroupMembers); dropped when it does not
  // parse, and dropped and counted (meridian_group_messages_refused_total) when the sender is not
  // a member.
  void DeliverFromPeer(uint64_t from_server, std::string_view wire);
  // Commits one write outside any client transaction (the Kv service's Put and Delete) as a
  // transaction of its own in `group`, hosted here: X lock (wound-wait, as the youngest
  // transaction), a commit timestamp, one Paxos write, commit wait. So a single-key write is
  // serialized with the transactions that touch its key instead of slipping past their locks.
  // When an older transaction wounds it, it is tried again with its first priority (bounded).
  // `done` gets the manager's reply (ts = commit timestamp), on the group's strand.
  void CommitWrite(uint64_t group, txn::Mutation mutation, std::function<void(txn::Reply)> done);
  // A strong read-only transaction of `keys` in `group`, hosted here (the Kv service's Get).
  // `done` gets the values and the read timestamp, on the group's strand.
  void ReadOnly(uint64_t group, std::vector<std::string> keys,
                std::function<void(txn::Reply)> done);
  // The read timestamp of a Scan of [start, end) in `group` (a strong read-only transaction with
  // no keys), once this replica is known to serve all of that range (TxnTablet::CheckServed).
  void ScanTimestamp(uint64_t group, std::string start, std::string end,
                     std::function<void(txn::Reply)> done);
  // The host and tablet of `group` when it is hosted here (for range moves, movement_service.h).
  bool FindTablet(uint64_t group, std::shared_ptr<replication::GroupHost>* host,
                  tablet::TxnTablet** tablet);
  // Refuses new requests and drops outgoing messages.
  void Shutdown();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace spanserver
}  // namespace meridian

#endif  // MERIDIAN_SPANSERVER_SERVER_TXN_SERVICE_H_
