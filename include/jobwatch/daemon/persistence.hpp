// The glue that makes SPEC §6 true: the engine's journal and the
// dispatcher's delivery observer, both backed by the SQLite store. Writes of
// one event-loop turn are committed together (one fsync), and events reach
// the sinks only after the commit that put them in the outbox.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <vector>

#include "jobwatch/metrics/registry.hpp"
#include "jobwatch/sinks/dispatcher.hpp"
#include "jobwatch/store/store.hpp"
#include "jobwatch/store/write_buffer.hpp"
#include "jobwatch/watch/journal.hpp"

namespace jobwatch::daemon {

class Persistence final : public watch::Journal, public sinks::DeliveryObserver {
 public:
  // Commits are counted in `registry`, which must outlive this.
  Persistence(boost::asio::any_io_executor executor, store::Store& store,
              sinks::Dispatcher& dispatcher, metrics::Registry& registry);
  ~Persistence() override;

  // watch::Journal
  std::optional<std::string> record_new(const std::vector<const watch::Watch*>& watches) override;
  void record_change(const watch::Watch& watch, const std::vector<watch::Event>& events,
                     const std::optional<watch::TimingUpdate>& learned) override;
  void record_polls(const std::vector<const watch::Watch*>& watches) override;
  void record_answer(const watch::Watch& watch) override;
  void record_removed(const watch::JobRef& job) override;
  std::string last_answer(const watch::JobRef& job) override;

  // sinks::DeliveryObserver
  void delivered(const watch::Event& event, std::string_view sink) override;
  void attempt_failed(const watch::Event& event, std::string_view sink, std::uint32_t attempts,
                      std::chrono::system_clock::time_point next_attempt_at,
                      std::string_view error) override;
  void dead_lettered(const watch::Event& event, std::string_view sink, std::string_view reason,
                     std::uint32_t attempts) override;

  // Commits whatever is buffered now (shutdown, and before a reload swaps
  // the sinks).
  void flush();
  // Where committed events go from now on (a reload built new sinks).
  void set_dispatcher(sinks::Dispatcher& dispatcher) { dispatcher_ = &dispatcher; }

  std::uint64_t commits() const { return metrics::as_count(commits_.value()); }
  std::uint64_t commit_failures() const { return metrics::as_count(commit_failures_.value()); }

 private:
  void schedule_flush();
  // Delivery bookkeeping may wait a moment: losing it in a crash only
  // means a duplicate delivery, which the promise allows.
  void schedule_bookkeeping_flush();

  boost::asio::any_io_executor executor_;
  store::Store& store_;
  sinks::Dispatcher* dispatcher_;
  store::WriteBuffer buffer_;
  // Events whose outbox rows are in buffer_: handed to the sinks after commit.
  std::vector<std::shared_ptr<const watch::Event>> awaiting_commit_;
  bool flush_posted_ = false;
  boost::asio::steady_timer bookkeeping_timer_;
  bool bookkeeping_armed_ = false;
  bool last_flush_failed_ = false;
  metrics::Counter commits_;          // jobwatch_store_commits_total
  metrics::Counter commit_failures_;  // jobwatch_store_commit_failures_total
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace jobwatch::daemon
