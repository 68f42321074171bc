#include "scripted_api.hpp"

#include <boost/json.hpp>

namespace jobwatch::testing {

upstream::Answer job_answer(const std::string& job_id, int status, const std::vector<int>& subjobs,
                            const std::string& expected_end_time) {
  boost::json::object job{{"job_id", job_id}, {"job_type", 1}, {"job_status", status}};
  boost::json::array subs;
  for (std::size_t i = 0; i < subjobs.size(); ++i)
    subs.push_back(boost::json::object{{"job_id", job_id + "-sub" + std::to_string(i)},
                                       {"job_type", 2},
                                       {"job_status", subjobs[i]}});
  if (!subjobs.empty()) job["sub_jobs"] = std::move(subs);
  if (!expected_end_time.empty()) job["expected_end_time"] = expected_end_time;
  const std::string body = boost::json::serialize(boost::json::object{{"job", std::move(job)}});
  return upstream::classify_response(200, "", body, std::chrono::system_clock::now());
}

upstream::Answer timed_job_answer(const std::string& job_id, int status,
                                  const std::string& begin_time, const std::string& end_time,
                                  const std::string& expected_end_time) {
  boost::json::object job{{"job_id", job_id}, {"job_type", 1}, {"job_status", status}};
  if (!begin_time.empty()) job["begin_time"] = begin_time;
  if (!end_time.empty()) job["end_time"] = end_time;
  if (!expected_end_time.empty()) job["expected_end_time"] = expected_end_time;
  const std::string body = boost::json::serialize(boost::json::object{{"job", std::move(job)}});
  return upstream::classify_response(200, "", body, std::chrono::system_clock::now());
}

upstream::Answer http_answer(unsigned status, const std::string& body) {
  return upstream::classify_response(status, "", body, std::chrono::system_clock::now());
}

}  // namespace jobwatch::testing
