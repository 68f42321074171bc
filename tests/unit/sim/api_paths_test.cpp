// The three job APIs over the simulator: paths, wrong-API requests (404 and
// counted), and faults, tokens, IAM, the rate gate and AK/SK on v2 paths.
#include <algorithm>
#include <boost/json/parse.hpp>

#include "sim_test_util.hpp"
#include "simulator.hpp"

namespace jobwatch::sim {
namespace {

using test::at;
namespace json = boost::json;

std::string app_v2(std::string_view id, std::string_view project = "p") {
  return "/v2/" + std::string(project) + "/job/" + std::string(id);
}
std::string desktop_v2(std::string_view id, std::string_view project = "p") {
  return "/v2/" + std::string(project) + "/workspace-jobs/" + std::string(id);
}
std::string app_v1(std::string_view id, std::string_view project = "p") {
  return "/v1/" + std::string(project) + "/job/" + std::string(id);
}

class SimApiPathsTest : public ::testing::Test {
 protected:
  Reply get(const std::string& target, double t = 0) {
    const Outcome o = sim_.handle(Request{"GET", target, {}, std::nullopt}, at(t));
    EXPECT_EQ(o.action, Outcome::Action::reply);
    return o.reply;
  }
  json::value admin(std::string_view method, std::string_view target, std::string_view body = {},
                    unsigned expected = 200) {
    const Outcome o = sim_.handle(Request{method, target, body, std::nullopt}, at(0));
    EXPECT_EQ(o.reply.status, expected) << target << ": " << o.reply.body;
    return json::parse(o.reply.body);
  }
  std::string create(std::string_view spec) {
    return std::string(admin("POST", "/admin/jobs", spec).at("job_ids").at(0).as_string());
  }

  Simulator sim_{SimOptions{std::nullopt, 7, {}}};
};

TEST(SimJobPath, ParsesAllThreeApis) {
  auto v1 = parse_job_path("/v1/proj/job/123?x=1");
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->api, Api::app_v1);
  auto v2 = parse_job_path("/v2/proj/job/123");
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->api, Api::app_v2);
  EXPECT_EQ(v2->project_id, "proj");
  EXPECT_EQ(v2->job_id, "123");
  auto desk = parse_job_path("/v2/proj/workspace-jobs/j-9?limit=1");
  ASSERT_TRUE(desk);
  EXPECT_EQ(desk->api, Api::desktop_v2);
  EXPECT_EQ(desk->job_id, "j-9");
  for (const char* bad : {"/v2/", "/v2/p/job/", "/v2//job/1", "/v2/p/jobs/1", "/v2/p/job/1/x",
                          "/v1/p/workspace-jobs/1", "/v2/p/workspace-jobs/", "/v3/p/job/1",
                          "/v2/p/workspace-jobs/1/x"}) {
    EXPECT_FALSE(parse_job_path(bad).has_value()) << bad;
  }
  EXPECT_FALSE(parse_api_path("/v2/p/job/1").has_value()) << "parse_api_path stays app-v1";
}

TEST_F(SimApiPathsTest, EachApiAnswersOnItsOwnPathOnly) {
  const std::string a = create(R"({"api": "app-v2", "duration_s": 5})");
  const std::string d = create(R"({"api": "desktop-v2", "duration_s": 5})");
  const std::string v = create(R"({"duration_s": 5})");

  const Reply a_ok = get(app_v2(a), 2);
  ASSERT_EQ(a_ok.status, 200u) << a_ok.body;
  EXPECT_EQ(json::parse(a_ok.body).at("id"), json::value(a));
  EXPECT_EQ(json::parse(a_ok.body).at("status"), "RUNNING");
  EXPECT_EQ(get(desktop_v2(d), 2).status, 200u);
  EXPECT_EQ(json::parse(get(app_v1(v), 2).body).at("job").at("job_status"), status_handling);

  for (const std::string& wrong : {app_v1(a), desktop_v2(a), app_v1(d), app_v2(d), app_v2(v)}) {
    const Reply r = get(wrong, 2);
    EXPECT_EQ(r.status, 404u) << wrong;
    EXPECT_EQ(json::parse(r.body).at("error_code"), "WKS.0404");
  }
  EXPECT_EQ(get(app_v2("424242"), 2).status, 404u) << "unknown jobs are not wrong-API requests";

  const auto stats = admin("GET", "/admin/stats");
  EXPECT_EQ(stats.at("requests_total"), 9);
  EXPECT_EQ(stats.at("requests_by_api").at("app-v1"), 3);
  EXPECT_EQ(stats.at("requests_by_api").at("app-v2"), 4);
  EXPECT_EQ(stats.at("requests_by_api").at("desktop-v2"), 2);
  EXPECT_EQ(stats.at("wrong_api_requests"), 5);
  EXPECT_EQ(stats.at("wrong_api_by_job").at(a), 2);
  EXPECT_EQ(stats.at("wrong_api_by_job").at(v), 1);
  EXPECT_EQ(stats.at("by_status").at("404"), 6);

  // The plain per-job map is unchanged; ?detail=1 adds the API and wrong-API count.
  const auto per_job = admin("GET", "/admin/requests");
  EXPECT_EQ(per_job.at(a), 1);
  EXPECT_EQ(per_job.at(d), 1);
  const auto detail = admin("GET", "/admin/requests?detail=1");
  EXPECT_EQ(detail.at(a).at("api"), "app-v2");
  EXPECT_EQ(detail.at(a).at("requests"), 1);
  EXPECT_EQ(detail.at(a).at("wrong_api_requests"), 2);

  const auto info = admin("GET", "/admin/jobs/" + a);
  EXPECT_EQ(info.at("api"), "app-v2");
  EXPECT_EQ(info.at("status"), "WAITING") << "the admin call runs at t=0";
  EXPECT_EQ(info.at("wrong_api_requests"), 2);
  EXPECT_EQ(info.at("detail").at("id"), json::value(a));

  admin("DELETE", "/admin/stats");
  const auto cleared = admin("GET", "/admin/stats");
  EXPECT_EQ(cleared.at("wrong_api_requests"), 0);
  EXPECT_EQ(cleared.at("requests_by_api").at("app-v2"), 0);
  EXPECT_TRUE(cleared.at("wrong_api_by_job").as_object().empty());
}

