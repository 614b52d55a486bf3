#include "tools/history/history.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tools/history/json.h"

namespace meridian::history {

Op Append(std::string key, int64_t value) {
  return Op{.kind = OpKind::kAppend, .key = std::move(key), .value = value, .read = std::nullopt};
}

Op Read(std::string key) {
  return Op{.kind = OpKind::kRead, .key = std::move(key), .value = 0, .read = std::nullopt};
}

Op Read(std::string key, std::vector<int64_t> result) {
  return Op{.kind = OpKind::kRead, .key = std::move(key), .value = 0, .read = std::move(result)};
}

const char* EventTypeName(EventType type) {
  switch (type) {
    case EventType::kInvoke:
      return "invoke";
    case EventType::kOk:
      return "ok";
    case EventType::kFail:
      return "fail";
    case EventType::kInfo:
      return "info";
  }
  return "?";
}

std::string EventToJson(const Event& event) {
  std::string out =
      absl::StrCat("{\"index\":", event.index, ",\"type\":\"", EventTypeName(event.type),
                   "\",\"process\":", event.process, ",\"time_us\":", event.time_us, ",\"txn\":[");
  for (size_t i = 0; i < event.txn.size(); ++i) {
    const Op& op = event.txn[i];
    if (i > 0) out.push_back(',');
    out.append(op.kind == OpKind::kAppend ? "[\"append\"," : "[\"r\",");
    AppendJsonString(op.key, &out);
    out.push_back(',');
    if (op.kind == OpKind::kAppend) {
      absl::StrAppend(&out, op.value);
    } else if (!op.read.has_value()) {
      out.append("null");
    } else {
      out.push_back('[');
      for (size_t j = 0; j < op.read->size(); ++j) {
        if (j > 0) out.push_back(',');
        absl::StrAppend(&out, (*op.read)[j]);
      }
      out.push_back(']');
    }
    out.push_back(']');
  }
  out.push_back(']');
  if (event.commit_ts.has_value()) absl::StrAppend(&out, ",\"commit_ts\":", *event.commit_ts);
  out.push_back('}');
  return out;
}

namespace {

absl::Status FieldError(const std::string& field, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("field \"", field, "\": ", what));
}

absl::StatusOr<int64_t> IntField(const JsonValue& object, const std::string& name) {
  const JsonValue* value = object.Find(name);
  if (value == nullptr) return FieldError(name, "missing");
  if (value->kind != JsonValue::Kind::kInt) {
    return FieldError(name, absl::StrCat("must be an integer, not ", JsonKindName(value->kind)));
  }
  return value->int_value;
}

absl::StatusOr<Op> ParseOp(const JsonValue& item, size_t i) {
  const std::string field = absl::StrCat("txn[", i, "]");
  if (item.kind != JsonValue::Kind::kArray || item.items.size() != 3) {
    return FieldError(field,
                      "an op must be an array of 3 items: [\"append\", key, int] or "
                      "[\"r\", key, null or list]");
  }
  const JsonValue& f = item.items[0];
  const JsonValue& key = item.items[1];
  const JsonValue& value = item.items[2];
  if (key.kind != JsonValue::Kind::kString) return FieldError(field, "the key must be a string");
  if (f.kind == JsonValue::Kind::kString && f.string_value == "append") {
    if (value.kind != JsonValue::Kind::kInt) {
      return FieldError(field, "an append's value must be an integer");
    }
    return Append(key.string_value, value.int_value);
  }
  if (f.kind == JsonValue::Kind::kString && f.string_value == "r") {
    if (value.kind == JsonValue::Kind::kNull) return Read(key.string_value);
    if (value.kind != JsonValue::Kind::kArray) {
      return FieldError(field, "a read's value must be null or a list of integers");
    }
    std::vector<int64_t> list;
    list.reserve(value.items.size());
    for (const JsonValue& element : value.items) {
      if (element.kind != JsonValue::Kind::kInt) {
        return FieldError(field, "a read's list must hold only integers");
      }
      list.push_back(element.int_value);
    }
    return Read(key.string_value, std::move(list));
  }
  return FieldError(field, "the op must be \"append\" or \"r\"");
}

absl::Status InvalidAtLine(int64_t line, const absl::Status& status) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", status.message()));
}

}  // namespace

