#include <algorithm>
#include <boost/json/serialize.hpp>

#include "jobwatch/control/varlink.hpp"
#include "service_fixture.hpp"

using namespace jobwatch;
using namespace jobwatch::control;
using namespace jobwatch::control::test;
namespace json = boost::json;

namespace {

std::string str(const json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : json::serialize(v);
}

}  // namespace

class ServiceTest : public ServiceFixture {};

TEST_F(ServiceTest, WatchCreatesThenRewatchSaysNotCreated) {
  api_.set("job1", 2);
  auto first = call("io.jobwatch.Watch", R"({"jobs":[{"job_id":"job1"}],"labels":{"team":"ops"}})");
  ASSERT_TRUE(first->finished());
  ASSERT_TRUE(first->last().error.empty()) << first->last().error;
  const auto& watches = first->last().parameters.at("watches").as_array();
  ASSERT_EQ(watches.size(), 1u);
  EXPECT_EQ(watches[0].at("job_id"), "job1");
  EXPECT_EQ(watches[0].at("project_id"), "proj");  // the configured default
  EXPECT_EQ(watches[0].at("created"), true);
  EXPECT_EQ(watches[0].at("labels").at("team"), "ops");
  EXPECT_EQ(watches[0].at("status"), "pending");

  auto again = call("io.jobwatch.Watch", R"({"jobs":[{"job_id":"job1","project_id":"proj"}]})");
  ASSERT_TRUE(again->finished());
  EXPECT_EQ(again->last().parameters.at("watches").as_array()[0].at("created"), false);
}

TEST_F(ServiceTest, WatchRejectsBadInput) {
  auto bad_id = call("io.jobwatch.Watch", R"({"jobs":[{"job_id":"../../etc/passwd"}]})");
  EXPECT_EQ(bad_id->last().error, errors::invalid_job_id);
  EXPECT_EQ(bad_id->last().parameters.at("job_id"), "../../etc/passwd");

  auto bad_label = call("io.jobwatch.Watch", R"({"jobs":[{"job_id":"a"}],"labels":{"owner":5}})");
  EXPECT_EQ(bad_label->last().error, errors::invalid_parameter);
  EXPECT_EQ(bad_label->last().parameters.at("parameter"), "labels.owner");

  for (const char* deadline : {"0", "-5", "\"1h\"", "null"}) {
    auto r = call("io.jobwatch.Watch",
                  std::string(R"({"jobs":[{"job_id":"a"}],"deadline_s":)") + deadline + "}");
    if (std::string_view(deadline) == "null") {
      EXPECT_TRUE(r->last().error.empty()) << deadline;  // null is absent
    } else {
      EXPECT_EQ(r->last().parameters.at("parameter"), "deadline_s") << deadline;
    }
  }

  auto unknown = call("io.jobwatch.Watch", R"({"jobs":[{"job_id":"a"}],"lables":{}})");
  EXPECT_EQ(unknown->last().parameters.at("parameter"), "lables");
  EXPECT_TRUE(engine_.list().size() == 1u);  // only the valid "null deadline" call watched
}

TEST_F(ServiceTest, MissingProjectWithoutDefaultIsInvalidParameter) {
  config::Config config = fast_config();
  config.api.project_id.clear();
  service_.reconfigure(config);
  auto r = call("io.jobwatch.Watch", R"({"jobs":[{"job_id":"a"}]})");
  EXPECT_EQ(r->last().error, errors::invalid_parameter);
  EXPECT_EQ(r->last().parameters.at("parameter"), "project_id");
  auto ok = call("io.jobwatch.Watch", R"({"jobs":[{"job_id":"a","project_id":"p"}]})");
  EXPECT_TRUE(ok->last().error.empty());
}

