// The spec keys that pick an API and script statuses: validation and what
// describe_expected predicts from them.
#include <boost/json/parse.hpp>

#include "sim_test_util.hpp"

namespace jobwatch::sim {
namespace {

using test::job_from;
namespace json = boost::json;

std::string error_of(std::string_view text) {
  auto r = parse_job_spec(json::parse(text));
  return std::holds_alternative<SpecError>(r) ? std::get<SpecError>(r).message : std::string();
}

TEST(SimScriptSpec, Api) {
  EXPECT_EQ(error_of(R"({"api": "app-v1"})"), "");
  EXPECT_EQ(error_of(R"({"api": "app-v2"})"), "");
  EXPECT_EQ(error_of(R"({"api": "desktop-v2"})"), "");
  EXPECT_NE(error_of(R"({"api": "app-v3"})").find("api"), std::string::npos);
  EXPECT_NE(error_of(R"({"api": 2})"), "");
  EXPECT_NE(error_of(R"({"api": "APP-V2"})"), "");
  EXPECT_EQ(job_from("{}").api, Api::app_v1);
  EXPECT_EQ(job_from(R"({"api": "desktop-v2"})").api, Api::desktop_v2);
}

TEST(SimScriptSpec, BadTimelines) {
  EXPECT_NE(error_of(R"({"api": "app-v2", "timeline": "RUNNING"})"), "");
  EXPECT_NE(error_of(R"({"api": "app-v2", "timeline": []})"), "");
  EXPECT_NE(error_of(R"({"api": "app-v2", "timeline": [{"at_s": 0}]})"), "");
  EXPECT_NE(error_of(R"({"api": "app-v2", "timeline": [{"status": "RUNNING"}]})"), "");
  EXPECT_NE(error_of(R"({"api": "app-v2", "timeline": [{"at_s": -1, "status": "RUNNING"}]})"), "");
  EXPECT_NE(error_of(R"({"api": "app-v2", "timeline": [{"at_s": "0", "status": "RUNNING"}]})"), "");
  EXPECT_NE(error_of(R"({"api": "app-v2", "timeline": [{"at_s": 0, "status": true}]})"), "");
  EXPECT_NE(
      error_of(R"({"api": "app-v2", "timeline": [{"at_s": 0, "status": "RUNNING", "x": 1}]})"), "");
  const std::string long_status(65, 'X');
  EXPECT_NE(
      error_of(R"({"api": "app-v2", "timeline": [{"at_s": 0, "status": ")" + long_status + "\"}]}"),
      "");
  const std::string backwards = error_of(R"({"api": "app-v2", "timeline": [
      {"at_s": 5, "status": "RUNNING"}, {"at_s": 4, "status": "SUCCESS"}]})");
  EXPECT_NE(backwards.find("timeline[1].at_s"), std::string::npos) << backwards;

  // The status type follows the API.
  EXPECT_NE(error_of(R"({"api": "app-v2", "timeline": [{"at_s": 0, "status": 2}]})"), "");
  EXPECT_NE(error_of(R"({"timeline": [{"at_s": 0, "status": "RUNNING"}]})"), "");
  EXPECT_EQ(error_of(R"({"timeline": [{"at_s": 0, "status": 9}]})"), "");
  // In any key order.
  EXPECT_EQ(error_of(R"({"timeline": [{"at_s": 0, "status": "X"}], "api": "app-v2"})"), "");

  const std::string sub = error_of(R"({"api": "desktop-v2", "subjobs": [
      {"timeline": [{"at_s": 0, "status": "INIT"}, {"at_s": 1}]}]})");
  EXPECT_NE(sub.find("subjobs[0].timeline[1].status"), std::string::npos) << sub;
}

TEST(SimScriptSpec, OutcomeMustAgreeWithTheTimeline) {
  EXPECT_NE(error_of(R"({"api": "app-v2", "outcome": "success",
                  "timeline": [{"at_s": 0, "status": "RUNNING"}, {"at_s": 1, "status": "FAILED"}]})"),
            "");
  EXPECT_NE(error_of(R"({"api": "app-v2", "outcome": "success",
                         "timeline": [{"at_s": 0, "status": "PAUSED_X"}]})"),
            "");
  EXPECT_EQ(error_of(R"({"api": "app-v2", "outcome": "failure",
                         "timeline": [{"at_s": 1, "status": "ABNORMAL"}]})"),
            "");
  EXPECT_NE(error_of(R"({"api": "app-v2", "subjobs": [{"outcome": "failure",
                         "timeline": [{"at_s": 1, "status": "SUCCESS"}]}]})"),
            "");
}

