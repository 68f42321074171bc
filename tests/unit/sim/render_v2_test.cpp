// The v2 bodies (app-v2 ShowJobDetail, desktop-v2 Workspace ShowJob) and
// scripted string timelines, rendered directly from jobs.
#include <boost/json/serialize.hpp>

#include "sim_test_util.hpp"

namespace jobwatch::sim {
namespace {

using test::at;
using test::spec_from;
namespace json = boost::json;

// Created 0.123 s after the epoch, so every v2 time carries milliseconds.
Job v2_job(std::string_view spec) {
  IdGenerator ids(1);
  return build_job(spec_from(spec), at(0.123), ids);
}

json::object body_at(const Job& job, double t) {
  auto body = render_body(job, at(t), "proj");
  EXPECT_TRUE(body.has_value());
  return body ? *body : json::object{};
}

// A copy, so it may be taken from a temporary body.
json::object sub_of(const json::object& body, std::size_t i) {
  return body.at("sub_jobs").as_array().at(i).as_object();
}

void expect_keys(const json::object& o, std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) EXPECT_TRUE(o.contains(k)) << k << " missing in " << o;
}

TEST(SimFormatTimeMs, Rfc3339WithMilliseconds) {
  EXPECT_EQ(format_time_ms(test::epoch()), "2023-06-06T02:30:06.000Z");
  EXPECT_EQ(format_time_ms(at(1.234)), "2023-06-06T02:30:07.234Z");
}

TEST(SimAppV2, BodyShapeThroughItsPhases) {
  const Job job = v2_job(R"({"api": "app-v2", "duration_s": 10, "initializing_s": 1.5,
                            "subjobs": 2, "expected_end_offset_s": 12})");
  const json::object waiting = body_at(job, 0.5);
  EXPECT_FALSE(waiting.contains("job")) << "no wrapper object";
  expect_keys(waiting, {"id", "job_type", "status", "sub_jobs_total", "sub_jobs"});
  EXPECT_EQ(waiting.at("id"), json::value(job.job_id));
  EXPECT_EQ(waiting.at("job_type"), "CREATE_SERVER");
  EXPECT_EQ(waiting.at("status"), "WAITING");
  EXPECT_EQ(waiting.at("sub_jobs_total"), 2);
  EXPECT_FALSE(waiting.contains("begin_time"));
  EXPECT_FALSE(waiting.contains("end_time"));
  EXPECT_EQ(json::serialize(waiting).find("expected_end_time"), std::string::npos);
  EXPECT_EQ(json::serialize(waiting).find("job_status"), std::string::npos);

  const json::object& sub = sub_of(waiting, 0);
  expect_keys(sub, {"id", "job_type", "job_resource_info", "status", "error_code", "error_message",
                    "project_id", "job_id"});
  EXPECT_EQ(sub.at("id"), json::value(std::to_string(job.subjobs[0].id)));
  EXPECT_EQ(sub.at("job_type"), "CREATE_SERVER");
  EXPECT_EQ(sub.at("status"), "WAITING");
  EXPECT_EQ(sub.at("error_code"), "");
  EXPECT_EQ(sub.at("project_id"), "proj");
  EXPECT_EQ(sub.at("job_id"), json::value(job.job_id));
  const json::object& info = sub.at("job_resource_info").as_object();
  expect_keys(info, {"resource_id", "resource_name", "cloud_service_type", "resource_type",
                     "resource_spec_code", "spec_type", "spec_size", "measure", "processed_time",
                     "is_main_resource", "main_resources", "extend_params"});
  EXPECT_EQ(info.at("processed_time"), "2023-06-06T02:30:06.123Z");

  const json::object running = body_at(job, 3);
  EXPECT_EQ(running.at("status"), "RUNNING");
  EXPECT_EQ(running.at("begin_time"), "2023-06-06T02:30:07.623Z");
  EXPECT_FALSE(running.contains("end_time"));

