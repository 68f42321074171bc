// What the daemon's outbox relies on: sinks_for, the delivery observer,
// restoring owed deliveries, event_from_document, in_flight and pause.
#include <gtest/gtest.h>

#include <algorithm>

#include "jobwatch/sinks/dispatcher.hpp"
#include "recording_observer.hpp"
#include "test_support.hpp"

namespace jobwatch::sinks {
namespace {

using namespace std::chrono_literals;
using test::FakeSink;
using test::make_event;
using test::RecordingObserver;
using test::run_until;
using watch::EventType;

// Both clocks are fake: ages and reported retry times are exact.
struct FakeClocks {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1000)};
  std::chrono::system_clock::time_point wall{std::chrono::seconds(1'800'000'000)};
  RetryPolicy policy() {
    RetryPolicy p;
    p.base = 1ms;
    p.cap = 4ms;
    p.jitter = [] { return 0.5; };
    p.now = [this] { return now; };
    p.wall_now = [this] { return wall; };
    return p;
  }
};

OwedDelivery owed(const watch::Event& event, std::string sink,
                  std::chrono::system_clock::time_point created_at, std::uint32_t attempts = 0) {
  return OwedDelivery{std::make_shared<const watch::Event>(event), std::move(sink), created_at,
                      attempts};
}

class OutboxTest : public ::testing::Test {
 protected:
  FakeSink* add(std::string name, FakeSink::Script script, std::vector<EventType> events = {},
                std::chrono::milliseconds max_age = 72h, std::size_t max_batch = 1) {
    auto sink = std::make_unique<FakeSink>(ioc_.get_executor(), std::move(name), std::move(script),
                                           max_batch);
    auto* raw = sink.get();
    specs_.push_back(SinkSpec{std::move(sink), std::move(events), max_age});
    return raw;
  }
  std::unique_ptr<Dispatcher> build() {
    auto d = Dispatcher::with_sinks(std::move(specs_), clocks_.policy());
    d->set_observer(&observer_);
    return d;
  }

  boost::asio::io_context ioc_;
  FakeClocks clocks_;
  std::vector<SinkSpec> specs_;
  RecordingObserver observer_;
};

TEST_F(OutboxTest, SinksForFollowsEachFilterInConfigOrder) {
  add("all", test::always_ok);
  add("failures", test::always_ok, {EventType::job_failed, EventType::watch_abandoned});
  add("subjobs", test::always_ok, {EventType::subjob_failed, EventType::subjob_succeeded});
  add("also_all", test::always_ok);
  auto d = build();
  using V = std::vector<std::string>;
  EXPECT_EQ(d->sinks_for(EventType::job_failed), (V{"all", "failures", "also_all"}));
  EXPECT_EQ(d->sinks_for(EventType::job_succeeded), (V{"all", "also_all"}));
  EXPECT_EQ(d->sinks_for(EventType::subjob_failed), (V{"all", "subjobs", "also_all"}));
  EXPECT_EQ(d->sinks_for(EventType::watch_abandoned), (V{"all", "failures", "also_all"}));
}

TEST_F(OutboxTest, SinksForFromConfig) {
  config::SinkConfig journal;
  journal.name = "journal";
  config::SinkConfig ops;
  ops.name = "ops";
  ops.events = {"job.failed", "subjob.failed"};
  auto made = Dispatcher::create(ioc_.get_executor(), {ops, journal});
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<Dispatcher>>(made));
  const auto& d = *std::get<std::unique_ptr<Dispatcher>>(made);
  EXPECT_EQ(d.sinks_for(EventType::subjob_failed), (std::vector<std::string>{"ops", "journal"}));
  EXPECT_EQ(d.sinks_for(EventType::subjob_succeeded), std::vector<std::string>{"journal"});
}

TEST_F(OutboxTest, ObserverSeesEachFailedAttemptThenOneDelivery) {
  auto* sink = add("a", [](const watch::Event& e, int attempt) {
    if (e.job_id == "flaky" && attempt <= 3) return DeliveryResult::retry("HTTP 503");
    return DeliveryResult::ok();
  });
  auto d = build();
  d->submit(make_event("flaky"));
  d->submit(make_event("next"));
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(sink->attempts.size(), 5u);
  EXPECT_EQ(observer_.trace(),
            (std::vector<std::string>{"attempt_failed evt_flaky_0", "attempt_failed evt_flaky_0",
                                      "attempt_failed evt_flaky_0", "delivered evt_flaky_0",
                                      "delivered evt_next_0"}));
  const auto failed = observer_.of("attempt_failed");
  ASSERT_EQ(failed.size(), 3u);
  for (std::uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(failed[i].attempts, i + 1);
    EXPECT_EQ(failed[i].sink, "a");
    EXPECT_EQ(failed[i].text, "HTTP 503");
    // Full jitter at 0.5 under a cap of 4 ms: due within the cap, never before now.
    EXPECT_GE(failed[i].next_attempt_at, clocks_.wall);
    EXPECT_LE(failed[i].next_attempt_at, clocks_.wall + 4ms);
  }
  EXPECT_TRUE(observer_.of("dead_lettered").empty());
  test::run_for(ioc_, 20ms);
  EXPECT_EQ(observer_.calls.size(), 5u);  // nothing reported twice
}

TEST_F(OutboxTest, ObserverSeesAPermanentRefusalOnceAsADeadLetter) {
  auto* sink = add("a", [](const watch::Event& e, int) {
    return e.job_id == "bad" ? DeliveryResult::permanent("HTTP 410") : DeliveryResult::ok();
  });
  auto d = build();
  d->add_dead_lettered_count(7);  // seeded from the store
  d->submit(make_event("bad", EventType::job_failed));
  d->submit(make_event("good"));
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(sink->attempts.size(), 2u);
  EXPECT_EQ(observer_.trace(),
            (std::vector<std::string>{"dead_lettered evt_bad_1", "delivered evt_good_0"}));
  const auto dead = observer_.of("dead_lettered");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].attempts, 1u);
  EXPECT_EQ(dead[0].sink, "a");
  EXPECT_NE(dead[0].text.find("HTTP 410"), std::string::npos);
  EXPECT_EQ(d->dead_lettered_total(), 8u);
  ASSERT_EQ(d->dead_letters().size(), 1u);
  EXPECT_EQ(d->dead_letters()[0].attempts, 1u);
}