TEST_F(ServiceTest, CancelChecksTheCaller) {
  api_.set("j", 2);
  ASSERT_TRUE(
      call("io.jobwatch.Watch", R"({"jobs":[{"job_id":"j"}]})", 1000)->last().error.empty());

  auto other = call("io.jobwatch.Cancel", R"({"jobs":[{"job_id":"j"}]})", 1001);
  EXPECT_EQ(other->last().error, errors::permission_denied);
  EXPECT_EQ(other->last().parameters.at("job_id"), "j");
  EXPECT_EQ(engine_.list().size(), 1u);

  auto root = call("io.jobwatch.Cancel", R"({"jobs":[{"job_id":"j"}]})", 0);
  ASSERT_TRUE(root->last().error.empty()) << root->last().error;
  const auto& cancelled = root->last().parameters.at("cancelled").as_array();
  ASSERT_EQ(cancelled.size(), 1u);
  EXPECT_EQ(cancelled[0].at("job_id"), "j");
  EXPECT_EQ(cancelled[0].at("project_id"), "proj");
  EXPECT_TRUE(engine_.list().empty());

  auto gone = call("io.jobwatch.Cancel", R"({"jobs":[{"job_id":"j"}]})", 0);
  EXPECT_EQ(gone->last().error, errors::not_watched);
}

TEST_F(ServiceTest, SubmitterMayCancel) {
  ASSERT_TRUE(
      call("io.jobwatch.Watch", R"({"jobs":[{"job_id":"j"}]})", 1234)->last().error.empty());
  EXPECT_TRUE(
      call("io.jobwatch.Cancel", R"({"jobs":[{"job_id":"j"}]})", 1234)->last().error.empty());
}

TEST_F(ServiceTest, ListAndShow) {
  api_.set("j", 2, 1, 3);
  call("io.jobwatch.Watch", R"({"jobs":[{"job_id":"j"}]})");
  auto list = call("io.jobwatch.List");
  ASSERT_EQ(list->last().parameters.at("watches").as_array().size(), 1u);
  EXPECT_FALSE(list->last().parameters.at("watches").as_array()[0].as_object().contains("created"));

  auto before = call("io.jobwatch.Show", R"({"job_id":"j"})");
  ASSERT_TRUE(before->last().error.empty());
  EXPECT_FALSE(before->last().parameters.contains("job"));  // no answer yet

  ASSERT_TRUE(run_until([&] { return engine_.info({"proj", "j"})->record->polls > 0; }));
  auto after = call("io.jobwatch.Show", R"({"job_id":"j","project_id":"proj"})");
  ASSERT_TRUE(after->last().error.empty());
  const auto& params = after->last().parameters;
  EXPECT_EQ(params.at("watch").at("status"), "handling");
  EXPECT_EQ(params.at("watch").at("subjobs_done"), 1);
  EXPECT_EQ(params.at("watch").at("subjobs_total"), 3);
  ASSERT_TRUE(params.at("job").is_object());
  EXPECT_EQ(params.at("job").at("job_id"), "j");
  EXPECT_EQ(params.at("job").at("sub_jobs").as_array().size(), 3u);

  EXPECT_EQ(call("io.jobwatch.Show", R"({"job_id":"nope"})")->last().error, errors::not_watched);
  EXPECT_EQ(call("io.jobwatch.Show", R"({"job_id":"a b"})")->last().error, errors::invalid_job_id);
}

namespace {

// A raw List reply, its pieces not yet drawn.
Reply raw_list(Service& service) {
  Reply list;
  auto handle = service.call(Call{"io.jobwatch.List", {}, false, false}, Peer{1000},
                             [&](Reply reply) { list = std::move(reply); });
  EXPECT_FALSE(handle);  // List finishes inside call()
  return list;
}

std::vector<std::string> job_ids_of(const json::array& watches) {
  std::vector<std::string> ids;
  for (const auto& w : watches) ids.push_back(str(w.at("job_id")));
  return ids;
}

}  // namespace

TEST_F(ServiceTest, AListOfThousandsComesInPiecesThatMakeOneReply) {
  watch_many(3000);
  Reply list = raw_list(service_);
  ASSERT_TRUE(list.pieces);
  std::string message;
  int pieces = 0;
  for (bool more = true; more; ++pieces) {
    const std::size_t before = message.size();
    more = list.pieces->next(message);
    EXPECT_LT(message.size() - before, 256u * 1024) << "piece " << pieces;
  }
  EXPECT_GT(pieces, 1);
  ASSERT_EQ(message.back(), '\0');
  message.pop_back();
  auto parsed = parse_reply(message);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->error.empty());
  EXPECT_FALSE(parsed->continues);
  // The same watches, in the same order and the same shape, as one object.
  json::array expected;
  for (const auto& info : engine_.list()) expected.push_back(watch::to_json(info));
  EXPECT_EQ(parsed->parameters.at("watches").as_array(), expected);
}

