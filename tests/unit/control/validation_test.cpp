#include "jobwatch/control/validation.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

using namespace jobwatch::control;
namespace json = boost::json;
using namespace std::string_literals;

namespace {

json::object obj(std::string_view text) {
  return json::parse(text).as_object();
}

template <class T>
const Reply& error_of(const Checked<T>& checked) {
  static const Reply none{"<no error>", {}, false};
  const auto* reply = std::get_if<Reply>(&checked);
  return reply ? *reply : none;
}

std::string param_of(const Reply& reply) {
  const auto* p = reply.parameters.if_contains("parameter");
  return p && p->is_string() ? std::string(p->get_string()) : "<none>";
}

}  // namespace

struct IdCase {
  std::string id;
  std::string reason;  // empty: valid
};

TEST(IdProblem, Table) {
  const std::vector<IdCase> cases = {
      {"abc", ""},
      {"ff8080816e5bd2e8016e5c3b2eb10166", ""},
      {"A-Z_a-z-0-9", ""},
      {std::string(64, 'a'), ""},
      {"", "empty"},
      {std::string(65, 'a'), "longer than 64 characters"},
      {"../x", "contains '.' (only A-Z a-z 0-9 - _ allowed)"},
      {"a/b", "contains '/' (only A-Z a-z 0-9 - _ allowed)"},
      {"a b", "contains ' ' (only A-Z a-z 0-9 - _ allowed)"},
      {"%2e%2e", "contains '%' (only A-Z a-z 0-9 - _ allowed)"},
      {"job\n", "contains '\\n' (only A-Z a-z 0-9 - _ allowed)"},
      {"job\x01", "contains '\\x01' (only A-Z a-z 0-9 - _ allowed)"},
      {"job\x1b[31m", "contains '\\x1b' (only A-Z a-z 0-9 - _ allowed)"},
      {"a\0b"s, "contains '\\x00' (only A-Z a-z 0-9 - _ allowed)"},
      {"job\x7f", "contains '\\x7f' (only A-Z a-z 0-9 - _ allowed)"},
      {"caf\xc3\xa9", "contains '\xc3\xa9' (only A-Z a-z 0-9 - _ allowed)"},
      {"a\xe2\x80\xae"
       "b",
       "contains '\\u{202e}' (only A-Z a-z 0-9 - _ allowed)"},
      {"a\xff", "contains '\\xff' (only A-Z a-z 0-9 - _ allowed)"},
      {"a?b=c", "contains '?' (only A-Z a-z 0-9 - _ allowed)"},
  };
  for (const auto& c : cases) {
    const auto problem = id_problem(c.id);
    if (c.reason.empty()) {
      EXPECT_FALSE(problem) << escape_for_display(c.id) << ": " << problem.value_or("");
    } else {
      EXPECT_EQ(problem.value_or("<valid>"), c.reason) << escape_for_display(c.id);
    }
  }
}

TEST(EscapeForDisplay, NeverPassesControlCharactersThrough) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  const std::string shown = escape_for_display(all, 10000);
  for (unsigned char c : shown) {
    EXPECT_FALSE(c < 0x20 || c == 0x7f) << int(c);
  }
  EXPECT_EQ(escape_for_display("a\\b"), "a\\\\b");
  EXPECT_EQ(escape_for_display(std::string(100, 'x'), 8), "xxxxxxxx…");
}

TEST(ParseJobs, ResolvesDefaultProjectAndDropsDuplicates) {
  auto jobs = parse_jobs(
      obj(R"({"jobs":[{"job_id":"a"},{"job_id":"b","project_id":"p2"},{"job_id":"a"}]})"), "p1");
  ASSERT_TRUE((std::holds_alternative<std::vector<JobSelector>>(jobs)));
  const auto& refs = std::get<0>(jobs);
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(refs[0].job, (jobwatch::watch::JobRef{"p1", "a"}));
  EXPECT_EQ(refs[1].job, (jobwatch::watch::JobRef{"p2", "b"}));
  EXPECT_FALSE(refs[0].api);  // not named: the service decides
}

