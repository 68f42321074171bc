// The watch table and a watch's last answer: what stays in memory per watch
// (issue 11: the answer lives in the journal once it has it).
#include "jobwatch/watch/watch_table.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace jobwatch::watch {
namespace {

Watch watch_of(std::string project, std::string job) {
  Watch w;
  w.job = {std::move(project), std::move(job)};
  return w;
}

TEST(WatchTable, FindsEachJobBySlotAndReusesFreedSlotsWithANewGeneration) {
  WatchTable table;
  std::vector<WatchTable::Index> slots;
  // Enough to rehash the key set several times.
  for (int i = 0; i < 5000; ++i)
    slots.push_back(table.insert(watch_of("p", "j" + std::to_string(i))));
  EXPECT_EQ(table.size(), 5000u);
  for (int i = 0; i < 5000; ++i) {
    const auto found = table.find({"p", "j" + std::to_string(i)});
    ASSERT_TRUE(found);
    EXPECT_EQ(*found, slots[i]);
    EXPECT_EQ(table.at(*found).job.job_id, "j" + std::to_string(i));
  }
  EXPECT_FALSE(table.find({"q", "j1"}));  // same job id, other project
  EXPECT_FALSE(table.find({"p", "j5000"}));

  const WatchTable::Index freed = slots[17];
  const std::uint32_t generation = table.at(freed).generation;
  table.erase(freed);
  EXPECT_FALSE(table.contains(freed));
  EXPECT_FALSE(table.find({"p", "j17"}));
  EXPECT_EQ(table.size(), 4999u);
  EXPECT_TRUE(table.find({"p", "j18"}));

  const WatchTable::Index reused = table.insert(watch_of("q", "j1"));
  EXPECT_EQ(reused, freed);
  EXPECT_NE(table.at(reused).generation, generation);
  EXPECT_EQ(table.find({"q", "j1"}), reused);
  EXPECT_EQ(table.find({"p", "j1"}), slots[1]);

  std::size_t visited = 0;
  table.for_each([&](const Watch&) { ++visited; });
  EXPECT_EQ(visited, 5000u);
}

TEST(WatchAnswer, OnlyAChangedTextIsKeptForTheJournal) {
  Watch w = watch_of("p", "j");
  const std::string first(600, 'a');
  remember_answer(w, first);
  EXPECT_EQ(w.unsaved_answer, first);
  answer_handed_over(w);
  EXPECT_TRUE(w.unsaved_answer.empty());
  remember_answer(w, first);  // the journal has this one
  EXPECT_TRUE(w.unsaved_answer.empty());
  remember_answer(w, std::string(600, 'b'));
  EXPECT_EQ(w.unsaved_answer, std::string(600, 'b'));
}

TEST(WatchAnswer, HandingItOverGivesTheMemoryBack) {
  Watch w = watch_of("p", "j");
  remember_answer(w, std::string(4000, 'x'));
  answer_handed_over(w);
  // Back to the string's own small buffer, not an empty 4 KB one.
  EXPECT_EQ(w.unsaved_answer.capacity(), std::string().capacity());
}

TEST(WatchAnswer, TheLastAnswerIsTheWatchsOwnElseTheStoredOne) {
  Watch w = watch_of("p", "j");
  int asked = 0;
  const StoredAnswer stored = [&asked](const JobRef& job) {
    ++asked;
    return "stored:" + job.job_id;
  };
  EXPECT_EQ(last_answer(w, stored), "");  // never answered: the store is not asked
  EXPECT_EQ(asked, 0);
  w.seen = true;
  EXPECT_EQ(last_answer(w, stored), "stored:j");
  remember_answer(w, "{}");
  EXPECT_EQ(last_answer(w, stored), "{}");  // not handed over yet
  EXPECT_EQ(last_answer(w, {}), "{}");      // an engine without a journal
  EXPECT_EQ(asked, 1);
}

}  // namespace
}  // namespace jobwatch::watch
