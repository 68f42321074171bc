#include "jobwatch/watch/watch_table.hpp"

namespace jobwatch::watch {

void remember_answer(Watch& watch, std::string text) {
  const std::uint64_t digest = std::hash<std::string>{}(text);
  if (digest == watch.answer_digest) return;
  watch.answer_digest = digest;
  watch.unsaved_answer = std::move(text);
}

void answer_handed_over(Watch& watch) {
  // A swap, because clear() and even assigning std::string() (libstdc++
  // copies a short string into the buffer it has) keep the buffer.
  std::string().swap(watch.unsaved_answer);
}

std::string last_answer(const Watch& watch, const StoredAnswer& stored) {
  // Never seen: there is no answer anywhere, and no reason to ask the store.
  if (!watch.unsaved_answer.empty() || !stored || !watch.seen) return watch.unsaved_answer;
  return stored(watch.job);
}

WatchInfo info_of(const Watch& watch) {
  return WatchInfo{&watch, watch.progress, watch.predicted_end, false};
}

WatchTable::WatchTable() : by_key_(0, KeyHash{this}, KeyEqual{this}) {}

std::size_t WatchTable::KeyHash::operator()(const JobRef& job) const {
  const std::size_t project = std::hash<std::string_view>{}(job.project_id);
  const std::size_t id = std::hash<std::string_view>{}(job.job_id);
  return project ^ (id + 0x9e3779b97f4a7c15ULL + (project << 6) + (project >> 2));
}

std::optional<WatchTable::Index> WatchTable::find(const JobRef& job) const {
  auto it = by_key_.find(job);
  if (it == by_key_.end()) return std::nullopt;
  return *it;
}

WatchTable::Index WatchTable::insert(Watch watch) {
  Index index;
  if (!free_slots_.empty()) {
    index = free_slots_.back();
    free_slots_.pop_back();
  } else {
    index = static_cast<Index>(slots_.size());
    slots_.emplace_back();
    slot_generations_.push_back(0);
  }
  watch.generation = ++slot_generations_[index];
  slots_[index] = std::make_unique<Watch>(std::move(watch));
  by_key_.insert(index);  // hashed by the watch now in the slot
  return index;
}

void WatchTable::reserve(std::size_t count) {
  slots_.reserve(count);
  slot_generations_.reserve(count);
  by_key_.reserve(count);
}

void WatchTable::erase(Index index) {
  if (!contains(index)) return;
  by_key_.erase(index);  // while the slot still has the watch it is hashed by
  slots_[index].reset();
  ++slot_generations_[index];
  free_slots_.push_back(index);
}

}  // namespace jobwatch::watch