TEST_F(ServiceTest, AWatchCancelledWhileTheListIsWrittenIsLeftOut) {
  watch_many(3000);
  Reply list = raw_list(service_);
  ASSERT_TRUE(list.pieces);
  std::string message;
  ASSERT_TRUE(list.pieces->next(message));  // the first piece is out
  // The last watch in List order goes, and a new one comes, before the rest.
  const std::string last = engine_.list().back().record->job.job_id;
  ASSERT_TRUE(
      std::holds_alternative<std::vector<watch::JobRef>>(engine_.cancel({{"proj", last}}, 0)));
  watch::WatchRequest late;
  late.jobs.push_back({{"proj", "late"}, model::Api::app_v1});
  ASSERT_TRUE(std::holds_alternative<std::vector<watch::WatchInfo>>(engine_.watch(late)));
  while (list.pieces->next(message)) {
  }
  message.pop_back();
  auto parsed = parse_reply(message);
  ASSERT_TRUE(parsed) << "the reply is still one valid message";
  const auto ids = job_ids_of(parsed->parameters.at("watches").as_array());
  EXPECT_EQ(ids.size(), 2999u);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), last), 0);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "late"), 0);  // the List began before it
}

TEST_F(ServiceTest, AnEmptyListIsOnePiece) {
  Reply list = raw_list(service_);
  ASSERT_TRUE(list.pieces);
  std::string message;
  EXPECT_FALSE(list.pieces->next(message));
  EXPECT_EQ(message, std::string(R"({"parameters":{"watches":[]}})") + '\0');
  EXPECT_EQ(message, encode(Reply{{}, json::object{{"watches", json::array{}}}, false}));
}

TEST_F(ServiceTest, WaitStreamsProgressThenResults) {
  api_.set("w1", 2, 0, 2);
  api_.set("w2", 2);
  auto wait = call("io.jobwatch.Wait", R"({"jobs":[{"job_id":"w1"},{"job_id":"w2"}]})", 1000, true);
  ASSERT_NE(wait->handle, nullptr);
  ASSERT_FALSE(wait->replies.empty());
  EXPECT_TRUE(wait->replies[0].continues);
  EXPECT_EQ(wait->replies[0].parameters.at("progress").as_array().size(), 2u);
  // Wait watched them, as the caller.
  EXPECT_EQ(call("io.jobwatch.Cancel", R"({"jobs":[{"job_id":"w1"}]})", 999)->last().error,
            errors::permission_denied);

  ASSERT_TRUE(run_until([&] { return wait->replies.size() >= 2; }));
  api_.set("w1", 1, 2, 2);
  api_.set("w2", 0);
  ASSERT_TRUE(run_until([&] { return wait->finished(); }));
  for (std::size_t i = 0; i + 1 < wait->replies.size(); ++i) {
    EXPECT_TRUE(wait->replies[i].continues);
    EXPECT_TRUE(wait->replies[i].parameters.contains("progress"));
  }
  const auto& results = wait->last().parameters.at("results").as_array();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].at("job_id"), "w1");
  EXPECT_EQ(results[0].at("outcome"), "succeeded");
  EXPECT_EQ(results[0].at("event").at("type"), "job.succeeded");
  EXPECT_EQ(results[1].at("outcome"), "failed");
  EXPECT_EQ(results[1].at("event").at("type"), "job.failed");
}

TEST_F(ServiceTest, WaitWithoutMoreSendsOnlyTheFinalReply) {
  api_.set("w", 2);
  auto wait = call("io.jobwatch.Wait", R"({"jobs":[{"job_id":"w"}]})", 1000, false);
  ASSERT_NE(wait->handle, nullptr);
  run_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(wait->replies.empty());
  api_.set("w", 1);
  ASSERT_TRUE(run_until([&] { return wait->finished(); }));
  ASSERT_EQ(wait->replies.size(), 1u);
  EXPECT_EQ(wait->last().parameters.at("results").as_array()[0].at("outcome"), "succeeded");
}

