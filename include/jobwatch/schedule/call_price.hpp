// What a call is worth when the rate budget binds (SPEC §7): a price in
// seconds of expected detection delay, against which the poll step
// stretches placed gaps (watch/poll_step.cpp, priced_gap). Sans-io.
//
// Why a price: ranking the due polls (priority.hpp) only reorders the calls
// placement asked for. With demand three times the budget every poll then
// waits, every gap stretches by the same queue, and the calls go where
// placement wanted them unconstrained — target_delay over wide and sharp
// windows alike. The least total delay for a given number of calls polls
// each watch every Δ = √(2λ / h), h its end hazard (the square-root law,
// docs/POLL-TIMING.md "Priority"), with one λ for all: the delay one call
// must save to be worth making. λ is solved from the planned polls
// themselves (feed-forward), not steered by the queue: a gap planned now
// shows in the queue only a gap later, and a controller on the queue
// measured swinging between an idle budget and a queue of minutes.
#pragma once

#include <span>

namespace jobwatch::schedule {

// A watch whose next gap the price may stretch: the gap placement chose
// unconstrained, and the chance per second that a poll finds its end.
struct PriceableGap {
  double gap_s;
  double hazard_per_s;
};

// The gap a price gives: at least `gap_s`, √(2·price / hazard) where that
// is longer, at most max_interval_s (and `gap_s` where that is longer).
double gap_at_price(double gap_s, double hazard_per_s, double price_s, double max_interval_s);

// The least price at which the planned calls fit `rate_per_s`: the
// priceable watches at gap_at_price plus `fixed_calls_per_s` (watches the
// price does not move: backoff, windows' edges). 0 when they fit unpriced
// or there is no limit (rate not positive or not finite); when even every
// priceable gap at max_interval does not fit, the price that puts them all
// there.
double price_to_fit(std::span<const PriceableGap> watches, double fixed_calls_per_s,
                    double rate_per_s, double max_interval_s);

}  // namespace jobwatch::schedule
