// ShowJob response mapping: seed example, every field, tolerance and errors.
#include "jobwatch/model/app_v1.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>

namespace jobwatch::model {
namespace {

namespace json = boost::json;

// The seed's example 200 response, copied verbatim from ShowJob-v1.txt.
constexpr std::string_view kSeedExample = R"({
  "job" : {
    "job_id" : "575768277444198400",
    "job_type" : 1,
    "job_status" : 0,
    "sub_jobs" : [ {
      "job_id" : "575768277481947136",
      "job_type" : 2,
      "job_status" : 0,
      "entities" : [ ],
      "begin_time" : "2023-06-06T02:30:06Z",
      "end_time" : "2023-06-06T02:45:49Z"
    } ],
    "begin_time" : "2023-06-06T02:30:06Z",
    "end_time" : "2023-06-06T02:45:49Z",
    "expected_end_time" : "2023-06-06T15:55:57Z",
    "execute_code" : "",
    "execute_message" : ""
  }
})";

// Every field of tables 4-7, in table order (so to_json reproduces it).
constexpr std::string_view kFullResponse = R"({"job": {
  "job_id": "J1", "job_type": 1, "job_status": 2,
  "sub_jobs": [
    {"job_id": "S1", "job_type": 2, "job_status": 1,
     "entities": [
       {"resource_id": "r-1", "resource_name": "desk-1",
        "cloud_service_type": "hws.service.type.vdi",
        "resource_type": "hws.resource.type.workspace.appstream",
        "resource_spec_code": "workspace.appstream.general.xlarge.2",
        "spec_type": {"shareable": true, "root": false, "nested": {"a": [1, 2]}},
        "spec_size": 10.5, "measure": 17, "processed_time": "2023-06-06T02:31:00Z",
        "is_main_resource": 1,
        "main_resources": [
          {"relative_resource_id": "vm-1", "relative_resource_name": "",
           "relative_type": 1, "relative_cloud_service_type": "hws.service.type.ec2",
           "relative_resource_type": "hws.resource.type.vm", "extend_params": "k=v"},
          {"relative_resource_id": "vm-2", "relative_type": 0}
        ],
        "extend_params": "expireTime=2016-06-28T00:00:00Z",
        "old_resource_id": "r-0", "old_cloud_service_type": "hws.service.type.ec2",
        "old_resource_type": "hws.resource.type.vm"}
     ],
     "begin_time": "2023-06-06T02:30:06Z", "end_time": "2023-06-06T02:45:49Z",
     "expected_end_time": "2023-06-06T02:50:00Z",
     "execute_code": "OK", "execute_message": "done"},
    {"job_id": "S2", "job_type": 2, "job_status": 3}
  ],
  "begin_time": "2023-06-06T02:30:06Z", "end_time": "2023-06-06T02:45:49Z",
  "expected_end_time": "2023-06-06T15:55:57Z",
  "execute_code": "E0", "execute_message": "in progress"
}})";

JobDetail parse_ok(std::string_view body) {
  auto result = parse_show_job_response(body);
  if (auto* error = std::get_if<ParseError>(&result)) {
    ADD_FAILURE() << "unexpected parse error: " << error->message;
    return {};
  }
  return std::get<JobDetail>(std::move(result));
}

std::string parse_error(std::string_view body) {
  auto result = parse_show_job_response(body);
  if (std::holds_alternative<JobDetail>(result)) {
    ADD_FAILURE() << "expected a parse error for: " << body;
    return {};
  }
  return std::get<ParseError>(result).message;
}

