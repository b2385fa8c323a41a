// The Prometheus text format and the registry, without HTTP.
#include "brook/metrics/prometheus_text.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

#include "brook/metrics/metrics_registry.h"

namespace brook {
namespace {

TEST(PrometheusTextTest, EscapesBackslashQuoteAndLineFeedInLabelValues) {
  EXPECT_EQ(EscapePrometheusLabelValue(R"(a\b"c)"
                                       "\n"
                                       "d"),
            R"(a\\b\"c\nd)");
  EXPECT_EQ(EscapePrometheusLabelValue("plain-topic.name_1"),
            "plain-topic.name_1");
}

TEST(PrometheusTextTest, EscapesBackslashAndLineFeedButNotQuotesInHelp) {
  EXPECT_EQ(EscapePrometheusHelp("say \"why\"\\\nnext"),
            "say \"why\"\\\\\\nnext");
}

TEST(PrometheusTextTest, WritesHelpAndTypeThenOneLinePerLabelSet) {
  MetricFamily family{"brook_thread_process_total",
                      "Records processed.",
                      MetricType::kCounter,
                      {{{{"thread", "app-StreamThread-0"}}, 12},
                       {{{"thread", "app-StreamThread-1"}}, 3}}};
  EXPECT_EQ(RenderPrometheusText({family}),
            "# HELP brook_thread_process_total Records processed.\n"
            "# TYPE brook_thread_process_total counter\n"
            "brook_thread_process_total{thread=\"app-StreamThread-0\"} 12\n"
            "brook_thread_process_total{thread=\"app-StreamThread-1\"} 3\n");
}

TEST(PrometheusTextTest, KeepsLabelOrderAndEscapesValuesInLabelSets) {
  MetricFamily family{"lag",
                      "Lag.",
                      MetricType::kGauge,
                      {{{{"topic", "in\"x"}, {"partition", "2"}}, 7}, {{}, 1}}};
  EXPECT_EQ(RenderPrometheusText({family}),
            "# HELP lag Lag.\n"
            "# TYPE lag gauge\n"
            "lag{topic=\"in\\\"x\",partition=\"2\"} 7\n"
            "lag 1\n");
}

TEST(PrometheusTextTest, WritesHistogramBucketsCumulativelyWithSumAndCount) {
  MetricSample sample;
  sample.labels = {{"thread", "t0"}};
  sample.histogram.upper_bounds = {0.001, 0.0025, 0.1};
  sample.histogram.counts = {2, 0, 5, 1};  // the last is above 0.1
  sample.histogram.sum = 0.75;
  MetricFamily family{"commit_latency_seconds",
                      "Commit time.",
                      MetricType::kHistogram,
                      {sample}};
  EXPECT_EQ(RenderPrometheusText({family}),
            "# HELP commit_latency_seconds Commit time.\n"
            "# TYPE commit_latency_seconds histogram\n"
            "commit_latency_seconds_bucket{thread=\"t0\",le=\"0.001\"} 2\n"
            "commit_latency_seconds_bucket{thread=\"t0\",le=\"0.0025\"} 2\n"
            "commit_latency_seconds_bucket{thread=\"t0\",le=\"0.1\"} 7\n"
            "commit_latency_seconds_bucket{thread=\"t0\",le=\"+Inf\"} 8\n"
            "commit_latency_seconds_sum{thread=\"t0\"} 0.75\n"
            "commit_latency_seconds_count{thread=\"t0\"} 8\n");
}

TEST(PrometheusTextTest, WritesAHistogramWithoutLabelsWithOnlyTheLeLabel) {
  MetricSample sample;
  sample.histogram.upper_bounds = {1};
  sample.histogram.counts = {0, 0};
  MetricFamily family{"h", "H.", MetricType::kHistogram, {sample}};
  EXPECT_EQ(RenderPrometheusText({family}),
            "# HELP h H.\n# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\n"
            "h_sum 0\nh_count 0\n");
}

TEST(PrometheusTextTest, FormatsIntegersExactlyAndSpecialValuesByName) {
  EXPECT_EQ(FormatPrometheusValue(123456789012.0), "123456789012");
  EXPECT_EQ(FormatPrometheusValue(-3), "-3");
  EXPECT_EQ(FormatPrometheusValue(0.5), "0.5");
  EXPECT_EQ(FormatPrometheusValue(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatPrometheusValue(std::numeric_limits<double>::infinity()),
            "+Inf");
  EXPECT_EQ(FormatPrometheusValue(-std::numeric_limits<double>::infinity()),
            "-Inf");
  EXPECT_EQ(FormatPrometheusValue(std::nan("")), "NaN");
}

TEST(PrometheusTextTest, ReplacesInvalidCharactersInNamesAndLabelNames) {
  MetricFamily family{"my-app.orders:total",
                      "x",
                      MetricType::kCounter,
                      {{{{"store-name", "s"}}, 1}}};
  EXPECT_EQ(RenderPrometheusText({family}),
            "# HELP my_app_orders:total x\n"
            "# TYPE my_app_orders:total counter\n"
            "my_app_orders:total{store_name=\"s\"} 1\n");
}

TEST(MetricsRegistryTest, MergesFamiliesOfOneNameFromSeveralCollectors) {
  MetricsRegistry registry;
  for (const char* thread : {"a", "b"}) {
    registry.AddCollector([thread](std::vector<MetricFamily>* out) {
      out->push_back(
          {"x_total", "X.", MetricType::kCounter, {{{{"thread", thread}}, 1}}});
      out->push_back(
          {std::string("only_") + thread, "Y.", MetricType::kGauge, {}});
    });
  }
  const std::vector<MetricFamily> families = registry.Collect();
  ASSERT_EQ(families.size(), 3u);
  EXPECT_EQ(families[0].name, "x_total");
  ASSERT_EQ(families[0].samples.size(), 2u);
  EXPECT_EQ(families[0].samples[1].labels[0].second, "b");
  EXPECT_EQ(families[1].name, "only_a");
  EXPECT_EQ(families[2].name, "only_b");
}

}  // namespace
}  // namespace brook
