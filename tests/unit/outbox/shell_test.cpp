// The outbox shell (outbox::Outbox) against real sinks' interface, a real
// state store in a temporary directory and a real io_context: what reaches
// the sinks, in which order and batches, and what the store keeps. The
// decisions themselves are tested without any of that in
// delivery_core_test.cpp.
#include <gtest/gtest.h>

#include "jobwatch/outbox/outbox.hpp"
#include "sinks/test_support.hpp"
#include "store/store_test_support.hpp"

namespace jobwatch::outbox {
namespace {

using namespace std::chrono_literals;
using sinks::DeliveryResult;
using sinks::SinkSpec;
using sinks::test::FakeSink;
using sinks::test::make_event;
using sinks::test::run_until;
using watch::EventType;

std::int64_t stat_of(const Outbox& d, const std::string& sink, const std::string& key) {
  return d.stats().at("by_sink").at(sink).as_object().at(key).to_number<std::int64_t>();
}

class ShellTest : public ::testing::Test {
 protected:
  FakeSink* add(std::string name, FakeSink::Script script, std::vector<EventType> events = {},
                std::size_t max_batch = 1, std::chrono::milliseconds max_age = 72h) {
    auto sink = std::make_unique<FakeSink>(ioc_.get_executor(), std::move(name), std::move(script),
                                           max_batch);
    auto* raw = sink.get();
    specs_.push_back(SinkSpec{std::move(sink), std::move(events), max_age});
    return raw;
  }
  // A fast backoff, and a steady clock that runs but that the test can also
  // move ahead (for max_age).
  std::unique_ptr<Outbox> build(metrics::Registry* registry = nullptr) {
    Clocks clocks;
    clocks.now = [this] {
      const auto real = std::chrono::steady_clock::now();
      return Now{steady_ + (real - started_), std::chrono::system_clock::now()};
    };
    clocks.jitter = [] { return 0.5; };
    return std::make_unique<Outbox>(ioc_.get_executor(), *store_, std::move(specs_),
                                    registry ? *registry : registry_, sinks::RetryPolicy{1ms, 4ms},
                                    std::move(clocks));
  }
  std::vector<store::OutboxRow> owed_rows() { return store::test::value_of(store_->load_outbox()); }
  std::vector<store::DeadLetterRow> dead_rows() {
    return store::test::value_of(store_->load_dead_letters(100));
  }