TEST_F(OutboxTest, ObserverSeesTheMaxAgeDeadLetterAfterTheFailedAttempts) {
  auto* sink = add(
      "a", [](const watch::Event&, int) { return DeliveryResult::retry("connection refused"); }, {},
      1h);
  auto d = build();
  d->submit(make_event("old"));
  ASSERT_TRUE(run_until(ioc_, [&] { return sink->attempts.size() >= 3; }));
  clocks_.now += 1h;
  ASSERT_TRUE(run_until(ioc_, [&] { return !observer_.of("dead_lettered").empty(); }));
  const auto dead = observer_.of("dead_lettered")[0];
  EXPECT_EQ(dead.attempts, sink->attempts.size());
  EXPECT_NE(dead.text.find("max_age"), std::string::npos);
  EXPECT_EQ(observer_.of("attempt_failed").size(), sink->attempts.size() - 1);
  EXPECT_EQ(d->dead_lettered_total(), 1u);
  EXPECT_EQ(d->pending(), 0u);
}

TEST_F(OutboxTest, RestoreQueuesOwedDeliveriesFirstInOrderOnTheirSinks) {
  auto* a = add("a", test::always_ok);
  auto* b = add("b", test::always_ok, {EventType::job_failed});
  auto d = build();
  const auto t = clocks_.wall - 10min;
  auto lost = d->restore({owed(make_event("o1"), "a", t), owed(make_event("o2"), "b", t),
                          owed(make_event("o3"), "a", t), owed(make_event("ox"), "gone", t)});
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].sink, "gone");
  EXPECT_EQ(lost[0].event->id, "evt_ox_0");
  EXPECT_EQ(d->pending(), 3u);
  d->submit(make_event("n1", EventType::job_failed));
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(a->attempts, (std::vector<std::string>{"evt_o1_0", "evt_o3_0", "evt_n1_1"}));
  // o2 is owed to b although b's filter would not take it now.
  EXPECT_EQ(b->attempts, (std::vector<std::string>{"evt_o2_0", "evt_n1_1"}));
  EXPECT_EQ(observer_.of("delivered").size(), 5u);
}

