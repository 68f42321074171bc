#include "jobwatch/watch/timing.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <chrono>
#include <cmath>

namespace jobwatch::watch {
namespace {

double seconds_between(model::WallTime from, model::WallTime to) {
  return std::chrono::duration<double>(to - from).count();
}

std::optional<std::string> string_field(const boost::json::object& obj, std::string_view key) {
  const boost::json::value* v = obj.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

}  // namespace

std::optional<JobTiming> job_timing(const std::optional<std::string>& begin_time,
                                    const std::optional<std::string>& end_time,
                                    std::optional<model::WallTime> expected_end_time) {
  if (!begin_time || !end_time) return std::nullopt;
  const auto begin = model::parse_rfc3339(*begin_time);
  const auto end = model::parse_rfc3339(*end_time);
  if (!begin || !end || *end < *begin) return std::nullopt;
  JobTiming timing{seconds_between(*begin, *end), std::nullopt};
  if (expected_end_time && *expected_end_time > *begin)
    timing.expected_duration_s = seconds_between(*begin, *expected_end_time);
  return timing;
}

std::optional<JobTiming> job_timing_of_json(std::string_view job_json) {
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(job_json, ec);
  if (ec || !doc.is_object()) return std::nullopt;
  const boost::json::object& obj = doc.get_object();
  std::optional<model::WallTime> expected;
  if (auto text = string_field(obj, "expected_end_time")) expected = model::parse_rfc3339(*text);
  return job_timing(string_field(obj, "begin_time"), string_field(obj, "end_time"), expected);
}

schedule::TimingKey timing_key(const Watch& watch) {
  return {std::string(model::api_name(watch.api)), watch.job.project_id, watch.job_type};
}

std::optional<EndPrediction> predict_end(const Watch& watch, const model::JobSnapshot& job,
                                         const schedule::TimingModels& models, model::WallTime now,
                                         std::chrono::milliseconds api_clock_offset) {
  // A key seen for the first time predicts from the API's estimate alone
  // (SPEC §7's cold start), as a key with no usable history does.
  static const schedule::TimingModel no_history;
  const schedule::TimingModel* model = models.find(timing_key(watch));
  if (!model) model = &no_history;
  if (!job.begin_time) return std::nullopt;
  const auto begin = model::parse_rfc3339(*job.begin_time);
  if (!begin) return std::nullopt;
  const double age_s = std::max(0.0, seconds_between(*begin, now + api_clock_offset));
  std::optional<double> expected_s;
  if (watch.expected_end_time && *watch.expected_end_time > *begin)
    expected_s = seconds_between(*begin, *watch.expected_end_time);
  auto prediction = model->predict(age_s, expected_s);
  if (!prediction) return std::nullopt;
  EndPrediction out{age_s, prediction->distribution, std::nullopt, 0};
  if (job.begin_time->find('.') == std::string::npos) out.time_resolution_s = 1;
  // A job already running when the watch was created belongs to the jobs
  // that outlived that age; planning on all of them would spend the delay
  // budget on ends that can no longer happen.
  const double created_age_s = seconds_between(*begin, watch.created_at + api_clock_offset);
  if (created_age_s > 0) {
    if (auto given = prediction->distribution.given_alive_at(created_age_s)) out.plan_on = *given;
  }
  if (prediction->end) {
    const auto at = [&](double s) {
      return *begin + std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(s * 1000)));
    };
    out.end = PredictedEnd{at(prediction->end->p10_s), at(prediction->end->p50_s),
                           at(prediction->end->p90_s)};
  }
  return out;
}

schedule::PlacementParams placement_params(const config::PollConfig& poll) {
  const auto seconds = [](std::chrono::milliseconds d) {
    return std::chrono::duration<double>(d).count();
  };
  schedule::PlacementParams params;
  params.target_delay_s = seconds(poll.target_delay);
  params.min_interval_s = seconds(poll.min_interval);
  params.max_interval_s = seconds(poll.max_interval);
  params.coverage = 0.99;
  return params;
}

boost::json::object timing_json(const schedule::TimingKey& key, const schedule::TimingModel& model,
                                const config::PollConfig& poll) {
  boost::json::object out{{"api", key.api},
                          {"project_id", key.project_id},
                          {"job_type", key.job_type},
                          {"jobs", model.jobs()}};
  const auto quantiles = [](const schedule::EndDistribution& d) {
    return boost::json::object{
        {"p10", d.quantile(0.1)}, {"p50", d.quantile(0.5)}, {"p90", d.quantile(0.9)}};
  };
  const auto durations = model.duration_distribution();
  out["duration_s"] = durations ? quantiles(*durations)
                                : boost::json::object{{"p10", 0.0}, {"p50", 0.0}, {"p90", 0.0}};
  // The ratio histogram scaled by 1 is the end / estimate ratio itself.
  if (model.estimate_jobs() > 0) {
    if (auto ratios = model.ratio_distribution(1.0)) out["estimate_error"] = quantiles(*ratios);
  }
  if (durations && schedule::TimingModel::has_history(model.durations())) {
    const schedule::PollPlan plan = schedule::plan_polls(*durations, placement_params(poll));
    if (!plan.windows.empty())
      out["window"] = boost::json::object{{"from_s", plan.windows.front().lo_s},
                                          {"to_s", plan.windows.back().hi_s}};
  }
  return out;
}

schedule::TimingModels seed_timing_models(const std::vector<Watch>& watches,
                                          const StoredAnswer& stored,
                                          schedule::TimingModelParams params) {
  std::vector<const Watch*> ended;
  for (const Watch& w : watches)
    if (w.status == WatchStatus::succeeded) ended.push_back(&w);
  std::stable_sort(ended.begin(), ended.end(),
                   [](const Watch* a, const Watch* b) { return a->finished_at < b->finished_at; });
  schedule::TimingModels models(params);
  for (const Watch* w : ended) {
    if (auto timing = job_timing_of_json(last_answer(*w, stored)))
      models.get(timing_key(*w)).observe_job(timing->duration_s, timing->expected_duration_s);
  }
  return models;
}

}  // namespace jobwatch::watch
