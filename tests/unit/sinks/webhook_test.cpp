// The webhook sink end to end, through the outbox and a real HttpPool,
// against an in-process receiver on 127.0.0.1.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "http_receiver.hpp"
#include "jobwatch/sinks/webhook_signature.hpp"
#include "jobwatch/sinks/webhook_sink.hpp"
#include "outbox/outbox_harness.hpp"
#include "test_support.hpp"

namespace jobwatch::sinks {
namespace {

using namespace std::chrono_literals;
using test::make_event;
using test::Reply;
using test::run_until;
using watch::EventType;

constexpr const char* secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

class WebhookTest : public ::testing::Test {
 protected:
  config::SinkConfig webhook(std::string name = "ops") {
    config::SinkConfig cfg;
    cfg.name = std::move(name);
    cfg.type = config::SinkType::webhook;
    cfg.url = receiver_.url("/hook?x=1");
    cfg.secret.inline_value = secret;
    cfg.timeout = 30s;
    return cfg;
  }
  std::unique_ptr<outbox::Outbox> make(const std::vector<config::SinkConfig>& sinks) {
    return outbox_.make(ioc_, sinks, RetryPolicy{1ms, 5ms});
  }
  std::int64_t stat(const outbox::Outbox& d, const std::string& key,
                    const std::string& sink = "ops") {
    return d.stats().at("by_sink").at(sink).as_object().at(key).to_number<std::int64_t>();
  }
  boost::json::value last_error(const outbox::Outbox& d) {
    return d.stats().at("by_sink").at("ops").as_object().at("last_error");
  }
  void stop(outbox::Outbox& d) {
    bool drained = false;
    d.drain(0ms, [&] { drained = true; });
    ASSERT_TRUE(run_until(ioc_, [&] { return drained; }));
  }
  // Script: answers in order, then 200s.
  void answer(std::vector<Reply> replies) {
    receiver_.on_request(
        [replies = std::move(replies), n = std::size_t{0}](const test::ReceivedRequest&) mutable {
          return n < replies.size() ? replies[n++] : Reply{};
        });
  }

