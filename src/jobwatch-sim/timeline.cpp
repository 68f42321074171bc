#include "timeline.hpp"

#include <algorithm>
#include <cstdio>

#include "render.hpp"

namespace jobwatch::sim {

namespace json = boost::json;

namespace {

Millis handle_start(const Job& job) {
  return job.start_delay + std::min(job.initializing, job.duration);
}

Millis elapsed(const Job& job, SimTime now) {
  return std::chrono::duration_cast<Millis>(now - job.created);
}

// The value a derived (unscripted) timeline sends for `phase`. Desktop
// subjobs start in INIT and their jobs in WAITING, so both spellings of
// "initializing" reach the daemon without a script.
json::value derived_status(Api api, Phase phase, bool subjob) {
  switch (api) {
    case Api::app_v1:
      switch (phase) {
        case Phase::initial:
          return status_initializing;
        case Phase::running:
          return status_handling;
        case Phase::succeeded:
          return status_successful;
        default:
          return status_failed;
      }
    case Api::app_v2:
    case Api::desktop_v2:
      switch (phase) {
        case Phase::initial:
          return api == Api::desktop_v2 && subjob ? "INIT" : "WAITING";
        case Phase::running:
          return "RUNNING";
        case Phase::succeeded:
          return "SUCCESS";
        default:
          return "FAILED";
      }
  }
  return nullptr;
}

const StatusTimeline* timeline_of(const std::shared_ptr<const Script>& script) {
  return script && !script->timeline.empty() ? &script->timeline : nullptr;
}

StatusNow scripted_status(const StatusTimeline& tl, Api api, bool subjob, Millis e) {
  // upper_bound: the last entry with at <= e wins, even among equal offsets.
  const auto after = std::upper_bound(tl.begin(), tl.end(), e,
                                      [](Millis t, const StatusPoint& p) { return t < p.at; });
  StatusNow s;
  if (after == tl.begin()) {
    // Before its first entry a job waits like any new job of its API.
    s.status = derived_status(api, Phase::initial, subjob);
    return s;
  }
  const auto current = after - 1;
  s.status = current->status;
  s.phase = classify_status(s.status);
  for (auto it = tl.begin(); it != after; ++it) {
    if (classify_status(it->status) != Phase::initial) {
      s.begin = it->at;
      break;
    }
  }
  if (is_terminal(s.phase)) {
    // A run of terminal entries ended the job at its first one.
    auto first = current;
    while (first != tl.begin() && is_terminal(classify_status((first - 1)->status))) --first;
    s.end = first->at;
  }
  return s;
}

StatusNow derived(Api api, bool subjob, Phase phase, Millis begin, Millis end) {
  StatusNow s;
  s.phase = phase;
  s.status = derived_status(api, phase, subjob);
  if (phase != Phase::initial) s.begin = begin;
  if (is_terminal(phase)) s.end = end;
  return s;
}

}  // namespace

std::string_view api_name(Api api) {
  switch (api) {
    case Api::app_v1:
      return "app-v1";
    case Api::app_v2:
      return "app-v2";
    case Api::desktop_v2:
      return "desktop-v2";
  }
  return "?";
}

std::optional<Api> parse_api(std::string_view name) {
  if (name == "app-v1") return Api::app_v1;
  if (name == "app-v2") return Api::app_v2;
  if (name == "desktop-v2") return Api::desktop_v2;
  return std::nullopt;
}

std::string format_time(SimTime t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{std::chrono::floor<std::chrono::seconds>(t - day)};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::string format_time_ms(SimTime t) {
  std::string s = format_time(t);
  const auto ms = (t - std::chrono::floor<std::chrono::seconds>(t)).count();
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms));
  s.insert(s.size() - 1, frac);
  return s;
}

Phase classify_status(const json::value& status) {
  if (status.is_int64()) {
    switch (status.get_int64()) {
      case status_initializing:
        return Phase::initial;
      case status_handling:
        return Phase::running;
      case status_successful:
        return Phase::succeeded;
      case status_failed:
        return Phase::failed;
      default:
        return Phase::other;
    }
  }
  const json::string* s = status.if_string();
  if (!s) return Phase::other;
  if (*s == "WAITING" || *s == "INIT") return Phase::initial;
  if (*s == "RUNNING" || *s == "ROLLBACK" || *s == "ABORTING") return Phase::running;
  if (*s == "SUCCESS" || *s == "COMPLETE") return Phase::succeeded;
  if (*s == "FAILED" || *s == "FAIL" || *s == "ABNORMAL") return Phase::failed;
  return Phase::other;
}

