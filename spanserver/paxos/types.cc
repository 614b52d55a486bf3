#include "spanserver/paxos/types.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace meridian::paxos {

std::string Ballot::ToString() const { return absl::StrCat(round, ".", replica); }

std::string Entry::ToString() const {
  if (type == EntryType::kConfig) return absl::StrCat(index, "@", ballot.ToString(), " config");
  return absl::StrCat(index, "@", ballot.ToString(), type == EntryType::kNoop ? " noop" : " ",
                      type == EntryType::kNoop ? "" : command);
}

std::string HardState::ToString() const {
  std::string out = absl::StrCat("promised=", promised.ToString(), " members=[",
                                 absl::StrJoin(members, ","), "]");
  if (!learners.empty()) absl::StrAppend(&out, " learners=[", absl::StrJoin(learners, ","), "]");
  if (config_index > 0) absl::StrAppend(&out, " config@", config_index);
  return out;
}

bool Config::IsVoter(ReplicaId id) const {
  return std::find(voters.begin(), voters.end(), id) != voters.end();
}

bool Config::IsLearner(ReplicaId id) const {
  return std::find(learners.begin(), learners.end(), id) != learners.end();
}

std::string Config::ToString() const {
  std::string out = absl::StrCat("voters=[", absl::StrJoin(voters, ","), "]");
  if (!learners.empty()) absl::StrAppend(&out, " learners=[", absl::StrJoin(learners, ","), "]");
  return out;
}

const char* MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kPrepare:
      return "Prepare";
    case MessageType::kPromise:
      return "Promise";
    case MessageType::kAccept:
      return "Accept";
    case MessageType::kAccepted:
      return "Accepted";
    case MessageType::kTimeoutNow:
      return "TimeoutNow";
  }
  return "Unknown";
}

std::string Message::ToString() const {
  std::string out =
      absl::StrCat(from, "->", to, " ", MessageTypeName(type), " b=", ballot.ToString());
  switch (type) {
    case MessageType::kPrepare:
      absl::StrAppend(&out, " from_index=", index, " seq=", lease_seq);
      if (!transfer_from.IsZero())
        absl::StrAppend(&out, " transfer_from=", transfer_from.ToString());
      break;
    case MessageType::kPromise:
      if (reject) {
        absl::StrAppend(&out, " REJECT promised=", promised.ToString());
        break;
      }
      absl::StrAppend(&out, " index=", index, " commit=", commit, " seq=", lease_seq,
                      lease_granted ? " vote" : " novote", more ? " more" : "");
      break;
    case MessageType::kAccept:
      absl::StrAppend(&out, " commit=", commit, " seq=", lease_seq);
      break;
    case MessageType::kAccepted:
      if (reject) {
        absl::StrAppend(&out, " REJECT promised=", promised.ToString());
        break;
      }
      absl::StrAppend(&out, " match=", match, " upto=", index, " seq=", lease_seq,
                      lease_granted ? " vote" : " novote");
      break;
    case MessageType::kTimeoutNow:
      break;
  }
  if (snapshot > 0) absl::StrAppend(&out, " snapshot=", snapshot);
  if (config_index > 0) absl::StrAppend(&out, " config@", config_index);
  if (!entries.empty()) {
    absl::StrAppend(&out, " entries=[");
    for (size_t i = 0; i < entries.size(); ++i) {
      absl::StrAppend(&out, i ? ", " : "", entries[i].ToString());
    }
    absl::StrAppend(&out, "]");
  }
  return out;
}

}  // namespace meridian::paxos