TEST_F(ServiceTest, WaitOnFinishedJobAnswersAtOnce) {
  api_.set("done", 1);
  call("io.jobwatch.Watch", R"({"jobs":[{"job_id":"done"}]})");
  ASSERT_TRUE(run_until([&] { return engine_.finished({"proj", "done"}).has_value(); }));
  auto wait = call("io.jobwatch.Wait", R"({"jobs":[{"job_id":"done"}]})", 1000, true);
  EXPECT_EQ(wait->handle, nullptr);
  ASSERT_TRUE(wait->finished());
  // One progress message (how far the job got), then the results.
  ASSERT_EQ(wait->replies.size(), 2u);
  EXPECT_TRUE(wait->replies[0].continues);
  EXPECT_EQ(wait->replies[0].parameters.at("progress").as_array()[0].at("status"), "succeeded");
  EXPECT_EQ(wait->last().parameters.at("results").as_array()[0].at("outcome"), "succeeded");
  // Without `more` there is only the answer.
  auto plain = call("io.jobwatch.Wait", R"({"jobs":[{"job_id":"done"}]})", 1000, false);
  ASSERT_TRUE(plain->finished());
  EXPECT_EQ(plain->replies.size(), 1u);
}

TEST_F(ServiceTest, WaitTimeout) {
  api_.set("slow", 2);
  api_.set("quick", 1);
  auto wait =
      call("io.jobwatch.Wait", R"({"jobs":[{"job_id":"slow"},{"job_id":"quick"}],"timeout_s":0.3})",
           1000, true);
  ASSERT_TRUE(run_until([&] { return wait->finished(); }));
  const auto& results = wait->last().parameters.at("results").as_array();
  EXPECT_EQ(results[0].at("outcome"), "timeout");
  EXPECT_FALSE(results[0].as_object().contains("event"));
  EXPECT_EQ(results[1].at("outcome"), "succeeded");
  EXPECT_TRUE(engine_.info({"proj", "slow"}).has_value());  // still watched
}

TEST_F(ServiceTest, WaitOnCancelledWatchEndsAbandoned) {
  api_.set("c", 2);
  auto wait = call("io.jobwatch.Wait", R"({"jobs":[{"job_id":"c"}]})", 1000, true);
  ASSERT_TRUE(call("io.jobwatch.Cancel", R"({"jobs":[{"job_id":"c"}]})", 0)->last().error.empty());
  ASSERT_TRUE(run_until([&] { return wait->finished(); }));
  EXPECT_EQ(wait->last().parameters.at("results").as_array()[0].at("outcome"), "abandoned");
}

TEST_F(ServiceTest, DroppedWaitStopsReplying) {
  api_.set("d", 2);
  auto wait = call("io.jobwatch.Wait", R"({"jobs":[{"job_id":"d"}]})", 1000, true);
  ASSERT_NE(wait->handle, nullptr);
  const auto before = wait->replies.size();
  wait->handle.reset();
  EXPECT_EQ(service_.control_stats().at("streams_open"), 0);
  api_.set("d", 1);
  run_for(std::chrono::milliseconds(300));
  EXPECT_EQ(wait->replies.size(), before);
}

TEST_F(ServiceTest, FollowNeedsMore) {
  auto r = call("io.jobwatch.Follow", "{}", 1000, false);
  EXPECT_EQ(r->last().error, errors::invalid_parameter);
  EXPECT_EQ(r->last().parameters.at("parameter"), "more");
}

TEST_F(ServiceTest, FollowStreamsEvents) {
  auto follow = call("io.jobwatch.Follow", "{}", 1000, true);
  ASSERT_NE(follow->handle, nullptr);
  EXPECT_TRUE(follow->replies.empty());
  api_.set("f", 1, 2, 2);
  call("io.jobwatch.Watch", R"({"jobs":[{"job_id":"f"}]})");
  ASSERT_TRUE(run_until([&] { return follow->replies.size() >= 3; }));
  for (const auto& reply : follow->replies) {
    EXPECT_TRUE(reply.continues);
    EXPECT_EQ(reply.parameters.at("event").at("data").at("job_id"), "f");
  }
  EXPECT_EQ(follow->replies[0].parameters.at("event").at("type"), "subjob.succeeded");
  EXPECT_EQ(follow->replies[2].parameters.at("event").at("type"), "job.succeeded");
  follow->handle.reset();
  EXPECT_EQ(service_.control_stats().at("streams_open"), 0);
}