  boost::asio::io_context ioc_;
  test::HttpReceiver receiver_{ioc_};
  outbox::test::OutboxHarness outbox_;
};

TEST_F(WebhookTest, PostsSignedStandardWebhook) {
  auto d = make({webhook()});
  ASSERT_TRUE(d);
  const auto event = make_event("job1", EventType::job_failed);
  d->submit(event);
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  ASSERT_EQ(receiver_.requests().size(), 1u);
  const auto& req = receiver_.requests()[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/hook?x=1");
  EXPECT_EQ(req.body, event.document);
  EXPECT_EQ(req.header("content-type"), "application/json");
  EXPECT_EQ(req.header("webhook-id"), event.id);
  const auto ts = std::stoll(req.header("webhook-timestamp"));
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  EXPECT_LE(std::llabs(now - ts), 300);  // unix seconds, not some other unit
  const auto key = decode_webhook_secret(secret);
  ASSERT_TRUE(key);
  EXPECT_EQ(req.header("webhook-signature"),
            sign_standard_webhook(*key, req.header("webhook-id"), ts, req.body));
  EXPECT_EQ(stat(*d, "delivered"), 1);
}

TEST_F(WebhookTest, NoSecretNoSignature) {
  auto cfg = webhook();
  cfg.secret = {};
  auto d = make({cfg});
  ASSERT_TRUE(d);
  d->submit(make_event("job1"));
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  ASSERT_EQ(receiver_.requests().size(), 1u);
  EXPECT_EQ(receiver_.requests()[0].headers.count("webhook-signature"), 0u);
  EXPECT_FALSE(receiver_.requests()[0].header("webhook-id").empty());
}

TEST_F(WebhookTest, ServerErrorThenSuccessDeliversOnceAfterRetry) {
  answer({Reply{500, {}, "oops"}});
  auto d = make({webhook()});
  ASSERT_TRUE(d);
  d->submit(make_event("job1"));
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  ASSERT_EQ(receiver_.requests().size(), 2u);
  EXPECT_EQ(receiver_.requests()[0].header("webhook-id"),
            receiver_.requests()[1].header("webhook-id"));
  EXPECT_EQ(stat(*d, "delivered"), 1);
  EXPECT_EQ(stat(*d, "retries"), 1);
  EXPECT_EQ(stat(*d, "dead_lettered"), 0);
  test::run_for(ioc_, 30ms);
  EXPECT_EQ(receiver_.requests().size(), 2u);  // delivered once, nothing more
}

TEST_F(WebhookTest, TooManyRequestsHonoursRetryAfter) {
  answer({Reply{429, {{"Retry-After", "1"}}, ""}});
  auto d = make({webhook()});
  ASSERT_TRUE(d);
  d->submit(make_event("job1"));
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  ASSERT_EQ(receiver_.requests().size(), 2u);
  // The backoff alone would be ~0 ms (jitter 0); Retry-After: 1 is the floor.
  EXPECT_GE(receiver_.requests()[1].at - receiver_.requests()[0].at, 1s);
  EXPECT_EQ(stat(*d, "delivered"), 1);
}

TEST_F(WebhookTest, BadRequestIsDeadLetteredAndTheNextEventGoesOn) {
  answer({Reply{400, {}, "bad payload"}});
  auto d = make({webhook()});
  ASSERT_TRUE(d);
  d->submit(make_event("job1"));
  d->submit(make_event("job2"));
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  ASSERT_EQ(receiver_.requests().size(), 2u);  // job1 not retried
  EXPECT_EQ(stat(*d, "dead_lettered"), 1);
  EXPECT_EQ(stat(*d, "delivered"), 1);
  d->flush();
  const auto dead = outbox_.dead_rows();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].event_id, make_event("job1").id);
  EXPECT_NE(dead[0].reason.find("400"), std::string::npos);
}

TEST_F(WebhookTest, GoneIsPermanentForThatEventOnly) {
  answer({Reply{410, {}, ""}});
  auto d = make({webhook()});
  ASSERT_TRUE(d);
  d->submit(make_event("job1"));
  d->submit(make_event("job2"));
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(stat(*d, "dead_lettered"), 1);
  EXPECT_EQ(stat(*d, "delivered"), 1);
  d->flush();
  const auto dead = outbox_.dead_rows();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_NE(dead[0].reason.find("410"), std::string::npos);
}

TEST_F(WebhookTest, FilterSendsOnlyConfiguredTypes) {
  auto cfg = webhook();
  cfg.events = {"job.failed", "watch.abandoned"};
  auto d = make({cfg});
  ASSERT_TRUE(d);
  d->submit(make_event("ok", EventType::job_succeeded));
  d->submit(make_event("bad", EventType::job_failed));
  d->submit(make_event("sub", EventType::subjob_failed, "s1"));
  d->submit(make_event("gone", EventType::watch_abandoned));
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  ASSERT_EQ(receiver_.requests().size(), 2u);
  EXPECT_EQ(receiver_.requests()[0].header("webhook-id"),
            make_event("bad", EventType::job_failed).id);
  EXPECT_EQ(receiver_.requests()[1].header("webhook-id"),
            make_event("gone", EventType::watch_abandoned).id);
}

// One job's events (SPEC §5: its subjobs' before its own) arrive in order
// across retries: nothing of the job overtakes the event being retried.
TEST_F(WebhookTest, EventsArriveInOrderAcrossRetries) {
  answer({Reply{503, {}, ""}, Reply{200}, Reply{502, {}, ""}});
  auto d = make({webhook()});
  ASSERT_TRUE(d);
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    const auto e = make_event("job", EventType::subjob_succeeded, "s" + std::to_string(i));
    ids.push_back(e.id);
    d->submit(e);
  }
  const auto last = make_event("job");
  ids.push_back(last.id);
  d->submit(last);
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  // Attempts: s0 (503), s0, s1 (502), s1, s2, s3, the job's own.
  std::vector<std::string> seen;
  for (const auto& r : receiver_.requests()) seen.push_back(r.header("webhook-id"));
  EXPECT_EQ(seen,
            (std::vector<std::string>{ids[0], ids[0], ids[1], ids[1], ids[2], ids[3], ids[4]}));
  EXPECT_EQ(stat(*d, "delivered"), 5);
}

