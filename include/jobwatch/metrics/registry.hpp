// The daemon's one store of counters (issue 11): each component takes the
// families it counts into from here when it is built, increments them in
// one place, and both the Stats reply and /metrics read them back here. No
// component keeps a copy, so the two views cannot disagree, and a family
// outlives the sinks or upstream clients a reload replaces.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "jobwatch/metrics/exposition.hpp"

namespace jobwatch::metrics {

// Samples are doubles (the text format's numbers); the Stats reply shows
// counts as the integers they are.
inline std::uint64_t as_count(double value) {
  return value > 0 ? static_cast<std::uint64_t>(value) : 0;
}

// One sample of a family, bound once: incrementing it is one add, with no
// label lookup (the poll path counts every answer).
class Counter {
 public:
  Counter() = default;
  explicit Counter(double* value) : value_(value) {}
  void add(double by = 1) {
    if (value_ && by > 0) *value_ += by;
  }
  double value() const { return value_ ? *value_ : 0; }
  bool bound() const { return value_ != nullptr; }

 private:
  double* value_ = nullptr;
};

// A value that goes up and down (connections open): set where it changes.
class Gauge {
 public:
  void add(double by) { value_ += by; }
  void set(double value) { value_ = value; }
  double value() const { return value_; }

 private:
  double value_ = 0;
};

class Registry {
 public:
  // The family of that name, made on first use; asking again (a sink
  // rebuilt by a reload) returns the same one. The name ends in _total.
  CounterVec& counter(std::string_view name, std::string_view help,
                      std::vector<std::string> label_names);
  // The one sample of a family without labels, bound.
  Counter single_counter(std::string_view name, std::string_view help);
  Histogram& histogram(std::string_view name, std::string_view help,
                       std::vector<double> upper_bounds);
  Gauge& gauge(std::string_view name, std::string_view help);

  // Every family, in the order first asked for.
  void render(TextWriter& out) const;

 private:
  using Metric =
      std::variant<std::unique_ptr<CounterVec>, std::unique_ptr<Histogram>, std::unique_ptr<Gauge>>;
  struct Family {
    std::string name;
    std::string help;
    Metric metric;  // behind a pointer: references handed out stay valid
  };
  Family* find(std::string_view name);

  std::vector<Family> families_;
};

// The daemon's registry when a component is given one, else one of its own
// (a component built alone, in a unit test, still counts).
class SharedOrOwnRegistry {
 public:
  explicit SharedOrOwnRegistry(Registry* shared)
      : own_(shared ? nullptr : std::make_unique<Registry>()),
        registry_(shared ? shared : own_.get()) {}
  Registry& operator*() const { return *registry_; }
  Registry* operator->() const { return registry_; }

 private:
  std::unique_ptr<Registry> own_;
  Registry* registry_;
};

}  // namespace jobwatch::metrics