TEST_F(SimApiPathsTest, ProjectsNotFoundAndGhostsOnV2) {
  const std::string owned = create(R"({"api": "app-v2", "project_id": "p1", "subjobs": 1})");
  EXPECT_EQ(get(app_v2(owned, "p1"), 1).status, 200u);
  EXPECT_EQ(get(app_v2(owned, "p2"), 1).status, 404u);
  const std::string any = create(R"({"api": "app-v2", "subjobs": 1})");
  EXPECT_EQ(json::parse(get(app_v2(any, "mine"), 1).body).at("sub_jobs").at(0).at("project_id"),
            "mine");
  const std::string late = create(R"({"api": "desktop-v2", "not_found_s": 3})");
  EXPECT_EQ(get(desktop_v2(late), 2.9).status, 404u);
  EXPECT_EQ(get(desktop_v2(late), 3).status, 200u);
  const std::string ghost = create(R"({"api": "desktop-v2", "ghost": true})");
  EXPECT_EQ(get(desktop_v2(ghost), 1000).status, 404u);
  EXPECT_EQ(admin("GET", "/admin/stats").at("wrong_api_requests"), 0);
}

TEST_F(SimApiPathsTest, FaultsApplyToV2Paths) {
  const std::string a = create(R"({"api": "app-v2", "duration_s": 1, "subjobs": 1})");
  const std::string d = create(R"({"api": "desktop-v2", "duration_s": 1})");
  admin("POST", "/admin/faults", R"({"kind": "status", "status": 503, "count": 2})");
  EXPECT_EQ(get(app_v2(a), 2).status, 503u);
  EXPECT_EQ(get(desktop_v2(d), 2).status, 503u);
  EXPECT_EQ(get(app_v2(a), 2).status, 200u);

  admin("POST", "/admin/faults", R"({"kind": "malformed", "variant": "truncated", "count": 1})");
  boost::system::error_code ec;
  json::parse(get(app_v2(a), 2).body, ec);
  EXPECT_TRUE(ec);

  admin("POST", "/admin/faults", R"({"kind": "malformed", "variant": "wrong_types", "count": 1})");
  const auto wrong = json::parse(get(app_v2(a), 2).body).as_object();
  EXPECT_FALSE(wrong.contains("job"));
  EXPECT_TRUE(wrong.at("status").is_int64());
  EXPECT_TRUE(wrong.at("sub_jobs").is_object());

  admin("POST", "/admin/faults",
        R"({"kind": "malformed", "variant": "unknown_status", "count": 1})");
  const auto unknown = json::parse(get(desktop_v2(d), 2).body).as_object();
  EXPECT_EQ(unknown.at("id"), json::value(d));
  EXPECT_EQ(unknown.at("status"), "NOT_A_STATUS");

  admin("POST", "/admin/faults", R"({"kind": "slow", "delay_s": 0.5, "count": 1})");
  const std::string target = desktop_v2(d);
  const Outcome slow = sim_.handle(Request{"GET", target, {}, std::nullopt}, at(2));
  EXPECT_EQ(slow.action, Outcome::Action::delay);
  const Reply late = sim_.answer_delayed(Request{"GET", target, {}, std::nullopt}, at(2.5));
  EXPECT_EQ(late.status, 200u);
  EXPECT_EQ(json::parse(late.body).at("status"), "SUCCESS");
  EXPECT_EQ(sim_.answer_delayed(Request{"GET", app_v1(d), {}, std::nullopt}, at(2.5)).status, 404u);
}