absl::StatusOr<Event> ParseEvent(std::string_view line) {
  absl::StatusOr<JsonValue> json = ParseJson(line);
  if (!json.ok()) return json.status();
  if (json->kind != JsonValue::Kind::kObject) {
    return absl::InvalidArgumentError(
        absl::StrCat("an event must be a JSON object, not ", JsonKindName(json->kind)));
  }
  Event event;
  absl::StatusOr<int64_t> v = IntField(*json, "index");
  if (!v.ok()) return v.status();
  event.index = *v;
  const JsonValue* type = json->Find("type");
  if (type == nullptr) return FieldError("type", "missing");
  const std::string type_name =
      type->kind == JsonValue::Kind::kString ? type->string_value : std::string();
  if (type_name == "invoke") {
    event.type = EventType::kInvoke;
  } else if (type_name == "ok") {
    event.type = EventType::kOk;
  } else if (type_name == "fail") {
    event.type = EventType::kFail;
  } else if (type_name == "info") {
    event.type = EventType::kInfo;
  } else {
    return FieldError("type", "must be \"invoke\", \"ok\", \"fail\" or \"info\"");
  }
  if (v = IntField(*json, "process"); !v.ok()) return v.status();
  event.process = *v;
  if (v = IntField(*json, "time_us"); !v.ok()) return v.status();
  event.time_us = *v;
  const JsonValue* txn = json->Find("txn");
  if (txn == nullptr) return FieldError("txn", "missing");
  if (txn->kind != JsonValue::Kind::kArray) return FieldError("txn", "must be an array of ops");
  event.txn.reserve(txn->items.size());
  for (size_t i = 0; i < txn->items.size(); ++i) {
    absl::StatusOr<Op> op = ParseOp(txn->items[i], i);
    if (!op.ok()) return op.status();
    event.txn.push_back(*std::move(op));
  }
  if (json->Find("commit_ts") != nullptr) {
    if (v = IntField(*json, "commit_ts"); !v.ok()) return v.status();
    event.commit_ts = *v;
  }
  return event;
}

absl::StatusOr<History> ParseHistory(std::string_view text) {
  History history;
  int64_t line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    ++line_number;
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      return InvalidAtLine(line_number, absl::InvalidArgumentError("empty line"));
    }
    absl::StatusOr<Event> event = ParseEvent(line);
    if (!event.ok()) return InvalidAtLine(line_number, event.status());
    history.push_back(*std::move(event));
  }
  if (absl::Status s = ValidateHistory(history); !s.ok()) return s;
  return history;
}

absl::StatusOr<History> ReadHistoryFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  absl::StatusOr<History> history = ParseHistory(text.str());
  if (!history.ok()) {
    return absl::Status(history.status().code(),
                        absl::StrCat(path, ": ", history.status().message()));
  }
  return history;
}

absl::Status WriteHistoryFile(const std::string& path, const History& history) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    return absl::InternalError(absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  for (const Event& event : history) out << EventToJson(event) << '\n';
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::Status ValidateHistory(const History& history) {
  EventSequencer sequencer;
  for (const Event& event : history) {
    if (absl::Status s = sequencer.Verify(event); !s.ok()) {
      return InvalidAtLine(sequencer.size() + 1, s);
    }
  }
  return absl::OkStatus();
}

absl::Status EventSequencer::Next(Event* event) {
  const int64_t index = event->index;
  const int64_t time_us = event->time_us;
  event->index = next_index_;
  event->time_us = std::max(event->time_us, last_time_us_);
  absl::Status status = Accept(*event);
  if (!status.ok()) {
    event->index = index;
    event->time_us = time_us;
  }
  return status;
}

absl::Status EventSequencer::Verify(const Event& event) {
  if (event.index != next_index_) {
    return absl::InvalidArgumentError(absl::StrCat("index is ", event.index, " but must be ",
                                                   next_index_, " (the 0-based line number)"));
  }
  if (event.time_us < last_time_us_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "time_us ", event.time_us, " is earlier than the previous event's ", last_time_us_));
  }
  return Accept(event);
}

