// What the engine needs from its event loop: the two clocks, deferred work
// and timers. The daemon gives it the Asio loop (asio_loop); the replay
// benchmark and tests a VirtualLoop, whose time moves only when it runs the
// next task — so the engine's scheduling (due queue, rate limiter, priority,
// timing models) runs unchanged in virtual time (DESIGN.md "one core, two
// drivers").
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <utility>

#include "jobwatch/model/time.hpp"
#include "jobwatch/watch/watch_table.hpp"

namespace jobwatch::watch {

using Task = std::function<void()>;

class LoopTimer {
 public:
  virtual ~LoopTimer() = default;
  // Runs `task` on the loop at `at` (at once if it has passed). Replaces a
  // pending task, which then never runs.
  virtual void arm(SteadyTime at, Task task) = 0;
  virtual void cancel() = 0;
};

class Loop {
 public:
  virtual ~Loop() = default;
  virtual SteadyTime now() const = 0;
  virtual model::WallTime wall_now() const = 0;
  // Runs `task` on the loop soon, never inside this call.
  virtual void post(Task task) = 0;
  virtual std::unique_ptr<LoopTimer> make_timer() = 0;
};

// The real loop: steady_clock, system_clock and Asio timers on `executor`.
std::unique_ptr<Loop> asio_loop(boost::asio::any_io_executor executor);

// A loop in virtual time. Tasks run in time order (posting order among
// equal times); running one first moves the clocks to its time. Both clocks
// move together: wall = wall_start + (steady − steady epoch).
class VirtualLoop final : public Loop {
 public:
  explicit VirtualLoop(model::WallTime wall_start);
  ~VirtualLoop() override;

  SteadyTime now() const override { return now_; }
  model::WallTime wall_now() const override;
  void post(Task task) override { at(now_, std::move(task)); }
  std::unique_ptr<LoopTimer> make_timer() override;

  // Runs `task` at `when` (virtual time; a past time means now).
  void at(SteadyTime when, Task task);
  // Runs the earliest task; false when there is none.
  bool run_one();
  // Runs tasks until none is left.
  void run();
  bool idle() const { return tasks_.empty(); }

 private:
  friend class VirtualTimer;
  using TaskKey = std::pair<SteadyTime, std::uint64_t>;  // time, then posting order
  TaskKey schedule(SteadyTime when, Task task);
  void remove(const TaskKey& key) { tasks_.erase(key); }

  SteadyTime now_{};
  model::WallTime wall_start_;
  std::uint64_t next_seq_ = 0;
  std::map<TaskKey, Task> tasks_;
};

}  // namespace jobwatch::watch
