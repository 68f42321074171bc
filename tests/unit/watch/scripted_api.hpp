// A JobApi whose answers the test scripts per job: the engine's seam for
// unit tests (the real HTTP client is tested in tests/unit/upstream and end
// to end in tests/integration).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jobwatch/upstream/job_api.hpp"

namespace jobwatch::testing {

class ScriptedApi final : public upstream::JobApi {
 public:
  // Given how many times this job was fetched before, the answer to give.
  using Script = std::function<upstream::Answer(int previous_fetches)>;

  explicit ScriptedApi(boost::asio::io_context& io) : io_(io) {}

  void script(const std::string& job_id, Script script) { scripts_[job_id] = std::move(script); }
  void set_latency(std::chrono::milliseconds latency) { latency_ = latency; }

  void fetch(model::Api api, const std::string& project_id, const std::string& job_id,
             Callback done) override {
    (void)project_id;
    apis_[job_id] = api;
    const int previous = fetches_[job_id]++;
    ++total_;
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    fetch_times_.push_back(std::chrono::steady_clock::now());
    auto it = scripts_.find(job_id);
    upstream::Answer answer = it != scripts_.end() ? it->second(previous)
                                                   : upstream::transport_failure(
                                                         upstream::AnswerKind::reset, "unscripted");
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, latency_);
    timer->async_wait(
        [this, timer, answer = std::move(answer), done = std::move(done)](auto) mutable {
          --in_flight_;
          done(std::move(answer));
        });
  }

  int fetches(const std::string& job_id) const {
    auto it = fetches_.find(job_id);
    return it == fetches_.end() ? 0 : it->second;
  }
  int total() const { return total_; }
  // The API the last fetch of `job_id` named.
  std::optional<model::Api> api_of(const std::string& job_id) const {
    auto it = apis_.find(job_id);
    if (it == apis_.end()) return std::nullopt;
    return it->second;
  }
  int max_in_flight() const { return max_in_flight_; }
  const std::vector<std::chrono::steady_clock::time_point>& fetch_times() const {
    return fetch_times_;
  }

 private:
  boost::asio::io_context& io_;
  std::map<std::string, Script> scripts_;
  std::map<std::string, int> fetches_;
  std::map<std::string, model::Api> apis_;
  std::chrono::milliseconds latency_{1};
  int total_ = 0;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  std::vector<std::chrono::steady_clock::time_point> fetch_times_;
};

// A 200 answer for a job with the given status and subjob statuses.
upstream::Answer job_answer(const std::string& job_id, int status,
                            const std::vector<int>& subjobs = {},
                            const std::string& expected_end_time = "");
upstream::Answer http_answer(unsigned status, const std::string& body = "");
// A 200 answer for a job (job_type 1, no subjobs) with its times: RFC 3339
// strings, each left out when empty.
upstream::Answer timed_job_answer(const std::string& job_id, int status,
                                  const std::string& begin_time, const std::string& end_time = "",
                                  const std::string& expected_end_time = "");

}  // namespace jobwatch::testing
