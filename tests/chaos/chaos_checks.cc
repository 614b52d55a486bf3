#include "tests/chaos/chaos_checks.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace meridian::chaos {
namespace {

// (key, value) of every append of an ok transaction, with the transaction that made it.
std::map<std::pair<std::string, int64_t>, const history::Event*> AcknowledgedAppends(
    const history::History& history) {
  std::map<std::pair<std::string, int64_t>, const history::Event*> appends;
  for (const history::Event& event : history) {
    if (event.type != history::EventType::kOk) continue;
    for (const history::Op& op : event.txn) {
      if (op.kind == history::OpKind::kAppend) appends[{op.key, op.value}] = &event;
    }
  }
  return appends;
}

// The key of the longest list (the first such in key order); "" when every list is shorter than
// `at_least`.
std::string LongestList(const FinalLists& lists, size_t at_least) {
  std::string longest;
  size_t size = at_least - 1;
  for (const auto& [key, list] : lists) {
    if (list.size() > size) {
      longest = key;
      size = list.size();
    }
  }
  return longest;
}

}  // namespace

std::optional<std::vector<int64_t>> ParseAppendList(std::string_view value) {
  absl::string_view text(value.data(), value.size());
  absl::ConsumePrefix(&text, ",");
  std::vector<int64_t> list;
  if (text.empty()) return list;
  for (const absl::string_view part : absl::StrSplit(text, ',')) {
    int64_t element = 0;
    if (!absl::SimpleAtoi(part, &element)) return std::nullopt;
    list.push_back(element);
  }
  return list;
}

absl::StatusOr<FinalLists> AppendListsFromRows(const Rows& rows) {
  FinalLists lists;
  for (const auto& [key, value] : rows) {
    if (!absl::StrContains(key, kAppendKeyMark)) continue;
    std::optional<std::vector<int64_t>> list = ParseAppendList(value);
    if (!list.has_value()) {
      return absl::DataLossError(
          absl::StrCat("key ", key, " holds a malformed list '", value, "'"));
    }
    lists[key] = *std::move(list);
  }
  return lists;
}

std::vector<std::string> FindLostAppends(const history::History& history,
                                         const FinalLists& final_lists) {
  std::set<std::pair<std::string, int64_t>> present;
  for (const auto& [key, list] : final_lists) {
    for (const int64_t value : list) present.insert({key, value});
  }
  std::vector<std::string> lost;
  for (const auto& [append, event] : AcknowledgedAppends(history)) {
    if (present.contains(append)) continue;
    lost.push_back(absl::StrCat("key ", append.first, ": value ", append.second,
                                " was appended by process ", event->process, " (history index ",
                                event->index,
                                ", acknowledged ok) and is missing from the final read"));
  }
  return lost;
}

std::string CheckBankRows(const Rows& rows, int accounts) {
  int64_t total = 0;
  int found = 0;
  for (const auto& [key, value] : rows) {
    if (!absl::StrContains(key, kBankKeyMark)) continue;
    ++found;
    int64_t balance = 0;
    if (!absl::SimpleAtoi(value, &balance)) {
      return absl::StrCat("account ", key, " holds '", value, "', not a balance");
    }
    if (balance < 0) return absl::StrCat("account ", key, " is negative: ", balance);
    total += balance;
  }
  if (found != accounts) return absl::StrCat(found, " accounts found, ", accounts, " expected");
  const int64_t want = kBankInitialBalance * accounts;
  if (total != want) return absl::StrCat("the accounts hold ", total, " in all, not ", want);
  return "";
}

void AppendFinalRead(const FinalLists& final_lists, int64_t invoke_us, int64_t complete_us,
                     history::History* history) {
  std::set<std::string> keys;
  int64_t process = 0;
  int64_t last_us = invoke_us;
  for (const history::Event& event : *history) {
    process = std::max(process, event.process + 1);
    last_us = std::max(last_us, event.time_us);
    for (const history::Op& op : event.txn) keys.insert(op.key);
  }
  history::Event invoke{.index = static_cast<int64_t>(history->size()),
                        .type = history::EventType::kInvoke,
                        .process = process,
                        .time_us = last_us,
                        .txn = {},
                        .commit_ts = std::nullopt};
  history::Event ok = invoke;
  ok.index = invoke.index + 1;
  ok.type = history::EventType::kOk;
  ok.time_us = std::max(last_us, complete_us);
  for (const std::string& key : keys) {
    invoke.txn.push_back(history::Read(key));
    auto it = final_lists.find(key);
    ok.txn.push_back(
        history::Read(key, it == final_lists.end() ? std::vector<int64_t>{} : it->second));
  }
  history->push_back(std::move(invoke));
  history->push_back(std::move(ok));
}

std::string PlantLoseAcknowledgedAppend(const history::History& history, FinalLists* final_lists) {
  const auto acknowledged = AcknowledgedAppends(history);
  std::string key = LongestList(*final_lists, 1);
  if (key.empty()) return "";
  std::vector<int64_t>& list = (*final_lists)[key];
  for (auto it = list.rbegin(); it != list.rend(); ++it) {
    if (!acknowledged.contains({key, *it})) continue;
    const int64_t value = *it;
    list.erase(std::next(it).base());
    return absl::StrCat("dropped the acknowledged value ", value, " of key ", key,
                        " from the final read");
  }
  return "";
}

std::string PlantReorderFinalRead(FinalLists* final_lists) {
  const std::string key = LongestList(*final_lists, 2);
  if (key.empty()) return "";
  std::vector<int64_t>& list = (*final_lists)[key];
  std::swap(list[0], list[1]);
  return absl::StrCat("swapped the first two values of key ", key, " in the final read");
}

}  // namespace meridian::chaos
