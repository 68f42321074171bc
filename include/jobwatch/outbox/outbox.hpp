// The outbox (SPEC §6): the Asio shell around DeliveryCore. It is the
// engine's journal (what the watches must keep goes into the state store)
// and the sinks' driver: the writes of one event-loop turn are committed
// together (one fsync), events reach the sinks only after the commit that
// put their outbox rows in the store, and each outcome is written back.
// The shell only moves things: the core decides, the store keeps, the
// sinks do I/O; it owns one retry timer, one grace timer and the flush.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jobwatch/asio/lifetime.hpp"
#include "jobwatch/metrics/exposition.hpp"
#include "jobwatch/metrics/registry.hpp"
#include "jobwatch/outbox/delivery_core.hpp"
#include "jobwatch/sinks/retry.hpp"
#include "jobwatch/sinks/sink_set.hpp"
#include "jobwatch/store/store.hpp"
#include "jobwatch/store/write_buffer.hpp"
#include "jobwatch/watch/journal.hpp"

namespace jobwatch::outbox {

// The clocks and the jitter the shell hands the core; empty: steady_clock
// with system_clock, and a seeded PRNG. Tests set them.
struct Clocks {
  std::function<Now()> now;
  std::function<double()> jitter;
};

class Outbox final : public watch::Journal {
 public:
  // Outcomes and commits are counted in `registry`, which must outlive this.
  Outbox(boost::asio::any_io_executor executor, store::Store& store,
         std::vector<sinks::SinkSpec> sinks, metrics::Registry& registry,
         sinks::RetryPolicy backoff = {}, Clocks clocks = {});
  ~Outbox() override;
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Start-up: queues what the store still owes the sinks, and reads how
  // many dead letters earlier runs left. False when the store could not be
  // read (logged).
  bool restore();

  // watch::Journal
  std::optional<std::string> record_new(const std::vector<const watch::Watch*>& watches) override;
  void record_change(const watch::Watch& watch, const std::vector<watch::Event>& events,
                     const std::optional<watch::TimingUpdate>& learned) override;
  void record_polls(const std::vector<const watch::Watch*>& watches) override;
  void record_answer(const watch::Watch& watch) override;
  void record_removed(const watch::JobRef& job) override;
  std::string last_answer(const watch::JobRef& job) override;

  // An event for every sink whose filter takes it: its outbox rows are
  // written with this turn's commit, and it goes out after that commit.
  // (record_change does this for the engine's events.)
  void submit(const watch::Event& event);

  // Commits whatever is buffered now.
  void flush();
  // SIGHUP: reopen file sinks; one waiting to retry tries again now.
  void reopen();
  // Shutdown: no new attempt starts; once nothing is out at a sink, or
  // after `grace`, the sinks stop, the buffer is committed and `done` runs.
  // Whatever was not delivered stays owed in the store.
  void drain(std::chrono::milliseconds grace, std::function<void()> done);
  // Reload: the same wait, then `next` take over, starting from the rows
  // the store owes (events queued on the old sinks included). done(false):
  // the store could not be read and the old sinks go on.
  // Only while running (replacing() is false).
  void replace_sinks(std::vector<sinks::SinkSpec> next, std::chrono::milliseconds grace,
                     std::function<void(bool)> done);
  bool replacing() const { return phase_ == Phase::replacing; }

  std::size_t pending() const { return core_->pending(); }
  std::size_t in_flight() const { return core_->in_flight(); }
  // Since this store was created: the store's count at start-up plus those
  // counted in the registry since.
  std::uint64_t dead_lettered_total() const;
  // {pending, dead_letters, by_sink: {"<sink>": {type, delivered, pending,
  //  in_flight, retrying, retries, dead_lettered, last_error}}} (SPEC §4)
  boost::json::object stats() const;
  // {path, commits, commit_failures}
  boost::json::object store_stats() const;
  // jobwatch_outbox_pending{sink}: read when scraped.
  void render_gauges(metrics::TextWriter& out) const;

 private:
  // What the shell is doing with its sinks; phase_ changes only in enter().
  // running → draining → stopped (shutdown); running → replacing → running
  // (reload); replacing → draining (shutdown during a reload).
  enum class Phase : std::uint8_t { running, draining, replacing, stopped };
  void enter(Phase next);

  Now now() const;
  std::unique_ptr<DeliveryCore> make_core(const std::vector<sinks::SinkSpec>& sinks) const;
  // The rows the store owes, as deliveries; nullopt when it cannot be read.
  std::optional<std::vector<OwedDelivery>> load_owed() const;
  void queue_owed(DeliveryCore& core, std::vector<OwedDelivery> owed) const;
  // Acts on the core's next step: batches to sinks, the retry timer, and a
  // drain or replacement waiting for nothing to be out.
  void pump();
  void post_pump();  // one pump on a later turn, however often asked
  void arm_retry(SteadyTime at);
  void record(const std::vector<Outcome>& outcomes);
  // The buffer's one transaction, after which the core may send what it
  // holds; flush() is this and then pump().
  void commit();
  void schedule_flush();
  // Delivery bookkeeping may wait a moment: losing it in a crash only means
  // a duplicate delivery, which the promise allows.
  void schedule_bookkeeping_flush();
  // Pauses the core and arms the grace timer; finish_wait() ends the wait.
  void wait_for_quiet(std::chrono::milliseconds grace);
  // The wait of drain()/replace_sinks() is over: nothing is out at a sink,
  // or `out_of_grace`.
  void finish_wait(bool out_of_grace);
  void stop_sinks();

  boost::asio::any_io_executor executor_;
  store::Store& store_;
  metrics::CounterVec& outcomes_;  // jobwatch_events_total{type, sink, result}
  metrics::Counter commits_;       // jobwatch_store_commits_total
  metrics::Counter commit_failures_;
  sinks::RetryPolicy backoff_;
  Clocks clocks_;

  std::vector<sinks::SinkSpec> sinks_;  // by lane
  std::unique_ptr<DeliveryCore> core_;
  // Which sinks_ a delivery's answer belongs to: replacing the sinks bumps
  // it, so a late answer from an old sink is dropped.
  std::uint64_t generation_ = 0;
  Phase phase_ = Phase::running;
  std::vector<sinks::SinkSpec> incoming_;  // replacing: the sinks taking over
  std::function<void()> drained_;          // draining: run once done
  std::function<void(bool)> replaced_;     // replacing: run once done

  store::WriteBuffer buffer_;
  bool flush_posted_ = false;
  bool pump_posted_ = false;
  bool bookkeeping_armed_ = false;
  bool last_flush_failed_ = false;
  std::size_t uncommitted_events_ = 0;  // submitted since the last commit
  boost::asio::steady_timer bookkeeping_timer_;
  boost::asio::steady_timer retry_timer_;
  std::optional<SteadyTime> retry_at_;  // when retry_timer_ is armed for (core time)
  boost::asio::steady_timer grace_timer_;
  std::uint64_t dead_lettered_before_ = 0;  // the store's count at start-up
  Lifetime lifetime_;
};

}  // namespace jobwatch::outbox
