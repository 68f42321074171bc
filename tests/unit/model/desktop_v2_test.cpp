// desktop-v2 (Workspace ShowJob) mapping: a realistic body, every field,
// the error fields that events carry, and undocumented statuses.
#include "jobwatch/model/desktop_v2.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

#include "jobwatch/model/api.hpp"

namespace jobwatch::model {
namespace {

namespace json = boost::json;

constexpr std::string_view kBody = R"({
  "id": "ff8080828a1b2c3d018a1b3c4d5e0001",
  "job_type": "createDesktops",
  "begin_time": "2024-05-06T07:08:09.123Z",
  "end_time": "2024-05-06T07:31:00.000Z",
  "status": "FAIL",
  "job_error_code": "WKS.0040",
  "fail_reason": "1 of 2 desktops failed",
  "sub_jobs_total": 2,
  "sub_jobs": [
    {"id": "sub-a", "job_type": "createDesktop",
     "entities": {"desktop_id": "d-1", "product_id": "workspace.x86.general.xlarge2",
                  "user_name": "alice", "desktop_name": "alice-01", "ip_address": "192.0.2.10"},
     "begin_time": "2024-05-06T07:08:10Z", "end_time": "2024-05-06T07:25:00Z",
     "status": "SUCCESS", "error_code": null, "fail_reason": null, "message": "ok",
     "job_id": "ff8080828a1b2c3d018a1b3c4d5e0001", "process": 100},
    {"id": "sub-b", "job_type": "createDesktop",
     "entities": {"desktop_id": "d-2", "user_name": "bob"},
     "begin_time": "2024-05-06T07:08:10Z", "end_time": "2024-05-06T07:31:00Z",
     "status": "FAILED", "error_code": "WKS.00010001", "fail_reason": "quota exceeded",
     "message": "creation failed", "job_id": "ff8080828a1b2c3d018a1b3c4d5e0001", "process": 40}
  ]
})";

TEST(DesktopV2Parse, MapsEveryField) {
  auto result = parse_desktop_job(kBody);
  ASSERT_TRUE(std::holds_alternative<DesktopJob>(result)) << std::get<ParseError>(result).message;
  const DesktopJob& job = std::get<DesktopJob>(result);
  EXPECT_EQ(job.id, "ff8080828a1b2c3d018a1b3c4d5e0001");
  EXPECT_EQ(job.job_type, "createDesktops");
  EXPECT_EQ(job.status, "FAIL");
  EXPECT_EQ(job.meaning, JobStatus::failed);
  EXPECT_EQ(job.job_error_code, "WKS.0040");
  EXPECT_EQ(job.fail_reason, "1 of 2 desktops failed");
  EXPECT_EQ(job.sub_jobs_total, 2);
  ASSERT_TRUE(job.sub_jobs);
  const DesktopSubJob& a = (*job.sub_jobs)[0];
  ASSERT_TRUE(a.entities);
  EXPECT_EQ(a.entities->desktop_id, "d-1");
  EXPECT_EQ(a.entities->product_id, "workspace.x86.general.xlarge2");
  EXPECT_EQ(a.entities->user_name, "alice");
  EXPECT_EQ(a.entities->desktop_name, "alice-01");
  EXPECT_EQ(a.entities->ip_address, "192.0.2.10");
  EXPECT_EQ(a.message, "ok");
  EXPECT_EQ(a.process, 100);
  EXPECT_FALSE(a.error_code);  // null is absent
  const DesktopSubJob& b = (*job.sub_jobs)[1];
  EXPECT_EQ(b.error_code, "WKS.00010001");
  EXPECT_EQ(b.fail_reason, "quota exceeded");
  EXPECT_EQ(b.job_id, job.id);
  EXPECT_EQ(b.process, 40);
}

