// Tracker: which answers produce which events, and what the documents hold.
#include "jobwatch/watch/tracker.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <vector>

#include "jobwatch/model/app_v1.hpp"

namespace jobwatch::watch {
namespace {

namespace json = boost::json;
using model::JobStatus;
using namespace std::chrono;

const JobRef kJob{"proj1", "job1"};
const Labels kLabels{{"env", "prod"}, {"team", "video"}};
const model::WallTime kT0{sys_days{2026y / 11 / 28} + 12h + 1min + 2s};

model::JobSnapshot detail_from(const std::string& text) {
  auto result = model::parse_job_detail(json::parse(text).as_object());
  if (auto* error = std::get_if<model::ParseError>(&result)) {
    ADD_FAILURE() << error->message;
    return {};
  }
  return model::to_snapshot(std::get<model::JobDetail>(std::move(result)));
}

std::string sub(const std::string& id, int status, const std::string& extra = "") {
  return R"({"job_id": ")" + id + R"(", "job_type": 2, "job_status": )" + std::to_string(status) +
         extra + "}";
}

model::JobSnapshot answer(int status, const std::vector<std::string>& subs = {},
                          const std::string& extra = "") {
  std::string text = R"({"job_id": "job1", "job_type": 1, "job_status": )" + std::to_string(status);
  if (!subs.empty()) {
    text += R"(, "sub_jobs": [)";
    for (std::size_t i = 0; i < subs.size(); ++i) text += (i ? ", " : "") + subs[i];
    text += "]";
  }
  return detail_from(text + extra + "}");
}

json::object doc(const Event& event) {
  return json::parse(event.document).as_object();
}
json::object data(const Event& event) {
  return doc(event).at("data").as_object();
}

Observation feed(TrackState& state, const model::JobSnapshot& detail, model::WallTime at = kT0) {
  return observe(state, {kJob, model::Api::app_v1, kLabels}, detail, at);
}

TEST(Tracker, NoEventsWhileRunning) {
  TrackState state;
  EXPECT_EQ(watch_status(state), WatchStatus::pending);
  auto obs = feed(state, answer(3, {sub("s1", 3)}));
  EXPECT_TRUE(obs.events.empty());
  EXPECT_EQ(obs.new_status, WatchStatus::initializing);
  obs = feed(state, answer(2, {sub("s1", 2)}));
  EXPECT_TRUE(obs.events.empty());
  EXPECT_EQ(obs.new_status, WatchStatus::handling);
  EXPECT_FALSE(state.finished);
  EXPECT_EQ(state.job_status, JobStatus::handling);
  EXPECT_EQ(state.last_nonterminal_job_status, JobStatus::handling);
}

TEST(Tracker, StateMapping) {
  for (auto [code, expected] :
       {std::pair{0, WatchStatus::failed}, std::pair{1, WatchStatus::succeeded},
        std::pair{2, WatchStatus::handling}, std::pair{3, WatchStatus::initializing}}) {
    TrackState state;
    EXPECT_EQ(feed(state, answer(code)).new_status, expected) << code;
    EXPECT_EQ(watch_status(state), expected);
  }
}

TEST(Tracker, SubjobEventsComeBeforeTheJobsInAnswerOrder) {
  TrackState state;
  feed(state, answer(2, {sub("s2", 2), sub("s1", 2), sub("s3", 2)}));
  const auto obs = feed(state, answer(0, {sub("s2", 1), sub("s1", 0), sub("s3", 1)}));
  ASSERT_EQ(obs.events.size(), 4u);
  EXPECT_EQ(obs.events[0].type, EventType::subjob_succeeded);
  EXPECT_EQ(obs.events[0].subjob_id, "s2");
  EXPECT_EQ(obs.events[1].type, EventType::subjob_failed);
  EXPECT_EQ(obs.events[1].subjob_id, "s1");
  EXPECT_EQ(obs.events[2].type, EventType::subjob_succeeded);
  EXPECT_EQ(obs.events[2].subjob_id, "s3");
  EXPECT_EQ(obs.events[3].type, EventType::job_failed);
  EXPECT_EQ(obs.events[3].subjob_id, "");
  EXPECT_EQ(obs.new_status, WatchStatus::failed);
  EXPECT_EQ(obs.subjobs_total, 3u);
  EXPECT_EQ(obs.subjobs_done, 3u);
  for (const Event& e : obs.events) {
    EXPECT_EQ(e.project_id, "proj1");
    EXPECT_EQ(e.job_id, "job1");
    EXPECT_EQ(e.id, event_id("proj1", "job1", e.subjob_id, e.type));
  }
}

TEST(Tracker, SubjobEventsAsTheyHappen) {
  TrackState state;
  auto obs = feed(state, answer(2, {sub("s1", 2), sub("s2", 3)}));
  EXPECT_EQ(obs.subjobs_total, 2u);
  EXPECT_EQ(obs.subjobs_done, 0u);
  obs = feed(state, answer(2, {sub("s1", 1), sub("s2", 2)}));
  ASSERT_EQ(obs.events.size(), 1u);
  EXPECT_EQ(obs.events[0].type, EventType::subjob_succeeded);
  EXPECT_EQ(obs.subjobs_done, 1u);
  EXPECT_EQ(obs.new_status, WatchStatus::handling);
  obs = feed(state, answer(1, {sub("s1", 1), sub("s2", 1)}));
  ASSERT_EQ(obs.events.size(), 2u);
  EXPECT_EQ(obs.events[0].subjob_id, "s2");
  EXPECT_EQ(obs.events[1].type, EventType::job_succeeded);
}

TEST(Tracker, PreviousStatusIsNullWhenFirstSeenTerminal) {
  TrackState state;
  const auto obs = feed(state, answer(1, {sub("s1", 1)}));
  ASSERT_EQ(obs.events.size(), 2u);
  EXPECT_TRUE(data(obs.events[0]).at("previous_status").is_null());
  EXPECT_TRUE(data(obs.events[1]).at("previous_status").is_null());
}

TEST(Tracker, PreviousStatusIsTheLastNonTerminalWord) {
  TrackState state;
  feed(state, answer(3, {sub("s1", 3), sub("s2", 3)}));
  feed(state, answer(2, {sub("s1", 2), sub("s2", 3)}));
  const auto obs = feed(state, answer(0, {sub("s1", 0), sub("s2", 1)}));
  ASSERT_EQ(obs.events.size(), 3u);
  EXPECT_EQ(data(obs.events[0]).at("previous_status"), "handling");
  EXPECT_EQ(data(obs.events[1]).at("previous_status"), "initializing");
  EXPECT_EQ(data(obs.events[2]).at("previous_status"), "handling");
}

TEST(Tracker, ExactlyOneFinalEvent) {
  TrackState state;
  feed(state, answer(2));
  auto obs = feed(state, answer(1));
  ASSERT_EQ(obs.events.size(), 1u);
  EXPECT_TRUE(is_final(obs.events[0].type));
  EXPECT_TRUE(state.finished);

  const TrackState frozen = state;
  // Later answers, whatever they say, change nothing.
  for (int code : {0, 1, 2, 3}) {
    obs = feed(state, answer(code, {sub("s9", 1)}));
    EXPECT_TRUE(obs.events.empty());
    EXPECT_EQ(obs.new_status, WatchStatus::succeeded);
  }
  EXPECT_EQ(state, frozen);
  // And no abandonment after the job's own end.
  EXPECT_FALSE(abandon_event(state, {kJob, model::Api::app_v1, kLabels}, AbandonReason::deadline,
                             "", "", kT0, ""));
  EXPECT_EQ(state, frozen);
}

TEST(Tracker, RepeatedObservationsAreIdempotent) {
  TrackState state;
  const auto running = answer(2, {sub("s1", 1), sub("s2", 2)});
  EXPECT_EQ(feed(state, running).events.size(), 1u);
  const TrackState after_first = state;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(feed(state, running).events.empty());
    EXPECT_EQ(state, after_first);
  }
}

TEST(Tracker, SubjobReportedOnceEvenIfItFlips) {
  TrackState state;
  auto obs = feed(state, answer(2, {sub("s1", 1)}));
  ASSERT_EQ(obs.events.size(), 1u);
  EXPECT_EQ(obs.events[0].type, EventType::subjob_succeeded);
  EXPECT_TRUE(feed(state, answer(2, {sub("s1", 2)})).events.empty());
  EXPECT_TRUE(feed(state, answer(2, {sub("s1", 0)})).events.empty());
  // Gone and back again.
  EXPECT_TRUE(feed(state, answer(2)).events.empty());
  EXPECT_TRUE(feed(state, answer(2, {sub("s1", 0)})).events.empty());
  obs = feed(state, answer(1, {sub("s1", 0)}));
  ASSERT_EQ(obs.events.size(), 1u);
  EXPECT_EQ(obs.events[0].type, EventType::job_succeeded);
}

TEST(Tracker, DisappearedSubjobKeepsItsPreviousStatus) {
  TrackState state;
  feed(state, answer(2, {sub("s1", 2)}));
  feed(state, answer(2));
  const auto obs = feed(state, answer(2, {sub("s1", 0)}));
  ASSERT_EQ(obs.events.size(), 1u);
  EXPECT_EQ(data(obs.events[0]).at("previous_status"), "handling");
}

TEST(Tracker, RunningSubjobInTheFinalAnswerIsOnlyInTheJobDetail) {
  TrackState state;
  const auto final_answer = answer(0, {sub("s1", 0), sub("s2", 2)});
  const auto obs = feed(state, final_answer);
  ASSERT_EQ(obs.events.size(), 2u);
  EXPECT_EQ(obs.events[0].subjob_id, "s1");
  EXPECT_EQ(obs.events[1].type, EventType::job_failed);
  EXPECT_EQ(obs.subjobs_total, 2u);
  EXPECT_EQ(obs.subjobs_done, 1u);
  const auto subs = data(obs.events[1]).at("detail").at("sub_jobs").as_array();
  ASSERT_EQ(subs.size(), 2u);
  EXPECT_EQ(subs[1].at("job_status"), 2);
}

TEST(Tracker, DocumentShape) {
  TrackState state;
  feed(state, answer(2, {sub("s1", 2)}));
  const auto obs = feed(state, answer(1, {sub("s1", 1)}), kT0 + 500ms);
  for (const Event& e : obs.events) {
    EXPECT_EQ(e.document.find('\n'), std::string::npos);
    const json::object d = doc(e);
    // Compact: re-serializing the parsed document gives the same bytes.
    EXPECT_EQ(json::serialize(d), e.document);
    std::vector<std::string> keys;
    for (const auto& item : d) keys.emplace_back(item.key());
    EXPECT_EQ(keys, (std::vector<std::string>{"id", "type", "timestamp", "data"}));
    EXPECT_EQ(d.at("id").as_string(), e.id);
    EXPECT_EQ(d.at("type").as_string(), type_name(e.type));
    EXPECT_EQ(d.at("timestamp"), "2026-11-28T12:01:02Z");
    EXPECT_EQ(d.at("data").at("observed_at"), "2026-11-28T12:01:02Z");
  }
}

TEST(Tracker, SubjobEventData) {
  TrackState state;
  feed(state, answer(2, {sub("s1", 2)}));
  const auto obs = feed(state, answer(2, {sub("s1", 0, R"(, "begin_time": "2023-06-06T02:30:06Z",
      "end_time": "2023-06-06T02:45:49Z", "execute_code": "E1", "execute_message": "quota")")}));
  ASSERT_EQ(obs.events.size(), 1u);
  const json::object d = data(obs.events[0]);
  std::vector<std::string> keys;
  for (const auto& item : d) keys.emplace_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "project_id", "job_id", "subjob_id", "api", "job_type", "status",
                      "status_code", "upstream_status", "previous_status", "labels", "observed_at",
                      "begin_time", "end_time", "execute_code", "execute_message", "detail"}));
  EXPECT_EQ(d.at("project_id"), "proj1");
  EXPECT_EQ(d.at("job_id"), "job1");
  EXPECT_EQ(d.at("subjob_id"), "s1");
  EXPECT_EQ(d.at("status"), "failed");
  EXPECT_EQ(d.at("status_code"), 0);
  EXPECT_EQ(d.at("begin_time"), "2023-06-06T02:30:06Z");
  EXPECT_EQ(d.at("end_time"), "2023-06-06T02:45:49Z");
  EXPECT_EQ(d.at("execute_code"), "E1");
  EXPECT_EQ(d.at("execute_message"), "quota");
}

TEST(Tracker, JobEventDataOmitsWhatTheDetailLacks) {
  TrackState state;
  const auto obs = feed(state, answer(1, {}, R"(, "execute_code": "")"));
  ASSERT_EQ(obs.events.size(), 1u);
  const json::object d = data(obs.events[0]);
  std::vector<std::string> keys;
  for (const auto& item : d) keys.emplace_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"project_id", "job_id", "api", "job_type", "status",
                                            "status_code", "upstream_status", "previous_status",
                                            "labels", "observed_at", "execute_code", "detail"}));
  EXPECT_EQ(d.at("api"), "app-v1");
  EXPECT_EQ(d.at("job_type"), 1);         // as the API sent it
  EXPECT_EQ(d.at("upstream_status"), 1);  // app-v1's code
  EXPECT_EQ(d.at("status"), "succeeded");
  EXPECT_EQ(d.at("status_code"), 1);
  EXPECT_EQ(d.at("execute_code"), "");
}

