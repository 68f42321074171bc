// The engine's two loops: Asio's for the daemon, a virtual one for the
// replay benchmark and tests.
#include "jobwatch/watch/loop.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <optional>

#include "jobwatch/asio/lifetime.hpp"

namespace jobwatch::watch {
namespace {

namespace asio = boost::asio;

class AsioTimer final : public LoopTimer {
 public:
  explicit AsioTimer(asio::any_io_executor executor) : timer_(std::move(executor)) {}

  void arm(SteadyTime at, Task task) override {
    timer_.expires_at(at);  // cancels a pending wait
    timer_.async_wait(
        [life = lifetime_.token(), task = std::move(task)](boost::system::error_code ec) {
          if (life.expired() || ec == asio::error::operation_aborted) return;
          task();
        });
  }
  void cancel() override { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
  Lifetime lifetime_;
};

class AsioLoop final : public Loop {
 public:
  explicit AsioLoop(asio::any_io_executor executor) : executor_(std::move(executor)) {}
  SteadyTime now() const override { return std::chrono::steady_clock::now(); }
  model::WallTime wall_now() const override {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now());
  }
  void post(Task task) override { asio::post(executor_, std::move(task)); }
  std::unique_ptr<LoopTimer> make_timer() override {
    return std::make_unique<AsioTimer>(executor_);
  }

 private:
  asio::any_io_executor executor_;
};

// Not the steady clock's epoch itself, so that code using a default
// SteadyTime as "never" sees real times after it.
constexpr SteadyTime virtual_start{std::chrono::hours(1)};

}  // namespace

class VirtualTimer final : public LoopTimer {
 public:
  explicit VirtualTimer(VirtualLoop& loop) : loop_(loop) {}
  ~VirtualTimer() override { cancel(); }

  void arm(SteadyTime at, Task task) override {
    cancel();
    pending_ = loop_.schedule(at, [this, task = std::move(task)] {
      pending_.reset();
      task();
    });
  }
  void cancel() override {
    if (pending_) loop_.remove(*pending_);
    pending_.reset();
  }

 private:
  VirtualLoop& loop_;
  std::optional<VirtualLoop::TaskKey> pending_;
};

std::unique_ptr<Loop> asio_loop(asio::any_io_executor executor) {
  return std::make_unique<AsioLoop>(std::move(executor));
}

VirtualLoop::VirtualLoop(model::WallTime wall_start)
    : now_(virtual_start), wall_start_(wall_start) {}
VirtualLoop::~VirtualLoop() = default;

model::WallTime VirtualLoop::wall_now() const {
  return wall_start_ + std::chrono::duration_cast<std::chrono::milliseconds>(now_ - virtual_start);
}

std::unique_ptr<LoopTimer> VirtualLoop::make_timer() {
  return std::make_unique<VirtualTimer>(*this);
}

void VirtualLoop::at(SteadyTime when, Task task) {
  schedule(when, std::move(task));
}

VirtualLoop::TaskKey VirtualLoop::schedule(SteadyTime when, Task task) {
  const TaskKey key{std::max(when, now_), next_seq_++};
  tasks_.emplace(key, std::move(task));
  return key;
}

bool VirtualLoop::run_one() {
  if (tasks_.empty()) return false;
  auto first = tasks_.begin();
  now_ = first->first.first;
  Task task = std::move(first->second);
  tasks_.erase(first);
  task();
  return true;
}

void VirtualLoop::run() {
  while (run_one()) {
  }
}

}  // namespace jobwatch::watch
