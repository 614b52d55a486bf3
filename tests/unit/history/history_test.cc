#include "tools/history/history.h"

#include <cstdio>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meridian::history {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string TempPath(const std::string& name) {
  return absl::StrCat(::testing::TempDir(), "/history_test_", name, ".jsonl");
}

std::string ReadAll(const std::string& path) {
  std::string text;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return text;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
  std::fclose(f);
  return text;
}

TEST(HistoryTest, EventToJsonIsTheDocumentedFormat) {
  const Event invoke{.index = 0,
                     .type = EventType::kInvoke,
                     .process = 3,
                     .time_us = 1700000000000123,
                     .txn = {Append("k1", 5), Read("k2")},
                     .commit_ts = std::nullopt};
  EXPECT_EQ(EventToJson(invoke),
            R"({"index":0,"type":"invoke","process":3,"time_us":1700000000000123,)"
            R"("txn":[["append","k1",5],["r","k2",null]]})");
  const Event ok{.index = 1,
                 .type = EventType::kOk,
                 .process = 3,
                 .time_us = 1700000000002456,
                 .txn = {Append("k1", 5), Read("k2", {1, 2, 5})},
                 .commit_ts = 1700000000002000};
  EXPECT_EQ(EventToJson(ok),
            R"({"index":1,"type":"ok","process":3,"time_us":1700000000002456,)"
            R"("txn":[["append","k1",5],["r","k2",[1,2,5]]],"commit_ts":1700000000002000})");
}

TEST(HistoryTest, RoundTripThroughWriterAndReader) {
  const std::string path = TempPath("round_trip");
  const std::string odd_key = std::string("quote\" slash\\ nl\n tab\t nul") + '\0' + "\x01\xC3\xA9";
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  HistoryBuilder builder;
  {
    absl::StatusOr<std::unique_ptr<HistoryWriter>> writer = HistoryWriter::Create(path);
    ASSERT_TRUE(writer.ok()) << writer.status();
    auto record = [&](const absl::StatusOr<int64_t>& built) {
      ASSERT_TRUE(built.ok()) << built.status();
      absl::StatusOr<int64_t> written = (*writer)->Write(builder.history().back());
      ASSERT_TRUE(written.ok()) << written.status();
      EXPECT_EQ(*written, *built);
    };
    record(builder.Invoke(1, 10, {Append(odd_key, kMin), Read("")}));
    record(builder.Invoke(2, 11, {Append("k", kMax), Read("k")}));
    record(builder.Ok(1, 12, {Append(odd_key, kMin), Read("", {})}, 99));
    record(builder.Info(2, 13));
    record(builder.Invoke(2, 14, {Append("k", -1)}));
    record(builder.Fail(2, 15));
    record(builder.Invoke(1, 16, {}));
    record(builder.Ok(1, 17, {}));
    record(builder.Invoke(5, 18, {Read("k")}));  // still pending at the end
    ASSERT_TRUE((*writer)->Close().ok());
  }
  absl::StatusOr<History> read = ReadHistoryFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, builder.history());
  EXPECT_EQ(read->size(), 9u);
  EXPECT_EQ((*read)[3].txn[1], Read("k"));  // info repeats the invoke's ops
  // WriteHistoryFile writes the same bytes.
  const std::string copy = TempPath("round_trip_copy");
  ASSERT_TRUE(WriteHistoryFile(copy, builder.history()).ok());
  EXPECT_EQ(ReadAll(copy), ReadAll(path));
}

TEST(HistoryTest, WriterIsSharedByThreads) {
  const std::string path = TempPath("threads");
  absl::StatusOr<std::unique_ptr<HistoryWriter>> writer = HistoryWriter::Create(path);
  ASSERT_TRUE(writer.ok()) << writer.status();
  constexpr int kThreads = 4;
  constexpr int kTxns = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kTxns; ++i) {
        const int64_t value = t * kTxns + i;
        // Times are per-thread and so interleave out of order; the writer raises them.
        Event invoke{.type = EventType::kInvoke,
                     .process = t,
                     .time_us = i * 10,
                     .txn = {Append("k", value)},
                     .commit_ts = std::nullopt};
        ASSERT_TRUE((*writer)->Write(invoke).ok());
        Event done = invoke;
        done.type = EventType::kOk;
        done.time_us = i * 10 + 5;
        ASSERT_TRUE((*writer)->Write(done).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_TRUE((*writer)->Close().ok());
  absl::StatusOr<History> read = ReadHistoryFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->size(), 2u * kThreads * kTxns);
}