TEST_F(ServiceTest, GetInfo) {
  auto r = call("org.varlink.service.GetInfo");
  ASSERT_TRUE(r->last().error.empty());
  const auto& p = r->last().parameters;
  EXPECT_EQ(p.at("vendor"), "jobwatch");
  EXPECT_EQ(p.at("product"), "jobwatchd");
  EXPECT_EQ(p.at("version"), JOBWATCH_VERSION);
  EXPECT_TRUE(p.at("url").is_string());
  EXPECT_EQ(p.at("interfaces"), (json::array{"org.varlink.service", "io.jobwatch"}));
}

TEST_F(ServiceTest, GetInterfaceDescription) {
  auto r = call("org.varlink.service.GetInterfaceDescription", R"({"interface":"io.jobwatch"})");
  ASSERT_TRUE(r->last().error.empty());
  const std::string idl = str(r->last().parameters.at("description"));
  for (const char* needle :
       {"interface io.jobwatch\n", "type WatchInfo (",
        "method Watch(jobs: []JobRef, labels: ?[string]string, deadline_s: ?float) -> (watches: "
        "[]WatchInfo)",
        "method Cancel(", "method List(", "method Show(", "method Wait(", "method Follow(",
        "method Stats(", "error InvalidJobId (job_id: string, reason: string)", "error NotWatched",
        "error LimitReached", "error ShuttingDown", "error PermissionDenied"}) {
    EXPECT_NE(idl.find(needle), std::string::npos) << needle;
  }
  auto service =
      call("org.varlink.service.GetInterfaceDescription", R"({"interface":"org.varlink.service"})");
  EXPECT_NE(str(service->last().parameters.at("description")).find("interface org.varlink.service"),
            std::string::npos);

  auto unknown =
      call("org.varlink.service.GetInterfaceDescription", R"({"interface":"com.example"})");
  EXPECT_EQ(unknown->last().error, errors::interface_not_found);
  EXPECT_EQ(unknown->last().parameters.at("interface"), "com.example");
  auto missing = call("org.varlink.service.GetInterfaceDescription");
  EXPECT_EQ(missing->last().parameters.at("parameter"), "interface");
}

TEST_F(ServiceTest, UnknownMethod) {
  auto r = call("io.jobwatch.Explode");
  EXPECT_EQ(r->last().error, errors::method_not_found);
  EXPECT_EQ(r->last().parameters.at("method"), "io.jobwatch.Explode");
}

TEST_F(ServiceTest, StatsMergesProviderAndControlCounters) {
  call("io.jobwatch.List");
  call("io.jobwatch.Nope");
  auto r = call("io.jobwatch.Stats");
  const auto& p = r->last().parameters;
  EXPECT_EQ(p.at("engine").at("x"), 1);
  const auto& control = p.at("control");
  EXPECT_EQ(control.at("requests").at("io.jobwatch.List"), 1);
  EXPECT_EQ(control.at("requests").at("unknown"), 1);
  EXPECT_EQ(control.at("requests").at("io.jobwatch.Stats"), 1);
  EXPECT_EQ(control.at("errors").at("org.varlink.service.MethodNotFound"), 1);
}

class LimitedServiceTest : public ServiceFixture {
 protected:
  static config::Config limited() {
    auto c = fast_config();
    c.control.max_watches = 2;
    return c;
  }
  LimitedServiceTest() : ServiceFixture(limited()) {}
};

TEST_F(LimitedServiceTest, LimitReached) {
  auto r = call("io.jobwatch.Watch", R"({"jobs":[{"job_id":"a"},{"job_id":"b"},{"job_id":"c"}]})");
  EXPECT_EQ(r->last().error, errors::limit_reached);
  engine_.stop();
  auto stopped = call("io.jobwatch.Watch", R"({"jobs":[{"job_id":"a"}]})");
  EXPECT_EQ(stopped->last().error, errors::shutting_down);
}

