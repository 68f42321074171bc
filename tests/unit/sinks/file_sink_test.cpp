#include "jobwatch/sinks/file_sink.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>

#include "outbox/outbox_harness.hpp"
#include "test_support.hpp"

namespace jobwatch::sinks {
namespace {

using namespace std::chrono_literals;
using test::make_event;
using watch::EventType;
namespace fs = std::filesystem;

class FileSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("jobwatch-sinks-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::vector<std::string> read_lines(const fs::path& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
  static std::string read_all(const fs::path& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  std::vector<DeliveryResult> deliver(FileSink& sink, const std::vector<watch::Event>& events) {
    std::vector<const watch::Event*> ptrs;
    ptrs.reserve(events.size());
    for (const auto& e : events) ptrs.push_back(&e);
    std::optional<std::vector<DeliveryResult>> got;
    sink.deliver_batch(ptrs, [&](std::vector<DeliveryResult> r) { got = std::move(r); });
    EXPECT_FALSE(got);  // posted, never inline
    ioc_.run();
    ioc_.restart();
    return got.value_or(std::vector<DeliveryResult>{});
  }

  boost::asio::io_context ioc_;
  outbox::test::OutboxHarness outbox_;
  fs::path dir_;
};

TEST_F(FileSinkTest, AppendsOneParsableLinePerEvent) {
  const auto path = dir_ / "events.jsonl";
  FileSink sink(ioc_.get_executor(), "archive", path.string());
  const std::vector<watch::Event> events = {make_event("a"), make_event("b", EventType::job_failed),
                                            make_event("c", EventType::subjob_failed, "s1")};
  const auto results = deliver(sink, events);
  ASSERT_EQ(results.size(), 3u);
  for (const auto& r : results) EXPECT_EQ(r.kind, DeliveryResult::Kind::delivered);

  // A second batch appends.
  const auto more = deliver(sink, {make_event("d")});
  ASSERT_EQ(more.size(), 1u);

  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], events[0].document);
  EXPECT_EQ(lines[2], events[2].document);
  for (const auto& line : lines) {
    const auto doc = boost::json::parse(line);
    EXPECT_TRUE(doc.as_object().contains("id"));
  }
  EXPECT_EQ(read_all(path).back(), '\n');

  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777 & ~0640, 0u);  // at most 0640 (umask may narrow it)
}

TEST_F(FileSinkTest, ReopenAfterRenameWritesANewFileAtThePath) {
  const auto path = dir_ / "events.jsonl";
  const auto rotated = dir_ / "events.jsonl.1";
  FileSink sink(ioc_.get_executor(), "archive", path.string());
  const auto first = make_event("first");
  const auto second = make_event("second");
  ASSERT_EQ(deliver(sink, {first}).size(), 1u);

  fs::rename(path, rotated);  // logrotate `create`
  sink.reopen();
  ASSERT_EQ(deliver(sink, {second}).size(), 1u);

  EXPECT_EQ(read_lines(rotated), std::vector<std::string>{first.document});
  EXPECT_EQ(read_lines(path), std::vector<std::string>{second.document});
}

TEST_F(FileSinkTest, WithoutReopenARenamedFileKeepsGrowing) {
  const auto path = dir_ / "events.jsonl";
  const auto rotated = dir_ / "events.jsonl.1";
  FileSink sink(ioc_.get_executor(), "archive", path.string());
  ASSERT_EQ(deliver(sink, {make_event("first")}).size(), 1u);
  fs::rename(path, rotated);
  ASSERT_EQ(deliver(sink, {make_event("second")}).size(), 1u);
  EXPECT_EQ(read_lines(rotated).size(), 2u);
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(FileSinkTest, UnopenableFileAsksForRetryAndRecovers) {
  const auto path = dir_ / "missing-dir" / "events.jsonl";
  FileSink sink(ioc_.get_executor(), "archive", path.string());
  EXPECT_FALSE(sink.is_open());
  const auto results = deliver(sink, {make_event("a"), make_event("b")});
  ASSERT_EQ(results.size(), 1u);  // the rest of the batch was not attempted
  EXPECT_EQ(results[0].kind, DeliveryResult::Kind::retry);
  EXPECT_NE(results[0].error.find("open"), std::string::npos) << results[0].error;

  fs::create_directories(path.parent_path());
  const auto again = deliver(sink, {make_event("a")});  // opens on the next batch
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].kind, DeliveryResult::Kind::delivered);
  EXPECT_EQ(read_lines(path).size(), 1u);
}

