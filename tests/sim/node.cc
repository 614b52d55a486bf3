// SimNode implementation; see node.h.
//
// Seed/faults: ReplicaProcess's. Checkers: applies go to the NodeHost.
#include "tests/sim/node.h"

#include <charconv>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "spanserver/paxos/codec.h"
#include "tests/sim/history.h"

namespace meridian::sim {

SimNode::SimNode(Addr addr, const NodeConfig& config, EventLoop* loop,
                 truetime::SimulatedTime* time, NodeHost* host, uint64_t seed)
    : ReplicaProcess(addr, config, loop, time, seed), host_(host) {}

SimNode::Register SimNode::Lookup(const std::string& key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? Register{} : it->second;
}

void SimNode::Deliver(const paxos::Message& m) {
  Run([this, m] {
    loop()->Trace(absl::StrCat("deliver g", m.group, " ", m.from, "->", m.to, " ",
                               paxos::MessageTypeName(m.type), " b=", m.ballot.ToString(),
                               " i=", m.index, " c=", m.commit, " n=", m.entries.size(),
                               m.reject ? " reject" : "", m.lease_granted ? " vote" : ""));
    if (loop()->tracing() && !m.entries.empty()) loop()->Detail(m.ToString());
    Step(m);
  });
}

absl::StatusOr<paxos::Index> SimNode::Propose(std::string command) {
  if (!serving()) return absl::UnavailableError("node down or paused");
  absl::StatusOr<paxos::Index> slot = replica().Propose(command, Now());
  loop()->Trace(absl::StrCat("propose ", Name(), " '", command, "' -> ",
                             slot.ok() ? absl::StrCat(*slot) : slot.status().ToString()));
  Pump();
  AfterEvent();
  return slot;
}

absl::StatusOr<paxos::Index> SimNode::LeaseRead() {
  if (!serving()) return absl::UnavailableError("node down or paused");
  absl::StatusOr<paxos::Index> index = replica().LeaseRead(Now());
  loop()->Trace(absl::StrCat("lease_read ", Name(), " -> ",
                             index.ok() ? absl::StrCat(*index) : "unavailable"));
  return index;
}

absl::StatusOr<paxos::Index> SimNode::ProposeConfig(const paxos::Config& next) {
  if (!serving()) return absl::UnavailableError("node down or paused");
  absl::StatusOr<paxos::Index> slot = replica().ProposeConfig(next, Now());
  loop()->Trace(absl::StrCat("propose config ", Name(), " ", next.ToString(), " -> ",
                             slot.ok() ? absl::StrCat(*slot) : slot.status().ToString()));
  Pump();
  AfterEvent();
  return slot;
}

absl::Status SimNode::TransferLeadership(paxos::ReplicaId to) {
  if (!serving()) return absl::UnavailableError("node down or paused");
  absl::Status s = replica().TransferLeadership(to, Now());
  loop()->Trace(absl::StrCat("transfer ", Name(), " to r", to, " -> ", s.ToString()));
  Pump();
  AfterEvent();
  return s;
}

void SimNode::ApplyEntry(const paxos::Entry& e) {
  uint64_t read_value = 0;
  if (e.type == paxos::EntryType::kNormal) {
    if (std::optional<Command> c = DecodeCommand(e.command)) {
      if (c->kind == OpKind::kPut) {
        kv_[c->key] = Register{c->id, e.index};
      } else {
        read_value = Lookup(c->key).value;
      }
    }
  }
  std::string what = e.type == paxos::EntryType::kNoop ? "noop" : e.command;
  if (e.type == paxos::EntryType::kConfig) {
    const absl::StatusOr<paxos::Config> config = paxos::DecodeConfig(e.command);
    what = "config " + (config.ok() ? config->ToString() : config.status().ToString());
  }
  loop()->Trace(absl::StrCat("apply ", Name(), " ", e.index, "@", e.ballot.ToString(), " ", what));
  host_->OnApplied(*this, e, read_value);
}

std::string SimNode::CheckpointImage() {
  std::string image;
  for (const auto& [key, r] : kv_) absl::StrAppend(&image, key, " ", r.value, " ", r.slot, "\n");
  return image;
}

absl::Status SimNode::Restore(const std::string& image, const std::string& data) {
  if (!data.empty()) return absl::DataLossError("a register node has no data besides its image");
  std::map<std::string, Register> kv;
  for (const std::string& line :
       std::vector<std::string>(absl::StrSplit(image, '\n', absl::SkipEmpty()))) {
    const std::vector<std::string> f = absl::StrSplit(line, ' ');
    Register r;
    if (f.size() != 3 ||
        std::from_chars(f[1].data(), f[1].data() + f[1].size(), r.value).ec != std::errc() ||
        std::from_chars(f[2].data(), f[2].data() + f[2].size(), r.slot).ec != std::errc()) {
      return absl::DataLossError(absl::StrCat("bad register line '", line, "'"));
    }
    kv[f[0]] = r;
  }
  kv_ = std::move(kv);
  return absl::OkStatus();
}

}  // namespace meridian::sim
