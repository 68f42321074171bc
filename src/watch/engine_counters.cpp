#include <string>

#include "engine_impl.hpp"

namespace jobwatch::watch::engine_detail {

EngineCounters::EngineCounters(metrics::Registry* shared)
    : registry(shared),
      polls(registry->counter("jobwatch_polls_total",
                              "Job polls by how they were answered: ok, not_found, unauthorized, "
                              "throttled, server_error, rejected, timeout, reset, malformed.",
                              {"answer"})),
      by_http(registry->counter("jobwatch_poll_http_status_total",
                                "Job polls answered, by HTTP status.", {"code"})),
      events(registry->counter("jobwatch_events_emitted_total",
                               "Transitions detected and emitted, by event type.", {"type"})) {
  // Every answer kind and event type is shown from the start, at 0.
  for (std::size_t i = 0; i < polls_by_answer.size(); ++i)
    polls_by_answer[i] = metrics::Counter(
        polls.cell({std::string(upstream::kind_name(static_cast<upstream::AnswerKind>(i)))}));
  for (std::size_t i = 0; i < events_by_type.size(); ++i)
    events_by_type[i] =
        metrics::Counter(events.cell({std::string(type_name(static_cast<EventType>(i)))}));
}

metrics::Counter& EngineCounters::http_status(unsigned code) {
  auto [at, added] = by_code.try_emplace(code);
  if (added) at->second = metrics::Counter(by_http.cell({std::to_string(code)}));
  return at->second;
}

}  // namespace jobwatch::watch::engine_detail
