#include "simulator.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "sim_test_util.hpp"

namespace jobwatch::sim {
namespace {

using test::at;
namespace json = boost::json;

class SimulatorTest : public ::testing::Test {
 protected:
  Outcome call(std::string_view method, std::string_view target, std::string_view body = {},
               double t = 0, std::optional<std::string_view> token = std::nullopt) {
    return sim_.handle(Request{method, target, body, token}, at(t));
  }

  json::value call_json(std::string_view method, std::string_view target,
                        std::string_view body = {}, double t = 0, unsigned expected_status = 200) {
    const Outcome o = call(method, target, body, t);
    EXPECT_EQ(o.action, Outcome::Action::reply);
    EXPECT_EQ(o.reply.status, expected_status) << method << ' ' << target << ": " << o.reply.body;
    return json::parse(o.reply.body);
  }

  // Creates one job and returns its ID.
  std::string create(std::string_view spec, double t = 0) {
    const auto reply = call_json("POST", "/admin/jobs", spec, t);
    return std::string(reply.at("job_ids").at(0).as_string());
  }

  Reply get_job(std::string_view project, std::string_view job_id, double t) {
    const std::string target = "/v1/" + std::string(project) + "/job/" + std::string(job_id);
    const Outcome o = call("GET", target, {}, t);
    EXPECT_EQ(o.action, Outcome::Action::reply);
    return o.reply;
  }

