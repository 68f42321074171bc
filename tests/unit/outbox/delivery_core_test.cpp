// DeliveryCore in virtual time: no io_context, no sinks, no real clock. The
// test plays the sinks (answering each batch the core hands out by a
// script) and asserts on what the core returns: the batches, the wake-up
// times and the outcomes the store is told of.
#include "jobwatch/outbox/delivery_core.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "jobwatch/sinks/event_document.hpp"
#include "jobwatch/sinks/sink_set.hpp"
#include "sinks/test_support.hpp"

namespace jobwatch::outbox {
namespace {

using namespace std::chrono_literals;
using sinks::DeliveryResult;
using sinks::test::make_event;
using watch::EventType;
using Script = std::function<DeliveryResult(const watch::Event&, int attempt)>;

DeliveryResult always_ok(const watch::Event&, int) {
  return DeliveryResult::ok();
}

// Retries the first attempt at each event with `error`, then delivers it.
Script fails_first_attempt(std::string error) {
  return [error = std::move(error)](const watch::Event&, int attempt) {
    return attempt == 1 ? DeliveryResult::retry(error) : DeliveryResult::ok();
  };
}

class CoreTest : public ::testing::Test {
 protected:
  struct PlayedSink {
    Script script;
    bool hold = false;                     // keeps its batch out until release()
    std::vector<const watch::Event*> out;  // the batch handed out, not answered yet
    std::vector<std::string> attempts;     // event ids, in attempt order
    std::vector<std::size_t> batch_sizes;
    std::map<std::string, int> tries;
  };

  void lane(std::string name, Script script, std::vector<EventType> events = {},
            std::size_t max_batch = 1, std::chrono::milliseconds max_age = 72h) {
    specs_.push_back({std::move(name), EventFilter(events), max_age, max_batch});
    sinks_.push_back(PlayedSink{std::move(script)});
  }
  DeliveryCore& build(sinks::RetryPolicy backoff = {1ms, 4ms}) {
    core_ = std::make_unique<DeliveryCore>(
        std::move(specs_), backoff, [] { return 0.5; }, outcomes_counter_);
    return *core_;
  }
  std::shared_ptr<const watch::Event> shared(const watch::Event& e) {
    return std::make_shared<const watch::Event>(e);
  }
  // Submitted and committed at once, as the shell does after its flush.
  void submit(const watch::Event& e) {
    core_->submit(shared(e), now_.steady);
    core_->committed();
  }
  OwedDelivery owed(const watch::Event& e, std::string sink, WallTime created,
                    std::uint32_t attempts = 0) {
    return {shared(e), std::move(sink), created, attempts};
  }
  void advance(std::chrono::steady_clock::duration by) {
    now_.steady += by;
    now_.wall += std::chrono::duration_cast<std::chrono::system_clock::duration>(by);
  }

  // The sink answers its batch by the script, stopping at the first retry.
  void answer(std::size_t lane) {
    PlayedSink& sink = sinks_[lane];
    std::vector<DeliveryResult> results;
    for (const watch::Event* e : std::exchange(sink.out, {})) {
      sink.attempts.push_back(e->id);
      results.push_back(sink.script(*e, ++sink.tries[e->id]));
      if (results.back().kind == DeliveryResult::Kind::retry) break;
    }
    auto out = core_->settle(lane, std::move(results), now_);
    outcomes_.insert(outcomes_.end(), out.begin(), out.end());
  }
  // One step: hands out what the core starts, answers the sinks not held.
  DeliveryCore::Step step() {
    auto step = core_->resume(now_.steady);
    for (auto& d : step.deliver) {
      sinks_[d.lane].batch_sizes.push_back(d.batch.size());
      sinks_[d.lane].out = d.batch;
      if (!sinks_[d.lane].hold) answer(d.lane);
    }
    return step;
  }
  // Runs until `done` holds, moving virtual time to the next retry when
  // nothing else can happen; false when it cannot get there.
  bool run_until(const std::function<bool()>& done, int max_steps = 1000) {
    for (int i = 0; i < max_steps && !done(); ++i) {
      const auto s = step();
      if (!s.deliver.empty()) continue;
      if (!s.wake_at) return done();
      advance(*s.wake_at - now_.steady);
    }
    return done();
  }
  bool run_idle() {
    return run_until([&] { return core_->pending() == 0; });
  }
  void release(std::size_t lane) {
    sinks_[lane].hold = false;
    answer(lane);
  }