absl::Status EventSequencer::Accept(const Event& event) {
  auto pending = pending_.find(event.process);
  if (event.type == EventType::kInvoke) {
    if (pending != pending_.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "process ", event.process, " invokes a transaction while its invoke at line ",
          pending->second.index + 1, " is still pending"));
    }
    absl::flat_hash_set<std::pair<std::string, int64_t>> appends;
    for (size_t i = 0; i < event.txn.size(); ++i) {
      const Op& op = event.txn[i];
      if (op.kind == OpKind::kRead && op.read.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat("txn[", i, "]: an invoke's reads must be null"));
      }
      if (op.kind == OpKind::kAppend &&
          (appended_.contains(std::make_pair(op.key, op.value)) ||
           !appends.insert(std::make_pair(op.key, op.value)).second)) {
        std::string key;
        AppendJsonString(op.key, &key);
        return absl::InvalidArgumentError(
            absl::StrCat("txn[", i, "]: value ", op.value, " is appended to key ", key,
                         " a second time (appended values must be unique per key)"));
      }
    }
    if (event.commit_ts.has_value()) {
      return absl::InvalidArgumentError("commit_ts is only allowed on ok events");
    }
    for (auto& append : appends) appended_.insert(std::move(append));
    pending_[event.process] = Pending{.index = event.index, .txn = event.txn};
  } else {
    if (pending == pending_.end()) {
      return absl::InvalidArgumentError(absl::StrCat("process ", event.process, " completes (",
                                                     EventTypeName(event.type),
                                                     ") with no pending invoke"));
    }
    const Pending& invoke = pending->second;
    if (event.txn.size() != invoke.txn.size()) {
      return absl::InvalidArgumentError(absl::StrCat("the completion has ", event.txn.size(),
                                                     " ops but the invoke at line ",
                                                     invoke.index + 1, " has ", invoke.txn.size()));
    }
    for (size_t i = 0; i < event.txn.size(); ++i) {
      const Op& op = event.txn[i];
      const Op& invoked = invoke.txn[i];
      if (op.kind != invoked.kind || op.key != invoked.key ||
          (op.kind == OpKind::kAppend && op.value != invoked.value)) {
        return absl::InvalidArgumentError(
            absl::StrCat("txn[", i, "] differs from the invoke at line ", invoke.index + 1,
                         " (a completion must repeat its invoke's ops, filling in the reads)"));
      }
      if (event.type == EventType::kOk && op.kind == OpKind::kRead && !op.read.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat("txn[", i, "]: a read of an ok transaction must have a list, not null"));
      }
    }
    if (event.commit_ts.has_value() && event.type != EventType::kOk) {
      return absl::InvalidArgumentError("commit_ts is only allowed on ok events");
    }
    pending_.erase(pending);
  }
  last_time_us_ = event.time_us;
  ++next_index_;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> HistoryBuilder::Invoke(int64_t process, int64_t time_us,
                                               std::vector<Op> txn) {
  return Add(Event{.type = EventType::kInvoke,
                   .process = process,
                   .time_us = time_us,
                   .txn = std::move(txn),
                   .commit_ts = std::nullopt});
}

absl::StatusOr<int64_t> HistoryBuilder::Ok(int64_t process, int64_t time_us, std::vector<Op> txn,
                                           std::optional<int64_t> commit_ts) {
  return Add(Event{.type = EventType::kOk,
                   .process = process,
                   .time_us = time_us,
                   .txn = std::move(txn),
                   .commit_ts = commit_ts});
}

absl::StatusOr<int64_t> HistoryBuilder::Fail(int64_t process, int64_t time_us) {
  return Complete(EventType::kFail, process, time_us);
}

absl::StatusOr<int64_t> HistoryBuilder::Info(int64_t process, int64_t time_us) {
  return Complete(EventType::kInfo, process, time_us);
}

absl::StatusOr<int64_t> HistoryBuilder::Complete(EventType type, int64_t process, int64_t time_us) {
  auto pending = pending_txn_.find(process);
  if (pending == pending_txn_.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("process ", process, " completes with no pending invoke"));
  }
  return Add(Event{.type = type,
                   .process = process,
                   .time_us = time_us,
                   .txn = pending->second,
                   .commit_ts = std::nullopt});
}

absl::StatusOr<int64_t> HistoryBuilder::Add(Event event) {
  if (absl::Status s = sequencer_.Next(&event); !s.ok()) {
    return absl::FailedPreconditionError(s.message());
  }
  if (event.type == EventType::kInvoke) {
    pending_txn_[event.process] = event.txn;
  } else {
    pending_txn_.erase(event.process);
  }
  history_.push_back(std::move(event));
  return history_.back().index;
}

absl::StatusOr<std::unique_ptr<HistoryWriter>> HistoryWriter::Create(const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return absl::InternalError(absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<HistoryWriter>(new HistoryWriter(path, file));
}

HistoryWriter::~HistoryWriter() { Close().IgnoreError(); }

absl::StatusOr<int64_t> HistoryWriter::Write(Event event) {
  absl::MutexLock lock(&mu_);
  if (file_ == nullptr) return absl::FailedPreconditionError(path_ + " is closed");
  if (absl::Status s = sequencer_.Next(&event); !s.ok()) {
    return absl::FailedPreconditionError(s.message());
  }
  const std::string line = EventToJson(event) + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    // The sequencer has counted a line the file may lack: refuse every later write.
    const std::string error = std::strerror(errno);
    std::fclose(file_);
    file_ = nullptr;
    return absl::InternalError(absl::StrCat("cannot write ", path_, ": ", error));
  }
  return event.index;
}

absl::Status HistoryWriter::Close() {
  absl::MutexLock lock(&mu_);
  if (file_ == nullptr) return absl::OkStatus();
  const bool ok = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!ok) return absl::InternalError(absl::StrCat("cannot close ", path_));
  return absl::OkStatus();
}

}  // namespace meridian::history