  Simulator sim_{SimOptions{std::nullopt, 7, {}}};
};

TEST(SimApiPath, Parsing) {
  auto p = parse_api_path("/v1/proj/job/123?x=1");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->project_id, "proj");
  EXPECT_EQ(p->job_id, "123");
  for (const char* bad : {"/", "/v1/", "/v1/p/job/", "/v1//job/1", "/v1/p/jobs/1", "/v1/p/job/1/x",
                          "/v2/p/job/1", "/v1/p"}) {
    EXPECT_FALSE(parse_api_path(bad).has_value()) << bad;
  }
}

TEST_F(SimulatorTest, JobLifecycleOverTheApi) {
  const std::string id = create(R"({"duration_s": 2, "initializing_s": 1, "subjobs": 1})");
  EXPECT_EQ(id.size(), 18u);

  auto status_at = [&](double t) {
    const Reply r = get_job("anyproject", id, t);
    EXPECT_EQ(r.status, 200u);
    return json::parse(r.body).at("job").at("job_status").as_int64();
  };
  EXPECT_EQ(status_at(0.5), status_initializing);
  EXPECT_EQ(status_at(1.5), status_handling);
  EXPECT_EQ(status_at(2.0), status_successful);

  const auto admin = call_json("GET", "/admin/jobs/" + id, {}, 2.5);
  EXPECT_EQ(admin.at("requests"), 3);
  EXPECT_EQ(admin.at("status"), status_successful);
  EXPECT_EQ(admin.at("detail").at("job_id"), json::value(id));
}

TEST_F(SimulatorTest, NotFoundCases) {
  const std::string id = create(R"({"project_id": "p1", "not_found_s": 5})");
  const Reply unknown = get_job("p1", "424242", 6);
  EXPECT_EQ(unknown.status, 404u);
  EXPECT_EQ(json::parse(unknown.body).at("error_code"), "WKS.0404");
  EXPECT_EQ(get_job("p1", id, 4.9).status, 404u);
  EXPECT_EQ(get_job("p1", id, 5).status, 200u);
  EXPECT_EQ(get_job("p2", id, 5).status, 404u) << "another project's job";

  const std::string ghost = create(R"({"ghost": true})");
  EXPECT_EQ(get_job("p1", ghost, 1000).status, 404u);
  const auto admin = call_json("GET", "/admin/jobs/" + ghost, {}, 1000);
  EXPECT_TRUE(admin.at("status").is_null());
  EXPECT_TRUE(admin.at("detail").is_null());
  EXPECT_EQ(admin.at("expected").at("outcome"), "ghost");
}

TEST_F(SimulatorTest, BadPathAndMethod) {
  EXPECT_EQ(call("GET", "/v1/p/jobs/1").reply.status, 400u);
  EXPECT_EQ(call("GET", "/").reply.status, 400u);
  const Outcome post = call("POST", "/v1/p/job/1");
  EXPECT_EQ(post.reply.status, 405u);
  EXPECT_EQ(post.reply.allow, "GET");
  EXPECT_EQ(call("GET", "/admin/nothing").reply.status, 404u);
  EXPECT_EQ(call("PUT", "/admin/jobs").reply.status, 405u);
}

TEST(SimulatorAuth, TokenRequired) {
  Simulator sim(SimOptions{std::string("s3cret"), 1, {}});
  sim.handle(Request{"POST", "/admin/jobs", R"({"job_id": "j1"})", std::nullopt}, at(0));
  auto get = [&](std::optional<std::string_view> token) {
    return sim.handle(Request{"GET", "/v1/p/job/j1", {}, token}, at(2)).reply;
  };
  const Reply missing = get(std::nullopt);
  EXPECT_EQ(missing.status, 401u);
  EXPECT_EQ(json::parse(missing.body).at("error_code"), "APIGW.0301");
  EXPECT_EQ(missing.body.find("s3cret"), std::string::npos);
  EXPECT_EQ(get(std::string_view("wrong")).status, 401u);
  EXPECT_EQ(get(std::string_view("s3cret")).status, 200u);
}

TEST_F(SimulatorTest, ClockAdvanceMovesEveryJobForward) {
  const std::string id = create(R"({"duration_s": 3600})");
  EXPECT_EQ(json::parse(get_job("p", id, 10).body).at("job").at("job_status"), status_handling);
  const auto clock = call_json("POST", "/admin/clock", R"({"advance_s": 3600})", 10);
  EXPECT_EQ(clock.at("offset_s"), 3600.0);
  EXPECT_EQ(json::parse(get_job("p", id, 10).body).at("job").at("job_status"), status_successful);
  call_json("POST", "/admin/clock", R"({"advance_s": -1})", 10, 400);
}

// The API's answers are dated in the jobs' clock, which POST /admin/clock
// sets ahead of the wall clock; a daemon reads its offset from there.
TEST_F(SimulatorTest, ApiAnswersAreDatedInTheJobsClock) {
  const std::string id = create(R"({"duration_s": 3600})");
  EXPECT_EQ(get_job("p", id, 10.7).date, "Tue, 06 Jun 2023 02:30:16 GMT");
  EXPECT_EQ(get_job("p", "nope", 10).date, "Tue, 06 Jun 2023 02:30:16 GMT");  // a 404 too
  call_json("POST", "/admin/clock", R"({"advance_s": 3600})", 10);
  const Reply ahead = get_job("p", id, 10);
  EXPECT_EQ(ahead.date, "Tue, 06 Jun 2023 03:30:16 GMT");
  const auto begin = json::parse(ahead.body).at("job").at("begin_time").as_string();
  EXPECT_LT(std::string(begin), "2023-06-06T02:31:00Z");                // began before the advance
  EXPECT_TRUE(call("GET", "/admin/clock", {}, 10).reply.date.empty());  // the admin API: none
}

TEST_F(SimulatorTest, FaultsInOrderOfArrival) {
  const std::string id = create(R"({"duration_s": 1})");
  call_json("POST", "/admin/faults", R"({"kind": "status", "status": 500, "count": 1})");
  const Reply failed = get_job("p", id, 2);
  EXPECT_EQ(failed.status, 500u);
  EXPECT_EQ(get_job("p", id, 2).status, 200u) << "count 1 applies once";

  call_json("POST", "/admin/faults", R"({"kind": "throttle", "retry_after_s": 2, "count": 1})");
  const Reply throttled = get_job("p", id, 2);
  EXPECT_EQ(throttled.status, 429u);
  EXPECT_EQ(throttled.retry_after_s, 2u);
  EXPECT_EQ(json::parse(throttled.body).at("error_code"), "APIGW.0308");

  call_json("POST", "/admin/faults", R"({"kind": "reset", "count": 1})");
  EXPECT_EQ(call("GET", "/v1/p/job/" + id, {}, 2).action, Outcome::Action::reset);

  call_json("POST", "/admin/faults", R"({"kind": "slow", "delay_s": 1.5, "count": 1})");
  const std::string target = "/v1/p/job/" + id;
  const Outcome slow = sim_.handle(Request{"GET", target, {}, std::nullopt}, at(2));
  EXPECT_EQ(slow.action, Outcome::Action::delay);
  EXPECT_EQ(slow.delay, Millis{1500});
  EXPECT_EQ(sim_.answer_delayed(Request{"GET", target, {}, std::nullopt}, at(3.5)).status, 200u);

  call_json("POST", "/admin/faults",
            R"({"kind": "malformed", "variant": "unknown_status", "count": 1})");
  const Reply bad = get_job("p", id, 2);
  EXPECT_EQ(bad.status, 200u);
  EXPECT_EQ(json::parse(bad.body).at("job").at("job_status"), 7);

  const auto stats = call_json("GET", "/admin/stats");
  EXPECT_EQ(stats.at("faults_injected"), 5);
  EXPECT_EQ(stats.at("requests_total"), 6);
  EXPECT_EQ(stats.at("by_status").at("200"), 3);
  EXPECT_EQ(stats.at("by_status").at("500"), 1);
  EXPECT_EQ(stats.at("by_status").at("429"), 1);
  EXPECT_EQ(stats.at("faults_by_kind").at("reset"), 1);
  EXPECT_EQ(stats.at("jobs"), 1);
  EXPECT_EQ(call_json("GET", "/admin/requests").at(id), 6);
}

TEST_F(SimulatorTest, FaultForOneJobOnly) {
  const std::string a = create(R"({"duration_s": 1})");
  const std::string b = create(R"({"duration_s": 1})");
  call_json("POST", "/admin/faults",
            (R"({"kind": "status", "status": 503, "job_id": ")" + a + "\"}"));
  EXPECT_EQ(get_job("p", a, 2).status, 503u);
  EXPECT_EQ(get_job("p", b, 2).status, 200u);
  EXPECT_EQ(call_json("GET", "/admin/faults").at("faults").as_array().size(), 1u);
  call_json("DELETE", "/admin/faults");
  EXPECT_EQ(get_job("p", a, 2).status, 200u);
}