  std::vector<std::string> trace() const {
    static const char* names[] = {"delivered", "attempt_failed", "dead_lettered"};
    std::vector<std::string> out;
    for (const auto& o : outcomes_)
      out.push_back(std::string(names[static_cast<int>(o.kind)]) + " " + o.event->id);
    return out;
  }
  std::vector<Outcome> of(Outcome::Kind kind) const {
    std::vector<Outcome> out;
    std::copy_if(outcomes_.begin(), outcomes_.end(), std::back_inserter(out),
                 [&](const Outcome& o) { return o.kind == kind; });
    return out;
  }
  std::uint64_t counted(std::size_t lane, DeliveryCore::Counted what) const {
    return core_->counted(lane, what);
  }

  metrics::Registry registry_;
  metrics::CounterVec& outcomes_counter_ =
      registry_.counter("jobwatch_events_total", "", {"type", "sink", "result"});
  Now now_{SteadyTime(std::chrono::hours(1000)), WallTime(std::chrono::seconds(1'800'000'000))};
  std::vector<LaneSpec> specs_;
  std::vector<PlayedSink> sinks_;
  std::unique_ptr<DeliveryCore> core_;
  std::vector<Outcome> outcomes_;
};

using Kind = Outcome::Kind;
using Counted = DeliveryCore::Counted;

TEST_F(CoreTest, SubmitReturnsTheLanesWhoseFilterTakesTheEventInConfigOrder) {
  lane("all", always_ok);
  lane("failures", always_ok, {EventType::job_failed, EventType::watch_abandoned});
  lane("subjobs", always_ok, {EventType::subjob_failed, EventType::subjob_succeeded});
  lane("also_all", always_ok);
  auto& core = build();
  auto names = [&](const watch::Event& e) {
    std::vector<std::string> out;
    for (auto lane : core.submit(shared(e), now_.steady)) out.push_back(core.name(lane));
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names(make_event("a", EventType::job_failed)), (V{"all", "failures", "also_all"}));
  EXPECT_EQ(names(make_event("b", EventType::job_succeeded)), (V{"all", "also_all"}));
  EXPECT_EQ(names(make_event("c", EventType::subjob_failed, "s")),
            (V{"all", "subjobs", "also_all"}));
  EXPECT_EQ(names(make_event("d", EventType::watch_abandoned)), (V{"all", "failures", "also_all"}));
}

TEST_F(CoreTest, SinksFromConfigKeepTheirFiltersAndOrder) {
  config::SinkConfig journal;
  journal.name = "journal";
  config::SinkConfig ops;
  ops.name = "ops";
  ops.events = {"job.failed", "subjob.failed"};
  boost::asio::io_context ioc;  // only for the sinks' executor; never run
  auto built = sinks::build_sinks(ioc.get_executor(), {ops, journal});
  ASSERT_TRUE(std::holds_alternative<std::vector<sinks::SinkSpec>>(built));
  for (const auto& spec : std::get<0>(built))
    lane(spec.sink->name(), always_ok, spec.events, spec.sink->max_batch(), spec.max_age);
  auto& core = build();
  auto lanes = core.submit(shared(make_event("j", EventType::subjob_failed, "s")), now_.steady);
  ASSERT_EQ(lanes.size(), 2u);
  EXPECT_EQ(core.name(lanes[0]), "ops");
  EXPECT_EQ(core.name(lanes[1]), "journal");
  lanes = core.submit(shared(make_event("k", EventType::subjob_succeeded, "s")), now_.steady);
  ASSERT_EQ(lanes.size(), 1u);
  EXPECT_EQ(core.name(lanes[0]), "journal");
}

// SPEC §6: commit-then-submit.
TEST_F(CoreTest, ASubmittedEventGoesOutOnlyAfterTheCommit) {
  lane("a", always_ok);
  auto& core = build();
  core.submit(shared(make_event("j1")), now_.steady);
  EXPECT_EQ(core.pending(), 1u);
  auto s = core.resume(now_.steady);
  EXPECT_TRUE(s.deliver.empty());
  EXPECT_TRUE(s.drained);
  core.committed();
  s = core.resume(now_.steady);
  ASSERT_EQ(s.deliver.size(), 1u);
  EXPECT_EQ(s.deliver[0].batch[0]->id, "evt_j1_0");
}

TEST_F(CoreTest, RestoredDeliveriesGoOutAtOnceAheadOfUncommittedOnes) {
  lane("a", always_ok, {}, 8);
  auto& core = build();
  core.submit(shared(make_event("new")), now_.steady);  // not committed yet
  core.restore({owed(make_event("o1"), "a", now_.wall)}, now_);
  auto s = core.resume(now_.steady);
  ASSERT_EQ(s.deliver.size(), 1u);
  ASSERT_EQ(s.deliver[0].batch.size(), 1u);  // "new" waits for its commit
  EXPECT_EQ(s.deliver[0].batch[0]->id, "evt_o1_0");
  sinks_[0].out = s.deliver[0].batch;
  answer(0);
  core.committed();
  ASSERT_TRUE(run_idle());
  EXPECT_EQ(trace(), (std::vector<std::string>{"delivered evt_o1_0", "delivered evt_new_0"}));
}

TEST_F(CoreTest, EachFailedAttemptIsReportedThenOneDelivery) {
  lane("a", [](const watch::Event& e, int attempt) {
    if (e.job_id == "flaky" && attempt <= 3) return DeliveryResult::retry("HTTP 503");
    return DeliveryResult::ok();
  });
  build();
  submit(make_event("flaky"));
  submit(make_event("next"));
  const auto start = now_.wall;
  ASSERT_TRUE(run_idle());
  EXPECT_EQ(sinks_[0].attempts.size(), 5u);
  EXPECT_EQ(trace(),
            (std::vector<std::string>{"attempt_failed evt_flaky_0", "attempt_failed evt_flaky_0",
                                      "attempt_failed evt_flaky_0", "delivered evt_flaky_0",
                                      "delivered evt_next_0"}));
  const auto failed = of(Kind::attempt_failed);
  ASSERT_EQ(failed.size(), 3u);
  // Full jitter at 0.5 of ceilings 1, 2, 4 ms (the cap): 1, 1, 2 ms, each
  // counted from the failure, which happens when the previous retry is due.
  const std::chrono::milliseconds due[] = {1ms, 2ms, 4ms};
  for (std::uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(failed[i].attempts, i + 1);
    EXPECT_EQ(core_->name(failed[i].lane), "a");
    EXPECT_EQ(failed[i].text, "HTTP 503");
    EXPECT_EQ(failed[i].next_attempt_at - start, due[i]);
  }
  EXPECT_TRUE(of(Kind::dead_lettered).empty());
  advance(1h);
  const auto after = step();
  EXPECT_TRUE(after.deliver.empty());
  EXPECT_FALSE(after.wake_at);
  EXPECT_EQ(outcomes_.size(), 5u);  // nothing reported twice
  EXPECT_EQ(counted(0, Counted::delivered), 2u);
  EXPECT_EQ(counted(0, Counted::retry), 3u);
  EXPECT_EQ(core_->last_error(0), "HTTP 503");
}

TEST_F(CoreTest, APermanentRefusalIsOneDeadLetterAndTheNextGoesOn) {
  lane("a", [](const watch::Event& e, int) {
    return e.job_id == "bad" ? DeliveryResult::permanent("HTTP 410") : DeliveryResult::ok();
  });
  build();
  submit(make_event("bad", EventType::job_failed));
  submit(make_event("good"));
  ASSERT_TRUE(run_idle());
  EXPECT_EQ(sinks_[0].attempts.size(), 2u);
  EXPECT_EQ(trace(), (std::vector<std::string>{"dead_lettered evt_bad_1", "delivered evt_good_0"}));
  const auto dead = of(Kind::dead_lettered);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].attempts, 1u);
  EXPECT_EQ(core_->name(dead[0].lane), "a");
  EXPECT_NE(dead[0].text.find("HTTP 410"), std::string::npos);
  EXPECT_EQ(counted(0, Counted::dead_lettered), 1u);
}

TEST_F(CoreTest, TheMaxAgeDeadLetterComesAfterTheFailedAttempts) {
  lane(
      "a", [](const watch::Event&, int) { return DeliveryResult::retry("connection refused"); }, {},
      1, 1h);
  build();
  submit(make_event("old"));
  ASSERT_TRUE(run_until([&] { return sinks_[0].attempts.size() >= 3; }));
  advance(1h);
  ASSERT_TRUE(run_until([&] { return !of(Kind::dead_lettered).empty(); }));
  const auto dead = of(Kind::dead_lettered)[0];
  EXPECT_EQ(dead.attempts, sinks_[0].attempts.size());
  EXPECT_NE(dead.text.find("max_age"), std::string::npos);
  EXPECT_EQ(of(Kind::attempt_failed).size(), sinks_[0].attempts.size() - 1);
  EXPECT_EQ(counted(0, Counted::dead_lettered), 1u);
  EXPECT_EQ(core_->pending(), 0u);
}

TEST_F(CoreTest, RestoreQueuesOwedDeliveriesInOrderOnTheirLanes) {
  lane("a", always_ok);
  lane("b", always_ok, {EventType::job_failed});
  auto& core = build();
  const auto t = now_.wall - 10min;
  auto lost = core.restore({owed(make_event("o1"), "a", t), owed(make_event("o2"), "b", t),
                            owed(make_event("o3"), "a", t), owed(make_event("ox"), "gone", t)},
                           now_);
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].sink, "gone");
  EXPECT_EQ(lost[0].event->id, "evt_ox_0");
  EXPECT_EQ(core.pending(), 3u);
  submit(make_event("n1", EventType::job_failed));
  ASSERT_TRUE(run_idle());
  EXPECT_EQ(sinks_[0].attempts, (std::vector<std::string>{"evt_o1_0", "evt_o3_0", "evt_n1_1"}));
  // o2 is owed to b although b's filter would not take it now.
  EXPECT_EQ(sinks_[1].attempts, (std::vector<std::string>{"evt_o2_0", "evt_n1_1"}));
  EXPECT_EQ(of(Kind::delivered).size(), 5u);
}

TEST_F(CoreTest, RestoredAttemptsCarryOver) {
  lane("a", fails_first_attempt("busy"));
  auto& core = build();
  EXPECT_TRUE(core.restore({owed(make_event("o1"), "a", now_.wall - 1min, 5)}, now_).empty());
  ASSERT_TRUE(run_idle());
  const auto failed = of(Kind::attempt_failed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].attempts, 6u);
  EXPECT_EQ(trace().back(), "delivered evt_o1_0");
}

