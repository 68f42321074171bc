// RFC 3339 parsing and formatting edge cases.
#include "jobwatch/model/time.hpp"

#include <gtest/gtest.h>

namespace jobwatch::model {
namespace {

using namespace std::chrono;

WallTime at(int y, unsigned m, unsigned d, int hh, int mm, int ss, int ms = 0) {
  return WallTime{sys_days{year{y} / month{m} / day{d}} + hours{hh} + minutes{mm} + seconds{ss} +
                  milliseconds{ms}};
}

TEST(Rfc3339Parse, UtcZulu) {
  EXPECT_EQ(parse_rfc3339("2023-06-06T02:30:06Z"), at(2023, 6, 6, 2, 30, 6));
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), WallTime{});
  EXPECT_EQ(parse_rfc3339("2023-06-06t02:30:06z"), at(2023, 6, 6, 2, 30, 6));
  EXPECT_EQ(parse_rfc3339("2023-06-06 02:30:06Z"), at(2023, 6, 6, 2, 30, 6));
}

TEST(Rfc3339Parse, FractionalSeconds) {
  EXPECT_EQ(parse_rfc3339("2023-06-06T02:30:06.5Z"), at(2023, 6, 6, 2, 30, 6, 500));
  EXPECT_EQ(parse_rfc3339("2023-06-06T02:30:06.05Z"), at(2023, 6, 6, 2, 30, 6, 50));
  EXPECT_EQ(parse_rfc3339("2023-06-06T02:30:06.123Z"), at(2023, 6, 6, 2, 30, 6, 123));
  // Precision beyond milliseconds is truncated, not rounded.
  EXPECT_EQ(parse_rfc3339("2023-06-06T02:30:06.123999999Z"), at(2023, 6, 6, 2, 30, 6, 123));
  EXPECT_EQ(parse_rfc3339("2023-06-06T02:30:06.000Z"), at(2023, 6, 6, 2, 30, 6));
  EXPECT_FALSE(parse_rfc3339("2023-06-06T02:30:06.Z"));
}

TEST(Rfc3339Parse, NumericOffsets) {
  EXPECT_EQ(parse_rfc3339("2023-06-06T10:30:06+08:00"), at(2023, 6, 6, 2, 30, 6));
  EXPECT_EQ(parse_rfc3339("2023-06-05T21:00:06-05:30"), at(2023, 6, 6, 2, 30, 6));
  EXPECT_EQ(parse_rfc3339("2023-06-06T02:30:06+00:00"), at(2023, 6, 6, 2, 30, 6));
  EXPECT_EQ(parse_rfc3339("2023-06-06T02:30:06-00:00"), at(2023, 6, 6, 2, 30, 6));
  // Crossing a year boundary.
  EXPECT_EQ(parse_rfc3339("2024-01-01T07:00:00.250+08:00"), at(2023, 12, 31, 23, 0, 0, 250));
}

TEST(Rfc3339Parse, CalendarValidation) {
  EXPECT_EQ(parse_rfc3339("2024-02-29T00:00:00Z"), at(2024, 2, 29, 0, 0, 0));
  EXPECT_FALSE(parse_rfc3339("2023-02-29T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2023-04-31T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2023-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2023-00-01T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2023-01-00T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2023-01-01T24:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2023-01-01T00:60:00Z"));
  EXPECT_FALSE(parse_rfc3339("2023-01-01T00:00:61Z"));
  // A leap second lands on the following second.
  EXPECT_EQ(parse_rfc3339("2016-12-31T23:59:60Z"), at(2017, 1, 1, 0, 0, 0));
}

TEST(Rfc3339Parse, RejectsOtherShapes) {
  for (const char* text :
       {"", "2023-06-06", "2023-06-06T02:30:06", "2023-06-06T02:30Z", "2023-06-06T02:30:06+08",
        "2023-06-06T02:30:06+0800", "2023-06-06T02:30:06+24:00", "2023-06-06T02:30:06+08:60",
        "2023-06-06T02:30:06Z ", " 2023-06-06T02:30:06Z", "2023-06-06T02:30:06ZZ",
        "23-06-06T02:30:06Z", "2023-6-06T02:30:06Z", "2023/06/06T02:30:06Z", "2023-06-06X02:30:06Z",
        "2023-06-06T02:30:0xZ", "+2023-06-06T02:30:06Z", "2023-06-06T02:30:06UTC"}) {
    EXPECT_FALSE(parse_rfc3339(text)) << text;
  }
}

TEST(Rfc3339Format, WholeSecondsUtc) {
  EXPECT_EQ(format_rfc3339(at(2026, 11, 28, 12, 1, 2)), "2026-11-28T12:01:02Z");
  EXPECT_EQ(format_rfc3339(WallTime{}), "1970-01-01T00:00:00Z");
  // Milliseconds are dropped unless asked for.
  EXPECT_EQ(format_rfc3339(at(2026, 11, 28, 12, 1, 2, 999)), "2026-11-28T12:01:02Z");
  EXPECT_EQ(format_rfc3339(at(1969, 12, 31, 23, 59, 59)), "1969-12-31T23:59:59Z");
}

TEST(Rfc3339Format, WithMillis) {
  EXPECT_EQ(format_rfc3339(at(2026, 11, 28, 12, 1, 2, 7), true), "2026-11-28T12:01:02.007Z");
  EXPECT_EQ(format_rfc3339(at(2026, 11, 28, 12, 1, 2, 123), true), "2026-11-28T12:01:02.123Z");
  EXPECT_EQ(format_rfc3339(at(2026, 11, 28, 12, 1, 2), true), "2026-11-28T12:01:02Z");
}

TEST(Rfc3339, RoundTrip) {
  for (const WallTime t : {at(2023, 6, 6, 2, 30, 6), at(2000, 2, 29, 23, 59, 59, 1),
                           at(2099, 12, 31, 0, 0, 0, 999), at(1999, 1, 1, 0, 0, 0, 10)}) {
    EXPECT_EQ(parse_rfc3339(format_rfc3339(t, true)), t);
    EXPECT_EQ(parse_rfc3339(format_rfc3339(t)), floor<seconds>(t));
  }
}

}  // namespace
}  // namespace jobwatch::model
