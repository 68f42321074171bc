// A watch's last answer: what stays in memory per watch
// (issue 11: the answer lives in the journal once it has it).
#include "jobwatch/watch/watch_table.hpp"

#include <gtest/gtest.h>

#include <string>

namespace jobwatch::watch {
namespace {

Watch watch_of(std::string project, std::string job) {
  Watch w;
  w.job = {std::move(project), std::move(job)};
  return w;
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