TEST_F(CoreTest, ARestoredDeliveryOlderThanMaxAgeIsDeadLetteredNotRetried) {
  lane(
      "a", [](const watch::Event&, int) { return DeliveryResult::retry("down"); }, {}, 1, 1h);
  auto& core = build();
  core.restore({owed(make_event("old"), "a", now_.wall - 2h, 40),
                owed(make_event("young"), "a", now_.wall - 10min, 2)},
               now_);
  ASSERT_TRUE(run_until([&] { return outcomes_.size() >= 2; }));
  EXPECT_EQ(trace(),
            (std::vector<std::string>{"dead_lettered evt_old_0", "attempt_failed evt_young_0"}));
  const auto dead = of(Kind::dead_lettered)[0];
  EXPECT_EQ(dead.attempts, 41u);  // its one last attempt counted
  EXPECT_NE(dead.text.find("max_age"), std::string::npos);
  EXPECT_EQ(of(Kind::attempt_failed)[0].attempts, 3u);
  EXPECT_EQ(std::count(sinks_[0].attempts.begin(), sinks_[0].attempts.end(), "evt_old_0"), 1);
  EXPECT_EQ(core.pending(), 1u);  // young keeps retrying
  EXPECT_EQ(counted(0, Counted::dead_lettered), 1u);
}

