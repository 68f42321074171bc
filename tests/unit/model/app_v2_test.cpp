// app-v2 (ShowJobDetail) mapping: a realistic body, every field, every
// status of SPEC §1.3's table, and values nobody documented.
#include "jobwatch/model/app_v2.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>

#include "jobwatch/model/api.hpp"

namespace jobwatch::model {
namespace {

namespace json = boost::json;

// Shaped as the ShowJobDetail reference documents it: no wrapper object,
// string statuses, millisecond times, no expected_end_time.
constexpr std::string_view kBody = R"({
  "id": "7f2c5bb0-3d2e-4f0b-9a31-5c1c8e2d7a10",
  "job_type": "CREATE_SERVER",
  "begin_time": "2024-05-06T07:08:09.123Z",
  "end_time": "2024-05-06T07:20:11.456Z",
  "status": "FAILED",
  "sub_jobs_total": 3,
  "sub_jobs": [
    {"id": "s-1", "job_type": "CREATE_SERVER",
     "job_resource_info": {
       "resource_id": "srv-1", "resource_name": "appserver-01",
       "cloud_service_type": "hws.service.type.vdi",
       "resource_type": "hws.resource.type.workspace.appstream",
       "resource_spec_code": "workspace.appstream.general.xlarge.2",
       "spec_type": {"flavor": "s6.xlarge.2"}, "spec_size": 1, "measure": 17,
       "processed_time": "2024-05-06T07:09:00Z", "is_main_resource": 1,
       "main_resources": [{"relative_resource_id": "vm-1", "relative_type": 1}],
       "extend_params": "k=v", "old_resource_id": "srv-0",
       "old_cloud_service_type": "hws.service.type.ec2", "old_resource_type": "hws.resource.type.vm"},
     "begin_time": "2024-05-06T07:08:09.200Z", "end_time": "2024-05-06T07:15:00Z",
     "status": "SUCCESS", "error_code": "", "error_message": "",
     "project_id": "p1", "job_id": "7f2c5bb0-3d2e-4f0b-9a31-5c1c8e2d7a10"},
    {"id": "s-2", "job_type": "CREATE_SERVER",
     "begin_time": "2024-05-06T07:08:09.300+08:00", "end_time": "2024-05-06T07:20:11.000Z",
     "status": "ABNORMAL", "error_code": "WKS.00010001",
     "error_message": "server creation failed", "project_id": "p1",
     "job_id": "7f2c5bb0-3d2e-4f0b-9a31-5c1c8e2d7a10", "unknown_field": [1, 2]},
    {"id": "s-3", "status": "ROLLBACK"}
  ]
})";

AppV2Job parse_ok(std::string_view body) {
  auto result = parse_app_v2_job(body);
  if (auto* error = std::get_if<ParseError>(&result)) {
    ADD_FAILURE() << error->message;
    return {};
  }
  return std::get<AppV2Job>(std::move(result));
}

std::string parse_error(std::string_view body) {
  auto result = parse_app_v2(body);
  if (auto* error = std::get_if<ParseError>(&result)) return error->message;
  ADD_FAILURE() << "parsed: " << body;
  return {};
}

std::string with_status(std::string_view job_status, std::string_view sub_status) {
  return R"({"id": "j", "status": ")" + std::string(job_status) +
         R"(", "sub_jobs": [{"id": "s", "status": ")" + std::string(sub_status) + R"("}]})";
}

TEST(AppV2Parse, MapsEveryField) {
  const AppV2Job job = parse_ok(kBody);
  EXPECT_EQ(job.id, "7f2c5bb0-3d2e-4f0b-9a31-5c1c8e2d7a10");
  EXPECT_EQ(job.job_type, "CREATE_SERVER");
  EXPECT_EQ(job.begin_time, "2024-05-06T07:08:09.123Z");
  EXPECT_EQ(job.end_time, "2024-05-06T07:20:11.456Z");
  EXPECT_EQ(job.status, "FAILED");
  EXPECT_EQ(job.meaning, JobStatus::failed);
  EXPECT_EQ(job.sub_jobs_total, 3);
  ASSERT_TRUE(job.sub_jobs);
  ASSERT_EQ(job.sub_jobs->size(), 3u);
  const AppV2SubJob& first = (*job.sub_jobs)[0];
  EXPECT_EQ(first.id, "s-1");
  EXPECT_EQ(first.job_type, "CREATE_SERVER");
  ASSERT_TRUE(first.job_resource_info);
  const JobResourceInfo& res = *first.job_resource_info;
  EXPECT_EQ(res.resource_id, "srv-1");
  EXPECT_EQ(res.resource_name, "appserver-01");
  EXPECT_EQ(res.cloud_service_type, "hws.service.type.vdi");
  EXPECT_EQ(res.resource_type, "hws.resource.type.workspace.appstream");
  EXPECT_EQ(res.resource_spec_code, "workspace.appstream.general.xlarge.2");
  ASSERT_TRUE(res.spec_type);
  EXPECT_EQ(res.spec_type->at("flavor"), "s6.xlarge.2");
  EXPECT_EQ(res.spec_size, 1.0);
  EXPECT_EQ(res.measure, 17);
  EXPECT_EQ(res.processed_time, "2024-05-06T07:09:00Z");
  EXPECT_EQ(res.is_main_resource, 1);
  ASSERT_TRUE(res.main_resources);
  EXPECT_EQ((*res.main_resources)[0].relative_resource_id, "vm-1");
  EXPECT_EQ(res.extend_params, "k=v");
  EXPECT_EQ(res.old_resource_id, "srv-0");
  EXPECT_EQ(res.old_cloud_service_type, "hws.service.type.ec2");
  EXPECT_EQ(res.old_resource_type, "hws.resource.type.vm");
  EXPECT_EQ(first.status, "SUCCESS");
  EXPECT_EQ(first.project_id, "p1");
  EXPECT_EQ(first.job_id, job.id);
  const AppV2SubJob& second = (*job.sub_jobs)[1];
  EXPECT_EQ(second.meaning, JobStatus::failed);
  EXPECT_EQ(second.error_code, "WKS.00010001");
  EXPECT_EQ(second.error_message, "server creation failed");
  EXPECT_FALSE(second.job_resource_info);
  EXPECT_EQ((*job.sub_jobs)[2].meaning, JobStatus::handling);  // ROLLBACK is not an end
}

