// The virtual loop the replay benchmark drives the engine on: tasks in time
// order, timers that replace and cancel, clocks that move together.
#include "jobwatch/watch/loop.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

#include "jobwatch/asio/lifetime.hpp"

namespace jobwatch::watch {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const model::WallTime wall_start = *model::parse_rfc3339("2026-01-01T00:00:00Z");

TEST(VirtualLoop, RunsTasksInTimeOrderThenPostingOrder) {
  VirtualLoop loop(wall_start);
  const SteadyTime t0 = loop.now();
  std::string ran;
  loop.at(t0 + seconds(2), [&] { ran += "c"; });
  loop.at(t0 + seconds(1), [&] { ran += "a"; });
  loop.at(t0 + seconds(1), [&] { ran += "b"; });
  loop.post([&] { ran += "0"; });
  loop.run();
  EXPECT_EQ(ran, "0abc");
  EXPECT_EQ(loop.now(), t0 + seconds(2));
  EXPECT_EQ(loop.wall_now(), wall_start + seconds(2));
  EXPECT_TRUE(loop.idle());
}

TEST(VirtualLoop, APastTimeRunsNowAndTimeNeverGoesBack) {
  VirtualLoop loop(wall_start);
  const SteadyTime t0 = loop.now();
  std::vector<SteadyTime> seen;
  loop.at(t0 + seconds(5), [&] { loop.at(t0 + seconds(1), [&] { seen.push_back(loop.now()); }); });
  loop.run();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], t0 + seconds(5));
}

TEST(VirtualLoop, ATimerReArmedReplacesItsTaskAndCancelDropsIt) {
  VirtualLoop loop(wall_start);
  const SteadyTime t0 = loop.now();
  auto timer = loop.make_timer();
  std::string ran;
  timer->arm(t0 + seconds(1), [&] { ran += "first"; });
  timer->arm(t0 + seconds(3), [&] { ran += "second"; });
  loop.run();
  EXPECT_EQ(ran, "second");
  EXPECT_EQ(loop.now(), t0 + seconds(3));

  timer->arm(loop.now() + seconds(1), [&] { ran += "never"; });
  timer->cancel();
  EXPECT_TRUE(loop.idle());
  // A timer destroyed while armed leaves nothing behind.
  auto other = loop.make_timer();
  other->arm(loop.now() + milliseconds(10), [&] { ran += "gone"; });
  other.reset();
  loop.run();
  EXPECT_EQ(ran, "second");
}

TEST(VirtualLoop, ATimerCanReArmItselfFromItsTask) {
  VirtualLoop loop(wall_start);
  auto timer = loop.make_timer();
  int ticks = 0;
  std::function<void()> tick = [&] {
    if (++ticks < 3) timer->arm(loop.now() + seconds(1), tick);
  };
  timer->arm(loop.now(), tick);
  const SteadyTime t0 = loop.now();
  loop.run();
  EXPECT_EQ(ticks, 3);
  EXPECT_EQ(loop.now(), t0 + seconds(2));
}

// The Asio loop's timer: one destroyed while its wait is out does not run
// its task when the wait completes (its Lifetime has ended).
TEST(AsioLoop, ATimerDestroyedBeforeItFiresRunsNothing) {
  boost::asio::io_context ioc;
  auto loop = asio_loop(ioc.get_executor());
  int ran = 0;
  auto kept = loop->make_timer();
  auto dropped = loop->make_timer();
  kept->arm(loop->now() + milliseconds(5), [&] { ran += 1; });
  dropped->arm(loop->now() + milliseconds(1), [&] { ran += 10; });
  dropped.reset();
  ioc.run_for(std::chrono::milliseconds(200));
  EXPECT_EQ(ran, 1);
}

TEST(Lifetime, TokensExpireWithTheirLifetimeOrWhenItEnds) {
  Lifetime::Token never_given;
  EXPECT_TRUE(never_given.expired());
  Lifetime::Token outlived;
  {
    Lifetime lifetime;
    outlived = lifetime.token();
    EXPECT_FALSE(outlived.expired());
  }
  EXPECT_TRUE(outlived.expired());
  Lifetime ended;
  const auto token = ended.token();
  ended.end();
  EXPECT_TRUE(token.expired());
  EXPECT_TRUE(ended.token().expired());
}

}  // namespace
}  // namespace jobwatch::watch