TEST(ShowJobParse, SeedExampleParsesVerbatim) {
  const JobDetail job = parse_ok(kSeedExample);
  EXPECT_EQ(job.job_id, "575768277444198400");
  EXPECT_EQ(job.job_type, 1);
  EXPECT_EQ(job.job_status, JobStatus::failed);
  EXPECT_EQ(job.begin_time, "2023-06-06T02:30:06Z");
  EXPECT_EQ(job.end_time, "2023-06-06T02:45:49Z");
  EXPECT_EQ(job.expected_end_time, "2023-06-06T15:55:57Z");
  // Empty strings are present values, not absent ones.
  ASSERT_TRUE(job.execute_code.has_value());
  EXPECT_EQ(*job.execute_code, "");
  ASSERT_TRUE(job.execute_message.has_value());
  EXPECT_EQ(*job.execute_message, "");

  ASSERT_TRUE(job.sub_jobs.has_value());
  ASSERT_EQ(job.sub_jobs->size(), 1u);
  const SubJobInfo& sub = job.sub_jobs->front();
  EXPECT_EQ(sub.job_id, "575768277481947136");
  EXPECT_EQ(sub.job_type, 2);
  EXPECT_EQ(sub.job_status, JobStatus::failed);
  ASSERT_TRUE(sub.entities.has_value());
  EXPECT_TRUE(sub.entities->empty());
  EXPECT_EQ(sub.begin_time, "2023-06-06T02:30:06Z");
  EXPECT_EQ(sub.end_time, "2023-06-06T02:45:49Z");
  EXPECT_FALSE(sub.expected_end_time.has_value());
  EXPECT_FALSE(sub.execute_code.has_value());
  EXPECT_FALSE(sub.execute_message.has_value());

  const json::value root = json::parse(kSeedExample);
  EXPECT_EQ(job.raw, root.at("job").as_object());
  EXPECT_EQ(sub.raw, root.at("job").at("sub_jobs").at(0).as_object());
}

TEST(ShowJobParse, FullResponseMapsEveryField) {
  const JobDetail job = parse_ok(kFullResponse);
  EXPECT_EQ(job.job_id, "J1");
  EXPECT_EQ(job.job_type, 1);
  EXPECT_EQ(job.job_status, JobStatus::handling);
  EXPECT_EQ(job.begin_time, "2023-06-06T02:30:06Z");
  EXPECT_EQ(job.end_time, "2023-06-06T02:45:49Z");
  EXPECT_EQ(job.expected_end_time, "2023-06-06T15:55:57Z");
  EXPECT_EQ(job.execute_code, "E0");
  EXPECT_EQ(job.execute_message, "in progress");
  ASSERT_TRUE(job.sub_jobs && job.sub_jobs->size() == 2);

  const SubJobInfo& s1 = (*job.sub_jobs)[0];
  EXPECT_EQ(s1.job_id, "S1");
  EXPECT_EQ(s1.job_type, 2);
  EXPECT_EQ(s1.job_status, JobStatus::successful);
  EXPECT_EQ(s1.begin_time, "2023-06-06T02:30:06Z");
  EXPECT_EQ(s1.end_time, "2023-06-06T02:45:49Z");
  EXPECT_EQ(s1.expected_end_time, "2023-06-06T02:50:00Z");
  EXPECT_EQ(s1.execute_code, "OK");
  EXPECT_EQ(s1.execute_message, "done");
  ASSERT_TRUE(s1.entities && s1.entities->size() == 1);

  const JobResourceInfo& e = s1.entities->front();
  EXPECT_EQ(e.resource_id, "r-1");
  EXPECT_EQ(e.resource_name, "desk-1");
  EXPECT_EQ(e.cloud_service_type, "hws.service.type.vdi");
  EXPECT_EQ(e.resource_type, "hws.resource.type.workspace.appstream");
  EXPECT_EQ(e.resource_spec_code, "workspace.appstream.general.xlarge.2");
  ASSERT_TRUE(e.spec_type.has_value());
  EXPECT_EQ(
      *e.spec_type,
      json::parse(R"({"shareable": true, "root": false, "nested": {"a": [1, 2]}})").as_object());
  EXPECT_EQ(e.spec_size, 10.5);
  EXPECT_EQ(e.measure, 17);
  EXPECT_EQ(e.processed_time, "2023-06-06T02:31:00Z");
  EXPECT_EQ(e.is_main_resource, 1);
  EXPECT_EQ(e.extend_params, "expireTime=2016-06-28T00:00:00Z");
  EXPECT_EQ(e.old_resource_id, "r-0");
  EXPECT_EQ(e.old_cloud_service_type, "hws.service.type.ec2");
  EXPECT_EQ(e.old_resource_type, "hws.resource.type.vm");
  ASSERT_TRUE(e.main_resources && e.main_resources->size() == 2);

  const RelativeResource& m0 = (*e.main_resources)[0];
  EXPECT_EQ(m0.relative_resource_id, "vm-1");
  EXPECT_EQ(m0.relative_resource_name, "");
  EXPECT_EQ(m0.relative_type, 1);
  EXPECT_EQ(m0.relative_cloud_service_type, "hws.service.type.ec2");
  EXPECT_EQ(m0.relative_resource_type, "hws.resource.type.vm");
  EXPECT_EQ(m0.extend_params, "k=v");
  const RelativeResource& m1 = (*e.main_resources)[1];
  EXPECT_EQ(m1.relative_resource_id, "vm-2");
  EXPECT_EQ(m1.relative_type, 0);
  EXPECT_FALSE(m1.relative_resource_name.has_value());
  EXPECT_FALSE(m1.extend_params.has_value());

  const SubJobInfo& s2 = (*job.sub_jobs)[1];
  EXPECT_EQ(s2.job_id, "S2");
  EXPECT_EQ(s2.job_status, JobStatus::initializing);
  EXPECT_FALSE(s2.entities.has_value());
  EXPECT_EQ(s2.raw, json::parse(R"({"job_id": "S2", "job_type": 2, "job_status": 3})").as_object());
}