  const json::object done = body_at(job, 11);
  EXPECT_EQ(done.at("status"), "SUCCESS");
  EXPECT_EQ(done.at("end_time"), "2023-06-06T02:30:16.123Z");
  EXPECT_EQ(sub_of(done, 1).at("status"), "SUCCESS");
  EXPECT_EQ(sub_of(done, 1).at("end_time"), "2023-06-06T02:30:16.123Z");
}

TEST(SimAppV2, FailedSubjobCarriesErrorFields) {
  const Job job = v2_job(R"({"api": "app-v2", "outcome": "failure", "subjobs": [
      {"duration_s": 2}, {"duration_s": 4, "error_code": "X.1", "error_message": "boom"}]})");
  const json::object done = body_at(job, 20);
  EXPECT_EQ(done.at("status"), "FAILED");
  EXPECT_EQ(sub_of(done, 0).at("status"), "SUCCESS");
  EXPECT_EQ(sub_of(done, 0).at("error_code"), "");
  EXPECT_EQ(sub_of(done, 1).at("status"), "FAILED");
  EXPECT_EQ(sub_of(done, 1).at("error_code"), "X.1");
  EXPECT_EQ(sub_of(done, 1).at("error_message"), "boom");

  const Job plain = v2_job(R"({"api": "app-v2", "subjobs": [{"outcome": "failure"}]})");
  EXPECT_EQ(sub_of(body_at(plain, 20), 0).at("error_code"), "WKS.00010001");
  EXPECT_FALSE(sub_of(body_at(plain, 20), 0).at("error_message").as_string().empty());
}

TEST(SimDesktopV2, BodyShapeAndRisingProcess) {
  const Job job = v2_job(R"({"api": "desktop-v2", "duration_s": 10, "initializing_s": 1,
      "outcome": "failure", "subjobs": [{"duration_s": 5}, {"duration_s": 10}]})");
  const json::object waiting = body_at(job, 0.5);
  EXPECT_FALSE(waiting.contains("job"));
  expect_keys(waiting, {"id", "job_type", "status", "job_error_code", "fail_reason",
                        "sub_jobs_total", "sub_jobs"});
  EXPECT_EQ(waiting.at("job_type"), "createDesktops");
  EXPECT_EQ(waiting.at("status"), "WAITING");
  EXPECT_EQ(waiting.at("job_error_code"), "");
  EXPECT_EQ(json::serialize(waiting).find("expected_end_time"), std::string::npos);
  const json::object& sub = sub_of(waiting, 0);
  expect_keys(sub, {"id", "job_type", "entities", "status", "error_code", "fail_reason", "message",
                    "job_id", "process"});
  EXPECT_EQ(sub.at("job_type"), "createDesktop");
  EXPECT_EQ(sub.at("status"), "INIT");
  EXPECT_EQ(sub.at("process"), 0);
  EXPECT_EQ(sub.at("job_id"), json::value(job.job_id));
  expect_keys(sub.at("entities").as_object(),
              {"desktop_id", "product_id", "user_name", "desktop_name", "ip_address"});

  std::int64_t last = -1;
  for (double t : {1.2, 2.0, 3.123, 4.0, 5.2}) {
    const std::int64_t p = sub_of(body_at(job, t), 0).at("process").as_int64();
    EXPECT_GT(p, last) << "at " << t;
    last = p;
  }
  EXPECT_EQ(last, 100);
  EXPECT_EQ(sub_of(body_at(job, 3.123), 0).at("process"), 50);
  EXPECT_EQ(sub_of(body_at(job, 3.123), 0).at("status"), "RUNNING");
  EXPECT_EQ(sub_of(body_at(job, 10.05), 1).at("process"), 99) << "100 only once terminal";

  const json::object done = body_at(job, 10.2);
  EXPECT_EQ(done.at("status"), "FAILED");
  EXPECT_EQ(done.at("job_error_code"), "WKS.00010001");
  EXPECT_FALSE(done.at("fail_reason").as_string().empty());
  EXPECT_EQ(done.at("begin_time"), "2023-06-06T02:30:07.123Z");
  EXPECT_EQ(done.at("end_time"), "2023-06-06T02:30:16.123Z");
  const json::object& failed = sub_of(done, 1);
  EXPECT_EQ(failed.at("status"), "FAILED");
  EXPECT_EQ(failed.at("process"), 100);
  EXPECT_EQ(failed.at("error_code"), "WKS.00010001");
  EXPECT_FALSE(failed.at("fail_reason").as_string().empty());
  EXPECT_FALSE(failed.at("message").as_string().empty());
  EXPECT_EQ(sub_of(done, 0).at("fail_reason"), "");
}

