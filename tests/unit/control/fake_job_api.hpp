// A scripted upstream for control tests: answers fetch() from a map of job
// statuses (via asio::post, never inside fetch), 404 for unknown jobs.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/array.hpp>
#include <map>
#include <string>
#include <utility>

#include "jobwatch/model/app_v1.hpp"
#include "jobwatch/upstream/job_api.hpp"

namespace jobwatch::control::test {

class FakeJobApi : public upstream::JobApi {
 public:
  explicit FakeJobApi(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}

  // status: 0 failed, 1 successful, 2 handling, 3 initializing.
  void set(const std::string& job_id, int status, int subjobs_done = 0, int subjobs_total = 0) {
    jobs_[job_id] = {status, subjobs_done, subjobs_total};
  }

  void fetch(model::Api api, const std::string& project_id, const std::string& job_id,
             Callback done) override {
    (void)api;
    ++fetches_;
    upstream::Answer answer;
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) {
      answer.kind = upstream::AnswerKind::not_found;
      answer.http_status = 404;
      answer.error_code = "WKS.0404";
      answer.error_msg = "job not found";
    } else {
      boost::json::object job{{"job_id", job_id},
                              {"job_status", it->second.status},
                              {"begin_time", "2026-11-28T12:00:00Z"}};
      boost::json::array subs;
      for (int i = 0; i < it->second.total; ++i) {
        subs.push_back(boost::json::object{{"job_id", job_id + "-sub" + std::to_string(i)},
                                           {"job_status", i < it->second.done ? 1 : 2}});
      }
      if (it->second.total > 0) job["sub_jobs"] = std::move(subs);
      auto parsed = model::parse_job_detail(job);
      answer.kind = upstream::AnswerKind::ok;
      answer.http_status = 200;
      answer.job = model::to_snapshot(std::get<model::JobDetail>(std::move(parsed)));
    }
    (void)project_id;
    boost::asio::post(executor_, [done = std::move(done), answer = std::move(answer)]() mutable {
      done(std::move(answer));
    });
  }

  int fetches() const { return fetches_; }

 private:
  struct Script {
    int status;
    int done;
    int total;
  };
  boost::asio::any_io_executor executor_;
  std::map<std::string, Script> jobs_;
  int fetches_ = 0;
};

}  // namespace jobwatch::control::test