TEST(ShowJobParse, RoundTripsThroughToJson) {
  const JobDetail job = parse_ok(kFullResponse);
  const json::value root = json::parse(kFullResponse);
  // Every field present in the input comes back, with the same values.
  EXPECT_EQ(json::value(to_json(job)), root.at("job"));
  // And the serialized form parses to the same model again.
  const std::string again = json::serialize(json::object{{"job", to_json(job)}});
  const JobDetail reparsed = parse_ok(again);
  EXPECT_EQ(to_json(reparsed), to_json(job));
  EXPECT_EQ(reparsed.raw, job.raw);
}

TEST(ShowJobParse, ToJsonOmitsAbsentFields) {
  JobDetail job;
  job.job_id = "J";
  job.job_status = JobStatus::initializing;
  EXPECT_EQ(json::value(to_json(job)), json::parse(R"({"job_id": "J", "job_status": 3})"));
  EXPECT_TRUE(to_json(JobResourceInfo{}).empty());
  EXPECT_TRUE(to_json(RelativeResource{}).empty());
}

TEST(ShowJobParse, UnknownFieldsAreIgnoredAndKeptInRaw) {
  const JobDetail job =
      parse_ok(R"({"job": {"job_id": "J", "job_status": 1, "new_field": [1, {"x": null}],
      "sub_jobs": [{"job_id": "S", "job_status": 0, "flavour": "mint",
                    "entities": [{"resource_id": "r", "colour": 5,
                                  "main_resources": [{"relative_type": 1, "extra": {}}]}]}]},
      "request_id": "abc"})");
  EXPECT_EQ(job.job_status, JobStatus::successful);
  ASSERT_TRUE(job.sub_jobs && job.sub_jobs->size() == 1);
  EXPECT_EQ(job.raw.at("new_field"), json::parse(R"([1, {"x": null}])"));
  EXPECT_EQ((*job.sub_jobs)[0].raw.at("flavour"), "mint");
  const auto& entity = (*(*job.sub_jobs)[0].entities)[0];
  EXPECT_EQ(entity.resource_id, "r");
  EXPECT_EQ((*entity.main_resources)[0].relative_type, 1);
}

