#include "jobwatch/control/varlink.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

using namespace jobwatch::control;
using namespace std::string_literals;

namespace {

std::string message_of(const VarlinkFramer::Next& next) {
  const auto* text = std::get_if<std::string>(&next);
  return text ? *text : "<no message>";
}

bool need_more(const VarlinkFramer::Next& next) {
  return std::holds_alternative<VarlinkFramer::NeedMore>(next);
}

bool oversize(const VarlinkFramer::Next& next) {
  return std::holds_alternative<VarlinkFramer::Oversize>(next);
}

// {"method":"m","parameters":{"a":[[…1…]]}} nested `depth` levels in total.
std::string nested_call(int depth) {
  std::string s = R"({"method":"m","parameters":{"a":)";
  for (int i = 2; i < depth; ++i) s += "[";
  s += "1";
  for (int i = 2; i < depth; ++i) s += "]";
  return s + "}}";
}

}  // namespace

TEST(VarlinkFramer, NoNulYetNeedsMore) {
  VarlinkFramer framer;
  framer.feed(R"({"method":"x")");
  EXPECT_TRUE(need_more(framer.next()));
  EXPECT_TRUE(need_more(framer.next()));
}

TEST(VarlinkFramer, MessageSplitAcrossFeeds) {
  VarlinkFramer framer;
  framer.feed(R"({"meth)");
  EXPECT_TRUE(need_more(framer.next()));
  framer.feed(R"(od":"a"})");
  EXPECT_TRUE(need_more(framer.next()));
  framer.feed("\0"s);
  EXPECT_EQ(message_of(framer.next()), R"({"method":"a"})");
  EXPECT_TRUE(need_more(framer.next()));
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(VarlinkFramer, SeveralMessagesInOneFeed) {
  VarlinkFramer framer;
  framer.feed("{\"a\":1}\0{\"b\":2}\0{\"c\""s);
  EXPECT_EQ(message_of(framer.next()), R"({"a":1})");
  EXPECT_EQ(message_of(framer.next()), R"({"b":2})");
  EXPECT_TRUE(need_more(framer.next()));
  framer.feed(":3}\0"s);
  EXPECT_EQ(message_of(framer.next()), R"({"c":3})");
}

TEST(VarlinkFramer, EmptyMessageIsAMessage) {
  VarlinkFramer framer;
  framer.feed("\0"s);
  EXPECT_EQ(message_of(framer.next()), "");
}

TEST(VarlinkFramer, MessageOfExactlyMaxIsAccepted) {
  VarlinkFramer framer(16);
  framer.feed(std::string(16, 'x') + '\0');
  EXPECT_EQ(message_of(framer.next()), std::string(16, 'x'));
}

TEST(VarlinkFramer, OversizeWithTerminator) {
  VarlinkFramer framer(16);
  framer.feed(std::string(17, 'x') + '\0');
  EXPECT_TRUE(oversize(framer.next()));
}

TEST(VarlinkFramer, OversizeDetectedBeforeTheNulArrives) {
  VarlinkFramer framer(16);
  framer.feed(std::string(10, 'x'));
  EXPECT_TRUE(need_more(framer.next()));
  framer.feed(std::string(10, 'x'));
  EXPECT_TRUE(oversize(framer.next()));
}

