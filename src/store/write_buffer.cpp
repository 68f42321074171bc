// Coalescing and flushing of one loop turn's writes.
#include "jobwatch/store/write_buffer.hpp"

#include <type_traits>
#include <utility>

namespace jobwatch::store {

void WriteBuffer::push_watch_op(const watch::JobRef& job, Op op) {
  std::string key;
  key.reserve(job.project_id.size() + job.job_id.size() + 1);
  key.append(job.project_id).push_back('\0');
  key.append(job.job_id);
  // A whole-row upsert or a delete makes any earlier write of that watch moot.
  auto [it, inserted] = watch_ops_.try_emplace(std::move(key), ops_.size());
  if (!inserted) {
    ops_[it->second] = std::monostate{};
    it->second = ops_.size();
  } else {
    ++writes_;
  }
  ops_.push_back(std::move(op));
}

void WriteBuffer::upsert_watch(StoredWatch watch) {
  const watch::JobRef job = watch.job;
  push_watch_op(job, std::move(watch));
}

void WriteBuffer::delete_watch(watch::JobRef job) {
  const watch::JobRef key = job;
  push_watch_op(key, Delete{std::move(job)});
}

void WriteBuffer::save_polls(WatchPolls polls) {
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