TEST(ParseJobs, ApiIsAKnownNameOrInvalidParameterApi) {
  auto jobs =
      parse_jobs(obj(R"({"jobs":[{"job_id":"a","api":"app-v2"},{"job_id":"b","api":"desktop-v2"},
                      {"job_id":"c","api":null},{"job_id":"a"}]})"),
                 "p");
  ASSERT_TRUE((std::holds_alternative<std::vector<JobSelector>>(jobs)));
  const auto& refs = std::get<0>(jobs);
  ASSERT_EQ(refs.size(), 3u);
  EXPECT_EQ(refs[0].api, jobwatch::model::Api::app_v2);
  EXPECT_EQ(refs[1].api, jobwatch::model::Api::desktop_v2);
  EXPECT_FALSE(refs[2].api);
  for (const char* text :
       {R"({"jobs":[{"job_id":"a","api":"v2"}]})", R"({"jobs":[{"job_id":"a","api":["app-v2"]}]})",
        R"({"jobs":[{"job_id":"a","api":"app-v1"},{"job_id":"a","api":"app-v2"}]})"}) {
    auto bad = parse_jobs(obj(text), "p");
    EXPECT_EQ(error_of(bad).error, errors::invalid_parameter) << text;
    EXPECT_EQ(param_of(error_of(bad)), "api") << text;
  }
}

TEST(ParseJobs, NoDefaultProjectIsInvalidParameter) {
  auto jobs = parse_jobs(obj(R"({"jobs":[{"job_id":"a"}]})"), "");
  EXPECT_EQ(error_of(jobs).error, errors::invalid_parameter);
  EXPECT_EQ(param_of(error_of(jobs)), "project_id");
}

TEST(ParseJobs, InvalidIdsAreInvalidJobId) {
  auto jobs = parse_jobs(obj(R"({"jobs":[{"job_id":"ok"},{"job_id":"../etc"}]})"), "p");
  const auto& error = error_of(jobs);
  EXPECT_EQ(error.error, errors::invalid_job_id);
  EXPECT_EQ(error.parameters.at("job_id"), "../etc");
  EXPECT_EQ(error.parameters.at("reason"), "contains '.' (only A-Z a-z 0-9 - _ allowed)");

  jobs = parse_jobs(obj(R"({"jobs":[{"job_id":"ok","project_id":"a/b"}]})"), "p");
  EXPECT_EQ(error_of(jobs).error, errors::invalid_job_id);
  EXPECT_EQ(error_of(jobs).parameters.at("reason"),
            "project_id contains '/' (only A-Z a-z 0-9 - _ allowed)");

  jobs = parse_jobs(obj(R"({"jobs":[{"job_id":"x\u0007y"}]})"), "p");
  EXPECT_EQ(error_of(jobs).parameters.at("job_id"), "x\\x07y");
}

TEST(ParseJobs, WrongTypes) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({})", "jobs"},
      {R"({"jobs":{}})", "jobs"},
      {R"({"jobs":[]})", "jobs"},
      {R"({"jobs":"a"})", "jobs"},
      {R"({"jobs":["a"]})", "jobs[0]"},
      {R"({"jobs":[{"job_id":1}]})", "jobs[0].job_id"},
      {R"({"jobs":[{}]})", "jobs[0].job_id"},
      {R"({"jobs":[{"job_id":"a","project_id":5}]})", "jobs[0].project_id"},
      {R"({"jobs":[{"job_id":"a"},{"job_id":"b","extra":1}]})", "jobs[1].extra"},
  };
  for (const auto& [text, parameter] : cases) {
    auto jobs = parse_jobs(obj(text), "p");
    EXPECT_EQ(error_of(jobs).error, errors::invalid_parameter) << text;
    EXPECT_EQ(param_of(error_of(jobs)), parameter) << text;
  }
}

TEST(ParseJobRef, TopLevel) {
  auto ref = parse_job_ref(obj(R"({"job_id":"j"})"), "p");
  ASSERT_TRUE(std::holds_alternative<jobwatch::watch::JobRef>(ref));
  EXPECT_EQ(std::get<0>(ref), (jobwatch::watch::JobRef{"p", "j"}));
  EXPECT_EQ(param_of(error_of(parse_job_ref(obj(R"({})"), "p"))), "job_id");
  EXPECT_EQ(error_of(parse_job_ref(obj(R"({"job_id":""})"), "p")).parameters.at("reason"), "empty");
}

