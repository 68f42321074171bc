#include "jobwatch/metrics/registry.hpp"

#include <cassert>

namespace jobwatch::metrics {

namespace {

template <class T>
T& family_of(std::variant<std::unique_ptr<CounterVec>, std::unique_ptr<Histogram>,
                          std::unique_ptr<Gauge>>& metric) {
  auto* held = std::get_if<std::unique_ptr<T>>(&metric);
  // One name, two kinds: a bug in the caller, caught by the first test.
  assert(held);
  return **held;
}

}  // namespace

Registry::Family* Registry::find(std::string_view name) {
  for (auto& family : families_)
    if (family.name == name) return &family;
  return nullptr;
}

CounterVec& Registry::counter(std::string_view name, std::string_view help,
                              std::vector<std::string> label_names) {
  assert(name.ends_with("_total"));
  if (Family* known = find(name)) return family_of<CounterVec>(known->metric);
  families_.push_back(
      {std::string(name), std::string(help), std::make_unique<CounterVec>(std::move(label_names))});
  return *std::get<std::unique_ptr<CounterVec>>(families_.back().metric);
}

Counter Registry::single_counter(std::string_view name, std::string_view help) {
  return Counter(counter(name, help, {}).cell({}));
}

Histogram& Registry::histogram(std::string_view name, std::string_view help,
                               std::vector<double> upper_bounds) {
  if (Family* known = find(name)) return family_of<Histogram>(known->metric);
  families_.push_back(
      {std::string(name), std::string(help), std::make_unique<Histogram>(std::move(upper_bounds))});
  return *std::get<std::unique_ptr<Histogram>>(families_.back().metric);
}

Gauge& Registry::gauge(std::string_view name, std::string_view help) {
  if (Family* known = find(name)) return family_of<Gauge>(known->metric);
  families_.push_back({std::string(name), std::string(help), std::make_unique<Gauge>()});
  return *std::get<std::unique_ptr<Gauge>>(families_.back().metric);
}

void Registry::render(TextWriter& out) const {
  for (const auto& family : families_) {
    if (auto* counter = std::get_if<std::unique_ptr<CounterVec>>(&family.metric)) {
      out.counter(family.name, family.help, **counter);
    } else if (auto* histogram = std::get_if<std::unique_ptr<Histogram>>(&family.metric)) {
      out.histogram(family.name, family.help, **histogram);
    } else {
      out.gauge(family.name, family.help, std::get<std::unique_ptr<Gauge>>(family.metric)->value());
    }
  }
}

}  // namespace jobwatch::metrics
