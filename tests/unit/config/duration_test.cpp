#include "jobwatch/config/duration.hpp"

#include <gtest/gtest.h>

namespace jobwatch::config {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, AcceptsEachUnit) {
  EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_duration("2s"), milliseconds(2'000));
  EXPECT_EQ(parse_duration("5m"), milliseconds(300'000));
  EXPECT_EQ(parse_duration("1h"), milliseconds(3'600'000));
  EXPECT_EQ(parse_duration("1d"), milliseconds(86'400'000));
  EXPECT_EQ(parse_duration("0s"), milliseconds(0));
}

TEST(ParseDuration, BareNumbersAreSeconds) {
  EXPECT_EQ(parse_duration("30"), milliseconds(30'000));
  EXPECT_EQ(parse_duration("1.5"), milliseconds(1'500));
  EXPECT_EQ(parse_duration("0"), milliseconds(0));
}

TEST(ParseDuration, AcceptsDecimals) {
  EXPECT_EQ(parse_duration("1.5s"), milliseconds(1'500));
  EXPECT_EQ(parse_duration("0.25m"), milliseconds(15'000));
  EXPECT_EQ(parse_duration(".5h"), milliseconds(1'800'000));
  EXPECT_EQ(parse_duration("1.0ms"), milliseconds(1));
}

TEST(ParseDuration, AcceptsCompoundsInDescendingOrder) {
  EXPECT_EQ(parse_duration("1h30m"), milliseconds(5'400'000));
  EXPECT_EQ(parse_duration("1d2h3m4s5ms"), milliseconds(93'784'005));
  EXPECT_EQ(parse_duration("1m30s"), milliseconds(90'000));
}

TEST(ParseDuration, RejectsGarbage) {
  for (const char* text :
       {"",       "-1s",   "-5",   "+5s", "s",    "5x",    "5 s",    " 5s", "5s ",
        "1.",     "1..5s", "5S",   "1e3", "1m30", "30s1m", "1s1s",   "5mm", "ms",
        "1.5.3s", "abc",   "0x10", "nan", "inf",  "5sec",  "1h 30m", "1µs"}) {
    EXPECT_EQ(parse_duration(text), std::nullopt) << "'" << text << "'";
  }
}

TEST(ParseDuration, RejectsFinerThanAMillisecond) {
  EXPECT_EQ(parse_duration("0.5ms"), std::nullopt);
  EXPECT_EQ(parse_duration("1.0001s"), std::nullopt);
  EXPECT_EQ(parse_duration("0.001s"), milliseconds(1));
}

TEST(ParseDuration, RejectsHugeValuesInsteadOfOverflowing) {
  EXPECT_EQ(parse_duration("36500d"), max_duration);
  EXPECT_EQ(parse_duration("36501d"), std::nullopt);
  EXPECT_EQ(parse_duration("99999999999999999999s"), std::nullopt);
  EXPECT_EQ(parse_duration("36500d1ms"), std::nullopt);
}

TEST(FormatDuration, UsesTheLargestExactUnits) {
  EXPECT_EQ(format_duration(milliseconds(0)), "0s");
  EXPECT_EQ(format_duration(milliseconds(120'000)), "2m");
  EXPECT_EQ(format_duration(milliseconds(1'500)), "1500ms");
  EXPECT_EQ(format_duration(milliseconds(5'400'000)), "1h30m");
  EXPECT_EQ(format_duration(milliseconds(86'400'000)), "1d");
  EXPECT_EQ(format_duration(milliseconds(93'784'000)), "1d2h3m4s");
  EXPECT_EQ(format_duration(milliseconds(250)), "250ms");
  EXPECT_EQ(format_duration(milliseconds(7 * 86'400'000LL)), "7d");
}

TEST(FormatDuration, ParsesBackToTheSameValue) {
  for (long long ms : {1LL, 999LL, 1'000LL, 61'001LL, 3'600'000LL, 90'061'000LL, 604'800'000LL}) {
    EXPECT_EQ(parse_duration(format_duration(milliseconds(ms))), milliseconds(ms)) << ms;
  }
}

}  // namespace
}  // namespace jobwatch::config