TEST_F(FileSinkTest, OutboxReopenRetriesAWaitingFileAtOnce) {
  const auto path = dir_ / "later" / "events.jsonl";
  config::SinkConfig cfg;
  cfg.name = "archive";
  cfg.type = config::SinkType::file;
  cfg.path = path.string();
  // Without the reopen kick nothing would happen in this test.
  auto made = outbox_.make(ioc_, {cfg}, RetryPolicy{10min, 10min}, 1.0);
  ASSERT_TRUE(made);
  auto& outbox = *made;

  outbox.submit(make_event("a"));
  ASSERT_TRUE(test::run_until(ioc_, [&] {
    return outbox.stats().at("by_sink").at("archive").as_object().at("retrying").to_number<int>() ==
           1;
  }));
  EXPECT_EQ(outbox.pending(), 1u);
  EXPECT_FALSE(outbox.stats().at("by_sink").at("archive").as_object().at("last_error").is_null());

  fs::create_directories(path.parent_path());
  outbox.reopen();
  ASSERT_TRUE(test::run_until(ioc_, [&] { return outbox.pending() == 0; }));
  EXPECT_EQ(read_lines(path).size(), 1u);
  EXPECT_EQ(outbox.stats().at("by_sink").at("archive").as_object().at("delivered").to_number<int>(),
            1);
}

TEST_F(FileSinkTest, OutboxBatchesABurstAndKeepsOrder) {
  const auto path = dir_ / "events.jsonl";
  config::SinkConfig cfg;
  cfg.name = "archive";
  cfg.type = config::SinkType::file;
  cfg.path = path.string();
  auto made = outbox_.make(ioc_, {cfg});
  ASSERT_TRUE(made);
  auto& outbox = *made;

  std::vector<std::string> expected;
  for (int i = 0; i < 300; ++i) {
    const auto e = make_event("job" + std::to_string(i));
    expected.push_back(e.document);
    outbox.submit(e);
  }
  EXPECT_EQ(outbox.pending(), 300u);  // submit() only enqueues
  EXPECT_FALSE(fs::exists(path) && !read_lines(path).empty());
  ASSERT_TRUE(test::run_until(ioc_, [&] { return outbox.pending() == 0; }));
  EXPECT_EQ(read_lines(path), expected);
}

// A crash mid-write leaves a partial last line; the next open cuts it so
// that it never precedes a new event.
TEST_F(FileSinkTest, OpeningCutsATornLastLine) {
  const auto path = dir_ / "events.jsonl";
  const auto old1 = make_event("old1");
  const auto old2 = make_event("old2");
  {
    std::ofstream out(path, std::ios::binary);
    out << old1.document << "\n"
        << old2.document << "\n"
        << R"({"id":"evt_torn","ty)";
  }
  FileSink sink(ioc_.get_executor(), "archive", path.string());
  EXPECT_EQ(read_all(path), old1.document + "\n" + old2.document + "\n");  // cut at open
  const auto fresh = make_event("fresh");
  ASSERT_EQ(deliver(sink, {fresh}).size(), 1u);
  EXPECT_EQ(read_lines(path),
            (std::vector<std::string>{old1.document, old2.document, fresh.document}));
  for (const auto& line : read_lines(path)) EXPECT_NO_THROW(boost::json::parse(line)) << line;
}

TEST_F(FileSinkTest, ATornFirstLineIsCutToNothing) {
  const auto path = dir_ / "events.jsonl";
  {
    std::ofstream out(path, std::ios::binary);
    out << R"({"id":"evt_torn","type":"job.fa)";
  }
  FileSink sink(ioc_.get_executor(), "archive", path.string());
  EXPECT_EQ(fs::file_size(path), 0u);
  const auto fresh = make_event("fresh");
  ASSERT_EQ(deliver(sink, {fresh}).size(), 1u);
  EXPECT_EQ(read_all(path), fresh.document + "\n");
}

TEST_F(FileSinkTest, ReopenCutsATornLineLeftInTheNewFile) {
  const auto path = dir_ / "events.jsonl";
  const auto rotated = dir_ / "events.jsonl.1";
  FileSink sink(ioc_.get_executor(), "archive", path.string());
  ASSERT_EQ(deliver(sink, {make_event("first")}).size(), 1u);
  fs::rename(path, rotated);
  const auto other = make_event("other");
  {
    std::ofstream out(path, std::ios::binary);  // something else wrote a torn line there
    out << other.document << "\n" << std::string(100'000, 'x');
  }
  sink.reopen();
  EXPECT_EQ(read_all(path), other.document + "\n");
  ASSERT_EQ(deliver(sink, {make_event("second")}).size(), 1u);
  EXPECT_EQ(read_lines(path),
            (std::vector<std::string>{other.document, make_event("second").document}));
}

TEST_F(FileSinkTest, ACompleteFileIsLeftAlone) {
  const auto path = dir_ / "events.jsonl";
  const auto old = make_event("old");
  {
    std::ofstream out(path, std::ios::binary);
    out << old.document << "\n";
  }
  FileSink sink(ioc_.get_executor(), "archive", path.string());
  EXPECT_EQ(read_all(path), old.document + "\n");
  ASSERT_EQ(deliver(sink, {make_event("new")}).size(), 1u);
  EXPECT_EQ(read_lines(path).size(), 2u);
}

}  // namespace
}  // namespace jobwatch::sinks