TEST_F(CoreTest, ExpiredOwedDeliveriesCostOneFailedAttemptBetweenThem) {
  lane(
      "a", [](const watch::Event&, int) { return DeliveryResult::retry("down"); }, {}, 1, 1h);
  auto& core = build();
  core.restore(
      {owed(make_event("e1"), "a", now_.wall - 3h), owed(make_event("e2"), "a", now_.wall - 2h),
       owed(make_event("e3"), "a", now_.wall - 1h),
       owed(make_event("young"), "a", now_.wall - 1min)},
      now_);
  ASSERT_TRUE(run_until([&] { return !of(Kind::attempt_failed).empty(); }));
  EXPECT_EQ(trace(),
            (std::vector<std::string>{"dead_lettered evt_e1_0", "dead_lettered evt_e2_0",
                                      "dead_lettered evt_e3_0", "attempt_failed evt_young_0"}));
  EXPECT_EQ(of(Kind::dead_lettered)[1].attempts, 0u);  // never tried again
  EXPECT_EQ(sinks_[0].attempts[0], "evt_e1_0");
  EXPECT_EQ(sinks_[0].attempts[1], "evt_young_0");
}

TEST_F(CoreTest, AnExpiredOwedDeliveryThatGoesThroughIsDelivered) {
  lane("a", always_ok, {}, 1, 1h);
  auto& core = build();
  core.restore({owed(make_event("late"), "a", now_.wall - 5h)}, now_);
  ASSERT_TRUE(run_idle());
  EXPECT_EQ(trace(), std::vector<std::string>{"delivered evt_late_0"});
}