TEST_F(SimApiPathsTest, RandomJobsSpreadOverApis) {
  const auto reply = admin(
      "POST", "/admin/random",
      R"({"count": 30, "seed": 3, "ghost_fraction": 0, "api": ["app-v2", "desktop-v2", "app-v1"]})");
  const auto& ids = reply.at("job_ids").as_array();
  ASSERT_EQ(ids.size(), 30u);
  int per_api[3] = {0, 0, 0};
  for (const auto& id_value : ids) {
    const std::string id(id_value.as_string());
    const auto& e = reply.at("expected").at(id).as_object();
    const Api api = *parse_api(e.at("api").as_string());
    ++per_api[static_cast<int>(api)];
    const std::string target = api == Api::app_v1   ? app_v1(id)
                               : api == Api::app_v2 ? app_v2(id)
                                                    : desktop_v2(id);
    const auto body = json::parse(get(target, 1e5).body).as_object();
    const json::object& detail = api == Api::app_v1 ? body.at("job").as_object() : body;
    EXPECT_EQ(detail.at(api == Api::app_v1 ? "job_status" : "status"), e.at("upstream_status"));
    const auto& subs = detail.at("sub_jobs").as_array();
    ASSERT_EQ(subs.size(), e.at("subjobs").as_array().size());
    for (std::size_t i = 0; i < subs.size(); ++i) {
      EXPECT_EQ(subs[i].at(api == Api::app_v1 ? "job_status" : "status"),
                e.at("subjobs").at(i).at("upstream_status"));
    }
  }
  EXPECT_EQ(per_api[0], 10);
  EXPECT_EQ(per_api[1], 10);
  EXPECT_EQ(per_api[2], 10);

  const auto one = admin("POST", "/admin/random", R"({"count": 2, "api": "desktop-v2"})");
  for (const auto& [id, e] : one.at("expected").as_object()) EXPECT_EQ(e.at("api"), "desktop-v2");
  admin("POST", "/admin/random", R"({"count": 2, "api": "app-v9"})", 400);
  admin("POST", "/admin/random", R"({"count": 2, "api": []})", 400);

  // Naming an API changes no other draw.
  Simulator a(SimOptions{std::nullopt, 1, {}});
  Simulator b(SimOptions{std::nullopt, 1, {}});
  auto durations = [](Simulator& sim, std::string_view body) {
    const Outcome o = sim.handle(Request{"POST", "/admin/random", body, std::nullopt}, at(0));
    const json::value reply = json::parse(o.reply.body);
    std::vector<double> out;
    for (const auto& [id, e] : reply.at("expected").as_object())
      out.push_back(e.at("duration_s").to_number<double>());
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(durations(a, R"({"count": 20, "seed": 5})"),
            durations(b, R"({"count": 20, "seed": 5, "api": "app-v2"})"));
}

TEST(SimApiPathsAuth, TokenIamAndRateGateOnV2) {
  Simulator token_sim(SimOptions{std::string("s3cret"), 1, {}});
  token_sim.handle(Request{"POST", "/admin/jobs", R"({"job_id": "j1", "api": "app-v2"})", {}},
                   at(0));
  EXPECT_EQ(token_sim.handle(Request{"GET", app_v2("j1"), {}, std::nullopt}, at(1)).reply.status,
            401u);
  EXPECT_EQ(token_sim.handle(Request{"GET", app_v2("j1"), {}, std::string_view("s3cret")}, at(1))
                .reply.status,
            200u);

  SimOptions iam_options;
  iam_options.iam = IamOptions{"alice", "dom", "pw", Millis{8000}};
  Simulator iam_sim(std::move(iam_options));
  iam_sim.handle(Request{"POST", "/admin/jobs", R"({"job_id": "d1", "api": "desktop-v2"})", {}},
                 at(0));
  const Reply refused =
      iam_sim.handle(Request{"GET", desktop_v2("d1"), {}, std::string_view("forged")}, at(1)).reply;
  EXPECT_EQ(refused.status, 401u);

  SimOptions gate_options;
  gate_options.rate_limit = 1;
  Simulator gated(std::move(gate_options));
  gated.handle(Request{"POST", "/admin/jobs", R"({"job_id": "g1", "api": "app-v2"})", {}}, at(0));
  EXPECT_EQ(gated.handle(Request{"GET", app_v2("g1"), {}, {}}, at(1)).reply.status, 200u);
  const Reply throttled = gated.handle(Request{"GET", desktop_v2("g1"), {}, {}}, at(1)).reply;
  EXPECT_EQ(throttled.status, 429u) << "the gate counts every API's requests";
}

}  // namespace
}  // namespace jobwatch::sim
