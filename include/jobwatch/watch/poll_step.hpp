// What one poll answer does to a watch — pure, time passed in. The engine
// applies the result: events to emit, when to poll next, or how it ended.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

#include "jobwatch/config/config.hpp"
#include "jobwatch/schedule/timing_model.hpp"
#include "jobwatch/upstream/answer.hpp"
#include "jobwatch/watch/event.hpp"
#include "jobwatch/watch/watch_table.hpp"

namespace jobwatch::watch {

struct StepResult {
  std::vector<Event> events;  // in emission order; the last one is final when `finished`
  bool finished = false;
  // The watch's statuses changed (or it finished): worth recording durably.
  // Polls that only confirm what was known are not written.
  bool changed = false;
  // When not finished: the gap until the next poll (already bounded by the
  // watch's deadline, so an expiring watch wakes up to be abandoned).
  std::chrono::milliseconds next_gap{0};
};

// The rate budget as the engine sees it when an answer arrives.
struct BudgetNow {
  // How long a poll due now is likely to wait for a token.
  std::chrono::milliseconds wait{0};
  // The delay a call must save while the budget binds (0 otherwise;
  // schedule/call_price.hpp): gaps where the end is least likely stretch
  // to meet it.
  double call_price_s = 0;
};

// Applies `answer` to `watch` (state, counters, last_error, tracker state)
// and decides what follows. `jitter_unit` is uniform in [0, 1). With the
// learned `timing` models (SPEC §7), a usable answer for a running job whose
// key predicts is followed where its end is likely (placement); otherwise,
// and for every other outcome, the capped backoff of schedule::next_poll.
// `now` is the host's clock; wherever it meets the job's own times (its age,
// the time left to expected_end_time) it is read in the API's, `now +
// api_clock_offset` (ApiClock). An answer whose text differs from the last
// one lands in `watch.unsaved_answer` for the engine to hand to its journal;
// `budget` prices the gap when the budget binds;
// `stored` gives the last answer to an abandon event once the journal has it.
StepResult apply_answer(Watch& watch, const upstream::Answer& answer,
                        const config::PollConfig& poll, model::WallTime now, double jitter_unit,
                        const schedule::TimingModels* timing = nullptr,
                        std::chrono::milliseconds api_clock_offset = {},
                        const BudgetNow& budget = {}, const StoredAnswer& stored = {});

// Ends a watch whose deadline has passed before its next poll; nullopt when
// the deadline is still ahead.
std::optional<Event> expire_if_due(Watch& watch, model::WallTime now,
                                   const StoredAnswer& stored = {});

}  // namespace jobwatch::watch