TEST_F(SimulatorTest, CreateBatchDescribesSubjobs) {
  const auto reply = call_json(
      "POST", "/admin/jobs",
      R"({"jobs": [{"job_id": "mine", "outcome": "failure", "subjobs": 2}, {"ghost": true}]})");
  ASSERT_EQ(reply.at("job_ids").as_array().size(), 2u);
  const auto& first = reply.at("jobs").at(0);
  EXPECT_EQ(first.at("job_id"), "mine");
  EXPECT_EQ(first.at("outcome"), "failure");
  ASSERT_EQ(first.at("subjob_ids").as_array().size(), 2u);
  EXPECT_EQ(first.at("subjobs").at(1).at("outcome"), "failure");
  EXPECT_EQ(first.at("subjobs").at(1).at("job_id"), first.at("subjob_ids").at(1));
  EXPECT_EQ(reply.at("jobs").at(1).at("outcome"), "ghost");

  // A taken ID rejects the whole batch.
  call_json("POST", "/admin/jobs", R"({"jobs": [{"job_id": "other"}, {"job_id": "mine"}]})", 0,
            409);
  EXPECT_EQ(sim_.job_count(), 2u);
  call_json("POST", "/admin/jobs", R"({"duration_s": "long"})", 0, 400);
  call_json("POST", "/admin/jobs", "{not json", 0, 400);
}

TEST_F(SimulatorTest, RandomJobsReturnExpectations) {
  const auto reply =
      call_json("POST", "/admin/random", R"({"count": 50, "seed": 3, "ghost_fraction": 0.2})");
  const auto& ids = reply.at("job_ids").as_array();
  const auto& expected = reply.at("expected").as_object();
  ASSERT_EQ(ids.size(), 50u);
  ASSERT_EQ(expected.size(), 50u);
  int ghosts = 0;
  for (const auto& id : ids) {
    const auto& e = expected.at(id.as_string()).as_object();
    const std::string_view outcome = e.at("outcome").as_string();
    EXPECT_TRUE(outcome == "success" || outcome == "failure" || outcome == "ghost");
    if (outcome == "ghost") {
      ++ghosts;
      EXPECT_EQ(get_job("p", id.as_string(), 1e5).status, 404u);
      continue;
    }
    // Long after the end, the API agrees with the expectation.
    const auto job = json::parse(get_job("p", id.as_string(), 1e5).body).at("job");
    EXPECT_EQ(job.at("job_status"), outcome == "success" ? status_successful : status_failed);
    const auto& subs = e.at("subjobs").as_array();
    ASSERT_EQ(job.at("sub_jobs").as_array().size(), subs.size());
    for (std::size_t i = 0; i < subs.size(); ++i) {
      EXPECT_EQ(job.at("sub_jobs").at(i).at("job_id"), subs[i].at("job_id"));
      EXPECT_EQ(job.at("sub_jobs").at(i).at("job_status"),
                subs[i].at("outcome") == "success" ? status_successful : status_failed);
    }
  }
  EXPECT_GT(ghosts, 0);
  EXPECT_EQ(call_json("GET", "/admin/jobs").at("job_ids").as_array().size(), 50u);
}

TEST_F(SimulatorTest, ResetAndClearStats) {
  create("{}");
  call_json("POST", "/admin/faults", R"({"kind": "reset"})");
  EXPECT_EQ(call("GET", "/v1/p/job/1").action, Outcome::Action::reset);
  const auto reset = call_json("POST", "/admin/reset");
  EXPECT_EQ(reset.at("jobs_removed"), 1);
  EXPECT_EQ(reset.at("faults_removed"), 1);
  EXPECT_EQ(sim_.job_count(), 0u);
  EXPECT_EQ(call_json("GET", "/admin/stats").at("requests_total"), 1);
  call_json("DELETE", "/admin/stats");
  EXPECT_EQ(call_json("GET", "/admin/stats").at("requests_total"), 0);
}

TEST(SimulatorLog, OneLinePerAdminAction) {
  std::vector<std::string> lines;
  Simulator sim(SimOptions{std::nullopt, 1, [&](const std::string& l) { lines.push_back(l); }});
  sim.handle(Request{"POST", "/admin/jobs", "{}", std::nullopt}, at(0));
  sim.handle(Request{"GET", "/v1/p/job/1", {}, std::nullopt}, at(0));
  sim.handle(Request{"POST", "/admin/faults", R"({"kind": "reset"})", std::nullopt}, at(0));
  sim.handle(Request{"DELETE", "/admin/faults", {}, std::nullopt}, at(0));
  EXPECT_EQ(lines.size(), 3u);
}

}  // namespace
}  // namespace jobwatch::sim
