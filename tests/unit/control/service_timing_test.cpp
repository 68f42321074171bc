// io.jobwatch.Timing (SPEC §3): the engine's learned models, one entry per
// key, with the window the poll settings give once enough jobs are known.
#include <boost/json/serialize.hpp>
#include <cmath>

#include "service_fixture.hpp"

using namespace jobwatch;
using namespace jobwatch::control;
using namespace jobwatch::control::test;

namespace {

namespace json = boost::json;

class TimingServiceTest : public ServiceFixture {
 protected:
  static config::Config timing_config() {
    auto c = fast_config();
    c.poll.target_delay = std::chrono::seconds(1);
    c.poll.min_interval = std::chrono::milliseconds(200);
    c.poll.max_interval = std::chrono::seconds(6);
    return c;
  }
  TimingServiceTest() : ServiceFixture(timing_config()) {}
};

TEST_F(TimingServiceTest, NoModelsYetIsAnEmptyList) {
  auto r = call("io.jobwatch.Timing");
  ASSERT_EQ(r->replies.size(), 1u);
  EXPECT_TRUE(r->last().error.empty());
  EXPECT_TRUE(r->last().parameters.at("models").as_array().empty());
}

TEST_F(TimingServiceTest, EachKeyWithItsQuantilesEstimateErrorAndWindow) {
  schedule::TimingModels models;
  schedule::TimingModel& honest = models.get({"app-v1", "p1", "1"});
  for (int i = 0; i < 30; ++i) honest.observe_job(60 * std::exp(0.05 * std::sin(i)), 60.0);
  schedule::TimingModel& young = models.get({"app-v2", "p2", "CREATE_APP"});
  young.observe_job(10, std::nullopt);
  engine_.load_timing_models(std::move(models));

  auto r = call("io.jobwatch.Timing");
  ASSERT_EQ(r->replies.size(), 1u);
  const auto& list = r->last().parameters.at("models").as_array();
  ASSERT_EQ(list.size(), 2u);

  const auto& a = list[0].as_object();
  EXPECT_EQ(a.at("api"), "app-v1");
  EXPECT_EQ(a.at("project_id"), "p1");
  EXPECT_EQ(a.at("job_type"), "1");
  EXPECT_EQ(a.at("jobs").to_number<std::int64_t>(), 30);
  const auto& d = a.at("duration_s").as_object();
  EXPECT_NEAR(d.at("p50").to_number<double>(), 60, 4);
  EXPECT_LT(d.at("p10").to_number<double>(), d.at("p50").to_number<double>());
  EXPECT_LT(d.at("p50").to_number<double>(), d.at("p90").to_number<double>());
  ASSERT_TRUE(a.contains("estimate_error"));
  EXPECT_NEAR(a.at("estimate_error").at("p50").to_number<double>(), 1.0, 0.1);
  ASSERT_TRUE(a.contains("window"));
  const double from = a.at("window").at("from_s").to_number<double>();
  const double to = a.at("window").at("to_s").to_number<double>();
  EXPECT_LT(from, 60);
  EXPECT_GT(to, 60);

  const auto& b = list[1].as_object();
  EXPECT_EQ(b.at("api"), "app-v2");
  EXPECT_EQ(b.at("jobs").to_number<std::int64_t>(), 1);
  EXPECT_FALSE(b.contains("estimate_error"));  // the API gave none
  EXPECT_FALSE(b.contains("window"));          // too few jobs to trust
}

watch::Watch finished(std::string job_id, watch::WatchStatus state, const std::string& end) {
  watch::Watch w;
  w.job = {"proj", std::move(job_id)};
  w.api = model::Api::app_v2;
  w.job_type = "CREATE_SERVER";
  w.status = state;
  w.created_at = *model::parse_rfc3339("2026-01-01T10:00:00Z");
  w.finished_at =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  w.unsaved_answer = R"({"id":"x","status":"SUCCESS","begin_time":"2026-01-01T10:00:05Z",)"
                     R"("end_time":")" +
                     end + R"("})";
  return w;
}

TEST_F(TimingServiceTest, WithTraceTheFinishedJobsToo) {
  std::vector<watch::Watch> watches;
  watches.push_back(finished("a", watch::WatchStatus::succeeded, "2026-01-01T10:01:05Z"));
  watches.push_back(finished("b", watch::WatchStatus::abandoned, "2026-01-01T10:01:05Z"));
  engine_.restore(std::move(watches));

  auto plain = call("io.jobwatch.Timing");
  EXPECT_FALSE(plain->last().parameters.contains("jobs"));  // the reply as before
  EXPECT_FALSE(
      call("io.jobwatch.Timing", R"({"trace":false})")->last().parameters.contains("jobs"));

  auto r = call("io.jobwatch.Timing", R"({"trace":true})");
  ASSERT_TRUE(r->last().error.empty()) << r->last().error;
  ASSERT_TRUE(r->last().parameters.contains("models"));
  const auto& jobs = r->last().parameters.at("jobs").as_array();
  ASSERT_EQ(jobs.size(), 1u);  // the abandoned one has no end to replay
  const auto& job = jobs[0].as_object();
  EXPECT_EQ(job.at("api"), "app-v2");
  EXPECT_EQ(job.at("project_id"), "proj");
  EXPECT_EQ(job.at("job_type"), "CREATE_SERVER");
  EXPECT_DOUBLE_EQ(job.at("submitted_at").to_number<double>(), 0);
  EXPECT_DOUBLE_EQ(job.at("begin_at").to_number<double>(), 5);
  EXPECT_DOUBLE_EQ(job.at("end_at").to_number<double>(), 65);
  EXPECT_EQ(job.at("outcome"), "succeeded");

  EXPECT_EQ(call("io.jobwatch.Timing", R"({"trace":"yes"})")->last().error,
            "org.varlink.service.InvalidParameter");
}

TEST_F(TimingServiceTest, TakesOnlyTraceAndIsInTheIdl) {
  auto r = call("io.jobwatch.Timing", R"({"x":1})");
  EXPECT_EQ(r->last().error, "org.varlink.service.InvalidParameter");
  const std::string idl = interface_description("io.jobwatch");
  EXPECT_NE(idl.find("method Timing(trace: ?bool) -> (models: []TimingModel, jobs: ?[]object)"),
            std::string::npos);
  EXPECT_NE(idl.find("predicted_end: ?(p10: string, p50: string, p90: string)"), std::string::npos);
}

}  // namespace