TEST(DesktopV2Parse, SnapshotCarriesErrorsAndProgress) {
  auto result = mapping(Api::desktop_v2).parse(kBody);
  ASSERT_TRUE(std::holds_alternative<JobSnapshot>(result));
  const JobSnapshot& snap = std::get<JobSnapshot>(result);
  EXPECT_EQ(snap.status, JobStatus::failed);
  EXPECT_EQ(snap.upstream_status, "FAIL");
  EXPECT_EQ(snap.execute_code, "WKS.0040");
  EXPECT_EQ(snap.execute_message, "1 of 2 desktops failed");
  EXPECT_EQ(snap.raw, json::parse(kBody).as_object());
  ASSERT_EQ(snap.subjobs.size(), 2u);
  EXPECT_EQ(snap.subjobs[1].execute_code, "WKS.00010001");
  EXPECT_EQ(snap.subjobs[1].execute_message, "quota exceeded");
  EXPECT_EQ(snap.subjobs[1].process, 40);
  EXPECT_EQ(snap.subjobs[0].job_type, "createDesktop");
}

TEST(DesktopV2Parse, StatusesAndErrors) {
  auto parse = [](std::string_view body) { return parse_desktop_v2(body); };
  auto ok =
      parse(R"({"id": "j", "status": "INIT", "sub_jobs": [{"id": "s", "status": "ABORTING"}]})");
  ASSERT_TRUE(std::holds_alternative<JobSnapshot>(ok));
  EXPECT_EQ(std::get<JobSnapshot>(ok).status, JobStatus::initializing);
  EXPECT_EQ(std::get<JobSnapshot>(ok).subjobs[0].status, JobStatus::handling);

  auto bad =
      parse(R"({"id": "j", "status": "RUNNING", "sub_jobs": [{"id": "s", "status": "HALTED"}]})");
  ASSERT_TRUE(std::holds_alternative<ParseError>(bad));
  EXPECT_EQ(std::get<ParseError>(bad).message, "job.sub_jobs[0].status: unknown value \"HALTED\"");

  auto entities = parse(R"({"id": "j", "status": "RUNNING", "sub_jobs": [{"id": "s",
      "status": "RUNNING", "entities": "d-1"}]})");
  ASSERT_TRUE(std::holds_alternative<ParseError>(entities));
  EXPECT_EQ(std::get<ParseError>(entities).message,
            "job.sub_jobs[0].entities: expected object, got string");

  auto process = parse(R"({"id": "j", "status": "RUNNING", "sub_jobs": [{"id": "s",
      "status": "RUNNING", "process": "40%"}]})");
  ASSERT_TRUE(std::holds_alternative<ParseError>(process));
}

TEST(JobApis, TableNamesPathsAndServices) {
  EXPECT_EQ(api_from_name("app-v1"), Api::app_v1);
  EXPECT_EQ(api_from_name("app-v2"), Api::app_v2);
  EXPECT_EQ(api_from_name("desktop-v2"), Api::desktop_v2);
  EXPECT_FALSE(api_from_name("app_v2"));
  EXPECT_FALSE(api_from_name(""));
  EXPECT_EQ(api_names(), "app-v1, app-v2, desktop-v2");
  for (Api api : {Api::app_v1, Api::app_v2, Api::desktop_v2}) {
    EXPECT_EQ(api_from_name(api_name(api)), api);
    EXPECT_EQ(mapping(api).api, api);
  }
  EXPECT_EQ(mapping(Api::app_v1).path("p", "j"), "/v1/p/job/j");
  EXPECT_EQ(mapping(Api::app_v2).path("p", "j"), "/v2/p/job/j");
  EXPECT_EQ(mapping(Api::desktop_v2).path("p", "j"), "/v2/p/workspace-jobs/j");
  EXPECT_EQ(mapping(Api::desktop_v2).service, Service::desktop);
  EXPECT_EQ(mapping(Api::app_v2).service, Service::app_streaming);
}

TEST(JobApis, JobTypeText) {
  EXPECT_EQ(job_type_text(json::value("CREATE_SERVER")), "CREATE_SERVER");
  EXPECT_EQ(job_type_text(json::value(1)), "1");
  EXPECT_EQ(job_type_text(json::value(nullptr)), "");
}

}  // namespace
}  // namespace jobwatch::model
