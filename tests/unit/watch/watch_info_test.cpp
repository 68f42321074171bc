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
  WatchInfo info;
  info.job = {"proj", "job1"};
  const auto obj = to_json(info);
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
  WatchInfo info;
  info.job = {"proj", "job1"};
  info.api = model::Api::desktop_v2;
  info.job_type = "createDesktops";
  info.progress = 42;
  info.labels = {{"env", "prod"}, {"team", "a"}};
  info.status = WatchState::handling;
  info.subjobs_total = 3;
  info.subjobs_done = 1;
  info.polls = 42;
  info.last_poll_at = model::WallTime{sys_days{2026y / 11 / 28} + 12h + 1min + 2s};
  info.next_poll_at = model::WallTime{sys_days{2026y / 11 / 28} + 12h + 1min + 4s + 250ms};
  info.expected_end_time = model::WallTime{sys_days{2026y / 11 / 28} + 13h};
  info.last_error = "HTTP 503";
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
  WatchInfo info;
  info.job = {"proj", "job1"};
  info.status = WatchState::abandoned;
  info.abandon_reason = AbandonReason::not_found;
  const auto obj = to_json(info);
  std::set<std::string> expected = kRequired;
  expected.insert("reason");
  EXPECT_EQ(keys_of(obj), expected);
  EXPECT_EQ(obj.at("status"), "abandoned");
  EXPECT_EQ(obj.at("reason"), "not_found");
}

TEST(WatchState, NamesAndFinished) {
  EXPECT_EQ(state_name(WatchState::pending), "pending");
  EXPECT_EQ(state_name(WatchState::initializing), "initializing");
  EXPECT_EQ(state_name(WatchState::handling), "handling");
  EXPECT_EQ(state_name(WatchState::succeeded), "succeeded");
  EXPECT_EQ(state_name(WatchState::failed), "failed");
  EXPECT_EQ(state_name(WatchState::abandoned), "abandoned");
  EXPECT_FALSE(is_finished(WatchState::pending));
  EXPECT_FALSE(is_finished(WatchState::initializing));
  EXPECT_FALSE(is_finished(WatchState::handling));
  EXPECT_TRUE(is_finished(WatchState::succeeded));
  EXPECT_TRUE(is_finished(WatchState::failed));
  EXPECT_TRUE(is_finished(WatchState::abandoned));
}

}  // namespace
}  // namespace jobwatch::watch
