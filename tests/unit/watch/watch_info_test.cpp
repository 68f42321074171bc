// WatchInfo as shown over the control protocol: exactly SPEC §3's keys.
#include "jobwatch/watch/watch_info.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace jobwatch::watch {
namespace {

std::set<std::string> keys_of(const boost::json::object& obj) {
  std::set<std::string> keys;
  for (const auto& item : obj) keys.emplace(item.key());
  return keys;
}

const std::set<std::string> kRequired{"job_id", "project_id",    "api",          "labels",
                                      "status", "subjobs_total", "subjobs_done", "polls"};

TEST(WatchInfoJson, MinimalHasOnlyTheRequiredKeys) {
  WatchRecord record;
  record.job = {"proj", "job1"};
  const auto obj = to_json(WatchInfo{&record});
  EXPECT_EQ(keys_of(obj), kRequired);
  EXPECT_EQ(obj.at("job_id"), "job1");
  EXPECT_EQ(obj.at("project_id"), "proj");
  EXPECT_EQ(obj.at("status"), "pending");
  EXPECT_EQ(obj.at("api"), "app-v1");
  EXPECT_TRUE(obj.at("labels").as_object().empty());
  EXPECT_EQ(obj.at("subjobs_total"), 0);
  EXPECT_EQ(obj.at("subjobs_done"), 0);
  EXPECT_EQ(obj.at("polls"), 0);
}

TEST(WatchInfoJson, FullHasExactlyTheSpecKeys) {
  using namespace std::chrono;
  WatchRecord record;
  record.job = {"proj", "job1"};
  record.api = model::Api::desktop_v2;
  record.job_type = "createDesktops";
  record.labels = {{"env", "prod"}, {"team", "a"}};
  record.status = WatchStatus::handling;
  record.subjobs_total = 3;
  record.subjobs_done = 1;
  record.polls = 42;
  record.last_poll_at = model::WallTime{sys_days{2026y / 11 / 28} + 12h + 1min + 2s};
  record.next_poll_at = model::WallTime{sys_days{2026y / 11 / 28} + 12h + 1min + 4s + 250ms};
  record.expected_end_time = model::WallTime{sys_days{2026y / 11 / 28} + 13h};
  record.last_error = "HTTP 503";
  // What is not shown: the track, the final event, the submitter, times.
  record.final_event = R"({"type":"job.succeeded"})";
  record.submitter = 1000;
  WatchInfo info{&record};
  info.progress = 42;
  info.created = true;

  const auto obj = to_json(info);
  std::set<std::string> expected = kRequired;
  expected.insert(
      {"last_poll_at", "next_poll_at", "expected_end_time", "last_error", "job_type", "progress"});
  EXPECT_EQ(keys_of(obj), expected);
  EXPECT_EQ(obj.at("api"), "desktop-v2");
  EXPECT_EQ(obj.at("job_type"), "createDesktops");
  EXPECT_EQ(obj.at("progress"), 42);
  EXPECT_EQ(obj.at("status"), "handling");
  EXPECT_EQ(obj.at("labels").as_object(), (boost::json::object{{"env", "prod"}, {"team", "a"}}));
  EXPECT_EQ(obj.at("subjobs_total"), 3);
  EXPECT_EQ(obj.at("subjobs_done"), 1);
  EXPECT_EQ(obj.at("polls"), 42);
  EXPECT_EQ(obj.at("last_poll_at"), "2026-11-28T12:01:02Z");
  EXPECT_EQ(obj.at("next_poll_at"), "2026-11-28T12:01:04.250Z");
  EXPECT_EQ(obj.at("expected_end_time"), "2026-11-28T13:00:00Z");
  EXPECT_EQ(obj.at("last_error"), "HTTP 503");
}

TEST(WatchInfoJson, AbandonedCarriesTheReason) {
  WatchRecord record;
  record.job = {"proj", "job1"};
  record.status = WatchStatus::abandoned;
  record.reason = AbandonReason::not_found;
  const auto obj = to_json(WatchInfo{&record});
  std::set<std::string> expected = kRequired;
  expected.insert("reason");
  EXPECT_EQ(keys_of(obj), expected);
  EXPECT_EQ(obj.at("status"), "abandoned");
  EXPECT_EQ(obj.at("reason"), "not_found");
}

TEST(WatchStatus, NamesAndFinished) {
  EXPECT_EQ(status_name(WatchStatus::pending), "pending");
  EXPECT_EQ(status_name(WatchStatus::initializing), "initializing");
  EXPECT_EQ(status_name(WatchStatus::handling), "handling");
  EXPECT_EQ(status_name(WatchStatus::succeeded), "succeeded");
  EXPECT_EQ(status_name(WatchStatus::failed), "failed");
  EXPECT_EQ(status_name(WatchStatus::abandoned), "abandoned");
  EXPECT_FALSE(is_finished(WatchStatus::pending));
  EXPECT_FALSE(is_finished(WatchStatus::initializing));
  EXPECT_FALSE(is_finished(WatchStatus::handling));
  EXPECT_TRUE(is_finished(WatchStatus::succeeded));
  EXPECT_TRUE(is_finished(WatchStatus::failed));
  EXPECT_TRUE(is_finished(WatchStatus::abandoned));
}

// Each word is read back as the value it was written for (one table per
// enum), and a word from nowhere is no value.
TEST(WatchStatus, EveryNameReadsBack) {
  for (auto status : {WatchStatus::pending, WatchStatus::initializing, WatchStatus::handling,
                      WatchStatus::succeeded, WatchStatus::failed, WatchStatus::abandoned})
    EXPECT_EQ(status_from_name(status_name(status)), status) << status_name(status);
  EXPECT_FALSE(status_from_name("running"));
  EXPECT_FALSE(status_from_name("unknown"));
  for (auto reason : {AbandonReason::not_found, AbandonReason::rejected, AbandonReason::deadline})
    EXPECT_EQ(reason_from_name(reason_name(reason)), reason) << reason_name(reason);
  EXPECT_EQ(reason_name(AbandonReason::deadline), "deadline");
  EXPECT_FALSE(reason_from_name("timeout"));
  for (auto type : {EventType::job_succeeded, EventType::job_failed, EventType::subjob_succeeded,
                    EventType::subjob_failed, EventType::watch_abandoned})
    EXPECT_EQ(type_from_name(type_name(type)), type) << type_name(type);
  EXPECT_EQ(type_name(EventType::subjob_failed), "subjob.failed");
  EXPECT_FALSE(type_from_name("job.done"));
}

}  // namespace
}  // namespace jobwatch::watch
