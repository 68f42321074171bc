#include "jobwatch/sinks/dispatcher.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace jobwatch::sinks {
namespace {

using namespace std::chrono_literals;
using test::FakeSink;
using test::make_event;
using test::run_until;
using watch::EventType;

// A fast policy with a controllable clock for max_age.
struct FakeTime {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1000)};
  RetryPolicy policy(std::chrono::milliseconds base = 1ms, std::chrono::milliseconds cap = 4ms) {
    RetryPolicy p;
    p.base = base;
    p.cap = cap;
    p.jitter = [] { return 0.5; };
    p.now = [this] { return now; };
    return p;
  }
};

std::int64_t stat_of(const Dispatcher& d, const std::string& sink, const std::string& key) {
  return d.stats().at(sink).as_object().at(key).to_number<std::int64_t>();
}

class DispatcherTest : public ::testing::Test {
 protected:
  FakeSink* add(std::string name, FakeSink::Script script, std::vector<EventType> events = {},
                std::size_t max_batch = 1, std::chrono::milliseconds max_age = 72h) {
    auto sink = std::make_unique<FakeSink>(ioc_.get_executor(), std::move(name), std::move(script),
                                           max_batch);
    auto* raw = sink.get();
    specs_.push_back(SinkSpec{std::move(sink), std::move(events), max_age});
    return raw;
  }
  std::unique_ptr<Dispatcher> build() {
    return Dispatcher::with_sinks(std::move(specs_), time_.policy());
  }

  boost::asio::io_context ioc_;
  FakeTime time_;
  std::vector<SinkSpec> specs_;
};

TEST_F(DispatcherTest, SubmitOnlyEnqueues) {
  auto* sink = add("a", test::always_ok);
  auto d = build();
  d->submit(make_event("j1"));
  EXPECT_TRUE(sink->attempts.empty());
  EXPECT_EQ(d->pending(), 1u);
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(sink->attempts, std::vector<std::string>{"evt_j1_0"});
  EXPECT_EQ(stat_of(*d, "a", "delivered"), 1);
}

TEST_F(DispatcherTest, FilterSelectsEventTypesPerSink) {
  auto* all = add("all", test::always_ok);
  auto* failures =
      add("failures", test::always_ok, {EventType::job_failed, EventType::watch_abandoned});
  auto d = build();
  d->submit(make_event("j1", EventType::job_succeeded));
  d->submit(make_event("j2", EventType::job_failed));
  d->submit(make_event("j3", EventType::subjob_failed, "s"));
  d->submit(make_event("j4", EventType::watch_abandoned));
  using PerSink = std::vector<std::pair<std::string, std::size_t>>;
  EXPECT_EQ(d->pending_by_sink(), (PerSink{{"all", 4}, {"failures", 2}}));
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(d->pending_by_sink(), (PerSink{{"all", 0}, {"failures", 0}}));
  EXPECT_EQ(all->attempts.size(), 4u);
  EXPECT_EQ(failures->attempts, (std::vector<std::string>{"evt_j2_1", "evt_j4_4"}));
}

TEST_F(DispatcherTest, ConfigFilterRejectsUnknownEventTypes) {
  config::SinkConfig cfg;
  cfg.name = "j";
  cfg.events = {"job.failed", "job.exploded"};
  auto made = Dispatcher::create(ioc_.get_executor(), {cfg});
  ASSERT_TRUE(std::holds_alternative<std::string>(made));
  EXPECT_NE(std::get<std::string>(made).find("job.exploded"), std::string::npos);

  cfg.events = {"job.failed"};
  auto twice = Dispatcher::create(ioc_.get_executor(), {cfg, cfg});
  ASSERT_TRUE(std::holds_alternative<std::string>(twice));
  EXPECT_NE(std::get<std::string>(twice).find("duplicate"), std::string::npos);
}

