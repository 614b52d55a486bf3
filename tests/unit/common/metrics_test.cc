#include "common/metrics.h"

#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace meridian::metrics {
namespace {

TEST(MetricsTest, CounterAndGaugeRenderWithHelpAndType) {
  Registry registry;
  registry.AddCounter("m_commits_total", "Commits.", {{"kind", "txn"}}).Increment(3);
  registry.AddCounter("m_commits_total", "Commits.", {{"kind", "kv"}}).Increment();
  registry.AddGauge("m_lag_seconds", "Lag.").Set(0.25);
  EXPECT_EQ(registry.Render(),
            "# HELP m_commits_total Commits.\n"
            "# TYPE m_commits_total counter\n"
            "m_commits_total{kind=\"txn\"} 3\n"
            "m_commits_total{kind=\"kv\"} 1\n"
            "# HELP m_lag_seconds Lag.\n"
            "# TYPE m_lag_seconds gauge\n"
            "m_lag_seconds 0.25\n");
}

TEST(MetricsTest, SameNameAndLabelsIsTheSameMetric) {
  Registry registry;
  Counter& a = registry.AddCounter("m_total", "h", {{"x", "1"}});
  Counter& b = registry.AddCounter("m_total", "h", {{"x", "1"}});
  Counter& c = registry.AddCounter("m_total", "h", {{"x", "2"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  Registry registry;
  registry.AddGauge("m_g", "a \\ back\nslash", {{"v", "q\"uo\\te\nline"}}).Set(1);
  EXPECT_EQ(registry.Render(),
            "# HELP m_g a \\\\ back\\nslash\n"
            "# TYPE m_g gauge\n"
            "m_g{v=\"q\\\"uo\\\\te\\nline\"} 1\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithSumAndCount) {
  Registry registry;
  Histogram& h = registry.AddHistogram("m_seconds", "Latency.", {0.1, 1, 10}, {{"g", "7"}});
  for (double v : {0.05, 0.1, 0.5, 2.0, 20.0, 30.0}) h.Observe(v);
  EXPECT_EQ(registry.Render(),
            "# HELP m_seconds Latency.\n"
            "# TYPE m_seconds histogram\n"
            "m_seconds_bucket{g=\"7\",le=\"0.1\"} 2\n"
            "m_seconds_bucket{g=\"7\",le=\"1\"} 3\n"
            "m_seconds_bucket{g=\"7\",le=\"10\"} 4\n"
            "m_seconds_bucket{g=\"7\",le=\"+Inf\"} 6\n"
            "m_seconds_sum{g=\"7\"} 52.65\n"
            "m_seconds_count{g=\"7\"} 6\n");
}

TEST(MetricsTest, HistogramSnapshotCountsEveryObservationFromManyThreads) {
  Histogram h(LatencyBuckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 10'000; ++i) h.Observe(0.0001 * (i % 50) * (t + 1));
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(h.Read().count(), 40'000u);
}

TEST(MetricsTest, CollectorsRenderAtScrapeTimeUntilTheirHandleGoes) {
  Registry registry;
  int calls = 0;
  auto handle = registry.AddCollector("m_group_up", "Up.", Type::kGauge, [&calls] {
    ++calls;
    return std::vector<Sample>{{{{"group", "1"}}, 1}, {{{"group", "2"}}, 0}};
  });
  EXPECT_EQ(registry.Render(),
            "# HELP m_group_up Up.\n"
            "# TYPE m_group_up gauge\n"
            "m_group_up{group=\"1\"} 1\n"
            "m_group_up{group=\"2\"} 0\n");
  EXPECT_EQ(calls, 1);
  handle.reset();
  EXPECT_EQ(registry.Render(), "# HELP m_group_up Up.\n# TYPE m_group_up gauge\n");
}

TEST(MetricsTest, ValuesFormatAsPrometheusReadsThem) {
  EXPECT_EQ(FormatValue(0.001), "0.001");
  EXPECT_EQ(FormatValue(12345678901.0), "12345678901");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(MetricsDeathTest, ANameWithAnotherTypeIsRefused) {
  Registry registry;
  registry.AddCounter("m_x", "h");
  EXPECT_DEATH(registry.AddGauge("m_x", "h"), "registered twice");
  EXPECT_DEATH(registry.AddCounter("bad-name", "h"), "bad metric name");
  EXPECT_DEATH(registry.AddCounter("m_y", "h", {{"le", "1"}}), "bad label name");
}

}  // namespace
}  // namespace meridian::metrics