TEST(SimScriptSpec, JobTypesAndErrorFieldsPerApi) {
  EXPECT_EQ(error_of(R"({"api": "app-v2", "job_type": "REINSTALL_OS",
                         "subjobs": [{"job_type": "REINSTALL_OS"}]})"),
            "");
  EXPECT_NE(error_of(R"({"api": "app-v2", "job_type": 1})"), "");
  EXPECT_NE(error_of(R"({"api": "app-v2", "job_type": ""})"), "");
  EXPECT_NE(error_of(R"({"job_type": "CREATE_SERVER"})"), "");
  EXPECT_EQ(error_of(R"({"job_type": 4, "subjobs": [{"job_type": 9}]})"), "");

  EXPECT_EQ(
      error_of(R"({"api": "app-v2", "subjobs": [{"error_code": "A", "error_message": "B"}]})"), "");
  EXPECT_EQ(error_of(R"({"api": "desktop-v2", "job_error_code": "A", "fail_reason": "B",
                         "subjobs": [{"error_code": "C", "fail_reason": "D", "message": "E"}]})"),
            "");
  EXPECT_NE(error_of(R"({"api": "desktop-v2", "subjobs": [{"error_message": "B"}]})"), "");
  EXPECT_NE(error_of(R"({"api": "app-v2", "subjobs": [{"fail_reason": "B"}]})"), "");
  EXPECT_NE(error_of(R"({"api": "app-v2", "job_error_code": "A"})"), "");
  EXPECT_NE(error_of(R"({"api": "app-v2", "error_code": "A"})"), "");
  EXPECT_NE(error_of(R"({"api": "app-v2", "subjobs": [{"error_code": 5}]})"), "");
  EXPECT_NE(error_of(R"({"api": "desktop-v2", "subjobs": [{"nonsense": 1}]})"), "");
}

TEST(SimScriptSpec, PlainJobsKeepNoScript) {
  EXPECT_EQ(job_from(R"({"api": "app-v2", "subjobs": 3})").script, nullptr);
  EXPECT_EQ(job_from(R"({"api": "app-v2", "subjobs": 3})").subjobs[0].script, nullptr);
  EXPECT_NE(job_from(R"({"api": "app-v2", "job_type": "DELETE_SERVER"})").script, nullptr);
}

TEST(SimScriptSpec, DescribeExpectedAppV2) {
  const Job job = job_from(R"({"api": "app-v2", "job_type": "DELETE_SERVER", "project_id": "p",
      "timeline": [{"at_s": 0, "status": "RUNNING"}, {"at_s": 8, "status": "ROLLBACK"},
                   {"at_s": 12, "status": "FAILED"}],
      "subjobs": [{"duration_s": 3},
                  {"job_type": "X_TYPE", "error_code": "E.1", "error_message": "m",
                   "timeline": [{"at_s": 2, "status": "RUNNING"}, {"at_s": 9, "status": "ABNORMAL"}]},
                  {"timeline": [{"at_s": 2, "status": "PAUSED_X"}]}]})");
  const json::object d = describe_expected(job);
  EXPECT_EQ(d.at("api"), "app-v2");
  EXPECT_EQ(d.at("job_type"), "DELETE_SERVER");
  EXPECT_EQ(d.at("upstream_status"), "FAILED");
  EXPECT_EQ(d.at("outcome"), "failure");
  EXPECT_EQ(d.at("duration_s"), 12.0);
  EXPECT_EQ(d.at("project_id"), "p");
  const auto& subs = d.at("subjobs").as_array();
  ASSERT_EQ(subs.size(), 3u);
  EXPECT_EQ(subs[0].at("outcome"), "success") << "scripted siblings take the blame";
  EXPECT_EQ(subs[0].at("upstream_status"), "SUCCESS");
  EXPECT_EQ(subs[0].at("job_type"), "CREATE_SERVER");
  EXPECT_EQ(subs[0].at("error_code"), "");
  EXPECT_EQ(subs[0].at("error_message"), "");
  EXPECT_EQ(subs[1].at("outcome"), "failure");
  EXPECT_EQ(subs[1].at("upstream_status"), "ABNORMAL");
  EXPECT_EQ(subs[1].at("job_type"), "X_TYPE");
  EXPECT_EQ(subs[1].at("error_code"), "E.1");
  EXPECT_EQ(subs[1].at("error_message"), "m");
  EXPECT_EQ(subs[2].at("outcome"), "pending");
  EXPECT_EQ(subs[2].at("upstream_status"), "PAUSED_X");
  EXPECT_EQ(subs[2].at("job_id"), json::value(std::to_string(job.subjobs[2].id)));
}

TEST(SimScriptSpec, DescribeExpectedDesktopAndV1) {
  const json::object desk = describe_expected(job_from(
      R"({"api": "desktop-v2", "outcome": "failure", "fail_reason": "quota", "subjobs": 2})"));
  EXPECT_EQ(desk.at("api"), "desktop-v2");
  EXPECT_EQ(desk.at("job_type"), "createDesktops");
  EXPECT_EQ(desk.at("upstream_status"), "FAILED");
  EXPECT_EQ(desk.at("job_error_code"), "WKS.00010001");
  EXPECT_EQ(desk.at("fail_reason"), "quota");
  const auto& subs = desk.at("subjobs").as_array();
  EXPECT_EQ(subs[0].at("upstream_status"), "SUCCESS");
  EXPECT_EQ(subs[0].at("fail_reason"), "");
  EXPECT_EQ(subs[1].at("upstream_status"), "FAILED");
  EXPECT_EQ(subs[1].at("job_type"), "createDesktop");
  EXPECT_EQ(subs[1].at("error_code"), "WKS.00010001");
  EXPECT_FALSE(subs[1].at("fail_reason").as_string().empty());

  const json::object v1 = describe_expected(job_from(R"({"subjobs": 1})"));
  EXPECT_EQ(v1.at("api"), "app-v1");
  EXPECT_EQ(v1.at("job_type"), 1);
  EXPECT_EQ(v1.at("upstream_status"), status_successful);
  EXPECT_EQ(v1.at("subjobs").at(0).at("upstream_status"), status_successful);
  EXPECT_EQ(v1.at("subjobs").at(0).at("job_type"), 2);
}

}  // namespace
}  // namespace jobwatch::sim