TEST_F(CoreTest, AnEventAlreadyQueuedOnALaneIsNotQueuedTwice) {
  lane("a", always_ok);
  auto& core = build();
  const auto e = make_event("j1");
  core.restore({owed(e, "a", now_.wall)}, now_);
  EXPECT_TRUE(core.submit(shared(e), now_.steady).empty());  // re-detected after the restart
  core.committed();
  core.restore({owed(e, "a", now_.wall)}, now_);
  EXPECT_EQ(core.pending(), 1u);
  ASSERT_TRUE(run_idle());
  EXPECT_EQ(sinks_[0].attempts.size(), 1u);
  EXPECT_EQ(trace(), std::vector<std::string>{"delivered evt_j1_0"});
  submit(e);  // once delivered, a new submit is a new delivery
  ASSERT_TRUE(run_idle());
  EXPECT_EQ(sinks_[0].attempts.size(), 2u);
}

TEST_F(CoreTest, SubmitLeavesOutTheLanesThatHaveTheEventQueuedAlready) {
  lane("a", always_ok);
  lane("b", always_ok);
  auto& core = build();
  const auto e = make_event("j1");
  core.restore({owed(e, "a", now_.wall)}, now_);
  EXPECT_EQ(core.submit(shared(e), now_.steady), std::vector<std::size_t>{1});  // b only
  EXPECT_TRUE(core.submit(shared(e), now_.steady).empty());  // uncommitted counts as queued
  core.committed();
  EXPECT_EQ(core.pending(0), 1u);
  EXPECT_EQ(core.pending(1), 1u);
  ASSERT_TRUE(run_idle());
  EXPECT_EQ(trace(), (std::vector<std::string>{"delivered evt_j1_0", "delivered evt_j1_0"}));
  EXPECT_EQ(sinks_[0].attempts.size(), 1u);
  EXPECT_EQ(sinks_[1].attempts.size(), 1u);
}

TEST_F(CoreTest, ARetryWakesAtTheBackoffAndNotBefore) {
  lane("a", fails_first_attempt("busy"));
  auto& core = build({1s, 60s});
  submit(make_event("j1"));
  step();
  ASSERT_EQ(of(Kind::attempt_failed).size(), 1u);
  // Full jitter fixed at 0.5 of the first ceiling (1 s).
  auto s = core.resume(now_.steady);
  EXPECT_TRUE(s.deliver.empty());
  ASSERT_TRUE(s.wake_at);
  EXPECT_EQ(*s.wake_at - now_.steady, 500ms);
  EXPECT_EQ(of(Kind::attempt_failed)[0].next_attempt_at - now_.wall, 500ms);
  EXPECT_TRUE(core.retrying(0));
  advance(499ms);
  s = core.resume(now_.steady);
  EXPECT_TRUE(s.deliver.empty());
  EXPECT_EQ(s.wake_at, now_.steady + 1ms);
  EXPECT_EQ(sinks_[0].attempts.size(), 1u);
  advance(1ms);
  s = step();
  ASSERT_EQ(s.deliver.size(), 1u);
  ASSERT_EQ(s.deliver[0].batch.size(), 1u);
  EXPECT_EQ(s.deliver[0].batch[0]->id, "evt_j1_0");
  EXPECT_FALSE(core.retrying(0));
  EXPECT_EQ(trace(), (std::vector<std::string>{"attempt_failed evt_j1_0", "delivered evt_j1_0"}));
}

TEST_F(CoreTest, RetryNowLetsAWaitingLaneGoAtOnce) {
  lane("a", fails_first_attempt("cannot open"));
  auto& core = build({10min, 10min});
  submit(make_event("j1"));
  step();
  EXPECT_TRUE(core.resume(now_.steady).deliver.empty());
  EXPECT_TRUE(core.retrying(0));
  core.retry_now(0);
  EXPECT_FALSE(core.retrying(0));
  const auto s = step();  // no time has passed
  ASSERT_EQ(s.deliver.size(), 1u);
  EXPECT_FALSE(s.wake_at);
  EXPECT_EQ(trace(), (std::vector<std::string>{"attempt_failed evt_j1_0", "delivered evt_j1_0"}));
}

TEST_F(CoreTest, ABurstGoesOutInBatchesOfTheLanesSize) {
  lane("a", always_ok, {}, 8);
  build();
  for (int i = 0; i < 10; ++i) submit(make_event("j" + std::to_string(i)));
  ASSERT_TRUE(run_idle());
  EXPECT_EQ(sinks_[0].batch_sizes, (std::vector<std::size_t>{8, 2}));
  EXPECT_EQ(sinks_[0].attempts.size(), 10u);
}