TEST(HistoryTest, MalformedLinesNameTheirLine) {
  const std::string good0 = R"({"index":0,"type":"invoke","process":1,"time_us":5,"txn":[]})";
  struct Case {
    std::string second_line;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"", "line 2: empty line"},
      {"[1]", "line 2: an event must be a JSON object"},
      {R"({"index":1,"type":"ok","process":1,"time_us":6,"txn":[]} x)",
       "line 2: column 58: unexpected text"},
      {R"({"index":1,"type":"ok","process":1,"time_us":6})", "line 2: field \"txn\": missing"},
      {R"({"index":1,"type":"done","process":1,"time_us":6,"txn":[]})",
       "line 2: field \"type\": must be"},
      {R"({"index":1,"type":"ok","process":"1","time_us":6,"txn":[]})",
       "line 2: field \"process\": must be an integer"},
      {R"({"index":1,"type":"ok","process":1,"time_us":6,"txn":[["w","k",1]]})",
       "line 2: field \"txn[0]\": the op must be"},
      {R"({"index":1,"type":"ok","process":1,"time_us":6,"txn":[["r","k",[1,"2"]]]})",
       "line 2: field \"txn[0]\": a read's list must hold only integers"},
      {R"({"index":1,"type":"ok","process":1,"time_us":6,"txn":[["append",1,1]]})",
       "line 2: field \"txn[0]\": the key must be a string"},
      {R"({"index":7,"type":"ok","process":1,"time_us":6,"txn":[]})",
       "line 2: index is 7 but must be 1"},
      {R"({"index":1,"type":"ok","process":1,"time_us":4,"txn":[]})",
       "line 2: time_us 4 is earlier"},
      {R"({"index":1,"type":"ok","process":2,"time_us":6,"txn":[]})",
       "line 2: process 2 completes (ok) with no pending invoke"},
      {R"({"index":1,"type":"invoke","process":1,"time_us":6,"txn":[]})",
       "line 2: process 1 invokes a transaction while its invoke at line 1"},
      {R"({"index":1,"type":"ok","process":1,"time_us":6,"txn":[["r","k",[]]]})",
       "line 2: the completion has 1 ops but the invoke at line 1 has 0"},
      {R"({"index":1,"type":"fail","process":1,"time_us":6,"txn":[],"commit_ts":3})",
       "line 2: commit_ts is only allowed on ok"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<History> h = ParseHistory(good0 + "\n" + c.second_line + "\n");
    ASSERT_FALSE(h.ok()) << c.second_line;
    EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(h.status().message()), StartsWith(c.error)) << c.second_line;
  }
}

TEST(HistoryTest, CompletionsMustMatchTheirInvoke) {
  const std::string invoke =
      R"({"index":0,"type":"invoke","process":1,"time_us":5,"txn":[["append","k",1],["r","k",null]]})";
  auto second = [&](const std::string& line) { return ParseHistory(invoke + "\n" + line); };
  EXPECT_TRUE(
      second(
          R"({"index":1,"type":"ok","process":1,"time_us":6,"txn":[["append","k",1],["r","k",[1]]]})")
          .ok());
  EXPECT_TRUE(
      second(
          R"({"index":1,"type":"info","process":1,"time_us":6,"txn":[["append","k",1],["r","k",null]]})")
          .ok());
  EXPECT_THAT(
      std::string(
          second(
              R"({"index":1,"type":"ok","process":1,"time_us":6,"txn":[["append","k",2],["r","k",[1]]]})")
              .status()
              .message()),
      HasSubstr("txn[0] differs from the invoke at line 1"));
  EXPECT_THAT(
      std::string(
          second(
              R"({"index":1,"type":"ok","process":1,"time_us":6,"txn":[["append","k",1],["r","k",null]]})")
              .status()
              .message()),
      HasSubstr("txn[1]: a read of an ok transaction must have a list"));
  const std::string read_in_invoke =
      R"({"index":0,"type":"invoke","process":1,"time_us":5,"txn":[["r","k",[]]]})";
  EXPECT_THAT(std::string(ParseHistory(read_in_invoke).status().message()),
              HasSubstr("line 1: txn[0]: an invoke's reads must be null"));
}

TEST(HistoryTest, AppendedValuesAreUniquePerKey) {
  HistoryBuilder builder;
  ASSERT_TRUE(builder.Invoke(1, 0, {Append("k", 1), Append("j", 1)}).ok());  // other key: fine
  ASSERT_TRUE(builder.Fail(1, 1).ok());
  const absl::StatusOr<int64_t> again = builder.Invoke(2, 2, {Append("k", 1)});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(again.status().message()),
              HasSubstr("value 1 is appended to key \"k\" a second time"));
  EXPECT_FALSE(builder.Invoke(3, 2, {Append("x", 4), Append("x", 4)}).ok());
  EXPECT_EQ(builder.history().size(), 2u);  // the failed calls recorded nothing
}

TEST(HistoryTest, BuilderNumbersEventsAndKeepsTimeMonotonic) {
  HistoryBuilder builder;
  EXPECT_EQ(*builder.Invoke(1, 100, {Read("k")}), 0);
  EXPECT_EQ(*builder.Invoke(2, 50, {Read("k")}), 1);
  EXPECT_EQ(builder.history()[1].time_us, 100);
  EXPECT_FALSE(builder.Fail(3, 200).ok());
  EXPECT_FALSE(builder.Ok(1, 200, {Read("k")}).ok());  // an ok read needs its result
  EXPECT_EQ(*builder.Ok(1, 200, {Read("k", {})}), 2);
  EXPECT_TRUE(ValidateHistory(builder.history()).ok());
}

TEST(HistoryTest, TruncatedLastLineIsAnError) {
  const std::string text =
      "{\"index\":0,\"type\":\"invoke\",\"process\":1,\"time_us\":5,\"txn\":[]}\n"
      "{\"index\":1,\"type\":\"ok\",\"proc";
  EXPECT_THAT(std::string(ParseHistory(text).status().message()), StartsWith("line 2: column"));
}

TEST(HistoryTest, MissingFileIsNotFound) {
  EXPECT_EQ(ReadHistoryFile(TempPath("does_not_exist")).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace meridian::history
