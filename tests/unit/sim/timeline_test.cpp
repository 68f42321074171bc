#include <boost/json/array.hpp>
#include <set>

#include "sim_test_util.hpp"

namespace jobwatch::sim {
namespace {

using test::at;
using test::epoch;
using test::job_from;
namespace json = boost::json;

TEST(SimFormatTime, Rfc3339UtcWholeSeconds) {
  EXPECT_EQ(format_time(epoch()), "2023-06-06T02:30:06Z");
  EXPECT_EQ(format_time(at(0.999)), "2023-06-06T02:30:06Z");
  EXPECT_EQ(format_time(at(86400 * 30 + 3600)), "2023-07-06T03:30:06Z");
}

TEST(SimTimeline, InitializingThenHandlingThenSuccess) {
  const Job job = job_from(R"({"duration_s": 10, "initializing_s": 1})");
  EXPECT_EQ(job_status_at(job, at(0)), status_initializing);
  EXPECT_EQ(job_status_at(job, at(0.999)), status_initializing);
  EXPECT_EQ(job_status_at(job, at(1)), status_handling);
  EXPECT_EQ(job_status_at(job, at(9.999)), status_handling);
  EXPECT_EQ(job_status_at(job, at(10)), status_successful);
  EXPECT_EQ(job_status_at(job, at(100000)), status_successful);
}

TEST(SimTimeline, FailureEndsFailed) {
  const Job job = job_from(R"({"duration_s": 2, "outcome": "failure"})");
  EXPECT_EQ(job_status_at(job, at(1.5)), status_handling);
  EXPECT_EQ(job_status_at(job, at(2)), status_failed);
}

TEST(SimTimeline, DefaultsAreTenSecondsOneSecondInitializing) {
  const Job job = job_from("{}");
  EXPECT_EQ(job_status_at(job, at(0.5)), status_initializing);
  EXPECT_EQ(job_status_at(job, at(5)), status_handling);
  EXPECT_EQ(job_status_at(job, at(10)), status_successful);
  EXPECT_EQ(job.job_id.size(), 18u);
}

TEST(SimTimeline, InitializingLongerThanDurationGoesStraightToTerminal) {
  const Job job = job_from(R"({"duration_s": 1, "initializing_s": 5})");
  EXPECT_EQ(job_status_at(job, at(0.9)), status_initializing);
  EXPECT_EQ(job_status_at(job, at(1)), status_successful);
}

TEST(SimTimeline, StartDelayKeepsTheJobInitializing) {
  const Job job = job_from(R"({"duration_s": 4, "initializing_s": 1, "start_delay_s": 5})");
  EXPECT_TRUE(is_visible(job, at(0)));
  EXPECT_EQ(job_status_at(job, at(5.9)), status_initializing);
  EXPECT_EQ(job_status_at(job, at(6)), status_handling);
  EXPECT_EQ(job_status_at(job, at(8.9)), status_handling);
  EXPECT_EQ(job_status_at(job, at(9)), status_successful);
  // The default estimate is the actual end.
  EXPECT_EQ(render_job_detail(job, at(0))->at("expected_end_time"),
            json::value(format_time(at(9))));
}

TEST(SimTimeline, NotFoundPeriodAndGhosts) {
  const Job late = job_from(R"({"duration_s": 10, "not_found_s": 5})");
  EXPECT_FALSE(is_visible(late, at(4.999)));
  EXPECT_FALSE(render_job_detail(late, at(4.999)).has_value());
  EXPECT_TRUE(is_visible(late, at(5)));
  EXPECT_EQ(render_job_detail(late, at(5))->at("job_status"), status_handling);

  const Job ghost = job_from(R"({"ghost": true})");
  EXPECT_FALSE(is_visible(ghost, at(0)));
  EXPECT_FALSE(is_visible(ghost, at(1e6)));
}

TEST(SimTimeline, DetailTimesAppearWithTheirPhases) {
  const Job job = job_from(R"({"duration_s": 10, "initializing_s": 2})");
  const auto initializing = render_job_detail(job, at(1)).value();
  EXPECT_EQ(initializing.at("job_id"), json::value(job.job_id));
  EXPECT_EQ(initializing.at("job_type"), 1);
  EXPECT_FALSE(initializing.contains("begin_time"));
  EXPECT_FALSE(initializing.contains("end_time"));
  EXPECT_EQ(initializing.at("expected_end_time"), json::value(format_time(at(10))));
  EXPECT_TRUE(initializing.at("sub_jobs").as_array().empty());

  const auto handling = render_job_detail(job, at(3)).value();
  EXPECT_EQ(handling.at("begin_time"), "2023-06-06T02:30:08Z");
  EXPECT_FALSE(handling.contains("end_time"));

  const auto done = render_job_detail(job, at(11)).value();
  EXPECT_EQ(done.at("job_status"), status_successful);
  EXPECT_EQ(done.at("end_time"), "2023-06-06T02:30:16Z");
  EXPECT_EQ(done.at("execute_code"), "");
}

TEST(SimTimeline, FailedJobCarriesExecuteCode) {
  const Job job = job_from(R"({"duration_s": 1, "outcome": "failure"})");
  const auto detail = render_job_detail(job, at(2)).value();
  EXPECT_EQ(detail.at("job_status"), status_failed);
  EXPECT_EQ(detail.at("execute_code"), "APPSTREAM.1002");
  EXPECT_FALSE(detail.at("execute_message").as_string().empty());
}

TEST(SimTimeline, ExpectedEndOffsetAndNoEstimate) {
  const Job early = job_from(R"({"duration_s": 10, "expected_end_offset_s": 6.5})");
  EXPECT_EQ(render_job_detail(early, at(0))->at("expected_end_time"), "2023-06-06T02:30:12Z");
  const Job none = job_from(R"({"duration_s": 10, "expected_end_offset_s": null})");
  EXPECT_FALSE(render_job_detail(none, at(0))->contains("expected_end_time"));
}

TEST(SimTimeline, CountOfSubjobsSpreadUpToTheJobEnd) {
  const Job job =
      job_from(R"({"duration_s": 10, "initializing_s": 1, "subjobs": 3, "outcome": "failure"})");
  ASSERT_EQ(job.subjobs.size(), 3u);
  EXPECT_EQ(job.subjobs[0].end, Millis{4000});
  EXPECT_EQ(job.subjobs[1].end, Millis{7000});
  EXPECT_EQ(job.subjobs[2].end, Millis{10000});
  EXPECT_TRUE(job.subjobs[0].success);
  EXPECT_TRUE(job.subjobs[1].success);
  EXPECT_FALSE(job.subjobs[2].success);

  EXPECT_EQ(subjob_status_at(job, job.subjobs[0], at(0.5)), status_initializing);
  EXPECT_EQ(subjob_status_at(job, job.subjobs[0], at(2)), status_handling);
  EXPECT_EQ(subjob_status_at(job, job.subjobs[0], at(4)), status_successful);
  EXPECT_EQ(subjob_status_at(job, job.subjobs[2], at(9)), status_handling);
  EXPECT_EQ(subjob_status_at(job, job.subjobs[2], at(10)), status_failed);
}

TEST(SimTimeline, ExplicitSubjobsOfAFailingJob) {
  // No outcome named: the last subjob fails with its job.
  const Job implicit = job_from(R"({"outcome": "failure", "subjobs": [{"duration_s": 2}, {}]})");
  ASSERT_EQ(implicit.subjobs.size(), 2u);
  EXPECT_TRUE(implicit.subjobs[0].success);
  EXPECT_FALSE(implicit.subjobs[1].success);
  EXPECT_EQ(implicit.subjobs[0].end, Millis{2000});
  EXPECT_EQ(implicit.subjobs[1].end, Millis{10000});

  // Outcomes named: respected even when none fails.
  const Job explicit_ok =
      job_from(R"({"outcome": "failure", "subjobs": [{"outcome": "success"}]})");
  EXPECT_TRUE(explicit_ok.subjobs[0].success);
}

TEST(SimTimeline, SubjobDetailFields) {
  const Job job = job_from(
      R"({"duration_s": 4, "initializing_s": 1, "subjobs": [{"duration_s": 2, "outcome": "failure"}]})");
  const auto detail = render_job_detail(job, at(3)).value();
  const auto& sub = detail.at("sub_jobs").as_array().at(0).as_object();
  EXPECT_EQ(sub.at("job_id"), json::value(std::to_string(job.subjobs[0].id)));
  EXPECT_EQ(sub.at("job_type"), 2);
  EXPECT_EQ(sub.at("job_status"), status_failed);
  EXPECT_EQ(sub.at("begin_time"), "2023-06-06T02:30:07Z");
  EXPECT_EQ(sub.at("end_time"), "2023-06-06T02:30:08Z");
  EXPECT_EQ(sub.at("execute_code"), "APPSTREAM.1002");

  const auto& entity = sub.at("entities").as_array().at(0).as_object();
  EXPECT_EQ(entity.at("cloud_service_type"), "hws.service.type.vdi");
  EXPECT_EQ(entity.at("resource_type"), "hws.resource.type.workspace.appstream");
  EXPECT_TRUE(entity.at("resource_id").is_string());
  EXPECT_TRUE(entity.at("resource_name").is_string());
  EXPECT_TRUE(entity.at("resource_spec_code").is_string());
  EXPECT_EQ(entity.at("spec_type").as_object().at("shareable"), false);
  EXPECT_TRUE(entity.at("spec_size").is_double());
  EXPECT_TRUE(entity.at("measure").is_int64());
  EXPECT_TRUE(entity.at("is_main_resource").is_int64());
  EXPECT_TRUE(entity.at("extend_params").is_string());
  EXPECT_TRUE(entity.at("processed_time").is_string());
  const auto& main = entity.at("main_resources").as_array().at(0).as_object();
  EXPECT_TRUE(main.at("relative_resource_id").is_string());
  EXPECT_TRUE(main.at("relative_type").is_int64());

  // A subjob still running has no end_time and no execute_code.
  const Job running = job_from(R"({"duration_s": 4, "subjobs": 1})");
  const auto live = render_job_detail(running, at(2)).value();
  const auto& live_sub = live.at("sub_jobs").as_array().at(0).as_object();
  EXPECT_EQ(live_sub.at("job_status"), status_handling);
  EXPECT_FALSE(live_sub.contains("end_time"));
  EXPECT_FALSE(live_sub.contains("execute_code"));
}

TEST(SimIdGenerator, EighteenDigitUniqueIncreasing) {
  IdGenerator ids(42);
  std::set<std::uint64_t> seen;
  std::uint64_t last = 0;
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t id = ids.next();
    ASSERT_EQ(std::to_string(id).size(), 18u);
    ASSERT_GT(id, last);
    last = id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100000u);
  EXPECT_NE(IdGenerator(1).next(), IdGenerator(2).next());
  EXPECT_EQ(IdGenerator(7).next(), IdGenerator(7).next());
}

TEST(SimJobSpec, RejectsBadFields) {
  auto error_of = [](std::string_view text) {
    auto r = parse_job_spec(boost::json::parse(text));
    return std::holds_alternative<SpecError>(r) ? std::get<SpecError>(r).message : std::string();
  };
  EXPECT_NE(error_of(R"({"duration": 5})"), "");
  EXPECT_NE(error_of(R"({"duration_s": -1})"), "");
  EXPECT_NE(error_of(R"({"duration_s": "5"})"), "");
  EXPECT_NE(error_of(R"({"outcome": "maybe"})"), "");
  EXPECT_NE(error_of(R"({"job_id": "a/b"})"), "");
  EXPECT_NE(error_of(R"({"job_id": ""})"), "");
  EXPECT_NE(error_of(R"({"subjobs": 2.5})"), "");
  EXPECT_NE(error_of(R"({"subjobs": [{"duration_s": 1, "x": 1}]})"), "");
  EXPECT_NE(error_of(R"({"ghost": 1})"), "");
  EXPECT_NE(error_of(R"([])"), "");
  EXPECT_EQ(error_of(R"({"job_id": "j-1", "project_id": "p_1", "duration_s": 0.5, "subjobs": 0})"),
            "");
}

TEST(SimJobSpec, BatchForm) {
  auto r = parse_job_specs(boost::json::parse(R"({"jobs": [{"duration_s": 1}, {"ghost": true}]})"));
  ASSERT_TRUE(std::holds_alternative<std::vector<JobSpec>>(r));
  const auto& specs = std::get<std::vector<JobSpec>>(r);
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].duration_s, 1);
  EXPECT_TRUE(specs[1].ghost);

  auto bad = parse_job_specs(boost::json::parse(R"({"jobs": [{}, {"outcome": 3}]})"));
  ASSERT_TRUE(std::holds_alternative<SpecError>(bad));
  EXPECT_NE(std::get<SpecError>(bad).message.find("jobs[1]"), std::string::npos);
}

TEST(SimJobSpec, DescribeExpected) {
  const Job job =
      job_from(R"({"outcome": "failure", "subjobs": 2, "not_found_s": 3, "project_id": "p"})");
  const auto d = describe_expected(job);
  EXPECT_EQ(d.at("outcome"), "failure");
  const auto& subs = d.at("subjobs").as_array();
  ASSERT_EQ(subs.size(), 2u);
  EXPECT_EQ(subs[0].at("outcome"), "success");
  EXPECT_EQ(subs[1].at("outcome"), "failure");
  EXPECT_EQ(subs[1].at("job_id"), json::value(std::to_string(job.subjobs[1].id)));
  EXPECT_EQ(d.at("not_found_s"), 3.0);
  EXPECT_EQ(d.at("project_id"), "p");
  EXPECT_EQ(describe_expected(job_from(R"({"ghost": true})")).at("outcome"), "ghost");
}

}  // namespace
}  // namespace jobwatch::sim
