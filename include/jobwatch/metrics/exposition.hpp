// Prometheus metrics without I/O: counter and histogram values, and a writer
// for the text exposition format 0.0.4 that the /metrics endpoint serves.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace jobwatch::metrics {

// Label name/value pairs of one sample, printed in this order.
using Labels = std::vector<std::pair<std::string, std::string>>;

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool is_metric_name(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved by Prometheus).
bool is_label_name(std::string_view name);

// A counter family keyed by label values. Only grows: a negative or NaN
// increment, or a value list whose length differs from label_names(), is a
// bug in the caller (asserted in debug builds, ignored otherwise).
class CounterVec {
 public:
  explicit CounterVec(std::vector<std::string> label_names);

  // `label_values` in the order of label_names().
  void add(const std::vector<std::string>& label_values, double by = 1);
  // 0 for label values never added to.
  double value(const std::vector<std::string>& label_values) const;
  // Where that sample's value lives, made (at 0, so it is shown from now
  // on) if new: for a Counter handle. Stable for the family's life.
  double* cell(const std::vector<std::string>& label_values);
  // The sum over the samples whose labels have every given value.
  double sum_where(const Labels& match) const;

  const std::vector<std::string>& label_names() const { return label_names_; }
  // Ordered by label values, so that output is stable between scrapes.
  const std::map<std::vector<std::string>, double>& values() const { return values_; }

 private:
  std::vector<std::string> label_names_;
  std::map<std::vector<std::string>, double> values_;
};

// A cumulative histogram with fixed upper bounds (+Inf implicit).
class Histogram {
 public:
  // Sorted and de-duplicated here; +Inf and NaN bounds are dropped.
  explicit Histogram(std::vector<double> upper_bounds);

  // A value lands in the first bucket whose bound is >= value (the `le`
  // semantics). NaN is ignored: it would make the sum NaN for good.
  void observe(double value);

  const std::vector<double>& upper_bounds() const { return bounds_; }
  // One count per upper bound, each including the ones before it; the
  // +Inf bucket's count is count().
  std::vector<std::uint64_t> cumulative_counts() const;
  double sum() const { return sum_; }
  std::uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;  // per bucket (not cumulative), +Inf last
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

// The Prometheus client libraries' default latency buckets, in seconds:
// 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10.
std::vector<double> default_latency_buckets();

// A number as the text format writes it: integral values without exponent or
// fraction ("42", "-3"), others in their shortest round-trip form ("0.005",
// "1.5e-07"), and "+Inf", "-Inf", "NaN".
std::string format_number(double value);

// Appends metric families in text format 0.0.4 to a string. Each call writes
// one family: its # HELP and # TYPE lines, then its samples. Names must be
// valid (is_metric_name / is_label_name) and each family written once per
// scrape; both are asserted in debug builds.
class TextWriter {
 public:
  void gauge(std::string_view name, std::string_view help, double value, const Labels& labels = {});
  void gauge_family(std::string_view name, std::string_view help,
                    const std::vector<std::pair<Labels, double>>& samples);

  // Counter names end in "_total"; the caller passes the full name. A family
  // without samples yet still gets its HELP and TYPE lines.
  void counter(std::string_view name, std::string_view help, const CounterVec& counters);

  // name_bucket{…,le="…"} for every bound and +Inf, then name_sum and name_count.
  void histogram(std::string_view name, std::string_view help, const Histogram& histogram,
                 const Labels& labels = {});

  // The text so far; the writer is empty afterwards.
  std::string take();

 private:
  void header(std::string_view name, std::string_view help, std::string_view type);
  void sample(std::string_view name, const Labels& labels, double value,
              const std::pair<std::string_view, std::string>* extra = nullptr);
  void histogram_samples(std::string_view name, const Histogram& histogram, const Labels& labels);

  std::string out_;
  std::vector<std::string> families_;  // written so far, to catch duplicates
};

}  // namespace jobwatch::metrics
