// The outbox as the engine's journal (watch::Journal), and the commit that
// every write of one loop turn shares.
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "jobwatch/outbox/outbox.hpp"
#include "jobwatch/store/rows.hpp"

namespace jobwatch::outbox {
namespace {

constexpr std::chrono::milliseconds bookkeeping_delay{50};

}  // namespace

std::optional<std::string> Outbox::record_new(const std::vector<const watch::Watch*>& watches) {
  // Synchronous: Watch replies right after this returns. Anything buffered
  // goes into the same transaction, so the order of writes is kept.
  for (const watch::Watch* w : watches) buffer_.upsert_watch(store::to_stored(*w));
  flush();
  // flush() logged a failure; the caller needs to know too, to refuse.
  if (last_flush_failed_) return std::string("the state store failed: see the log");
  return std::nullopt;
}

void Outbox::record_change(const watch::Watch& watch, const std::vector<watch::Event>& events,
                           const std::optional<watch::TimingUpdate>& learned) {
  buffer_.upsert_watch(store::to_stored(watch));
  // Buffered with the transition, so the model and the terminal event commit
  // in one transaction: a crash keeps both or neither.
  if (learned)
    buffer_.upsert_timing_model({learned->key.api, learned->key.project_id, learned->key.job_type,
                                 learned->model,
                                 std::chrono::time_point_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now())});
  for (const watch::Event& event : events) submit(event);
  schedule_flush();
}

void Outbox::record_polls(const std::vector<const watch::Watch*>& watches) {
  for (const watch::Watch* w : watches) buffer_.save_polls(store::polls_of(*w));
  schedule_flush();
}

// With the delivery confirmations' flush: a new answer owes nothing to
// anyone, and a write per poll each on its own fsync would cost more than
// the poll.
void Outbox::record_answer(const watch::Watch& watch) {
  buffer_.save_polls(store::polls_of(watch));
  schedule_bookkeeping_flush();
}

void Outbox::record_removed(const watch::JobRef& job) {
  buffer_.delete_watch(job);
  schedule_flush();
}

std::string Outbox::last_answer(const watch::JobRef& job) {
  if (auto pending = buffer_.pending_answer(job)) return std::move(*pending);
  auto stored = store_.load_answer(job);
  if (auto* error = std::get_if<store::StoreError>(&stored)) {
    spdlog::error("state store: cannot read the last answer of {}/{}: {}", job.project_id,
                  job.job_id, error->message);
    return {};
  }
  return std::move(std::get<std::string>(stored));
}

// One flush per loop turn: everything recorded while handling this turn's
// answers and deliveries shares one transaction and one fsync.
void Outbox::schedule_flush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  boost::asio::post(executor_, [this, life = lifetime_.token()] {
    if (!life.expired()) flush();
  });
}

// Confirmations of one sink arrive one per loop turn; committing each on
// its own would cost an fsync per event.
void Outbox::schedule_bookkeeping_flush() {
  if (flush_posted_ || bookkeeping_armed_) return;
  bookkeeping_armed_ = true;
  bookkeeping_timer_.expires_after(bookkeeping_delay);
  bookkeeping_timer_.async_wait([this, life = lifetime_.token()](boost::system::error_code ec) {
    if (!ec && !life.expired()) flush();
  });
}

void Outbox::flush() {
  commit();
  pump();
}

void Outbox::commit() {
  flush_posted_ = false;
  if (bookkeeping_armed_) {
    bookkeeping_armed_ = false;
    bookkeeping_timer_.cancel();
  }
  last_flush_failed_ = false;
  if (buffer_.empty()) {
    core_->committed();
    return;
  }
  if (auto error = buffer_.flush(store_)) {
    commit_failures_.add();
    last_flush_failed_ = true;
    // The transitions happened; holding them back would lose them for good.
    // They go to the sinks now, at most once, and the failure is loud.
    spdlog::error(
        "state store: commit failed ({}); {} event(s) are delivered without a durable "
        "outbox row",
        error->message, uncommitted_events_);
  } else {
    commits_.add();
  }
  uncommitted_events_ = 0;
  core_->committed();
}

}  // namespace jobwatch::outbox