TEST(AppV2Parse, SnapshotKeepsTheBodyVerbatim) {
  auto result = mapping(Api::app_v2).parse(kBody);
  ASSERT_TRUE(std::holds_alternative<JobSnapshot>(result));
  const JobSnapshot& snap = std::get<JobSnapshot>(result);
  EXPECT_EQ(snap.status, JobStatus::failed);
  EXPECT_EQ(snap.upstream_status, "FAILED");
  EXPECT_EQ(snap.job_type, "CREATE_SERVER");
  EXPECT_FALSE(snap.expected_end_time);
  EXPECT_EQ(snap.subjobs_total, 3);
  EXPECT_EQ(snap.raw, json::parse(kBody).as_object());
  ASSERT_EQ(snap.subjobs.size(), 3u);
  const SubjobSnapshot& failed = snap.subjobs[1];
  EXPECT_EQ(failed.upstream_status, "ABNORMAL");
  EXPECT_EQ(failed.execute_code, "WKS.00010001");
  EXPECT_EQ(failed.execute_message, "server creation failed");
  EXPECT_EQ(failed.begin_time, "2024-05-06T07:08:09.300+08:00");
  EXPECT_TRUE(failed.raw.contains("unknown_field"));  // ignored, but kept for detail
  EXPECT_EQ(snap.subjobs[0].raw, json::parse(kBody).at("sub_jobs").at(0).as_object());
}

TEST(AppV2Parse, EveryDocumentedStatusHasItsMeaning) {
  const std::pair<std::string_view, JobStatus> table[] = {
      {"WAITING", JobStatus::initializing}, {"INIT", JobStatus::initializing},
      {"RUNNING", JobStatus::handling},     {"ROLLBACK", JobStatus::handling},
      {"ABORTING", JobStatus::handling},    {"SUCCESS", JobStatus::successful},
      {"COMPLETE", JobStatus::successful},  {"FAILED", JobStatus::failed},
      {"FAIL", JobStatus::failed},          {"ABNORMAL", JobStatus::failed},
  };
  for (const auto& [name, meaning] : table) {
    auto result = parse_app_v2(with_status(name, name));
    ASSERT_TRUE(std::holds_alternative<JobSnapshot>(result)) << name;
    const auto& snap = std::get<JobSnapshot>(result);
    EXPECT_EQ(snap.status, meaning) << name;
    EXPECT_EQ(snap.subjobs.at(0).status, meaning) << name;
    EXPECT_EQ(snap.subjobs.at(0).upstream_status, json::string(name));
  }
}

TEST(AppV2Parse, UndocumentedStatusIsAProtocolError) {
  EXPECT_EQ(parse_error(with_status("PAUSED", "RUNNING")), "job.status: unknown value \"PAUSED\"");
  EXPECT_EQ(parse_error(with_status("RUNNING", "success")),
            "job.sub_jobs[0].status: unknown value \"success\"");
  EXPECT_EQ(parse_error(with_status("RUNNING", "")), "job.sub_jobs[0].status: unknown value \"\"");
  EXPECT_EQ(parse_error(R"({"id": "j", "status": 1})"), "job.status: expected string, got number");
  EXPECT_EQ(parse_error(R"({"id": "j"})"), "job.status: missing");
}

TEST(AppV2Parse, ShapeErrors) {
  EXPECT_EQ(parse_error(R"({"status": "RUNNING"})"), "job.id: missing");
  EXPECT_EQ(parse_error(R"({"id": "j", "status": "RUNNING", "sub_jobs_total": "3"})"),
            "job.sub_jobs_total: expected integer, got string");
  EXPECT_EQ(parse_error(R"({"id": "j", "status": "RUNNING", "sub_jobs": [{"id": "s",
      "status": "RUNNING", "job_resource_info": []}]})"),
            "job.sub_jobs[0].job_resource_info: expected object, got array");
  // The v1 wrapper is not a v2 body.
  EXPECT_EQ(parse_error(R"({"job": {"job_id": "j", "job_status": 1}})"), "job.id: missing");
  EXPECT_EQ(parse_error("[]"), "body: expected object, got array");
  EXPECT_NE(parse_error("{").find("malformed JSON"), std::string::npos);
}

TEST(AppV2Parse, OptionalFieldsMayBeAbsentOrNull) {
  auto result = parse_app_v2(R"({"id": "j", "status": "WAITING", "job_type": null,
                                 "begin_time": null, "sub_jobs": null})");
  ASSERT_TRUE(std::holds_alternative<JobSnapshot>(result));
  const auto& snap = std::get<JobSnapshot>(result);
  EXPECT_TRUE(snap.job_type.is_null());
  EXPECT_FALSE(snap.begin_time);
  EXPECT_TRUE(snap.subjobs.empty());
  EXPECT_FALSE(snap.subjobs_total);
}

}  // namespace
}  // namespace jobwatch::model