TEST(Tracker, DetailIsVerbatim) {
  // Unknown fields, nulls, odd numbers: all carried as received.
  const std::string s1 =
      sub("s1", 1, R"(, "entities": [{"spec_type": {"root": true}, "spec_size": 10.5,
      "mystery": [1, null, {"x": "y"}]}], "end_time": null)");
  const auto final_answer = answer(1, {s1}, R"(, "vendor_extra": {"deep": [true, false]})");
  TrackState state;
  const auto obs = feed(state, final_answer);
  ASSERT_EQ(obs.events.size(), 2u);
  const auto& sub_raw = final_answer.subjobs[0].raw;
  EXPECT_EQ(json::serialize(data(obs.events[0]).at("detail")), json::serialize(sub_raw));
  EXPECT_EQ(json::serialize(data(obs.events[1]).at("detail")), json::serialize(final_answer.raw));
  // The document embeds the serialized raw object byte for byte.
  EXPECT_NE(obs.events[1].document.find("\"detail\":" + json::serialize(final_answer.raw)),
            std::string::npos);
  // A null end_time is absent from data but kept in detail.
  EXPECT_FALSE(data(obs.events[0]).contains("end_time"));
  EXPECT_TRUE(data(obs.events[0]).at("detail").at("end_time").is_null());
}