TEST(SimTimelineScript, RollbackThenFailed) {
  const Job job = v2_job(R"({"api": "app-v2", "timeline": [
      {"at_s": 0, "status": "WAITING"}, {"at_s": 3, "status": "RUNNING"},
      {"at_s": 8, "status": "ROLLBACK"}, {"at_s": 12, "status": "FAILED"}],
    "subjobs": [{"timeline": [{"at_s": 0, "status": "WAITING"}, {"at_s": 3, "status": "RUNNING"},
      {"at_s": 8, "status": "ROLLBACK"}, {"at_s": 11, "status": "FAILED"}],
      "error_code": "WKS.0042", "error_message": "rolled back"}]})");
  EXPECT_EQ(body_at(job, 1).at("status"), "WAITING");
  EXPECT_FALSE(body_at(job, 1).contains("begin_time"));
  EXPECT_EQ(body_at(job, 4).at("status"), "RUNNING");
  const json::object rolling = body_at(job, 9);
  EXPECT_EQ(rolling.at("status"), "ROLLBACK");
  EXPECT_EQ(rolling.at("begin_time"), "2023-06-06T02:30:09.123Z");
  EXPECT_FALSE(rolling.contains("end_time"));
  EXPECT_EQ(sub_of(rolling, 0).at("status"), "ROLLBACK");
  EXPECT_EQ(sub_of(rolling, 0).at("error_code"), "") << "errors come with the failure";

  EXPECT_EQ(body_at(job, 12).at("status"), "ROLLBACK") << "12 s after the epoch, 11.877 s old";
  const json::object failed = body_at(job, 12.2);
  EXPECT_EQ(failed.at("status"), "FAILED");
  EXPECT_EQ(failed.at("end_time"), "2023-06-06T02:30:18.123Z");
  EXPECT_EQ(sub_of(failed, 0).at("end_time"), "2023-06-06T02:30:17.123Z");
  EXPECT_EQ(sub_of(failed, 0).at("error_code"), "WKS.0042");
  EXPECT_EQ(sub_of(failed, 0).at("error_message"), "rolled back");
  EXPECT_EQ(expected_outcome(job), "failure");
}

TEST(SimTimelineScript, UnscriptedSubjobsFollowTheScriptedJob) {
  const Job job = v2_job(R"({"api": "app-v2", "subjobs": 2, "timeline": [
      {"at_s": 0, "status": "WAITING"}, {"at_s": 4, "status": "RUNNING"},
      {"at_s": 20, "status": "FAILED"}]})");
  ASSERT_EQ(job.subjobs.size(), 2u);
  EXPECT_EQ(job.subjobs[1].end, Millis{20000});
  EXPECT_TRUE(job.subjobs[0].success);
  EXPECT_FALSE(job.subjobs[1].success) << "the last one fails with its job";
  EXPECT_EQ(sub_of(body_at(job, 3), 0).at("status"), "WAITING");
  EXPECT_EQ(sub_of(body_at(job, 5), 0).at("status"), "RUNNING");
  EXPECT_EQ(sub_of(body_at(job, 12.2), 0).at("status"), "SUCCESS");
  EXPECT_EQ(sub_of(body_at(job, 20.2), 1).at("status"), "FAILED");
}