TEST_F(CoreTest, ARetryInsideABatchKeepsTheDeliveredPrefixAndRetriesFromTheFailure) {
  lane(
      "a",
      [](const watch::Event& e, int attempt) {
        if (e.job_id == "j1" && attempt == 1) return DeliveryResult::retry("disk full");
        return DeliveryResult::ok();
      },
      {}, 3);
  build();
  for (const char* j : {"j0", "j1", "j2"}) submit(make_event(j));
  step();  // the sink answers [ok, retry]
  EXPECT_EQ(trace(), (std::vector<std::string>{"delivered evt_j0_0", "attempt_failed evt_j1_0"}));
  EXPECT_EQ(of(Kind::attempt_failed)[0].attempts, 1u);
  EXPECT_EQ(core_->pending(), 2u);
  ASSERT_TRUE(run_idle());
  EXPECT_EQ(trace(), (std::vector<std::string>{"delivered evt_j0_0", "attempt_failed evt_j1_0",
                                               "delivered evt_j1_0", "delivered evt_j2_0"}));
  // j2 was not attempted in the first batch; the second starts with j1.
  EXPECT_EQ(sinks_[0].attempts,
            (std::vector<std::string>{"evt_j0_0", "evt_j1_0", "evt_j1_0", "evt_j2_0"}));
  EXPECT_EQ(sinks_[0].batch_sizes, (std::vector<std::size_t>{3, 2}));
  EXPECT_EQ(counted(0, Counted::delivered), 3u);
}

// A sink that walks a batch by job (the webhook) answers every event: the
// jobs past a retry go through, the retried job's later events come back
// not attempted and stay behind it, in order, for the next batch.
TEST_F(CoreTest, ResultsByJobSettleEachEventAndKeepTheRetriedJobInOrder) {
  lane("hook", always_ok, {}, 8);
  build();
  const auto a1 = make_event("a", EventType::subjob_failed, "s");
  const auto b = make_event("b");
  const auto a2 = make_event("a", EventType::job_failed);
  const auto c = make_event("c");
  for (const auto& e : {a1, b, a2, c}) submit(e);
  sinks_[0].hold = true;
  step();
  ASSERT_EQ(sinks_[0].out.size(), 4u);
  sinks_[0].out.clear();
  auto out = core_->settle(0,
                           {DeliveryResult::retry("HTTP 503"), DeliveryResult::ok(),
                            DeliveryResult::not_attempted(), DeliveryResult::ok()},
                           now_);
  outcomes_.insert(outcomes_.end(), out.begin(), out.end());
  EXPECT_EQ(trace(), (std::vector<std::string>{"delivered " + b.id, "delivered " + c.id,
                                               "attempt_failed " + a1.id}));
  EXPECT_EQ(of(Kind::attempt_failed)[0].attempts, 1u);
  EXPECT_EQ(core_->pending(), 2u);
  EXPECT_TRUE(core_->retrying(0));
  sinks_[0].hold = false;
  ASSERT_TRUE(run_idle());
  // The next batch is the retried job's two events, the failed one first.
  EXPECT_EQ(sinks_[0].attempts, (std::vector<std::string>{a1.id, a2.id}));
  EXPECT_EQ(counted(0, Counted::delivered), 4u);
  EXPECT_EQ(counted(0, Counted::retry), 1u);
}

// Two jobs failing in one batch: each failed attempt is reported and
// counted, both wait for the one backoff, and both go out after it.
TEST_F(CoreTest, TwoJobsRetriedInOneBatchBothWaitForTheBackoff) {
  lane("hook", always_ok, {}, 8);
  build();
  const auto a = make_event("a");
  const auto b = make_event("b");
  submit(a);
  submit(b);
  sinks_[0].hold = true;
  step();
  sinks_[0].out.clear();
  auto out = core_->settle(
      0, {DeliveryResult::retry("HTTP 502"), DeliveryResult::retry("HTTP 503")}, now_);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].event->id, a.id);
  EXPECT_EQ(out[1].event->id, b.id);
  EXPECT_EQ(out[1].kind, Kind::attempt_failed);
  EXPECT_EQ(out[1].text, "HTTP 503");
  EXPECT_EQ(out[1].attempts, 1u);
  EXPECT_EQ(out[0].next_attempt_at, out[1].next_attempt_at);
  EXPECT_GT(out[1].next_attempt_at, now_.wall);
  EXPECT_EQ(counted(0, Counted::retry), 2u);
  const auto step_now = core_->resume(now_.steady);
  EXPECT_TRUE(step_now.deliver.empty());  // waiting
  ASSERT_TRUE(step_now.wake_at);
  sinks_[0].hold = false;
  ASSERT_TRUE(run_idle());
  EXPECT_EQ(sinks_[0].attempts, (std::vector<std::string>{a.id, b.id}));
}