TEST_F(DispatcherTest, OutcomesAreCountedOnceInTheRegistryAndStatsReadThemThere) {
  metrics::Registry registry;
  add("a", [](const watch::Event& e, int attempt) {
    if (e.job_id == "j2" && attempt <= 1) return DeliveryResult::retry("busy");
    if (e.job_id == "bad") return DeliveryResult::permanent("HTTP 400");
    return DeliveryResult::ok();
  });
  auto d = Dispatcher::with_sinks(std::move(specs_), time_.policy(), &registry);
  for (const char* j : {"j1", "j2", "bad"}) d->submit(make_event(j));
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  auto& events = registry.counter("jobwatch_events_total", "", {"type", "sink", "result"});
  const std::string type(watch::type_name(make_event("j1").type));
  EXPECT_EQ(events.value({type, "a", "delivered"}), 2);
  EXPECT_EQ(events.value({type, "a", "retry"}), 1);
  EXPECT_EQ(events.value({type, "a", "dead_lettered"}), 1);
  EXPECT_EQ(stat_of(*d, "a", "delivered"), 2);
  EXPECT_EQ(stat_of(*d, "a", "retries"), 1);
  EXPECT_EQ(stat_of(*d, "a", "dead_lettered"), 1);
  EXPECT_EQ(d->dead_lettered_total(), 1u);

  // A reload's dispatcher on the same registry carries the counts on; the
  // store's dead letters from before the start are handed over, not the
  // ones the registry already holds.
  d->add_dead_lettered_count(5);
  add("a", test::always_ok);
  auto next = Dispatcher::with_sinks(std::move(specs_), time_.policy(), &registry);
  next->add_dead_lettered_count(d->dead_lettered_before_start());
  d.reset();
  next->submit(make_event("j3"));
  ASSERT_TRUE(run_until(ioc_, [&] { return next->pending() == 0; }));
  EXPECT_EQ(stat_of(*next, "a", "delivered"), 3);
  EXPECT_EQ(next->dead_lettered_total(), 6u);
}

TEST_F(DispatcherTest, RetriesTheHeadAndKeepsOrder) {
  // e2 fails twice before it goes through; nothing overtakes it.
  auto* sink = add("a", [](const watch::Event& e, int attempt) {
    if (e.job_id == "j2" && attempt <= 2) return DeliveryResult::retry("busy");
    return DeliveryResult::ok();
  });
  auto d = build();
  for (const char* j : {"j1", "j2", "j3", "j4"}) d->submit(make_event(j));
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(sink->attempts, (std::vector<std::string>{"evt_j1_0", "evt_j2_0", "evt_j2_0",
                                                      "evt_j2_0", "evt_j3_0", "evt_j4_0"}));
  EXPECT_EQ(stat_of(*d, "a", "delivered"), 4);
  EXPECT_EQ(stat_of(*d, "a", "retries"), 2);
  EXPECT_EQ(stat_of(*d, "a", "dead_lettered"), 0);
  EXPECT_EQ(d->stats().at("a").as_object().at("last_error").as_string(), "busy");
}

TEST_F(DispatcherTest, PermanentFailureDeadLettersTheHeadAndMovesOn) {
  auto* sink = add("a", [](const watch::Event& e, int) {
    return e.job_id == "bad" ? DeliveryResult::permanent("HTTP 400") : DeliveryResult::ok();
  });
  auto d = build();
  d->submit(make_event("j1"));
  d->submit(make_event("bad", EventType::job_failed));
  d->submit(make_event("j3"));
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(sink->attempts.size(), 3u);  // never retried
  EXPECT_EQ(stat_of(*d, "a", "delivered"), 2);
  EXPECT_EQ(stat_of(*d, "a", "dead_lettered"), 1);
  ASSERT_EQ(d->dead_letters().size(), 1u);
  EXPECT_EQ(d->dead_letters()[0].event_id, "evt_bad_1");
  EXPECT_EQ(d->dead_letters()[0].sink, "a");
  EXPECT_NE(d->dead_letters()[0].reason.find("HTTP 400"), std::string::npos);
}

TEST_F(DispatcherTest, RetriesUntilMaxAgeThenDeadLetters) {
  bool down = true;
  auto* sink = add(
      "a",
      [&](const watch::Event&, int) {
        return down ? DeliveryResult::retry("connection refused") : DeliveryResult::ok();
      },
      {}, 1, 1h);
  auto d = build();
  d->submit(make_event("old"));
  ASSERT_TRUE(run_until(ioc_, [&] { return sink->attempts.size() >= 3; }));
  EXPECT_EQ(stat_of(*d, "a", "dead_lettered"), 0);  // young enough: still retrying
  EXPECT_EQ(d->pending(), 1u);

  time_.now += 1h;               // "old" is now max_age old
  d->submit(make_event("new"));  // enqueued now: young
  ASSERT_TRUE(run_until(ioc_, [&] { return stat_of(*d, "a", "dead_lettered") == 1; }));
  ASSERT_EQ(d->dead_letters().size(), 1u);
  EXPECT_EQ(d->dead_letters()[0].event_id, "evt_old_0");
  EXPECT_NE(d->dead_letters()[0].reason.find("max_age"), std::string::npos);
  EXPECT_NE(d->dead_letters()[0].reason.find("connection refused"), std::string::npos);

  down = false;
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(sink->attempts.back(), "evt_new_0");
  EXPECT_EQ(stat_of(*d, "a", "delivered"), 1);
}