TEST_F(ServiceTest, ProgressIsCoalesced) {
  api_.set("busy", 2);
  auto wait = call("io.jobwatch.Wait", R"({"jobs":[{"job_id":"busy"}]})", 1000, true);
  const auto start = std::chrono::steady_clock::now();
  // Every poll (10-20 ms apart) changes the WatchInfo (its poll counter).
  ASSERT_TRUE(run_until([&] { return engine_.info({"proj", "busy"})->record->polls >= 40; }));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const auto windows =
      std::chrono::duration_cast<std::chrono::milliseconds>(elapsed) / Service::progress_interval;
  EXPECT_LE(wait->replies.size(), static_cast<std::size_t>(windows) + 2);
  EXPECT_GE(wait->replies.size(), 2u);  // the first one and at least one change
}

// SPEC §3: the API is a property of the watch; an unknown one, or another
// than the watch has, is InvalidParameter `api`.
TEST_F(ServiceTest, ApiIsPerWatchAndChecked) {
  auto v2 = call("io.jobwatch.Watch", R"({"jobs":[{"job_id":"a","api":"app-v2"},
                                                  {"job_id":"d","api":"desktop-v2"},
                                                  {"job_id":"v1"}]})");
  ASSERT_TRUE(v2->last().error.empty()) << v2->last().error;
  const auto& watches = v2->last().parameters.at("watches").as_array();
  EXPECT_EQ(watches[0].at("api"), "app-v2");
  EXPECT_EQ(watches[1].at("api"), "desktop-v2");
  EXPECT_EQ(watches[2].at("api"), "app-v1");  // api.default_api

  for (const char* bad : {R"("app-v3")", R"("APP-V2")", "2", R"("")"}) {
    auto r =
        call("io.jobwatch.Watch", std::string(R"({"jobs":[{"job_id":"x","api":)") + bad + "}]}");
    EXPECT_EQ(r->last().error, errors::invalid_parameter) << bad;
    EXPECT_EQ(r->last().parameters.at("parameter"), "api") << bad;
  }
  EXPECT_FALSE(engine_.info({"proj", "x"}));

  // Another API for a watched job; also inside one call.
  auto other = call("io.jobwatch.Watch", R"({"jobs":[{"job_id":"a","api":"app-v1"}]})");
  EXPECT_EQ(other->last().error, errors::invalid_parameter);
  EXPECT_EQ(other->last().parameters.at("parameter"), "api");
  auto twice = call("io.jobwatch.Watch", R"({"jobs":[{"job_id":"y","api":"app-v1"},
                                                     {"job_id":"y","api":"app-v2"}]})");
  EXPECT_EQ(twice->last().parameters.at("parameter"), "api");
  EXPECT_FALSE(engine_.info({"proj", "y"}));

  // Naming none matches whatever the watch has; naming the same is fine.
  auto same =
      call("io.jobwatch.Watch", R"({"jobs":[{"job_id":"a"},{"job_id":"d","api":"desktop-v2"}]})");
  ASSERT_TRUE(same->last().error.empty());
  EXPECT_EQ(same->last().parameters.at("watches").as_array()[0].at("created"), false);
  EXPECT_EQ(same->last().parameters.at("watches").as_array()[0].at("api"), "app-v2");

  EXPECT_TRUE(
      call("io.jobwatch.Show", R"({"job_id":"d","api":"desktop-v2"})")->last().error.empty());
  auto show = call("io.jobwatch.Show", R"({"job_id":"d","api":"app-v2"})");
  EXPECT_EQ(show->last().parameters.at("parameter"), "api");
  auto cancel = call("io.jobwatch.Cancel", R"({"jobs":[{"job_id":"d","api":"app-v1"}]})");
  EXPECT_EQ(cancel->last().parameters.at("parameter"), "api");
  EXPECT_TRUE(engine_.info({"proj", "d"}));
  auto wait = call("io.jobwatch.Wait", R"({"jobs":[{"job_id":"a","api":"desktop-v2"}]})");
  EXPECT_EQ(wait->last().parameters.at("parameter"), "api");
}

TEST_F(ServiceTest, DefaultApiComesFromTheConfig) {
  config::Config config = fast_config();
  config.api.default_api = model::Api::desktop_v2;
  service_.reconfigure(config);
  auto r = call("io.jobwatch.Watch", R"({"jobs":[{"job_id":"n"}]})");
  ASSERT_TRUE(r->last().error.empty());
  EXPECT_EQ(r->last().parameters.at("watches").as_array()[0].at("api"), "desktop-v2");
  EXPECT_EQ(engine_.info({"proj", "n"})->record->api, model::Api::desktop_v2);
}