TEST(Tracker, DetectionDelayIsObservedAtMinusTheReportedEndTime) {
  // kT0 is 2026-11-28T12:01:02Z; the subjob ended 90 s and the job 2.5 s before.
  TrackState state;
  const auto obs =
      feed(state, answer(1, {sub("s1", 1, R"(, "end_time": "2026-11-28T11:59:32Z")"), sub("s2", 0)},
                         R"(, "end_time": "2026-11-28T12:00:59.500Z")"));
  ASSERT_EQ(obs.events.size(), 3u);
  EXPECT_EQ(obs.events[0].detection_delay, milliseconds(90'000));
  EXPECT_EQ(obs.events[1].detection_delay, std::nullopt);  // s2 has no end_time
  EXPECT_EQ(obs.events[2].detection_delay, milliseconds(2'500));
}

TEST(Tracker, LabelsAreCopied) {
  TrackState state;
  const auto obs = feed(state, answer(1, {sub("s1", 1)}));
  for (const Event& e : obs.events) {
    EXPECT_EQ(data(e).at("labels").as_object(), (json::object{{"env", "prod"}, {"team", "video"}}));
  }
  TrackState bare;
  const auto none = observe(bare, {kJob, model::Api::app_v1, {}}, answer(0), kT0);
  ASSERT_EQ(none.events.size(), 1u);
  EXPECT_TRUE(data(none.events[0]).at("labels").as_object().empty());
}

TEST(Tracker, EventsAreTheSameWhenRedetected) {
  // A restart loses the TrackState; the same transition gets the same id.
  TrackState first;
  TrackState second;
  const auto a = feed(first, answer(1, {sub("s1", 1)}));
  const auto b = feed(second, answer(1, {sub("s1", 1)}), kT0 + 1h);
  ASSERT_EQ(a.events.size(), b.events.size());
  for (std::size_t i = 0; i < a.events.size(); ++i) EXPECT_EQ(a.events[i].id, b.events[i].id);
}

TEST(Tracker, AbandonEvent) {
  TrackState state;
  const std::string last = R"({"job_id": "job1", "job_status": 2, "x": [1, 2]})";
  feed(state, detail_from(last));
  const auto event = abandon_event(state, {kJob, model::Api::app_v1, kLabels},
                                   AbandonReason::rejected, "WKS.0403", "forbidden", kT0, last);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->type, EventType::watch_abandoned);
  EXPECT_EQ(event->id, event_id("proj1", "job1", "", EventType::watch_abandoned));
  EXPECT_TRUE(event->subjob_id.empty());
  const json::object d = data(*event);
  std::vector<std::string> keys;
  for (const auto& item : d) keys.emplace_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"project_id", "job_id", "api", "reason", "labels",
                                            "observed_at", "error_code", "error_msg",
                                            "previous_status", "detail"}));
  EXPECT_EQ(d.at("reason"), "rejected");
  EXPECT_EQ(d.at("error_code"), "WKS.0403");
  EXPECT_EQ(d.at("error_msg"), "forbidden");
  EXPECT_EQ(d.at("previous_status"), "handling");
  EXPECT_EQ(d.at("labels").as_object(), (json::object{{"env", "prod"}, {"team", "video"}}));
  EXPECT_EQ(d.at("detail"), json::parse(last));
  EXPECT_EQ(doc(*event).at("timestamp"), "2026-11-28T12:01:02Z");

  EXPECT_TRUE(state.finished);
  EXPECT_EQ(watch_status(state), WatchStatus::abandoned);
  EXPECT_FALSE(abandon_event(state, {kJob, model::Api::app_v1, kLabels}, AbandonReason::deadline,
                             "", "", kT0, ""));
  const auto obs = feed(state, answer(1));
  EXPECT_TRUE(obs.events.empty());
  EXPECT_EQ(obs.new_status, WatchStatus::abandoned);
}