TEST_F(DispatcherTest, ABurstGoesOutInBatchesOfTheSinksSize) {
  auto* sink = add("a", test::always_ok, {}, 8);
  auto d = build();
  for (int i = 0; i < 10; ++i) d->submit(make_event("j" + std::to_string(i)));
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(sink->batch_sizes, (std::vector<std::size_t>{8, 2}));
  EXPECT_EQ(sink->attempts.size(), 10u);
}

TEST_F(DispatcherTest, RetryInsideABatchKeepsTheDeliveredPrefixAndRetriesFromTheFailure) {
  auto* sink = add(
      "a",
      [](const watch::Event& e, int attempt) {
        if (e.job_id == "j1" && attempt == 1) return DeliveryResult::retry("disk full");
        return DeliveryResult::ok();
      },
      {}, 4);
  auto d = build();
  for (const char* j : {"j0", "j1", "j2"}) d->submit(make_event(j));
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  // j2 was not attempted in the first batch; the second starts with j1.
  EXPECT_EQ(sink->attempts,
            (std::vector<std::string>{"evt_j0_0", "evt_j1_0", "evt_j1_0", "evt_j2_0"}));
  EXPECT_EQ(sink->batch_sizes, (std::vector<std::size_t>{3, 2}));
  EXPECT_EQ(stat_of(*d, "a", "delivered"), 3);
}

TEST_F(DispatcherTest, AHangingSinkDoesNotHoldUpAnother) {
  auto* stuck = add("stuck", test::always_ok);
  stuck->hang = true;
  auto* fine = add("fine", test::always_ok);
  auto d = build();
  for (const char* j : {"j1", "j2", "j3"}) d->submit(make_event(j));
  ASSERT_TRUE(run_until(ioc_, [&] { return stat_of(*d, "fine", "delivered") == 3; }));
  EXPECT_EQ(fine->attempts.size(), 3u);
  EXPECT_EQ(stuck->attempts.size(), 1u);  // one in flight at a time
  EXPECT_EQ(stat_of(*d, "stuck", "pending"), 3);
  EXPECT_EQ(stat_of(*d, "fine", "pending"), 0);
  EXPECT_EQ(d->pending(), 3u);
}

TEST_F(DispatcherTest, RetryAfterIsHonouredAsAFloor) {
  auto* sink = add("a", [](const watch::Event&, int attempt) {
    return attempt == 1 ? DeliveryResult::retry("HTTP 429", 300ms) : DeliveryResult::ok();
  });
  auto d = build();
  d->submit(make_event("j1"));
  ASSERT_TRUE(run_until(ioc_, [&] { return sink->attempts.size() == 1; }));
  const auto first = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_GE(std::chrono::steady_clock::now() - first, 300ms);
  EXPECT_EQ(sink->attempts.size(), 2u);
}

TEST_F(DispatcherTest, StopLeavesQueuedEventsAndAttemptsNothingMore) {
  auto* sink = add("a", [](const watch::Event&, int) { return DeliveryResult::retry("down"); });
  auto d = build();
  d->submit(make_event("j1"));
  ASSERT_TRUE(run_until(ioc_, [&] { return sink->attempts.size() >= 1; }));
  d->stop();
  const auto attempts = sink->attempts.size();
  test::run_for(ioc_, 50ms);
  EXPECT_EQ(sink->attempts.size(), attempts);
  EXPECT_EQ(d->pending(), 1u);
}

TEST_F(DispatcherTest, DestroyingWithWorkInFlightIsSafe) {
  auto* stuck = add("stuck", test::always_ok);
  stuck->hang = true;
  add("slow", [](const watch::Event&, int) { return DeliveryResult::retry("down"); });
  auto d = build();
  d->submit(make_event("j1"));
  ASSERT_TRUE(run_until(ioc_, [&] { return stuck->attempts.size() == 1; }));
  auto hung = std::move(stuck->hung);  // keep the completion past the dispatcher
  d.reset();
  for (auto& done : hung) done(DeliveryResult::ok());  // late completion: ignored
  test::run_for(ioc_, 20ms);
  SUCCEED();
}

}  // namespace
}  // namespace jobwatch::sinks
