// Coalescing and flushing of one loop turn's writes.
#include "jobwatch/store/write_buffer.hpp"

#include <type_traits>
#include <utility>

namespace jobwatch::store {

std::string WriteBuffer::key_of(const watch::JobRef& job) {
  std::string key;
  key.reserve(job.project_id.size() + job.job_id.size() + 1);
  key.append(job.project_id).push_back('\0');
  key.append(job.job_id);
  return key;
}

void WriteBuffer::push_watch_op(const watch::JobRef& job, Op op) {
  // A whole-row upsert or a delete makes any earlier write of that watch moot.
  auto [it, inserted] = watch_ops_.try_emplace(key_of(job), ops_.size());
  if (!inserted) {
    ops_[it->second] = std::monostate{};
    it->second = ops_.size();
  } else {
    ++writes_;
  }
  ops_.push_back(std::move(op));
}

void WriteBuffer::upsert_watch(StoredWatch watch) {
  // A row that keeps its stored answer (COALESCE) keeps the one this buffer
  // has not written yet, if any; after a delete this supersedes, it is a new
  // watch of that key with no answer yet.
  if (!watch.last_job_json) {
    if (auto it = watch_ops_.find(key_of(watch.job)); it != watch_ops_.end()) {
      Op& earlier = ops_[it->second];
      if (auto* row = std::get_if<StoredWatch>(&earlier))
        watch.last_job_json = std::move(row->last_job_json);
      else if (std::holds_alternative<Delete>(earlier))
        watch.last_job_json = std::string();
    }
  }
  const watch::JobRef job = watch.job;
  push_watch_op(job, std::move(watch));
}

void WriteBuffer::delete_watch(watch::JobRef job) {
  const watch::JobRef key = job;
  push_watch_op(key, Delete{std::move(job)});
}

void WriteBuffer::save_polls(WatchPolls polls) {
  // The newer answer goes into the buffered row too, so that a later row
  // written without one carries this one forward, not the row's older one.
  if (polls.last_job_json) {
    if (auto it = watch_ops_.find(key_of(polls.job)); it != watch_ops_.end())
      if (auto* row = std::get_if<StoredWatch>(&ops_[it->second]))
        row->last_job_json = polls.last_job_json;
  }
  ops_.emplace_back(std::move(polls));
  ++writes_;
}

void WriteBuffer::add_outbox(OutboxRow row) {
  ops_.emplace_back(std::move(row));
  ++writes_;
}

void WriteBuffer::mark_delivered(std::string event_id, std::string sink) {
  ops_.emplace_back(Delivered{std::move(event_id), std::move(sink)});
  ++writes_;
}

void WriteBuffer::update_attempt(std::string event_id, std::string sink, std::uint32_t attempts,
                                 model::WallTime next_attempt_at, std::string last_error) {
  ops_.emplace_back(Attempt{std::move(event_id), std::move(sink), attempts, next_attempt_at,
                            std::move(last_error)});
  ++writes_;
}

void WriteBuffer::dead_letter(std::string event_id, std::string sink, std::string reason,
                              std::uint32_t attempts, model::WallTime failed_at) {
  ops_.emplace_back(
      Dead{std::move(event_id), std::move(sink), std::move(reason), attempts, failed_at});
  ++writes_;
}

void WriteBuffer::upsert_timing_model(TimingModelRow row) {
  ops_.emplace_back(std::move(row));
  ++writes_;
}

std::optional<std::string> WriteBuffer::pending_answer(const watch::JobRef& job) const {
  // Newest first; rare (Show, an abandon), so a scan of one turn's writes.
  for (auto op = ops_.rbegin(); op != ops_.rend(); ++op) {
    if (const auto* row = std::get_if<StoredWatch>(&*op)) {
      if (row->job == job && row->last_job_json) return row->last_job_json;
    } else if (const auto* polls = std::get_if<WatchPolls>(&*op)) {
      if (polls->job == job && polls->last_job_json) return polls->last_job_json;
    } else if (const auto* gone = std::get_if<Delete>(&*op)) {
      if (gone->job == job) return std::string();
    }
  }
  return std::nullopt;
}

void WriteBuffer::on_flushed(Done done) {
  callbacks_.push_back(std::move(done));
}

std::optional<StoreError> WriteBuffer::flush(Store& store) {
  // Taken out first: callbacks may buffer more, which belongs to the next flush.
  std::vector<Op> ops = std::exchange(ops_, {});
  std::vector<Done> callbacks = std::exchange(callbacks_, {});
  const std::size_t writes = std::exchange(writes_, 0);
  watch_ops_.clear();

  std::optional<StoreError> result;
  if (writes > 0) {
    result = store.write([&ops](Batch& batch) {
      for (const Op& op : ops) {
        if (batch.failed()) return;
        std::visit(
            [&batch](const auto& item) {
              using T = std::decay_t<decltype(item)>;
              if constexpr (std::is_same_v<T, StoredWatch>) {
                batch.upsert_watch(item);
              } else if constexpr (std::is_same_v<T, Delete>) {
                batch.delete_watch(item.job);
              } else if constexpr (std::is_same_v<T, WatchPolls>) {
                batch.save_polls(item);
              } else if constexpr (std::is_same_v<T, OutboxRow>) {
                batch.add_outbox(item);
              } else if constexpr (std::is_same_v<T, Delivered>) {
                batch.mark_delivered(item.event_id, item.sink);
              } else if constexpr (std::is_same_v<T, Attempt>) {
                batch.update_attempt(item.event_id, item.sink, item.attempts, item.next_attempt_at,
                                     item.last_error);
              } else if constexpr (std::is_same_v<T, Dead>) {
                batch.dead_letter(item.event_id, item.sink, item.reason, item.attempts,
                                  item.failed_at);
              } else if constexpr (std::is_same_v<T, TimingModelRow>) {
                batch.upsert_timing_model(item);
              }
            },
            op);
      }
    });
  }
  for (const Done& done : callbacks) {
    if (done) done(result);
  }
  return result;
}

}  // namespace jobwatch::store