  boost::asio::io_context ioc_;
  store::test::TempDir dir_;
  std::unique_ptr<store::Store> store_ = store::test::open_ok(dir_.path());
  metrics::Registry registry_;
  SteadyTime steady_{std::chrono::hours(1000)};
  const SteadyTime started_ = std::chrono::steady_clock::now();
  std::vector<SinkSpec> specs_;
};

TEST_F(ShellTest, SubmitOnlyEnqueues) {
  auto* sink = add("a", sinks::test::always_ok);
  auto d = build();
  d->submit(make_event("j1"));
  EXPECT_TRUE(sink->attempts.empty());
  EXPECT_EQ(d->pending(), 1u);
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(sink->attempts, std::vector<std::string>{"evt_j1_0"});
  EXPECT_EQ(stat_of(*d, "a", "delivered"), 1);
}

TEST_F(ShellTest, FilterSelectsEventTypesPerSink) {
  auto* all = add("all", sinks::test::always_ok);
  auto* failures =
      add("failures", sinks::test::always_ok, {EventType::job_failed, EventType::watch_abandoned});
  auto d = build();
  d->submit(make_event("j1", EventType::job_succeeded));
  d->submit(make_event("j2", EventType::job_failed));
  d->submit(make_event("j3", EventType::subjob_failed, "s"));
  d->submit(make_event("j4", EventType::watch_abandoned));
  EXPECT_EQ(stat_of(*d, "all", "pending"), 4);
  EXPECT_EQ(stat_of(*d, "failures", "pending"), 2);
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(stat_of(*d, "all", "pending"), 0);
  EXPECT_EQ(stat_of(*d, "failures", "pending"), 0);
  EXPECT_EQ(all->attempts.size(), 4u);
  EXPECT_EQ(failures->attempts, (std::vector<std::string>{"evt_j2_1", "evt_j4_4"}));
}

TEST_F(ShellTest, ConfigFilterRejectsUnknownEventTypes) {
  config::SinkConfig cfg;
  cfg.name = "j";
  cfg.events = {"job.failed", "job.exploded"};
  auto made = sinks::build_sinks(ioc_.get_executor(), {cfg});
  ASSERT_TRUE(std::holds_alternative<std::string>(made));
  EXPECT_NE(std::get<std::string>(made).find("job.exploded"), std::string::npos);

  cfg.events = {"job.failed"};
  auto twice = sinks::build_sinks(ioc_.get_executor(), {cfg, cfg});
  ASSERT_TRUE(std::holds_alternative<std::string>(twice));
  EXPECT_NE(std::get<std::string>(twice).find("duplicate"), std::string::npos);
}

TEST_F(ShellTest, OutcomesAreCountedOnceInTheRegistryAndStatsReadThemThere) {
  metrics::Registry registry;
  add("a", [](const watch::Event& e, int attempt) {
    if (e.job_id == "j2" && attempt <= 1) return DeliveryResult::retry("busy");
    if (e.job_id == "bad") return DeliveryResult::permanent("HTTP 400");
    return DeliveryResult::ok();
  });
  auto d = build(&registry);
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

  // New sinks (a reload) count on in the same registry.
  add("a", sinks::test::always_ok);
  bool replaced = false;
  d->replace_sinks(std::move(specs_), 1s, [&](bool ok) { replaced = ok; });
  ASSERT_TRUE(run_until(ioc_, [&] { return replaced; }));
  d->submit(make_event("j3"));
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(stat_of(*d, "a", "delivered"), 3);
  EXPECT_EQ(d->dead_lettered_total(), 1u);

  // The next start reads the earlier runs' dead letters from the store,
  // and counts its own on top of them, not the registry's of before.
  d->flush();
  d.reset();
  metrics::Registry next_run;
  add("a", [](const watch::Event&, int) { return DeliveryResult::permanent("HTTP 400"); });
  auto next = build(&next_run);
  ASSERT_TRUE(next->restore());
  EXPECT_EQ(next->dead_lettered_total(), 1u);
  next->submit(make_event("bad2"));
  ASSERT_TRUE(run_until(ioc_, [&] { return next->pending() == 0; }));
  EXPECT_EQ(next->dead_lettered_total(), 2u);
  EXPECT_EQ(stat_of(*next, "a", "dead_lettered"), 1);
}

TEST_F(ShellTest, RetriesTheHeadAndKeepsOrder) {
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
  EXPECT_EQ(d->stats().at("by_sink").at("a").as_object().at("last_error").as_string(), "busy");
}

TEST_F(ShellTest, PermanentFailureDeadLettersTheHeadAndMovesOn) {
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
  d->flush();
  const auto dead = dead_rows();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].event_id, "evt_bad_1");
  EXPECT_EQ(dead[0].sink, "a");
  EXPECT_NE(dead[0].reason.find("HTTP 400"), std::string::npos);
  EXPECT_TRUE(owed_rows().empty());
}

TEST_F(ShellTest, RetriesUntilMaxAgeThenDeadLetters) {
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

  steady_ += 1h;                 // "old" is now max_age old
  d->submit(make_event("new"));  // enqueued now: young
  ASSERT_TRUE(run_until(ioc_, [&] { return stat_of(*d, "a", "dead_lettered") == 1; }));
  d->flush();
  const auto dead = dead_rows();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].event_id, "evt_old_0");
  EXPECT_NE(dead[0].reason.find("max_age"), std::string::npos);
  EXPECT_NE(dead[0].reason.find("connection refused"), std::string::npos);

  down = false;
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(sink->attempts.back(), "evt_new_0");
  EXPECT_EQ(stat_of(*d, "a", "delivered"), 1);
}