StatusNow job_status_now(const Job& job, SimTime now) {
  const Millis e = elapsed(job, now);
  if (const StatusTimeline* tl = timeline_of(job.script))
    return scripted_status(*tl, job.api, false, e);
  const Millis start = handle_start(job);
  const Millis end = job.start_delay + job.duration;
  const Phase phase = e < start ? Phase::initial
                      : e < end ? Phase::running
                                : (job.success ? Phase::succeeded : Phase::failed);
  return derived(job.api, false, phase, start, end);
}

StatusNow subjob_status_now(const Job& job, const SubJob& sub, SimTime now) {
  const Millis e = elapsed(job, now);
  if (const StatusTimeline* tl = timeline_of(sub.script))
    return scripted_status(*tl, job.api, true, e);
  const Millis start = handle_start(job);
  const Millis end = job.start_delay + sub.end;
  const Phase phase = e >= end    ? (sub.success ? Phase::succeeded : Phase::failed)
                      : e < start ? Phase::initial
                                  : Phase::running;
  return derived(job.api, true, phase, std::min(start, end), end);
}

json::value final_job_status(const Job& job) {
  if (const StatusTimeline* tl = timeline_of(job.script)) return tl->back().status;
  return derived_status(job.api, job.success ? Phase::succeeded : Phase::failed, false);
}

json::value final_subjob_status(const Job& job, const SubJob& sub) {
  if (const StatusTimeline* tl = timeline_of(sub.script)) return tl->back().status;
  return derived_status(job.api, sub.success ? Phase::succeeded : Phase::failed, true);
}

Millis timeline_end(const StatusTimeline& tl) {
  if (tl.empty()) return Millis{0};
  return scripted_status(tl, Api::app_v1, false, tl.back().at).end.value_or(tl.back().at);
}

Millis job_end_offset(const Job& job) {
  if (const StatusTimeline* tl = timeline_of(job.script)) return timeline_end(*tl);
  return job.start_delay + job.duration;
}

bool is_visible(const Job& job, SimTime now) {
  return !job.ghost && elapsed(job, now) >= job.not_found;
}

int job_status_at(const Job& job, SimTime now) {
  const StatusNow s = job_status_now(job, now);
  return s.status.is_int64() ? static_cast<int>(s.status.get_int64()) : -1;
}

int subjob_status_at(const Job& job, const SubJob& sub, SimTime now) {
  const StatusNow s = subjob_status_now(job, sub, now);
  return s.status.is_int64() ? static_cast<int>(s.status.get_int64()) : -1;
}

std::optional<json::object> render_job_detail(const Job& job, SimTime now,
                                              std::string_view path_project) {
  if (!is_visible(job, now)) return std::nullopt;
  switch (job.api) {
    case Api::app_v1:
      return render_v1_detail(job, now);
    case Api::app_v2:
      return render_app_v2(job, now, path_project);
    case Api::desktop_v2:
      return render_desktop_v2(job, now);
  }
  return std::nullopt;
}

std::optional<json::object> render_body(const Job& job, SimTime now,
                                        std::string_view path_project) {
  auto detail = render_job_detail(job, now, path_project);
  if (!detail || job.api != Api::app_v1) return detail;
  json::object body;
  body["job"] = std::move(*detail);
  return body;
}

IdGenerator::IdGenerator(std::uint64_t seed) : state_(seed ^ 0x2545F4914F6CDD1Dull) {
  // Start somewhere in the 18-digit range, leaving ample room above.
  last_ = 100000000000000000ull + (next() % 400000000000000000ull);
}

std::uint64_t IdGenerator::next() {
  // splitmix64: decides the step, so IDs look irregular but never repeat.
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  if (last_ == 0) return z;  // only while the constructor picks the start
  last_ += 1 + z % 4096;
  return last_;
}

}  // namespace jobwatch::sim
