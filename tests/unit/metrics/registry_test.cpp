#include "jobwatch/metrics/registry.hpp"

#include <gtest/gtest.h>

using namespace jobwatch::metrics;

TEST(Registry, AskingTwiceForAFamilyGivesTheSameOne) {
  // A reload's new sinks ask again and count on where the old ones stopped.
  Registry registry;
  CounterVec& first = registry.counter("jobwatch_x_total", "X.", {"sink"});
  first.add({"a"}, 3);
  CounterVec& again = registry.counter("jobwatch_x_total", "X.", {"sink"});
  EXPECT_EQ(&first, &again);
  EXPECT_EQ(again.value({"a"}), 3);
  EXPECT_EQ(&registry.gauge("jobwatch_g", "G."), &registry.gauge("jobwatch_g", "G."));
  EXPECT_EQ(&registry.histogram("jobwatch_h_seconds", "H.", {1}),
            &registry.histogram("jobwatch_h_seconds", "H.", {1}));
}

TEST(Registry, ACounterHandleAddsToItsSampleOnly) {
  Registry registry;
  CounterVec& family = registry.counter("jobwatch_y_total", "Y.", {"kind"});
  Counter ok(family.cell({"ok"}));
  EXPECT_TRUE(ok.bound());
  EXPECT_EQ(family.values().size(), 1u);  // shown at 0 from the moment it is bound
  ok.add();
  ok.add(2);
  ok.add(-5);  // counters only grow
  family.add({"other"});
  EXPECT_EQ(ok.value(), 3);
  EXPECT_EQ(family.value({"ok"}), 3);
  EXPECT_EQ(family.value({"other"}), 1);

  Counter unbound;
  unbound.add();
  EXPECT_FALSE(unbound.bound());
  EXPECT_EQ(unbound.value(), 0);
}

TEST(Registry, SumWhereMatchesEveryGivenLabel) {
  Registry registry;
  CounterVec& events = registry.counter("jobwatch_e_total", "E.", {"type", "sink", "result"});
  events.add({"job.failed", "a", "delivered"}, 2);
  events.add({"job.succeeded", "a", "delivered"}, 5);
  events.add({"job.succeeded", "b", "delivered"}, 7);
  events.add({"job.succeeded", "a", "retry"}, 1);
  EXPECT_EQ(events.sum_where({{"sink", "a"}, {"result", "delivered"}}), 7);
  EXPECT_EQ(events.sum_where({{"result", "delivered"}}), 14);
  EXPECT_EQ(events.sum_where({}), 15);
  EXPECT_EQ(events.sum_where({{"nope", "a"}}), 0);
}

TEST(Registry, RendersEveryFamilyInTheOrderFirstAskedFor) {
  Registry registry;
  registry.counter("jobwatch_b_total", "B things.", {"code"}).add({"200"}, 4);
  registry.gauge("jobwatch_open", "Open now.").set(2);
  registry.histogram("jobwatch_wait_seconds", "Waits.", {1}).observe(0.5);
  registry.counter("jobwatch_a_total", "A things.", {});
  TextWriter out;
  registry.render(out);
  const std::string text = out.take();
  EXPECT_EQ(text,
            "# HELP jobwatch_b_total B things.\n"
            "# TYPE jobwatch_b_total counter\n"
            "jobwatch_b_total{code=\"200\"} 4\n"
            "# HELP jobwatch_open Open now.\n"
            "# TYPE jobwatch_open gauge\n"
            "jobwatch_open 2\n"
            "# HELP jobwatch_wait_seconds Waits.\n"
            "# TYPE jobwatch_wait_seconds histogram\n"
            "jobwatch_wait_seconds_bucket{le=\"1\"} 1\n"
            "jobwatch_wait_seconds_bucket{le=\"+Inf\"} 1\n"
            "jobwatch_wait_seconds_sum 0.5\n"
            "jobwatch_wait_seconds_count 1\n"
            "# HELP jobwatch_a_total A things.\n"
            "# TYPE jobwatch_a_total counter\n");
}