TEST_F(ShellTest, ABurstGoesOutInBatchesOfTheSinksSize) {
  auto* sink = add("a", sinks::test::always_ok, {}, 8);
  auto d = build();
  for (int i = 0; i < 10; ++i) d->submit(make_event("j" + std::to_string(i)));
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(sink->batch_sizes, (std::vector<std::size_t>{8, 2}));
  EXPECT_EQ(sink->attempts.size(), 10u);
}

TEST_F(ShellTest, RetryInsideABatchKeepsTheDeliveredPrefixAndRetriesFromTheFailure) {
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

TEST_F(ShellTest, AHangingSinkDoesNotHoldUpAnother) {
  auto* stuck = add("stuck", sinks::test::always_ok);
  stuck->hang = true;
  auto* fine = add("fine", sinks::test::always_ok);
  auto d = build();
  for (const char* j : {"j1", "j2", "j3"}) d->submit(make_event(j));
  ASSERT_TRUE(run_until(ioc_, [&] { return stat_of(*d, "fine", "delivered") == 3; }));
  EXPECT_EQ(fine->attempts.size(), 3u);
  EXPECT_EQ(stuck->attempts.size(), 1u);  // one in flight at a time
  EXPECT_EQ(stat_of(*d, "stuck", "pending"), 3);
  EXPECT_EQ(stat_of(*d, "fine", "pending"), 0);
  EXPECT_EQ(d->pending(), 3u);
}

TEST_F(ShellTest, RetryAfterIsHonouredAsAFloor) {
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

TEST_F(ShellTest, StopLeavesQueuedEventsAndAttemptsNothingMore) {
  auto* sink = add("a", [](const watch::Event&, int) { return DeliveryResult::retry("down"); });
  auto d = build();
  d->submit(make_event("j1"));
  ASSERT_TRUE(run_until(ioc_, [&] { return sink->attempts.size() >= 1; }));
  bool drained = false;
  d->drain(0ms, [&] { drained = true; });
  ASSERT_TRUE(run_until(ioc_, [&] { return drained; }));
  const auto attempts = sink->attempts.size();
  sinks::test::run_for(ioc_, 50ms);
  EXPECT_EQ(sink->attempts.size(), attempts);
  EXPECT_EQ(d->pending(), 1u);
  EXPECT_EQ(owed_rows().size(), 1u);  // still owed, to the next start
}

TEST_F(ShellTest, DestroyingWithWorkInFlightIsSafe) {
  auto* stuck = add("stuck", sinks::test::always_ok);
  stuck->hang = true;
  add("slow", [](const watch::Event&, int) { return DeliveryResult::retry("down"); });
  auto d = build();
  d->submit(make_event("j1"));
  ASSERT_TRUE(run_until(ioc_, [&] { return stuck->attempts.size() == 1; }));
  auto hung = std::move(stuck->hung);  // keep the completion past the outbox
  d.reset();
  for (auto& done : hung) done(DeliveryResult::ok());  // late completion: ignored
  sinks::test::run_for(ioc_, 20ms);
  SUCCEED();
}

// SPEC §6: an event reaches a sink only once its outbox row is durable.
TEST_F(ShellTest, ASinkSeesAnEventOnlyAfterItsOutboxRowIsCommitted) {
  std::vector<bool> row_was_committed;
  add("a", [&](const watch::Event& e, int) {
    bool found = false;
    for (const auto& row : owed_rows()) found = found || row.event_id == e.id;
    row_was_committed.push_back(found);
    return DeliveryResult::ok();
  });
  auto d = build();
  d->submit(make_event("j1"));
  d->submit(make_event("j2"));
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(row_was_committed, (std::vector<bool>{true, true}));
  // The confirmations are committed soon after, and nothing is owed.
  ASSERT_TRUE(run_until(ioc_, [&] { return owed_rows().empty(); }));
}

TEST_F(ShellTest, RestoreQueuesWhatTheStoreOwesWithItsAttempts) {
  add("a", [](const watch::Event&, int) { return DeliveryResult::retry("down"); });
  auto first = build();
  first->submit(make_event("j1"));
  ASSERT_TRUE(run_until(ioc_, [&] { return stat_of(*first, "a", "retries") >= 1; }));
  first->flush();
  first.reset();
  const auto owed = owed_rows();
  ASSERT_EQ(owed.size(), 1u);
  EXPECT_GE(owed[0].attempts, 1u);

  auto* sink = add("a", sinks::test::always_ok);
  auto next = build();
  ASSERT_TRUE(next->restore());
  ASSERT_TRUE(run_until(ioc_, [&] { return next->pending() == 0; }));
  EXPECT_EQ(sink->attempts, std::vector<std::string>{"evt_j1_0"});
  ASSERT_TRUE(run_until(ioc_, [&] { return owed_rows().empty(); }));
}

TEST_F(ShellTest, ReplacingSinksWaitsForTheDeliveryOutThenHandsOverWhatIsOwed) {
  auto* old_sink = add("a", sinks::test::always_ok);
  old_sink->hang = true;
  auto d = build();
  for (const char* j : {"j1", "j2", "j3"}) d->submit(make_event(j));
  ASSERT_TRUE(run_until(ioc_, [&] { return old_sink->attempts.size() == 1; }));

  auto* new_sink = add("a", sinks::test::always_ok);
  bool replaced = false;
  d->replace_sinks(std::move(specs_), 1h, [&](bool ok) { replaced = ok; });
  sinks::test::run_for(ioc_, 30ms);
  EXPECT_FALSE(replaced);  // j1 is still out at the old sink
  EXPECT_TRUE(new_sink->attempts.empty());

  // The answer comes: the swap happens at once, not at the end of the grace.
  auto hung = std::move(old_sink->hung);
  for (auto& done : hung) done(DeliveryResult::ok());
  ASSERT_TRUE(run_until(ioc_, [&] { return replaced; }));
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(new_sink->attempts, (std::vector<std::string>{"evt_j2_0", "evt_j3_0"}));
}

TEST_F(ShellTest, DrainFinishesAsSoonAsNothingIsOut) {
  auto* sink = add("a", sinks::test::always_ok);
  sink->hang = true;
  auto d = build();
  d->submit(make_event("j1"));
  d->submit(make_event("j2"));
  ASSERT_TRUE(run_until(ioc_, [&] { return sink->attempts.size() == 1; }));
  bool drained = false;
  d->drain(1h, [&] { drained = true; });
  sinks::test::run_for(ioc_, 30ms);
  EXPECT_FALSE(drained);
  auto hung = std::move(sink->hung);
  for (auto& done : hung) done(DeliveryResult::ok());
  ASSERT_TRUE(run_until(ioc_, [&] { return drained; }));
  EXPECT_EQ(sink->attempts.size(), 1u);  // j2 was not started
  const auto owed = owed_rows();
  ASSERT_EQ(owed.size(), 1u);  // j1's confirmation was committed; j2 stays owed
  EXPECT_EQ(owed[0].event_id, "evt_j2_0");
}

TEST_F(ShellTest, ShutdownDuringAReloadAbandonsTheNewSinks) {
  auto* old_sink = add("a", sinks::test::always_ok);
  old_sink->hang = true;
  auto d = build();
  d->submit(make_event("j1"));
  ASSERT_TRUE(run_until(ioc_, [&] { return old_sink->attempts.size() == 1; }));
  add("a", sinks::test::always_ok);  // destroyed unused: not pointed at here
  bool replaced = false;
  d->replace_sinks(std::move(specs_), 1h, [&](bool) { replaced = true; });
  ASSERT_TRUE(d->replacing());
  bool drained = false;
  d->drain(0ms, [&] { drained = true; });
  ASSERT_TRUE(run_until(ioc_, [&] { return drained; }));
  sinks::test::run_for(ioc_, 20ms);
  EXPECT_FALSE(replaced);
  EXPECT_FALSE(d->replacing());
  EXPECT_EQ(old_sink->attempts.size(), 1u);
  EXPECT_EQ(owed_rows().size(), 1u);  // j1 was never confirmed: still owed
}

}  // namespace
}  // namespace jobwatch::outbox