TEST(ShowJobParse, MissingOptionalsAreAbsent) {
  const JobDetail job = parse_ok(R"({"job": {"job_id": "J", "job_status": 3}})");
  EXPECT_EQ(job.job_id, "J");
  EXPECT_EQ(job.job_status, JobStatus::initializing);
  EXPECT_FALSE(job.job_type);
  EXPECT_FALSE(job.sub_jobs);
  EXPECT_FALSE(job.begin_time);
  EXPECT_FALSE(job.end_time);
  EXPECT_FALSE(job.expected_end_time);
  EXPECT_FALSE(job.execute_code);
  EXPECT_FALSE(job.execute_message);

  const JobDetail with_entity = parse_ok(
      R"({"job": {"job_id": "J", "job_status": 2, "sub_jobs": [{"job_id": "S", "job_status": 2,
          "entities": [{}]}]}})");
  const JobResourceInfo& e = (*(*with_entity.sub_jobs)[0].entities)[0];
  EXPECT_FALSE(e.resource_id);
  EXPECT_FALSE(e.spec_type);
  EXPECT_FALSE(e.spec_size);
  EXPECT_FALSE(e.measure);
  EXPECT_FALSE(e.main_resources);
  EXPECT_FALSE(e.old_resource_type);
}

TEST(ShowJobParse, NullIsTreatedAsAbsent) {
  const JobDetail job = parse_ok(
      R"({"job": {"job_id": "J", "job_status": 2, "job_type": null, "sub_jobs": null,
          "begin_time": null, "execute_message": null}})");
  EXPECT_FALSE(job.job_type);
  EXPECT_FALSE(job.sub_jobs);
  EXPECT_FALSE(job.begin_time);
  EXPECT_FALSE(job.execute_message);
  // The raw object still holds the nulls as received.
  EXPECT_TRUE(job.raw.at("sub_jobs").is_null());

  const JobDetail nested = parse_ok(
      R"({"job": {"job_id": "J", "job_status": 2, "sub_jobs": [{"job_id": "S", "job_status": 2,
          "entities": [{"spec_type": null, "spec_size": null, "main_resources": null}]}]}})");
  const JobResourceInfo& e = (*(*nested.sub_jobs)[0].entities)[0];
  EXPECT_FALSE(e.spec_type);
  EXPECT_FALSE(e.spec_size);
  EXPECT_FALSE(e.main_resources);
}

TEST(ShowJobParse, NumericLeniency) {
  const JobDetail job = parse_ok(
      R"({"job": {"job_id": "J", "job_status": 1.0, "job_type": 1e0,
          "sub_jobs": [{"job_id": "S", "job_status": 2, "entities": [{"spec_size": 40, "measure": 17}]},
                       {"job_id": "T", "job_status": 2, "entities": [{"spec_size": 18446744073709551615}]}]}})");
  EXPECT_EQ(job.job_status, JobStatus::successful);
  EXPECT_EQ(job.job_type, 1);
  const auto& e = (*(*job.sub_jobs)[0].entities)[0];
  ASSERT_TRUE(e.spec_size.has_value());
  EXPECT_DOUBLE_EQ(*e.spec_size, 40.0);
  EXPECT_EQ(e.measure, 17);
  EXPECT_DOUBLE_EQ(*(*(*job.sub_jobs)[1].entities)[0].spec_size, 18446744073709551615.0);
}

struct BadCase {
  const char* body;
  const char* message;  // the exact ParseError message
};

class ShowJobWrongTypes : public testing::TestWithParam<BadCase> {};