TEST(SimTimelineScript, AbnormalIsAFailure) {
  const Job job = v2_job(R"({"api": "app-v2", "duration_s": 6, "subjobs": [
      {"timeline": [{"at_s": 1, "status": "RUNNING"}, {"at_s": 5, "status": "ABNORMAL"}]}]})");
  const json::object& sub = sub_of(body_at(job, 6), 0);
  EXPECT_EQ(sub.at("status"), "ABNORMAL");
  EXPECT_TRUE(sub.contains("end_time"));
  EXPECT_EQ(sub.at("error_code"), "WKS.00010001");
  EXPECT_FALSE(job.subjobs[0].success);
  EXPECT_EQ(sub_of(body_at(job, 0.5), 0).at("status"), "WAITING") << "before its first entry";
}

TEST(SimTimelineScript, UndocumentedStatusForAWhile) {
  const Job job = v2_job(R"({"api": "desktop-v2", "timeline": [
      {"at_s": 0, "status": "INIT"}, {"at_s": 1, "status": "RUNNING"},
      {"at_s": 2, "status": "PAUSED_X"}, {"at_s": 4, "status": "RUNNING"},
      {"at_s": 6, "status": "SUCCESS"}, {"at_s": 7, "status": "COMPLETE"}]})");
  const json::object paused = body_at(job, 3);
  EXPECT_EQ(paused.at("status"), "PAUSED_X");
  EXPECT_EQ(paused.at("begin_time"), "2023-06-06T02:30:07.123Z");
  EXPECT_FALSE(paused.contains("end_time"));
  EXPECT_EQ(body_at(job, 5).at("status"), "RUNNING");
  EXPECT_EQ(body_at(job, 6.5).at("end_time"), "2023-06-06T02:30:12.123Z");
  // Two terminal entries in a row: the job ended at the first.
  EXPECT_EQ(body_at(job, 8).at("status"), "COMPLETE");
  EXPECT_EQ(body_at(job, 8).at("end_time"), "2023-06-06T02:30:12.123Z");
  EXPECT_EQ(expected_outcome(job), "success");
  EXPECT_EQ(job_end_offset(job), Millis{6000});

  const Job stuck = v2_job(
      R"({"api": "app-v2", "timeline": [{"at_s": 0, "status": "RUNNING"},
                                        {"at_s": 2, "status": "PAUSED_X"}]})");
  EXPECT_FALSE(body_at(stuck, 1000).contains("end_time"));
  EXPECT_EQ(expected_outcome(stuck), "pending");
}

TEST(SimTimelineScript, IntegerTimelineOnAppV1) {
  const Job job = v2_job(R"({"timeline": [{"at_s": 0, "status": 3}, {"at_s": 1, "status": 2},
      {"at_s": 2, "status": 7}, {"at_s": 3, "status": 1}], "job_type": 5})");
  EXPECT_EQ(job_status_at(job, at(0.5)), status_initializing);
  EXPECT_EQ(job_status_at(job, at(1.5)), status_handling);
  EXPECT_EQ(job_status_at(job, at(2.5)), 7);
  const json::object done = body_at(job, 4);
  EXPECT_EQ(done.at("job").at("job_status"), status_successful);
  EXPECT_EQ(done.at("job").at("job_type"), 5);
  EXPECT_EQ(done.at("job").at("end_time"), "2023-06-06T02:30:09Z") << "v1: whole seconds";
  EXPECT_EQ(done.at("job").at("expected_end_time"), "2023-06-06T02:30:09Z");
}

TEST(SimTimelineScript, NotFoundAndGhostOnV2) {
  const Job late = v2_job(R"({"api": "desktop-v2", "not_found_s": 5})");
  EXPECT_FALSE(render_body(late, at(5.1), "p").has_value());
  EXPECT_TRUE(render_body(late, at(5.123), "p").has_value());
  const Job ghost = v2_job(R"({"api": "app-v2", "ghost": true})");
  EXPECT_FALSE(render_body(ghost, at(1e6), "p").has_value());
  EXPECT_EQ(expected_outcome(ghost), "ghost");
}

}  // namespace
}  // namespace jobwatch::sim