TEST_F(CoreTest, InFlightCountsOnlyDeliveriesOutAtASink) {
  lane("stuck", always_ok);
  lane("batched", always_ok, {}, 8);
  lane("failing", [](const watch::Event&, int) { return DeliveryResult::retry("down"); });
  // The failing lane sits in its retry wait for the whole test.
  auto& core = build({10min, 10min});
  sinks_[0].hold = true;
  sinks_[1].hold = true;
  EXPECT_EQ(core.in_flight(), 0u);
  for (const char* j : {"j1", "j2", "j3"}) submit(make_event(j));
  step();
  // stuck: one awaiting its answer; batched: one batch of three handed
  // over; failing: waiting for its retry, nothing out.
  EXPECT_EQ(core.in_flight(), 4u);
  EXPECT_EQ(core.in_flight(0), 1u);
  EXPECT_EQ(core.in_flight(1), 3u);
  EXPECT_EQ(core.in_flight(2), 0u);
  EXPECT_TRUE(core.retrying(2));
  EXPECT_EQ(core.pending(), 9u);

  release(0);
  ASSERT_TRUE(run_until([&] { return core.pending(0) == 0; }));
  EXPECT_EQ(core.in_flight(), 3u);  // the batch is still out
  core.stop();
  EXPECT_EQ(core.in_flight(), 0u);  // nothing can be reported any more
}

TEST_F(CoreTest, DrainedIsFalseWhileABatchIsOutAndTrueOnceItIsSettled) {
  lane("a", always_ok, {}, 3);
  lane("failing", [](const watch::Event&, int) { return DeliveryResult::retry("down"); });
  auto& core = build({10min, 10min});
  EXPECT_TRUE(core.resume(now_.steady).drained);  // nothing at all
  sinks_[0].hold = true;
  for (const char* j : {"j1", "j2", "j3", "j4"}) submit(make_event(j));
  auto s = step();
  ASSERT_EQ(s.deliver.size(), 2u);
  EXPECT_EQ(s.deliver[0].batch.size(), 3u);
  EXPECT_FALSE(s.drained);

  core.pause();  // as a reload does, waiting for drained
  s = core.resume(now_.steady);
  EXPECT_TRUE(s.deliver.empty());
  EXPECT_FALSE(s.drained);  // a's batch is still out

  release(0);
  s = core.resume(now_.steady);
  EXPECT_TRUE(s.deliver.empty());
  EXPECT_TRUE(s.drained);
  // Drained says nothing is out, not that nothing is owed: j4 on a, and
  // everything on the failing lane, whose retry wait is not "out".
  EXPECT_TRUE(s.wake_at);
  EXPECT_EQ(core.pending(0), 1u);
  EXPECT_EQ(core.pending(1), 4u);

  core.resume_attempts();
  sinks_[0].hold = true;
  s = step();
  ASSERT_EQ(s.deliver.size(), 1u);
  EXPECT_EQ(s.deliver[0].batch[0]->id, "evt_j4_0");
  EXPECT_FALSE(s.drained);
  release(0);
  EXPECT_TRUE(core.resume(now_.steady).drained);
}

TEST_F(CoreTest, PauseLetsInFlightSettleAndStartsNothingNew) {
  lane("a", always_ok);
  auto& core = build();
  sinks_[0].hold = true;
  submit(make_event("j1"));
  submit(make_event("j2"));
  step();
  core.pause();
  EXPECT_EQ(core.in_flight(), 1u);
  release(0);
  EXPECT_EQ(core.in_flight(), 0u);
  EXPECT_EQ(trace(), std::vector<std::string>{"delivered evt_j1_0"});
  submit(make_event("j3"));
  auto s = step();
  EXPECT_TRUE(s.deliver.empty());  // j2, j3 wait
  EXPECT_TRUE(s.drained);
  EXPECT_EQ(core.pending(), 2u);

  core.resume_attempts();
  ASSERT_TRUE(run_idle());
  EXPECT_EQ(sinks_[0].attempts, (std::vector<std::string>{"evt_j1_0", "evt_j2_0", "evt_j3_0"}));
}