TEST_P(ShowJobWrongTypes, IsAParseErrorWithPath) {
  EXPECT_EQ(parse_error(GetParam().body), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ShowJobWrongTypes,
    testing::Values(
        BadCase{R"({"job": {"job_id": 5, "job_status": 1}})",
                "job.job_id: expected string, got number"},
        BadCase{R"({"job": {"job_status": 1}})", "job.job_id: missing"},
        BadCase{R"({"job": {"job_id": null, "job_status": 1}})", "job.job_id: missing"},
        BadCase{R"({"job": {"job_id": "J"}})", "job.job_status: missing"},
        BadCase{R"({"job": {"job_id": "J", "job_status": null}})", "job.job_status: missing"},
        BadCase{R"({"job": {"job_id": "J", "job_status": "1"}})",
                "job.job_status: expected integer, got string"},
        BadCase{R"({"job": {"job_id": "J", "job_status": 1.5}})",
                "job.job_status: expected integer, got number"},
        BadCase{R"({"job": {"job_id": "J", "job_status": 7}})", "job.job_status: unknown value 7"},
        BadCase{R"({"job": {"job_id": "J", "job_status": -1}})",
                "job.job_status: unknown value -1"},
        BadCase{R"({"job": {"job_id": "J", "job_status": 18446744073709551615}})",
                "job.job_status: expected integer, got number"},
        BadCase{R"({"job": {"job_id": "J", "job_status": 1, "job_type": true}})",
                "job.job_type: expected integer, got boolean"},
        BadCase{R"({"job": {"job_id": "J", "job_status": 1, "begin_time": 0}})",
                "job.begin_time: expected string, got number"},
        BadCase{R"({"job": {"job_id": "J", "job_status": 1, "execute_message": {}}})",
                "job.execute_message: expected string, got object"},
        BadCase{R"({"job": {"job_id": "J", "job_status": 1, "sub_jobs": {}}})",
                "job.sub_jobs: expected array, got object"},
        BadCase{
            R"({"job": {"job_id": "J", "job_status": 1, "sub_jobs": [{"job_id": "S", "job_status": 1}, 3]}})",
            "job.sub_jobs[1]: expected object, got number"},
        BadCase{R"({"job": {"job_id": "J", "job_status": 1,
                   "sub_jobs": [{"job_id": "S", "job_status": 1}, {"job_id": "T", "job_status": 7}]}})",
                "job.sub_jobs[1].job_status: unknown value 7"},
        BadCase{R"({"job": {"job_id": "J", "job_status": 1, "sub_jobs": [{"job_status": 1}]}})",
                "job.sub_jobs[0].job_id: missing"},
        BadCase{R"({"job": {"job_id": "J", "job_status": 1,
                   "sub_jobs": [{"job_id": "S", "job_status": 1, "entities": "none"}]}})",
                "job.sub_jobs[0].entities: expected array, got string"},
        BadCase{R"({"job": {"job_id": "J", "job_status": 1,
                   "sub_jobs": [{"job_id": "S", "job_status": 1, "entities": [{"spec_type": []}]}]}})",
                "job.sub_jobs[0].entities[0].spec_type: expected object, got array"},
        BadCase{R"({"job": {"job_id": "J", "job_status": 1,
                   "sub_jobs": [{"job_id": "S", "job_status": 1, "entities": [{"spec_size": "10"}]}]}})",
                "job.sub_jobs[0].entities[0].spec_size: expected number, got string"},
        BadCase{R"({"job": {"job_id": "J", "job_status": 1,
                   "sub_jobs": [{"job_id": "S", "job_status": 1, "entities": [{"measure": 1.25}]}]}})",
                "job.sub_jobs[0].entities[0].measure: expected integer, got number"},
        BadCase{R"({"job": {"job_id": "J", "job_status": 1,
                   "sub_jobs": [{"job_id": "S", "job_status": 1, "entities": [{"extend_params": {"k": 1}}]}]}})",
                "job.sub_jobs[0].entities[0].extend_params: expected string, got object"},
        BadCase{R"({"job": {"job_id": "J", "job_status": 1,
                   "sub_jobs": [{"job_id": "S", "job_status": 1,
                   "entities": [{}, {"main_resources": [{"relative_type": "1"}]}]}]}})",
                "job.sub_jobs[0].entities[1].main_resources[0].relative_type: expected integer, "
                "got string"},
        BadCase{R"({"job": {"job_id": "J", "job_status": 1,
                   "sub_jobs": [{"job_id": "S", "job_status": 1,
                   "entities": [{"main_resources": [null]}]}]}})",
                "job.sub_jobs[0].entities[0].main_resources[0]: expected object, got null"}));