TEST(Tracker, AbandonBeforeAnyAnswer) {
  TrackState state;
  const auto event = abandon_event(state, {kJob, model::Api::app_v1, {}}, AbandonReason::not_found,
                                   "", "", kT0, "");
  ASSERT_TRUE(event);
  const json::object d = data(*event);
  EXPECT_EQ(d.at("reason"), "not_found");
  EXPECT_TRUE(d.at("previous_status").is_null());
  EXPECT_FALSE(d.contains("error_code"));
  EXPECT_FALSE(d.contains("error_msg"));
  EXPECT_FALSE(d.contains("detail"));

  TrackState other;
  const auto garbled = abandon_event(other, {kJob, model::Api::app_v1, {}}, AbandonReason::deadline,
                                     "", "", kT0, "{not json");
  ASSERT_TRUE(garbled);
  EXPECT_FALSE(data(*garbled).contains("detail"));
}

TEST(TrackStateJson, RoundTrips) {
  TrackState state;
  feed(state, answer(3, {sub("s2", 3), sub("s1", 2)}));
  feed(state, answer(2, {sub("s1", 1), sub("s3", 2)}));
  const auto restored = track_state_from_json(to_json(state));
  ASSERT_TRUE(restored);
  EXPECT_EQ(*restored, state);

  TrackState empty;
  EXPECT_EQ(track_state_from_json(to_json(empty)), empty);

  abandon_event(state, {kJob, model::Api::app_v1, {}}, AbandonReason::deadline, "", "", kT0, "");
  EXPECT_EQ(track_state_from_json(to_json(state)), state);
}

TEST(TrackStateJson, RejectsGarbage) {
  for (const char* text :
       {R"({"job_status": 9})", R"({"job_status": "2"})", R"({"finished": 1})",
        R"({"subjobs": {}})", R"({"subjobs": [{"reported": true}]})",
        R"({"subjobs": [{"id": "s", "last_nonterminal": 5}]})", R"({"subjobs": [3]})"}) {
    EXPECT_FALSE(track_state_from_json(json::parse(text).as_object())) << text;
  }
}

}  // namespace
}  // namespace jobwatch::watch