TEST(VarlinkFramer, ManySmallFeedsKeepWorking) {
  VarlinkFramer framer(64);
  int seen = 0;
  for (int i = 0; i < 10000; ++i) {
    framer.feed("{\"i\":" + std::to_string(i) + "}" + '\0');
    const auto next = framer.next();
    ASSERT_EQ(message_of(next), "{\"i\":" + std::to_string(i) + "}");
    ++seen;
  }
  EXPECT_EQ(seen, 10000);
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(ParseCall, FullCall) {
  auto parsed = parse_call(R"({"method":"io.jobwatch.Wait","parameters":{"jobs":[]},"more":true})");
  ASSERT_TRUE(std::holds_alternative<Call>(parsed));
  const auto& call = std::get<Call>(parsed);
  EXPECT_EQ(call.method, "io.jobwatch.Wait");
  EXPECT_TRUE(call.more);
  EXPECT_FALSE(call.oneway);
  EXPECT_TRUE(call.parameters.contains("jobs"));
}

TEST(ParseCall, ParametersAndFlagsAreOptional) {
  auto parsed = parse_call(R"({"method":"io.jobwatch.List","oneway":true})");
  ASSERT_TRUE(std::holds_alternative<Call>(parsed));
  EXPECT_TRUE(std::get<Call>(parsed).parameters.empty());
  EXPECT_TRUE(std::get<Call>(parsed).oneway);
}

TEST(ParseCall, DepthLimit) {
  EXPECT_TRUE(std::holds_alternative<Call>(parse_call(nested_call(32))));
  auto deep = parse_call(nested_call(33));
  ASSERT_TRUE(std::holds_alternative<ParseFailure>(deep));
  EXPECT_NE(std::get<ParseFailure>(deep).reason.find("deeper than 32"), std::string::npos);
  EXPECT_TRUE(std::holds_alternative<ParseFailure>(parse_call(nested_call(5000))));
}

TEST(ParseCall, Rejections) {
  for (const char* bad : {
           "",
           "not json",
           R"({"method":"x")",
           R"({"method":"x"} trailing)",
           R"(["method","x"])",
           R"("io.jobwatch.List")",
           "42",
           "null",
           R"({"parameters":{}})",
           R"({"method":42})",
           R"({"method":null})",
           R"({"method":"x","parameters":[]})",
           R"({"method":"x","parameters":"a"})",
           R"({"method":"x","more":"yes"})",
           R"({"method":"x","oneway":1})",
           "{\"method\":\"\xff\xfe\"}",
       }) {
    EXPECT_TRUE(std::holds_alternative<ParseFailure>(parse_call(bad))) << bad;
  }
}

TEST(Encode, SuccessReply) {
  Reply reply{{}, boost::json::object{{"a", 1}}, false};
  const std::string wire = encode(reply);
  ASSERT_EQ(wire.back(), '\0');
  EXPECT_EQ(boost::json::parse(wire.substr(0, wire.size() - 1)),
            boost::json::parse(R"({"parameters":{"a":1}})"));
}

TEST(Encode, ContinuesOnlyWhenSet) {
  const std::string wire = encode(Reply{{}, {}, true});
  EXPECT_EQ(boost::json::parse(wire.substr(0, wire.size() - 1)),
            boost::json::parse(R"({"parameters":{},"continues":true})"));
}

TEST(Encode, ErrorReplyAlwaysHasParameters) {
  const std::string wire = encode(error_reply("io.jobwatch.ShuttingDown"));
  EXPECT_EQ(boost::json::parse(wire.substr(0, wire.size() - 1)),
            boost::json::parse(R"({"error":"io.jobwatch.ShuttingDown","parameters":{}})"));
}

TEST(Encode, InvalidParameterShape) {
  const auto reply = invalid_parameter("labels.owner", "longer than 256 bytes");
  EXPECT_EQ(reply.error, "org.varlink.service.InvalidParameter");
  EXPECT_EQ(reply.parameters.at("parameter"), "labels.owner");
}

TEST(Encode, CallRoundTripsThroughParse) {
  Call call{"io.jobwatch.Follow", {}, true, false};
  const std::string wire = encode_call(call);
  auto parsed = parse_call(std::string_view(wire).substr(0, wire.size() - 1));
  ASSERT_TRUE(std::holds_alternative<Call>(parsed));
  EXPECT_EQ(std::get<Call>(parsed).method, "io.jobwatch.Follow");
  EXPECT_TRUE(std::get<Call>(parsed).more);
}

TEST(ParseReply, ErrorAndContinues) {
  auto reply = parse_reply(R"({"error":"io.jobwatch.NotWatched","parameters":{"job_id":"a"}})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->error, "io.jobwatch.NotWatched");
  EXPECT_FALSE(reply->continues);
  reply = parse_reply(R"({"parameters":{"progress":[]},"continues":true})");
  ASSERT_TRUE(reply);
  EXPECT_TRUE(reply->error.empty());
  EXPECT_TRUE(reply->continues);
  EXPECT_FALSE(parse_reply("[]"));
  EXPECT_FALSE(parse_reply("{"));
}
