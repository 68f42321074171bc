#include "jobwatch/sinks/log_sink.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "test_support.hpp"

namespace jobwatch::sinks {
namespace {

using test::make_event;
using watch::EventType;

TEST(LogSink, FormatsKeyValueLines) {
  EXPECT_EQ(format_log_line(make_event("job1", EventType::job_failed)),
            "event job.failed job=job1 project=proj1 id=evt_job1_1");
  EXPECT_EQ(format_log_line(make_event("job1", EventType::subjob_succeeded, "sub7")),
            "event subjob.succeeded job=job1 project=proj1 subjob=sub7 id=evt_job1_sub7_2");
  EXPECT_EQ(format_log_line(make_event("job2", EventType::watch_abandoned, "", "deadline")),
            "event watch.abandoned job=job2 project=proj1 reason=deadline id=evt_job2_4");
}

class LogCapture {
 public:
  LogCapture() : ring_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64)) {
    previous_ = spdlog::default_logger();
    auto logger = std::make_shared<spdlog::logger>("capture", ring_);
    logger->set_pattern("%l %v");
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::vector<std::string> lines() { return ring_->last_formatted(); }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> ring_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST(LogSink, LogsSuccessAtInfoAndFailuresAtWarnAlwaysDelivered) {
  LogCapture capture;
  boost::asio::io_context ioc;
  LogSink sink(ioc.get_executor(), "journal");
  std::vector<DeliveryResult> results;
  const auto ok = make_event("job1", EventType::job_succeeded);
  const auto failed = make_event("job2", EventType::subjob_failed, "s1");
  const auto abandoned = make_event("job3", EventType::watch_abandoned, "", "not_found");
  for (const auto* e : {&ok, &failed, &abandoned}) {
    sink.deliver(*e, [&](DeliveryResult r) { results.push_back(std::move(r)); });
  }
  EXPECT_TRUE(results.empty());  // completions are posted, never inline
  ioc.run();
  ASSERT_EQ(results.size(), 3u);
  for (const auto& r : results) EXPECT_EQ(r.kind, DeliveryResult::Kind::delivered);

  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("info event job.succeeded job=job1", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("warning event subjob.failed job=job2", 0), 0u) << lines[1];
  EXPECT_NE(lines[2].find("reason=not_found"), std::string::npos) << lines[2];
  EXPECT_EQ(lines[2].rfind("warning ", 0), 0u) << lines[2];
}

}  // namespace
}  // namespace jobwatch::sinks
