#include "peers.hpp"

#include <algorithm>
#include <cmath>

namespace jobwatch::bench {
namespace {

// Drives `next_gap` (the gap after the n-th poll, n from 1) from the first
// poll at submitted_at + first_s until a poll at or after the job's end.
template <class NextGap>
PeerRun poll_until_end(const TraceJob& job, double first_s, NextGap next_gap) {
  PeerRun run;
  double t = job.submitted_at + first_s;
  run.longest_gap_s = first_s;
  for (;;) {
    ++run.calls;
    if (t >= job.end_at) break;
    const double gap = next_gap(run.calls);
    run.longest_gap_s = std::max(run.longest_gap_s, gap);
    t += gap;
  }
  run.detected_at = t;
  return run;
}

class FixedInterval final : public Peer {
 public:
  explicit FixedInterval(double interval_s) : interval_s_(interval_s) {}
  std::string name() const override {
    return "fixed " + std::to_string(static_cast<int>(interval_s_)) + " s";
  }
  PeerRun run(const TraceJob& job, std::mt19937_64&) const override {
    return poll_until_end(job, 0, [&](std::size_t) { return interval_s_; });
  }

 private:
  double interval_s_;
};

// terraform-plugin-sdk helper/retry StateChangeConf.WaitForStateContext:
// sleep Delay, refresh; then wait = PollInterval if set (and < 180 s), else
// 100 ms doubled before each wait and capped at 10 s (MinTimeout 0).
class StateChangeConf final : public Peer {
 public:
  StateChangeConf(std::string label, double delay_s, double poll_interval_s)
      : label_(std::move(label)), delay_s_(delay_s), poll_interval_s_(poll_interval_s) {}
  std::string name() const override { return label_; }
  PeerRun run(const TraceJob& job, std::mt19937_64&) const override {
    double wait = 0.1;
    return poll_until_end(job, delay_s_, [&](std::size_t) {
      wait *= 2;
      if (poll_interval_s_ > 0 && poll_interval_s_ < 180) return poll_interval_s_;
      wait = std::min(wait, 10.0);
      return wait;
    });
  }

 private:
  std::string label_;
  double delay_s_;
  double poll_interval_s_;
};

// Smithy waiters (the AWS SDKs' generated waiters): the first attempt at
// once, then before attempt n+1 a delay uniform in [minDelay,
// min(maxDelay, minDelay * 2^(n-1))], minDelay 2 s, maxDelay 120 s.
class SmithyWaiter final : public Peer {
 public:
  std::string name() const override { return "Smithy waiter 2-120 s"; }
  PeerRun run(const TraceJob& job, std::mt19937_64& rng) const override {
    return poll_until_end(job, 0, [&](std::size_t attempt) {
      const double cap = std::min(120.0, 2.0 * std::pow(2.0, static_cast<double>(attempt - 1)));
      return std::uniform_real_distribution<double>(2.0, cap)(rng);
    });
  }
};

// Azure SDK long-running-operation poller without Retry-After: the first
// status poll 30 s after the operation started, then every 30 s.
class AzurePoller final : public Peer {
 public:
  std::string name() const override { return "Azure poller 30 s"; }
  PeerRun run(const TraceJob& job, std::mt19937_64&) const override {
    return poll_until_end(job, 30, [](std::size_t) { return 30.0; });
  }
};

// What a careful script does with an estimate: one call to read it, sleep
// to 70 % of the estimated duration, then every target_delay. With no
// estimate it is the fixed loop.
class EtaWindow final : public Peer {
 public:
  explicit EtaWindow(double interval_s) : interval_s_(interval_s) {}
  std::string name() const override { return "ETA window 0.7x"; }
  PeerRun run(const TraceJob& job, std::mt19937_64&) const override {
    if (!job.expected_end_at || job.api != model::Api::app_v1)
      return poll_until_end(job, 0, [&](std::size_t) { return interval_s_; });
    const double sleep_s = std::max(0.0, 0.7 * (*job.expected_end_at - job.submitted_at));
    return poll_until_end(job, 0, [&](std::size_t n) { return n == 1 ? sleep_s : interval_s_; });
  }

 private:
  double interval_s_;
};

}  // namespace

std::vector<std::unique_ptr<Peer>> standard_peers(const PeerSettings& settings) {
  std::vector<std::unique_ptr<Peer>> peers;
  peers.push_back(std::make_unique<FixedInterval>(settings.target_delay_s));
  peers.push_back(
      std::make_unique<StateChangeConf>("Terraform huaweicloud workspace (10 s, 15 s)", 10, 15));
  peers.push_back(std::make_unique<StateChangeConf>("Terraform StateChangeConf default", 0, 0));
  peers.push_back(std::make_unique<SmithyWaiter>());
  peers.push_back(std::make_unique<AzurePoller>());
  peers.push_back(std::make_unique<EtaWindow>(settings.target_delay_s));
  return peers;
}

}  // namespace jobwatch::bench
