// RoundDriver: the order in which a server carries out a paxos::Replica's rounds — the part of
// GroupHost that does no I/O itself, shared with the deterministic simulator so that both run the
// same sequence (ARCHITECTURE.md "Testing tiers"):
//   1. TakeReady(); hand the soft state over; send `messages` (they need nothing durable);
//   2. StartWrite: the environment writes the round's hard state and entries (when the Ready must
//      sync) together with what applying `committed` writes, and reports whether a write is now
//      in flight;
//   3. once it is durable (Persisted(), or at once when nothing was written): send
//      `messages_after_persist`, FinishApplying (the committed entries are applied: answer their
//      waiters), then Advance() and AfterAdvance().
// A new TakeReady() waits for the previous Advance(), so the replica's output accumulates while a
// write is in flight and goes out batched. Advance needs a clock reading; when the environment
// has none after a write, the advance waits for AdvanceIfPending (its next tick).
//
// Thread safety: none; one strand (GroupHost) or the simulator's loop drives it. The replica and
// the environment must outlive it.
#ifndef MERIDIAN_REPLICATION_ROUND_DRIVER_H_
#define MERIDIAN_REPLICATION_ROUND_DRIVER_H_

#include <optional>
#include <vector>

#include "spanserver/paxos/replica.h"
#include "spanserver/paxos/types.h"
#include "truetime/interval.h"

namespace meridian::replication {

class RoundDriver {
 public:
  // What a round does outside the replica.
  class Env {
   public:
    virtual ~Env() = default;
    virtual void OnSoftState(const paxos::SoftState& soft_state) { (void)soft_state; }
    virtual void Send(std::vector<paxos::Message> messages) = 0;
    // Step 2. Takes from `ready` what it writes (hard state and entries when `sync`) and applies
    // (`committed`, in log order). True when a write is in flight: Persisted() follows once it is
    // durable. False when nothing needed writing.
    virtual bool StartWrite(paxos::Ready& ready, bool sync) = 0;
    // Step 3: the round's committed entries are durable and applied. False when the environment
    // went away meanwhile (a simulated process that crashed while applying): the driver then
    // touches nothing more.
    virtual bool FinishApplying() = 0;
    // After every Advance().
    virtual void AfterAdvance() {}
    // Between rounds, before the next TakeReady (no write in flight, nothing outstanding).
    virtual void OnIdle() {}
    // After the Advance() of a round that asked for a snapshot (Ready::snapshot_request).
    virtual void OnSnapshotRequest(const paxos::SnapshotRequest& request) { (void)request; }
  };

  // Rounds taken by one Process() call at most; the rest wait for the next event.
  static constexpr int kMaxRoundsPerProcess = 1024;

  RoundDriver(paxos::Replica* replica, Env* env) : replica_(replica), env_(env) {}

  // Carries out the replica's pending rounds until one waits for its write.
  void Process(truetime::Interval now);
  // The write that StartWrite began is durable. With a clock reading the round ends and the next
  // ones run; without one, its Advance waits for AdvanceIfPending.
  void Persisted(const truetime::Interval* now);
  // A round whose Advance waited for a clock reading ends now.
  void AdvanceIfPending(truetime::Interval now);

  bool writing() const { return writing_; }
  // No round is being carried out: every entry handed out is applied and written.
  bool idle() const { return !writing_ && !advance_pending_; }

 private:
  // Step 3 after the write (or without one). False when the environment went away.
  bool EndRound();
  void Advance(truetime::Interval now);

  paxos::Replica* const replica_;
  Env* const env_;
  paxos::Ready round_;                                      // the round being carried out
  std::optional<paxos::SnapshotRequest> snapshot_request_;  // the round's, until its Advance
  bool writing_ = false;                                    // StartWrite's write is in flight
  bool advance_pending_ = false;  // the round is carried out but Advance needs a clock reading
};

}  // namespace meridian::replication

#endif  // MERIDIAN_REPLICATION_ROUND_DRIVER_H_
