// Event type names, reasons and deterministic ids.
#include "jobwatch/watch/event.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace jobwatch::watch {
namespace {

const EventType kAllTypes[] = {EventType::job_succeeded, EventType::job_failed,
                               EventType::subjob_succeeded, EventType::subjob_failed,
                               EventType::watch_abandoned};

TEST(EventType, NamesRoundTrip) {
  EXPECT_EQ(type_name(EventType::job_succeeded), "job.succeeded");
  EXPECT_EQ(type_name(EventType::job_failed), "job.failed");
  EXPECT_EQ(type_name(EventType::subjob_succeeded), "subjob.succeeded");
  EXPECT_EQ(type_name(EventType::subjob_failed), "subjob.failed");
  EXPECT_EQ(type_name(EventType::watch_abandoned), "watch.abandoned");
  for (auto type : kAllTypes) EXPECT_EQ(type_from_name(type_name(type)), type);
  EXPECT_FALSE(type_from_name(""));
  EXPECT_FALSE(type_from_name("job"));
  EXPECT_FALSE(type_from_name("JOB.SUCCEEDED"));
  EXPECT_FALSE(type_from_name("job.succeeded "));
}

TEST(EventType, FinalTypes) {
  EXPECT_TRUE(is_final(EventType::job_succeeded));
  EXPECT_TRUE(is_final(EventType::job_failed));
  EXPECT_TRUE(is_final(EventType::watch_abandoned));
  EXPECT_FALSE(is_final(EventType::subjob_succeeded));
  EXPECT_FALSE(is_final(EventType::subjob_failed));
}

TEST(EventType, ReasonNames) {
  EXPECT_EQ(reason_name(AbandonReason::not_found), "not_found");
  EXPECT_EQ(reason_name(AbandonReason::rejected), "rejected");
  EXPECT_EQ(reason_name(AbandonReason::deadline), "deadline");
}

TEST(EventId, IsSha256OfTheFieldsTruncated) {
  // Expected values computed independently:
  // "evt_" + sha256("p1\nj1\n\njob.succeeded").hexdigest()[:32]
  EXPECT_EQ(event_id("p1", "j1", "", EventType::job_succeeded),
            "evt_2ef8c566a3cf884e5d0603366b6d59b5");
  EXPECT_EQ(event_id("p1", "j1", "s1", EventType::subjob_failed),
            "evt_a18a85145068c0e5cea91bef63de36cd");
}

TEST(EventId, DeterministicAndWellFormed) {
  const std::string id =
      event_id("proj", "575768277444198400", "575768277481947136", EventType::subjob_succeeded);
  EXPECT_EQ(id, event_id("proj", "575768277444198400", "575768277481947136",
                         EventType::subjob_succeeded));
  ASSERT_EQ(id.size(), 36u);
  EXPECT_EQ(id.substr(0, 4), "evt_");
  for (char c : id.substr(4)) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << c;
}

TEST(EventId, DistinctPerProjectJobSubjobAndType) {
  std::set<std::string> ids;
  int count = 0;
  for (const char* project : {"p1", "p2"}) {
    for (const char* job : {"j1", "j2"}) {
      for (const char* subjob : {"", "s1", "s2"}) {
        for (auto type : kAllTypes) {
          ids.insert(event_id(project, job, subjob, type));
          ++count;
        }
      }
    }
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(count));
  // Fields do not run into each other.
  EXPECT_NE(event_id("ab", "c", "", EventType::job_failed),
            event_id("a", "bc", "", EventType::job_failed));
  EXPECT_NE(event_id("p", "jx", "", EventType::job_failed),
            event_id("p", "j", "x", EventType::job_failed));
}

}  // namespace
}  // namespace jobwatch::watch
