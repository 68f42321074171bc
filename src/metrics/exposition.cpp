#include "jobwatch/metrics/exposition.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <limits>

namespace jobwatch::metrics {

namespace {

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

// The text format escapes backslash and newline in HELP text, and the double
// quote too in label values (which are quoted).
void append_escaped(std::string& out, std::string_view text, bool quoted) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quoted) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

std::string chars(double value, std::chars_format format) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value, format);
  return ec == std::errc{} ? std::string(buffer, end) : std::string("NaN");
}

}  // namespace

bool is_metric_name(std::string_view name) {
  if (name.empty() || !(is_name_start(name.front()) || name.front() == ':')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return is_name_char(c) || c == ':'; });
}

bool is_label_name(std::string_view name) {
  if (name.empty() || !is_name_start(name.front()) || name.starts_with("__")) return false;
  return std::all_of(name.begin(), name.end(), is_name_char);
}

std::string format_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  const double magnitude = std::fabs(value);
  // Beyond 1e15 a double no longer holds every integer: scientific is honest there.
  if (magnitude < 1e15 && std::trunc(value) == value) {
    return std::to_string(static_cast<long long>(value));
  }
  // Fixed notation where it stays readable (like Go's %g), scientific beyond.
  if (magnitude >= 1e-4 && magnitude < 1e15) return chars(value, std::chars_format::fixed);
  return chars(value, std::chars_format::general);
}

// --- CounterVec ---------------------------------------------------------

CounterVec::CounterVec(std::vector<std::string> label_names)
    : label_names_(std::move(label_names)) {
  assert(std::all_of(label_names_.begin(), label_names_.end(),
                     [](const std::string& n) { return is_label_name(n); }));
}

double* CounterVec::cell(const std::vector<std::string>& label_values) {
  assert(label_values.size() == label_names_.size());
  return &values_[label_values];
}

double CounterVec::sum_where(const Labels& match) const {
  std::vector<std::pair<std::size_t, std::string_view>> columns;
  for (const auto& [name, value] : match) {
    const auto at = std::find(label_names_.begin(), label_names_.end(), name);
    if (at == label_names_.end()) return 0;
    columns.emplace_back(static_cast<std::size_t>(at - label_names_.begin()), value);
  }
  double sum = 0;
  for (const auto& [labels, n] : values_) {
    if (std::all_of(columns.begin(), columns.end(),
                    [&](const auto& c) { return labels[c.first] == c.second; }))
      sum += n;
  }
  return sum;
}

void CounterVec::add(const std::vector<std::string>& label_values, double by) {
  assert(label_values.size() == label_names_.size());
  assert(by >= 0);
  if (label_values.size() != label_names_.size() || !(by >= 0)) return;
  values_[label_values] += by;
}

double CounterVec::value(const std::vector<std::string>& label_values) const {
  auto it = values_.find(label_values);
  return it == values_.end() ? 0 : it->second;
}

// --- Histogram ----------------------------------------------------------

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  std::erase_if(bounds_, [](double b) { return std::isnan(b) || std::isinf(b); });
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  counts_.assign(bounds_.size() + 1, 0);
}

void Histogram::observe(double value) {
  if (std::isnan(value)) return;
  const auto bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  ++counts_[static_cast<std::size_t>(bucket)];
  sum_ += value;
  ++count_;
}

std::vector<std::uint64_t> Histogram::cumulative_counts() const {
  std::vector<std::uint64_t> cumulative(bounds_.size());
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    running += counts_[i];
    cumulative[i] = running;
  }
  return cumulative;
}

std::vector<double> default_latency_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

// --- TextWriter ---------------------------------------------------------

void TextWriter::header(std::string_view name, std::string_view help, std::string_view type) {
  assert(is_metric_name(name));
  assert(std::find(families_.begin(), families_.end(), name) == families_.end());
  families_.emplace_back(name);
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  append_escaped(out_, help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void TextWriter::sample(std::string_view name, const Labels& labels, double value,
                        const std::pair<std::string_view, std::string>* extra) {
  out_ += name;
  if (!labels.empty() || extra) {
    out_ += '{';
    bool first = true;
    auto label = [&](std::string_view label_name, std::string_view label_value) {
      assert(is_label_name(label_name));
      if (!first) out_ += ',';
      first = false;
      out_ += label_name;
      out_ += "=\"";
      append_escaped(out_, label_value, true);
      out_ += '"';
    };
    for (const auto& [label_name, label_value] : labels) label(label_name, label_value);
    if (extra) label(extra->first, extra->second);
    out_ += '}';
  }
  out_ += ' ';
  out_ += format_number(value);
  out_ += '\n';
}

void TextWriter::gauge(std::string_view name, std::string_view help, double value,
                       const Labels& labels) {
  header(name, help, "gauge");
  sample(name, labels, value);
}

void TextWriter::gauge_family(std::string_view name, std::string_view help,
                              const std::vector<std::pair<Labels, double>>& samples) {
  header(name, help, "gauge");
  for (const auto& [labels, value] : samples) sample(name, labels, value);
}

void TextWriter::counter(std::string_view name, std::string_view help, const CounterVec& counters) {
  header(name, help, "counter");
  const auto& names = counters.label_names();
  Labels labels;
  for (const auto& [values, total] : counters.values()) {
    labels.clear();
    for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
      labels.emplace_back(names[i], values[i]);
    }
    sample(name, labels, total);
  }
}

void TextWriter::histogram_samples(std::string_view name, const Histogram& histogram,
                                   const Labels& labels) {
  assert(std::none_of(labels.begin(), labels.end(), [](const auto& l) { return l.first == "le"; }));
  const std::string bucket = std::string(name) + "_bucket";
  const auto cumulative = histogram.cumulative_counts();
  const auto& bounds = histogram.upper_bounds();
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    const std::pair<std::string_view, std::string> le{"le", format_number(bounds[i])};
    sample(bucket, labels, static_cast<double>(cumulative[i]), &le);
  }
  const std::pair<std::string_view, std::string> inf{"le", "+Inf"};
  sample(bucket, labels, static_cast<double>(histogram.count()), &inf);
  sample(std::string(name) + "_sum", labels, histogram.sum());
  sample(std::string(name) + "_count", labels, static_cast<double>(histogram.count()));
}

void TextWriter::histogram(std::string_view name, std::string_view help, const Histogram& histogram,
                           const Labels& labels) {
  header(name, help, "histogram");
  histogram_samples(name, histogram, labels);
}

std::string TextWriter::take() {
  families_.clear();
  return std::exchange(out_, {});
}

}  // namespace jobwatch::metrics