TEST_F(CoreTest, NothingIsReportedAfterStop) {
  lane("a", always_ok);
  auto& core = build();
  sinks_[0].hold = true;
  submit(make_event("j1"));
  step();
  core.stop();
  release(0);
  EXPECT_TRUE(outcomes_.empty());
  EXPECT_TRUE(core.resume(now_.steady).deliver.empty());
  EXPECT_EQ(core.pending(), 1u);  // still owed: the store keeps its row
}

TEST_F(CoreTest, OutcomesAreCountedWhetherOrNotTheyAreRecorded) {
  lane("a", [](const watch::Event& e, int attempt) {
    if (e.job_id == "bad") return DeliveryResult::permanent("no");
    return attempt == 1 ? DeliveryResult::retry("busy") : DeliveryResult::ok();
  });
  auto& core = build();
  submit(make_event("j1"));
  submit(make_event("bad"));
  // The sink answers; what settle() returns is dropped.
  for (int i = 0; i < 100 && core.pending() > 0; ++i) {
    const auto s = core.resume(now_.steady);
    for (const auto& d : s.deliver) {
      std::vector<DeliveryResult> results;
      for (const watch::Event* e : d.batch) {
        results.push_back(sinks_[d.lane].script(*e, ++sinks_[d.lane].tries[e->id]));
        if (results.back().kind == DeliveryResult::Kind::retry) break;
      }
      core.settle(d.lane, std::move(results), now_);
    }
    if (s.deliver.empty() && s.wake_at) advance(*s.wake_at - now_.steady);
  }
  EXPECT_EQ(core.pending(), 0u);
  EXPECT_EQ(counted(0, Counted::delivered), 1u);
  EXPECT_EQ(counted(0, Counted::retry), 1u);
  EXPECT_EQ(counted(0, Counted::dead_lettered), 1u);
  EXPECT_EQ(outcomes_counter_.value({"job.succeeded", "a", "dead_lettered"}), 1.0);
}

TEST_F(CoreTest, AHeldLaneDoesNotHoldUpAnother) {
  lane("stuck", always_ok);
  lane("fine", always_ok);
  auto& core = build();
  sinks_[0].hold = true;
  for (const char* j : {"j1", "j2", "j3"}) submit(make_event(j));
  ASSERT_TRUE(run_until([&] { return core.pending(1) == 0; }));
  EXPECT_EQ(sinks_[1].attempts.size(), 3u);
  EXPECT_EQ(core.pending(0), 3u);
  EXPECT_EQ(core.in_flight(0), 1u);  // one batch out at a time
}

TEST_F(CoreTest, EventFromDocumentRoundTrips) {
  for (const auto& e : {make_event("j1", EventType::job_failed),
                        make_event("j2", EventType::subjob_succeeded, "s7"),
                        make_event("j3", EventType::watch_abandoned, {}, "deadline")}) {
    const auto back = sinks::event_from_document(e.document);
    ASSERT_TRUE(back) << e.document;
    EXPECT_EQ(back->id, e.id);
    EXPECT_EQ(back->type, e.type);
    EXPECT_EQ(back->project_id, e.project_id);
    EXPECT_EQ(back->job_id, e.job_id);
    EXPECT_EQ(back->subjob_id, e.subjob_id);
    EXPECT_EQ(back->document, e.document);
  }
  const auto null_subjob = sinks::event_from_document(
      R"({"id":"evt_1","type":"job.succeeded","data":{"project_id":"p","job_id":"j","subjob_id":null}})");
  ASSERT_TRUE(null_subjob);
  EXPECT_EQ(null_subjob->subjob_id, "");
}

TEST_F(CoreTest, EventFromDocumentRejectsWhatIsNotAnEvent) {
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
    EXPECT_FALSE(sinks::event_from_document(bad)) << bad;
  }
}

TEST_F(CoreTest, RestoreFromStoredDocumentsDeliversTheSameBytes) {
  std::vector<std::string> seen;
  lane("a", [&](const watch::Event& e, int) {
    seen.push_back(e.document);
    return DeliveryResult::ok();
  });
  auto& core = build();
  const auto original = make_event("j1", EventType::subjob_failed, "s1");
  auto event = sinks::event_from_document(original.document);
  ASSERT_TRUE(event);
  core.restore(
      {OwedDelivery{std::make_shared<const watch::Event>(std::move(*event)), "a", now_.wall, 0}},
      now_);
  ASSERT_TRUE(run_idle());
  EXPECT_EQ(seen, std::vector<std::string>{original.document});
}

}  // namespace
}  // namespace jobwatch::outbox