// Jobs do not wait for each other: while one job's event is retried, the
// other jobs' events go out once each, and the retried job's next event
// only after its first.
TEST_F(WebhookTest, ARetriedJobHoldsBackOnlyItsOwnEvents) {
  int refused = 0;
  receiver_.on_request([&](const test::ReceivedRequest& request) {
    if (request.header("webhook-id") == make_event("slow", EventType::subjob_failed, "s").id &&
        refused < 2) {
      ++refused;
      return Reply{503, {}, ""};
    }
    return Reply{200};
  });
  auto d = make({webhook()});
  ASSERT_TRUE(d);
  const auto slow_subjob = make_event("slow", EventType::subjob_failed, "s");
  const auto slow_job = make_event("slow", EventType::job_failed);
  d->submit(slow_subjob);
  d->submit(slow_job);
  std::vector<std::string> others;
  for (int i = 0; i < 6; ++i) {
    const auto e = make_event("fast" + std::to_string(i));
    others.push_back(e.id);
    d->submit(e);
  }
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  std::vector<std::string> seen;
  for (const auto& r : receiver_.requests()) seen.push_back(r.header("webhook-id"));
  ASSERT_EQ(seen.size(), 3u + 1u + others.size());  // the subjob event thrice
  for (const auto& id : others) EXPECT_EQ(std::count(seen.begin(), seen.end(), id), 1) << id;
  const auto first_job_event = std::find(seen.begin(), seen.end(), slow_job.id);
  EXPECT_EQ(std::count(seen.begin(), first_job_event, slow_subjob.id), 3);
  EXPECT_EQ(first_job_event, seen.end() - 1);  // after every other job's event
  EXPECT_EQ(stat(*d, "delivered"), 8);
  EXPECT_EQ(stat(*d, "retries"), 2);
}

// Events of different jobs are in flight together: a receiver that holds
// one job's request does not hold the others'.
TEST_F(WebhookTest, SeveralJobsAreInFlightAtOnce) {
  const auto held = make_event("held");
  receiver_.on_request([&](const test::ReceivedRequest& request) {
    if (request.header("webhook-id") == held.id) return Reply{.hang = true};
    return Reply{200};
  });
  auto d = make({webhook()});
  ASSERT_TRUE(d);
  d->submit(held);
  for (int i = 0; i < 3; ++i) d->submit(make_event("free" + std::to_string(i)));
  ASSERT_TRUE(run_until(ioc_, [&] { return receiver_.requests().size() == 4; }));
  EXPECT_EQ(receiver_.requests()[0].header("webhook-id"), held.id);
}

