#include "jobwatch/daemon/persistence.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "jobwatch/store/rows.hpp"

namespace jobwatch::daemon {
namespace {

constexpr std::chrono::milliseconds bookkeeping_delay{50};

model::WallTime wall_now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

}  // namespace

Persistence::Persistence(boost::asio::any_io_executor executor, store::Store& store,
                         sinks::Dispatcher& dispatcher, metrics::Registry& registry)
    : executor_(executor),
      store_(store),
      dispatcher_(&dispatcher),
      bookkeeping_timer_(executor),
      commits_(
          registry.single_counter("jobwatch_store_commits_total",
                                  "Transactions committed to the state store (each one fsync).")),
      commit_failures_(registry.single_counter("jobwatch_store_commit_failures_total",
                                               "State store commits that failed; their events were "
                                               "delivered without a durable outbox row.")) {}

Persistence::~Persistence() {
  *alive_ = false;
}

std::optional<std::string> Persistence::record_new(
    const std::vector<const watch::Watch*>& watches) {
  // Synchronous: Watch replies right after this returns. Anything buffered
  // goes into the same transaction, so the order of writes is kept.
  for (const watch::Watch* w : watches) buffer_.upsert_watch(store::to_stored(*w));
  flush();
  // flush() logged a failure; the caller needs to know too, to refuse.
  if (last_flush_failed_) return std::string("the state store failed: see the log");
  return std::nullopt;
}

void Persistence::record_change(const watch::Watch& watch, const std::vector<watch::Event>& events,
                                const std::optional<watch::TimingUpdate>& learned) {
  buffer_.upsert_watch(store::to_stored(watch));
  const model::WallTime now = wall_now();
  // Buffered with the transition, so the model and the terminal event commit
  // in one transaction: a crash keeps both or neither.
  if (learned)
    buffer_.upsert_timing_model(
        {learned->key.api, learned->key.project_id, learned->key.job_type, learned->model, now});
  for (const watch::Event& event : events) {
    for (std::string& sink : dispatcher_->sinks_for(event.type))
      buffer_.add_outbox(store::outbox_row(event, std::move(sink), now));
    awaiting_commit_.push_back(std::make_shared<const watch::Event>(event));
  }
  schedule_flush();
}

void Persistence::record_polls(const std::vector<const watch::Watch*>& watches) {
  for (const watch::Watch* w : watches) buffer_.save_polls(store::polls_of(*w));
  schedule_flush();
}

// With the delivery confirmations' flush: a new answer owes nothing to
// anyone, and a write per poll each on its own fsync would cost more than
// the poll.
void Persistence::record_answer(const watch::Watch& watch) {
  buffer_.save_polls(store::polls_of(watch));
  schedule_bookkeeping_flush();
}

void Persistence::record_removed(const watch::JobRef& job) {
  buffer_.delete_watch(job);
  schedule_flush();
}

std::string Persistence::last_answer(const watch::JobRef& job) {
  if (auto pending = buffer_.pending_answer(job)) return std::move(*pending);
  auto stored = store_.load_answer(job);
  if (auto* error = std::get_if<store::StoreError>(&stored)) {
    spdlog::error("state store: cannot read the last answer of {}/{}: {}", job.project_id,
                  job.job_id, error->message);
    return {};
  }
  return std::move(std::get<std::string>(stored));
}

void Persistence::delivered(const watch::Event& event, std::string_view sink) {
  buffer_.mark_delivered(event.id, std::string(sink));
  schedule_bookkeeping_flush();
}

void Persistence::attempt_failed(const watch::Event& event, std::string_view sink,
                                 std::uint32_t attempts,
                                 std::chrono::system_clock::time_point next_attempt_at,
                                 std::string_view error) {
  buffer_.update_attempt(event.id, std::string(sink), attempts,
                         std::chrono::time_point_cast<std::chrono::milliseconds>(next_attempt_at),
                         std::string(error));
  schedule_bookkeeping_flush();
}

void Persistence::dead_lettered(const watch::Event& event, std::string_view sink,
                                std::string_view reason, std::uint32_t attempts) {
  buffer_.dead_letter(event.id, std::string(sink), std::string(reason), attempts, wall_now());
  schedule_flush();
}

// One flush per loop turn: everything recorded while handling this turn's
// answers and deliveries shares one transaction and one fsync.
void Persistence::schedule_flush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  boost::asio::post(executor_, [this, life = alive_] {
    if (!*life) return;
    flush();
  });
}

// Confirmations of one delivery loop arrive one per loop turn; committing
// each on its own would cost an fsync per event.
void Persistence::schedule_bookkeeping_flush() {
  if (flush_posted_ || bookkeeping_armed_) return;
  bookkeeping_armed_ = true;
  bookkeeping_timer_.expires_after(bookkeeping_delay);
  bookkeeping_timer_.async_wait([this, life = alive_](boost::system::error_code ec) {
    if (!*life || ec) return;
    flush();
  });
}

void Persistence::flush() {
  flush_posted_ = false;
  if (bookkeeping_armed_) {
    bookkeeping_armed_ = false;
    bookkeeping_timer_.cancel();
  }
  last_flush_failed_ = false;
  if (buffer_.empty()) return;
  std::vector<std::shared_ptr<const watch::Event>> events = std::move(awaiting_commit_);
  awaiting_commit_.clear();
  if (auto error = buffer_.flush(store_)) {
    commit_failures_.add();
    last_flush_failed_ = true;
    // The transitions happened; holding them back would lose them for good.
    // They go to the sinks now, at most once, and the failure is loud.
    spdlog::error(
        "state store: commit failed ({}); {} event(s) are delivered without a durable "
        "outbox row",
        error->message, events.size());
  } else {
    commits_.add();
  }
  for (auto& event : events) dispatcher_->submit(std::move(event));
}

}  // namespace jobwatch::daemon