TEST_F(OutboxTest, RestoredAttemptsCarryOver) {
  add("a", [](const watch::Event&, int attempt) {
    return attempt == 1 ? DeliveryResult::retry("busy") : DeliveryResult::ok();
  });
  auto d = build();
  EXPECT_TRUE(d->restore({owed(make_event("o1"), "a", clocks_.wall - 1min, 5)}).empty());
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  const auto failed = observer_.of("attempt_failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].attempts, 6u);
  EXPECT_EQ(observer_.trace().back(), "delivered evt_o1_0");
}

TEST_F(OutboxTest, RestoredDeliveryOlderThanMaxAgeIsDeadLetteredNotRetried) {
  auto* sink = add(
      "a", [](const watch::Event&, int) { return DeliveryResult::retry("down"); }, {}, 1h);
  auto d = build();
  d->restore({owed(make_event("old"), "a", clocks_.wall - 2h, 40),
              owed(make_event("young"), "a", clocks_.wall - 10min, 2)});
  ASSERT_TRUE(run_until(ioc_, [&] { return observer_.calls.size() >= 2; }));
  EXPECT_EQ(observer_.trace(),
            (std::vector<std::string>{"dead_lettered evt_old_0", "attempt_failed evt_young_0"}));
  const auto dead = observer_.of("dead_lettered")[0];
  EXPECT_EQ(dead.attempts, 41u);  // its one last attempt counted
  EXPECT_NE(dead.text.find("max_age"), std::string::npos);
  EXPECT_EQ(observer_.of("attempt_failed")[0].attempts, 3u);
  EXPECT_EQ(std::count(sink->attempts.begin(), sink->attempts.end(), "evt_old_0"), 1);
  EXPECT_EQ(d->pending(), 1u);  // young keeps retrying
  EXPECT_EQ(d->dead_lettered_total(), 1u);
}

TEST_F(OutboxTest, ExpiredOwedDeliveriesCostOneFailedAttemptBetweenThem) {
  auto* sink = add(
      "a", [](const watch::Event&, int) { return DeliveryResult::retry("down"); }, {}, 1h);
  auto d = build();
  d->restore({owed(make_event("e1"), "a", clocks_.wall - 3h),
              owed(make_event("e2"), "a", clocks_.wall - 2h),
              owed(make_event("e3"), "a", clocks_.wall - 1h),
              owed(make_event("young"), "a", clocks_.wall - 1min)});
  ASSERT_TRUE(run_until(ioc_, [&] { return !observer_.of("attempt_failed").empty(); }));
  EXPECT_EQ(observer_.trace(),
            (std::vector<std::string>{"dead_lettered evt_e1_0", "dead_lettered evt_e2_0",
                                      "dead_lettered evt_e3_0", "attempt_failed evt_young_0"}));
  EXPECT_EQ(observer_.of("dead_lettered")[1].attempts, 0u);  // never tried again
  EXPECT_EQ(sink->attempts[0], "evt_e1_0");
  EXPECT_EQ(sink->attempts[1], "evt_young_0");
}

TEST_F(OutboxTest, ExpiredOwedDeliveryThatGoesThroughIsDelivered) {
  add("a", test::always_ok, {}, 1h);
  auto d = build();
  d->restore({owed(make_event("late"), "a", clocks_.wall - 5h)});
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(observer_.trace(), std::vector<std::string>{"delivered evt_late_0"});
}

TEST_F(OutboxTest, AnEventAlreadyQueuedOnASinkIsNotQueuedTwice) {
  auto* sink = add("a", test::always_ok);
  auto d = build();
  const auto e = make_event("j1");
  d->restore({owed(e, "a", clocks_.wall)});
  d->submit(e);  // re-detected after the restart
  d->restore({owed(e, "a", clocks_.wall)});
  EXPECT_EQ(d->pending(), 1u);
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(sink->attempts.size(), 1u);
  EXPECT_EQ(observer_.trace(), std::vector<std::string>{"delivered evt_j1_0"});
  d->submit(e);  // once delivered, a new submit is a new delivery
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(sink->attempts.size(), 2u);
}

TEST_F(OutboxTest, EventFromDocumentRoundTrips) {
  for (const auto& e : {make_event("j1", EventType::job_failed),
                        make_event("j2", EventType::subjob_succeeded, "s7"),
                        make_event("j3", EventType::watch_abandoned, {}, "deadline")}) {
    const auto back = Dispatcher::event_from_document(e.document);
    ASSERT_TRUE(back) << e.document;
    EXPECT_EQ(back->id, e.id);
    EXPECT_EQ(back->type, e.type);
    EXPECT_EQ(back->project_id, e.project_id);
    EXPECT_EQ(back->job_id, e.job_id);
    EXPECT_EQ(back->subjob_id, e.subjob_id);
    EXPECT_EQ(back->document, e.document);
  }
  const auto null_subjob = Dispatcher::event_from_document(
      R"({"id":"evt_1","type":"job.succeeded","data":{"project_id":"p","job_id":"j","subjob_id":null}})");
  ASSERT_TRUE(null_subjob);
  EXPECT_EQ(null_subjob->subjob_id, "");
}

TEST_F(OutboxTest, EventFromDocumentRejectsWhatIsNotAnEvent) {
  for (const char* bad : {
           "",
           "not json",
           "[]",
           R"({"id":"evt_1","type":"job.succeeded","data":{"project_id":"p","job_id":"j")",
           R"({"type":"job.succeeded","data":{"project_id":"p","job_id":"j"}})",
           R"({"id":"evt_1","type":"job.exploded","data":{"project_id":"p","job_id":"j"}})",
           R"({"id":"evt_1","type":"job.succeeded","data":{"project_id":"p"}})",
           R"({"id":"evt_1","type":"job.succeeded","data":"x"})",
           R"({"id":"evt_1","type":"subjob.failed","data":{"project_id":"p","job_id":"j"}})",
           R"({"id":7,"type":"job.succeeded","data":{"project_id":"p","job_id":"j"}})",
       }) {
    EXPECT_FALSE(Dispatcher::event_from_document(bad)) << bad;
  }
}

TEST_F(OutboxTest, RestoreFromStoredDocumentsDeliversTheSameBytes) {
  std::vector<std::string> seen;
  add("a", [&](const watch::Event& e, int) {
    seen.push_back(e.document);
    return DeliveryResult::ok();
  });
  auto d = build();
  const auto original = make_event("j1", EventType::subjob_failed, "s1");
  auto event = Dispatcher::event_from_document(original.document);
  ASSERT_TRUE(event);
  d->restore({OwedDelivery{std::make_shared<const watch::Event>(std::move(*event)), "a",
                           clocks_.wall, 0}});
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(seen, std::vector<std::string>{original.document});
}

TEST_F(OutboxTest, InFlightCountsOnlyDeliveriesOutAtASink) {
  auto* stuck = add("stuck", test::always_ok);
  stuck->hang = true;
  auto* batched = add("batched", test::always_ok, {}, 72h, 8);
  batched->hang = true;
  auto* failing =
      add("failing", [](const watch::Event&, int) { return DeliveryResult::retry("down"); });
  auto d = Dispatcher::with_sinks(std::move(specs_), [] {
    RetryPolicy p;
    p.base = 10min;  // the failing sink sits in its retry wait for the whole test
    p.cap = 10min;
    p.jitter = [] { return 1.0; };
    return p;
  }());
  EXPECT_EQ(d->in_flight(), 0u);
  for (const char* j : {"j1", "j2", "j3"}) d->submit(make_event(j));
  ASSERT_TRUE(run_until(ioc_, [&] {
    return stuck->attempts.size() == 1 && batched->attempts.size() == 1 &&
           failing->attempts.size() == 1;
  }));
  test::run_for(ioc_, 20ms);
  // stuck: one POST awaiting its answer; batched: one batch of three handed
  // over; failing: waiting for its timer, nothing out.
  EXPECT_EQ(d->in_flight(), 4u);
  EXPECT_EQ(d->stats().at("stuck").as_object().at("in_flight").to_number<int>(), 1);
  EXPECT_EQ(d->stats().at("failing").as_object().at("in_flight").to_number<int>(), 0);
  EXPECT_EQ(d->pending(), 9u);

  stuck->hang = false;
  auto hung = std::move(stuck->hung);
  for (auto& done : hung) done(DeliveryResult::ok());
  ASSERT_TRUE(run_until(ioc_, [&] {
    return d->stats().at("stuck").as_object().at("pending").to_number<int>() == 0;
  }));
  EXPECT_EQ(d->in_flight(), 3u);  // the batch is still out
  d->stop();
  EXPECT_EQ(d->in_flight(), 0u);  // nothing can be reported any more
}

TEST_F(OutboxTest, PauseLetsInFlightFinishAndStartsNothingNew) {
  auto* sink = add("a", test::always_ok);
  sink->hang = true;
  auto d = build();
  d->submit(make_event("j1"));
  d->submit(make_event("j2"));
  ASSERT_TRUE(run_until(ioc_, [&] { return sink->attempts.size() == 1; }));
  d->pause();
  EXPECT_EQ(d->in_flight(), 1u);
  sink->hang = false;
  auto hung = std::move(sink->hung);
  for (auto& done : hung) done(DeliveryResult::ok());
  ASSERT_TRUE(run_until(ioc_, [&] { return d->in_flight() == 0; }));
  EXPECT_EQ(observer_.trace(), std::vector<std::string>{"delivered evt_j1_0"});
  d->submit(make_event("j3"));
  test::run_for(ioc_, 30ms);
  EXPECT_EQ(sink->attempts.size(), 1u);  // j2, j3 wait
  EXPECT_EQ(d->pending(), 2u);

  d->resume();
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(sink->attempts, (std::vector<std::string>{"evt_j1_0", "evt_j2_0", "evt_j3_0"}));
}

TEST_F(OutboxTest, NothingIsReportedAfterStop) {
  auto* sink = add("a", test::always_ok);
  sink->hang = true;
  auto d = build();
  d->submit(make_event("j1"));
  ASSERT_TRUE(run_until(ioc_, [&] { return sink->attempts.size() == 1; }));
  d->stop();
  auto hung = std::move(sink->hung);
  for (auto& done : hung) done(DeliveryResult::ok());
  test::run_for(ioc_, 20ms);
  EXPECT_TRUE(observer_.calls.empty());
  EXPECT_EQ(d->pending(), 1u);  // still owed: the store keeps its row
}

TEST_F(OutboxTest, NoObserverIsFine) {
  add("a", [](const watch::Event& e, int attempt) {
    if (e.job_id == "bad") return DeliveryResult::permanent("no");
    return attempt == 1 ? DeliveryResult::retry("busy") : DeliveryResult::ok();
  });
  auto d = build();
  d->set_observer(nullptr);
  d->submit(make_event("j1"));
  d->submit(make_event("bad"));
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_TRUE(observer_.calls.empty());
  EXPECT_EQ(d->dead_lettered_total(), 1u);
}

}  // namespace
}  // namespace jobwatch::sinks