TEST(ShowJobParse, FirstErrorWins) {
  EXPECT_EQ(parse_error(R"({"job": {"job_id": 1, "job_status": 9}})"),
            "job.job_id: expected string, got number");
}

TEST(ShowJobParse, MalformedJson) {
  EXPECT_EQ(parse_error("").rfind("body: malformed JSON", 0), 0u);
  EXPECT_EQ(parse_error("{\"job\": {").rfind("body: malformed JSON", 0), 0u);
  EXPECT_EQ(parse_error("{\"job\": {}} trailing").rfind("body: malformed JSON", 0), 0u);
  EXPECT_EQ(parse_error("<html>502 Bad Gateway</html>").rfind("body: malformed JSON", 0), 0u);
  // Deep nesting is refused by the parser, not by the stack.
  EXPECT_EQ(parse_error(std::string(100000, '[')).rfind("body: malformed JSON", 0), 0u);
}

TEST(ShowJobParse, NonObjectRoot) {
  EXPECT_EQ(parse_error("[]"), "body: expected object, got array");
  EXPECT_EQ(parse_error("\"job\""), "body: expected object, got string");
  EXPECT_EQ(parse_error("42"), "body: expected object, got number");
  EXPECT_EQ(parse_error("null"), "body: expected object, got null");
}

TEST(ShowJobParse, MissingOrWrongJob) {
  EXPECT_EQ(parse_error("{}"), "job: missing");
  EXPECT_EQ(parse_error(R"({"job": null})"), "job: missing");
  EXPECT_EQ(parse_error(R"({"error_code": "WKS.0001", "error_msg": "x"})"), "job: missing");
  EXPECT_EQ(parse_error(R"({"job": []})"), "job: expected object, got array");
  EXPECT_EQ(parse_error(R"({"job": "J"})"), "job: expected object, got string");
}

TEST(ShowJobParse, ParseJobDetailTakesTheObject) {
  const json::object obj = json::parse(R"({"job_id": "J", "job_status": 2})").as_object();
  auto result = parse_job_detail(obj);
  ASSERT_TRUE(std::holds_alternative<JobDetail>(result));
  EXPECT_EQ(std::get<JobDetail>(result).raw, obj);

  const json::object bad = json::parse(R"({"job_id": "J", "job_status": 4})").as_object();
  auto failed = parse_job_detail(bad);
  ASSERT_TRUE(std::holds_alternative<ParseError>(failed));
  EXPECT_EQ(std::get<ParseError>(failed).message, "job.job_status: unknown value 4");
}

TEST(JobStatus, Helpers) {
  EXPECT_TRUE(is_terminal(JobStatus::failed));
  EXPECT_TRUE(is_terminal(JobStatus::successful));
  EXPECT_FALSE(is_terminal(JobStatus::handling));
  EXPECT_FALSE(is_terminal(JobStatus::initializing));
  EXPECT_EQ(status_word(JobStatus::failed), "failed");
  EXPECT_EQ(status_word(JobStatus::successful), "succeeded");
  EXPECT_EQ(status_word(JobStatus::handling), "handling");
  EXPECT_EQ(status_word(JobStatus::initializing), "initializing");
  EXPECT_EQ(status_from_code(0), JobStatus::failed);
  EXPECT_EQ(status_from_code(1), JobStatus::successful);
  EXPECT_EQ(status_from_code(2), JobStatus::handling);
  EXPECT_EQ(status_from_code(3), JobStatus::initializing);
  EXPECT_FALSE(status_from_code(4));
  EXPECT_FALSE(status_from_code(-1));
}

}  // namespace
}  // namespace jobwatch::model
