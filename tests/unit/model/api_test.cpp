// parse_job_object: a job as JobSnapshot::raw keeps it reads back through its
// API's mapping, whichever API it came from.
#include "jobwatch/model/api.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

namespace jobwatch::model {
namespace {

TEST(ParseJobObject, TheRawObjectOfEachApiReadsBack) {
  const std::pair<Api, const char*> bodies[] = {
      {Api::app_v1, R"({"job":{"job_id":"j","job_status":1,"begin_time":"2026-01-01T10:00:00Z",)"
                    R"("sub_jobs":[{"job_id":"s","job_status":0}]}})"},
      {Api::app_v2, R"({"id":"j","status":"SUCCESS","begin_time":"2026-01-01T10:00:00Z",)"
                    R"("sub_jobs":[{"id":"s","status":"ABNORMAL"}]})"},
      {Api::desktop_v2, R"({"id":"j","status":"SUCCESS","begin_time":"2026-01-01T10:00:00Z",)"
                        R"("sub_jobs":[{"id":"s","status":"FAIL"}]})"},
  };
  for (const auto& [api, body] : bodies) {
    auto first = mapping(api).parse(body);
    ASSERT_TRUE(std::holds_alternative<JobSnapshot>(first)) << api_name(api);
    const std::string kept = boost::json::serialize(std::get<JobSnapshot>(first).raw);
    auto again = parse_job_object(api, kept);
    ASSERT_TRUE(std::holds_alternative<JobSnapshot>(again)) << api_name(api) << ": " << kept;
    const JobSnapshot& job = std::get<JobSnapshot>(again);
    EXPECT_EQ(job.id, "j");
    EXPECT_EQ(job.status, JobStatus::successful);
    EXPECT_EQ(job.begin_time, "2026-01-01T10:00:00Z");
    ASSERT_EQ(job.subjobs.size(), 1u);
    EXPECT_EQ(job.subjobs[0].status, JobStatus::failed) << api_name(api);
  }
}

TEST(ParseJobObject, NotAJobIsAnError) {
  for (Api api : {Api::app_v1, Api::app_v2, Api::desktop_v2}) {
    EXPECT_TRUE(std::holds_alternative<ParseError>(parse_job_object(api, "")));
    EXPECT_TRUE(std::holds_alternative<ParseError>(parse_job_object(api, "{}")));
  }
}

}  // namespace
}  // namespace jobwatch::model
