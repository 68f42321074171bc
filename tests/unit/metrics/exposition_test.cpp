#include "jobwatch/metrics/exposition.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace jobwatch::metrics;

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();
}

TEST(FormatNumber, IntegersHaveNoExponentOrFraction) {
  EXPECT_EQ(format_number(0), "0");
  EXPECT_EQ(format_number(-0.0), "0");
  EXPECT_EQ(format_number(42), "42");
  EXPECT_EQ(format_number(-3), "-3");
  EXPECT_EQ(format_number(1e6), "1000000");
  EXPECT_EQ(format_number(123456789012345), "123456789012345");
}

TEST(FormatNumber, FractionsAreShortestRoundTrip) {
  EXPECT_EQ(format_number(0.005), "0.005");
  EXPECT_EQ(format_number(2.5), "2.5");
  EXPECT_EQ(format_number(0.0001), "0.0001");
  EXPECT_EQ(format_number(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(format_number(1.5e-7), "1.5e-07");
  EXPECT_EQ(format_number(1e20), "1e+20");
}

TEST(FormatNumber, SpecialValues) {
  EXPECT_EQ(format_number(inf), "+Inf");
  EXPECT_EQ(format_number(-inf), "-Inf");
  EXPECT_EQ(format_number(std::nan("")), "NaN");
}

TEST(Names, MetricAndLabelNames) {
  EXPECT_TRUE(is_metric_name("jobwatch_watches"));
  EXPECT_TRUE(is_metric_name("a:b_c1"));
  EXPECT_TRUE(is_metric_name(":x"));
  EXPECT_FALSE(is_metric_name(""));
  EXPECT_FALSE(is_metric_name("1abc"));
  EXPECT_FALSE(is_metric_name("a-b"));
  EXPECT_FALSE(is_metric_name("a b"));
  EXPECT_TRUE(is_label_name("sink"));
  EXPECT_TRUE(is_label_name("_x9"));
  EXPECT_FALSE(is_label_name("__name__"));
  EXPECT_FALSE(is_label_name("a:b"));
  EXPECT_FALSE(is_label_name("9a"));
  EXPECT_FALSE(is_label_name(""));
}

TEST(TextWriter, GaugeWithoutLabels) {
  TextWriter w;
  w.gauge("jobwatch_watches", "Watches in progress.", 42);
  EXPECT_EQ(w.take(),
            "# HELP jobwatch_watches Watches in progress.\n"
            "# TYPE jobwatch_watches gauge\n"
            "jobwatch_watches 42\n");
}

TEST(TextWriter, EscapesLabelValuesAndHelp) {
  TextWriter w;
  w.gauge("g", "a \\ backslash\nand a \"quote\"", 1.5, {{"path", "C:\\x \"y\"\nz"}, {"k", ""}});
  EXPECT_EQ(w.take(),
            "# HELP g a \\\\ backslash\\nand a \"quote\"\n"
            "# TYPE g gauge\n"
            "g{path=\"C:\\\\x \\\"y\\\"\\nz\",k=\"\"} 1.5\n");
}

TEST(TextWriter, GaugeFamilyHasOneHeaderAndKeepsSampleOrder) {
  TextWriter w;
  w.gauge_family("jobwatch_sink_queue", "Events waiting per sink.",
                 {{{{"sink", "webhook"}}, 3}, {{{"sink", "file"}}, 0}});
  EXPECT_EQ(w.take(),
            "# HELP jobwatch_sink_queue Events waiting per sink.\n"
            "# TYPE jobwatch_sink_queue gauge\n"
            "jobwatch_sink_queue{sink=\"webhook\"} 3\n"
            "jobwatch_sink_queue{sink=\"file\"} 0\n");
}

TEST(CounterVec, AddsPerLabelValues) {
  CounterVec c({"status", "method"});
  c.add({"200", "GET"});
  c.add({"200", "GET"}, 2.5);
  c.add({"500", "GET"});
  EXPECT_EQ(c.value({"200", "GET"}), 3.5);
  EXPECT_EQ(c.value({"500", "GET"}), 1);
  EXPECT_EQ(c.value({"404", "GET"}), 0);
  EXPECT_EQ(c.values().size(), 2u);
}

TEST(TextWriter, CounterVecIsPrintedInStableLabelOrder) {
  CounterVec c({"outcome", "code"});
  c.add({"throttled", "429"});
  c.add({"ok", "200"}, 7);
  c.add({"error", "503"});
  TextWriter w;
  w.counter("jobwatch_upstream_requests_total", "Upstream requests.", c);
  const std::string expected =
      "# HELP jobwatch_upstream_requests_total Upstream requests.\n"
      "# TYPE jobwatch_upstream_requests_total counter\n"
      "jobwatch_upstream_requests_total{outcome=\"error\",code=\"503\"} 1\n"
      "jobwatch_upstream_requests_total{outcome=\"ok\",code=\"200\"} 7\n"
      "jobwatch_upstream_requests_total{outcome=\"throttled\",code=\"429\"} 1\n";
  EXPECT_EQ(w.take(), expected);
  // Rendering again gives the same text: scrapes compare line by line.
  w.counter("jobwatch_upstream_requests_total", "Upstream requests.", c);
  EXPECT_EQ(w.take(), expected);
}

TEST(TextWriter, EmptyCounterFamilyStillHasItsHeader) {
  CounterVec c({"type"});
  TextWriter w;
  w.counter("jobwatch_events_total", "Events emitted.", c);
  EXPECT_EQ(w.take(),
            "# HELP jobwatch_events_total Events emitted.\n"
            "# TYPE jobwatch_events_total counter\n");
}

TEST(Histogram, BoundsAreSortedAndDeduplicated) {
  Histogram h({1, 0.5, inf, 1, std::nan(""), 0.1});
  EXPECT_EQ(h.upper_bounds(), (std::vector<double>{0.1, 0.5, 1}));
}

TEST(Histogram, BucketsAreCumulativeWithLeSemantics) {
  Histogram h({0.1, 0.5, 1});
  for (double v : {0.05, 0.1, 0.3, 0.5, 0.7, 2.0, 30.0}) h.observe(v);
  h.observe(std::nan(""));  // ignored
  // A value equal to a bound counts in that bound's bucket.
  EXPECT_EQ(h.cumulative_counts(), (std::vector<std::uint64_t>{2, 4, 5}));
  EXPECT_EQ(h.count(), 7u);
  EXPECT_DOUBLE_EQ(h.sum(), 33.65);
}

TEST(TextWriter, HistogramHasBucketsInfSumAndCount) {
  Histogram h({0.005, 0.25, 1, 2.5});
  h.observe(0.001);
  h.observe(0.25);
  h.observe(3);
  TextWriter w;
  w.histogram("jobwatch_poll_seconds", "Poll latency.", h, {{"project", "p1"}});
  EXPECT_EQ(w.take(),
            "# HELP jobwatch_poll_seconds Poll latency.\n"
            "# TYPE jobwatch_poll_seconds histogram\n"
            "jobwatch_poll_seconds_bucket{project=\"p1\",le=\"0.005\"} 1\n"
            "jobwatch_poll_seconds_bucket{project=\"p1\",le=\"0.25\"} 2\n"
            "jobwatch_poll_seconds_bucket{project=\"p1\",le=\"1\"} 2\n"
            "jobwatch_poll_seconds_bucket{project=\"p1\",le=\"2.5\"} 2\n"
            "jobwatch_poll_seconds_bucket{project=\"p1\",le=\"+Inf\"} 3\n"
            "jobwatch_poll_seconds_sum{project=\"p1\"} 3.251\n"
            "jobwatch_poll_seconds_count{project=\"p1\"} 3\n");
}

TEST(TextWriter, EmptyHistogramWithoutLabels) {
  Histogram h({1});
  TextWriter w;
  w.histogram("h", "H.", h);
  EXPECT_EQ(w.take(),
            "# HELP h H.\n# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
}

TEST(TextWriter, TakeEmptiesTheWriter) {
  TextWriter w;
  w.gauge("g", "G.", 1);
  EXPECT_FALSE(w.take().empty());
  EXPECT_EQ(w.take(), "");
  w.gauge("g", "G.", 2);  // a new scrape may write the same family again
  EXPECT_EQ(w.take(), "# HELP g G.\n# TYPE g gauge\ng 2\n");
}

TEST(Buckets, DefaultLatencyBuckets) {
  Histogram h(default_latency_buckets());
  std::string le;
  for (double b : h.upper_bounds()) le += format_number(b) + " ";
  EXPECT_EQ(le, "0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 ");
}