TEST(ParseLabels, Valid) {
  auto labels = parse_labels(obj(R"({"labels":{"team":"ops","a.b_c-D":"x y ü"}})"));
  ASSERT_TRUE(std::holds_alternative<jobwatch::watch::Labels>(labels));
  const auto& l = std::get<0>(labels);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].first, "a.b_c-D");  // sorted
  EXPECT_EQ(l[1], (std::pair<std::string, std::string>{"team", "ops"}));
  EXPECT_TRUE(std::get<0>(parse_labels(obj("{}"))).empty());
}

TEST(ParseLabels, Limits) {
  json::object many;
  json::object labels;
  for (int i = 0; i < 32; ++i) labels["k" + std::to_string(i)] = "v";
  many["labels"] = labels;
  EXPECT_TRUE(std::holds_alternative<jobwatch::watch::Labels>(parse_labels(many)));
  labels["k32"] = "v";
  many["labels"] = labels;
  EXPECT_EQ(param_of(error_of(parse_labels(many))), "labels");

  const std::string key63(63, 'k');
  json::object ok{{"labels", json::object{{key63, std::string(256, 'v')}}}};
  EXPECT_TRUE(std::holds_alternative<jobwatch::watch::Labels>(parse_labels(ok)));

  json::object long_key{{"labels", json::object{{key63 + "k", "v"}}}};
  EXPECT_EQ(error_of(parse_labels(long_key)).error, errors::invalid_parameter);

  json::object long_value{{"labels", json::object{{"owner", std::string(257, 'v')}}}};
  EXPECT_EQ(param_of(error_of(parse_labels(long_value))), "labels.owner");

  EXPECT_EQ(param_of(error_of(parse_labels(obj(R"({"labels":{"owner":1}})")))), "labels.owner");
  EXPECT_EQ(param_of(error_of(parse_labels(obj(R"({"labels":{"":"v"}})")))), "labels.");
  EXPECT_EQ(param_of(error_of(parse_labels(obj(R"({"labels":{"a/b":"v"}})")))), "labels.a/b");
  EXPECT_EQ(param_of(error_of(parse_labels(obj(R"({"labels":{"a\nb":"v"}})")))), "labels.a\\nb");
  EXPECT_EQ(param_of(error_of(parse_labels(obj(R"({"labels":["a"]})")))), "labels");
}

TEST(ParseSeconds, PositiveFinite) {
  auto ok = parse_seconds(obj(R"({"deadline_s":1.5})"), "deadline_s");
  ASSERT_TRUE(std::holds_alternative<std::optional<std::chrono::milliseconds>>(ok));
  EXPECT_EQ(std::get<0>(ok), std::chrono::milliseconds(1500));
  auto tiny = parse_seconds(obj(R"({"t":0.0001})"), "t");
  EXPECT_EQ(std::get<0>(tiny), std::chrono::milliseconds(1));
  auto integer = parse_seconds(obj(R"({"t":30})"), "t");
  EXPECT_EQ(std::get<0>(integer), std::chrono::milliseconds(30000));
  EXPECT_FALSE(std::get<0>(parse_seconds(obj("{}"), "t")));

  for (const char* bad : {R"({"t":0})", R"({"t":-1})", R"({"t":"5"})", R"({"t":1e300})",
                          R"({"t":true})", R"({"t":[]})", R"({"t":-0.0})"}) {
    EXPECT_EQ(param_of(error_of(parse_seconds(obj(bad), "t"))), "t") << bad;
  }
}

TEST(CheckKnown, NamesTheUnknownParameter) {
  EXPECT_FALSE(check_known(obj(R"({"jobs":1})"), {"jobs"}));
  auto bad = check_known(obj(R"({"jobs":1,"job":2})"), {"jobs"});
  ASSERT_TRUE(bad);
  EXPECT_EQ(param_of(*bad), "job");
}