TEST_F(WebhookTest, AHangingReceiverDoesNotDelayTheFileSink) {
  receiver_.on_request([](const test::ReceivedRequest&) { return Reply{.hang = true}; });
  const auto dir = std::filesystem::temp_directory_path() /
                   ("jobwatch-sinks-hang-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  config::SinkConfig file;
  file.name = "archive";
  file.type = config::SinkType::file;
  file.path = (dir / "events.jsonl").string();
  auto d = make({webhook(), file});
  ASSERT_TRUE(d);
  for (int i = 0; i < 3; ++i) d->submit(make_event("job" + std::to_string(i)));

  ASSERT_TRUE(run_until(ioc_, [&] { return stat(*d, "delivered", "archive") == 3; }));
  std::ifstream in(file.path);
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  EXPECT_EQ(lines, 3);
  EXPECT_EQ(stat(*d, "delivered"), 0);  // the webhook is still waiting
  EXPECT_EQ(stat(*d, "pending"), 3);
  EXPECT_LE(receiver_.requests().size(), 1u);  // one event in flight, in order
  stop(*d);
  std::filesystem::remove_all(dir);
}

TEST_F(WebhookTest, ConnectionRefusedIsRetried) {
  auto cfg = webhook();
  receiver_.close();  // nothing listens on the port any more
  auto d = make({cfg});
  ASSERT_TRUE(d);
  d->submit(make_event("job1"));
  ASSERT_TRUE(run_until(ioc_, [&] { return stat(*d, "retries") >= 2; }));
  EXPECT_EQ(stat(*d, "dead_lettered"), 0);
  EXPECT_EQ(d->pending(), 1u);
  EXPECT_FALSE(last_error(*d).is_null());
  stop(*d);
}

TEST_F(WebhookTest, BadConfigIsAnErrorThatNamesTheSinkButNotTheSecret) {
  auto cfg = webhook();
  cfg.url = "ftp://example.invalid/";
  auto bad_url = build_sinks(ioc_.get_executor(), {cfg});
  ASSERT_TRUE(std::holds_alternative<std::string>(bad_url));
  EXPECT_NE(std::get<std::string>(bad_url).find("sinks[ops]"), std::string::npos);

  cfg = webhook();
  cfg.secret.inline_value = "whsec_%%%%-not-base64";
  auto bad_secret = build_sinks(ioc_.get_executor(), {cfg});
  ASSERT_TRUE(std::holds_alternative<std::string>(bad_secret));
  EXPECT_NE(std::get<std::string>(bad_secret).find("sinks[ops].secret"), std::string::npos);
  EXPECT_EQ(std::get<std::string>(bad_secret).find("not-base64"), std::string::npos);

  cfg = webhook();
  cfg.secret = {};
  cfg.secret.file = "/nonexistent/jobwatch-webhook-secret";
  auto missing = build_sinks(ioc_.get_executor(), {cfg});
  ASSERT_TRUE(std::holds_alternative<std::string>(missing));
  EXPECT_NE(std::get<std::string>(missing).find("sinks[ops].secret"), std::string::npos);
}

// The retry policy as the outbox sees it: 5xx, 429 and timeouts are failed
// attempts to retry (Retry-After honoured), then one delivery.
TEST_F(WebhookTest, RetryableFailuresAreRetriedThenDelivered) {
  answer({Reply{503, {}, "busy"}, Reply{429, {{"Retry-After", "1"}}, ""}, Reply{.hang = true},
          Reply{200}});
  auto cfg = webhook();
  cfg.timeout = 300ms;
  auto d = make({cfg});
  ASSERT_TRUE(d);
  const auto event = make_event("job1", EventType::job_failed);
  d->submit(event);
  // The 503 is recorded against the row before the 1 s Retry-After wait.
  ASSERT_TRUE(run_until(ioc_, [&] {
    const auto owed = outbox_.owed_rows();
    return !owed.empty() && owed[0].attempts >= 2;
  }));
  const auto owed = outbox_.owed_rows();
  ASSERT_EQ(owed.size(), 1u);
  EXPECT_EQ(owed[0].attempts, 2u);
  EXPECT_NE(owed[0].last_error.find("429"), std::string::npos) << owed[0].last_error;
  // Retry-After: 1 is the floor for the next attempt the store is told of.
  EXPECT_GE(std::chrono::system_clock::time_point(owed[0].next_attempt_at.time_since_epoch()) -
                std::chrono::system_clock::now(),
            -1s);
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(stat(*d, "retries"), 3);
  EXPECT_EQ(stat(*d, "delivered"), 1);
  EXPECT_NE(std::string(last_error(*d).as_string()).find("no answer within"), std::string::npos);
  ASSERT_GE(receiver_.requests().size(), 4u);
  EXPECT_GE(receiver_.requests()[2].at - receiver_.requests()[1].at, 1s);
  EXPECT_EQ(stat(*d, "dead_lettered"), 0);
  ASSERT_TRUE(run_until(ioc_, [&] { return outbox_.owed_rows().empty(); }));
}

TEST_F(WebhookTest, ClientErrorsAreDeadLetteredAfterOneAttempt) {
  answer({Reply{410, {}, ""}, Reply{404, {}, "no such hook"}, Reply{200}});
  auto d = make({webhook()});
  ASSERT_TRUE(d);
  const auto gone = make_event("gone");
  const auto missing = make_event("missing");
  const auto fine = make_event("fine");
  d->submit(gone);
  d->submit(missing);
  d->submit(fine);
  ASSERT_TRUE(run_until(ioc_, [&] { return d->pending() == 0; }));
  EXPECT_EQ(receiver_.requests().size(), 3u);  // neither refusal retried
  EXPECT_EQ(stat(*d, "delivered"), 1);
  d->flush();
  const auto dead = outbox_.dead_rows();
  ASSERT_EQ(dead.size(), 2u);
  std::map<std::string, store::DeadLetterRow> by_id;
  for (const auto& row : dead) by_id[row.event_id] = row;
  ASSERT_TRUE(by_id.count(gone.id) && by_id.count(missing.id));
  EXPECT_EQ(by_id[gone.id].attempts, 1u);
  EXPECT_NE(by_id[gone.id].reason.find("410"), std::string::npos);
  EXPECT_NE(by_id[missing.id].reason.find("404"), std::string::npos);
  EXPECT_EQ(d->dead_lettered_total(), 2u);
  EXPECT_TRUE(outbox_.owed_rows().empty());
}

TEST_F(WebhookTest, ConnectionErrorsAreFailedAttemptsKeptAgainstTheRow) {
  auto cfg = webhook();
  receiver_.close();  // nothing listens on the port any more
  auto d = make({cfg});
  ASSERT_TRUE(d);
  d->submit(make_event("job1"));
  ASSERT_TRUE(run_until(ioc_, [&] { return stat(*d, "retries") >= 2; }));
  d->flush();
  const auto owed = outbox_.owed_rows();
  ASSERT_EQ(owed.size(), 1u);
  EXPECT_GE(owed[0].attempts, 2u);
  EXPECT_FALSE(owed[0].last_error.empty());
  EXPECT_EQ(stat(*d, "dead_lettered"), 0);
  stop(*d);
}

}  // namespace
}  // namespace jobwatch::sinks
