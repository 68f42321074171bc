#include "jobwatch/control/server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "jobwatch/control/varlink.hpp"
#include "service_fixture.hpp"

using namespace jobwatch;
using namespace jobwatch::control;
using namespace jobwatch::control::test;
using namespace std::chrono_literals;

namespace {

config::Config server_config() {
  auto c = fast_config();
  c.control.idle_timeout = 300ms;
  c.control.max_message = 4096;
  c.control.socket_mode = 0660;
  return c;
}

}  // namespace

// The server and the clients share this thread: client sockets are
// non-blocking and every wait for them turns the event loop.
class ServerTest : public ServiceFixture {
 protected:
  explicit ServerTest(config::Config config = server_config()) : ServiceFixture(config) {
    char tmpl[] = "/tmp/jobwatch-control-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    config_.control.socket = dir_ + "/control.sock";
    server_ = std::make_unique<ControlServer>(io_.get_executor(), config_.control, service_, 64);
  }
  ~ServerTest() override {
    for (int fd : fds_) ::close(fd);
    server_->stop();
    std::filesystem::remove_all(dir_);
  }

  void listen() {
    auto error = server_->listen();
    ASSERT_FALSE(error) << *error;
  }

  int connect_client() {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, config_.control.socket.c_str());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ADD_FAILURE() << "connect: " << std::strerror(errno);
    }
    fds_.push_back(fd);
    return fd;
  }

  void send_raw(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        step();
        continue;
      }
      if (n < 0) return;  // the server may have closed already
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  void send_call(int fd, std::string_view method, std::string_view params = "{}", bool more = false,
                 bool oneway = false) {
    Call call{std::string(method), boost::json::parse(params).as_object(), more, oneway};
    send_raw(fd, encode_call(call));
  }

  // The next reply on fd, or nullopt on EOF / after `limit`.
  std::optional<Reply> read_reply(int fd, std::chrono::milliseconds limit = 5s) {
    auto& buffer = buffers_[fd];
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (auto nul = buffer.find('\0'); nul != std::string::npos) {
        auto reply = parse_reply(std::string_view(buffer).substr(0, nul));
        buffer.erase(0, nul + 1);
        EXPECT_TRUE(reply) << "not a reply";
        return reply;
      }
      char chunk[4096];
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n > 0) {
        buffer.append(chunk, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return std::nullopt;
      step();
    }
    return std::nullopt;
  }

  // True once the server has closed fd (EOF), false if it stays open `limit`.
  bool closed_by_server(int fd, std::chrono::milliseconds limit = 5s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      char chunk[4096];
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
      if (n > 0) continue;
      step();
    }
    return false;
  }

  std::string dir_;
  std::unique_ptr<ControlServer> server_;
  std::vector<int> fds_;
  std::map<int, std::string> buffers_;
};

TEST_F(ServerTest, SocketModeIsApplied) {
  listen();
  struct stat st {};
  ASSERT_EQ(::stat(config_.control.socket.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  server_->stop();
  EXPECT_FALSE(std::filesystem::exists(config_.control.socket));  // removed on stop
}

TEST_F(ServerTest, AnswersCallsInOrderIncludingPipelined) {
  listen();
  const int fd = connect_client();
  std::string both = encode_call(Call{"org.varlink.service.GetInfo", {}, false, false}) +
                     encode_call(Call{"io.jobwatch.Nope", {}, false, false});
  send_raw(fd, both);
  auto first = read_reply(fd);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->parameters.at("product"), "jobwatchd");
  auto second = read_reply(fd);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->error, errors::method_not_found);
}

TEST_F(ServerTest, PipelinedCallWaitsForTheStreamingOne) {
  listen();
  api_.set("p", 2);
  const int fd = connect_client();
  std::string both =
      encode_call(Call{
          "io.jobwatch.Wait",
          boost::json::object{{"jobs", boost::json::array{boost::json::object{{"job_id", "p"}}}},
                              {"timeout_s", 0.5}},
          true, false}) +
      encode_call(Call{"io.jobwatch.List", {}, false, false});
  send_raw(fd, both);
  // Every reply before the Wait's final one belongs to the Wait.
  for (;;) {
    auto reply = read_reply(fd);
    ASSERT_TRUE(reply);
    ASSERT_FALSE(reply->parameters.contains("watches")) << "List answered before Wait ended";
    if (!reply->continues) {
      EXPECT_EQ(reply->parameters.at("results").as_array()[0].at("outcome"), "timeout");
      break;
    }
    EXPECT_TRUE(reply->parameters.contains("progress"));
  }
  auto list = read_reply(fd);
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->parameters.contains("watches"));
}

TEST_F(ServerTest, ALargeListArrivesWholeAndBeforeThePipelinedCallAfterIt) {
  watch_many(3000);  // several pieces, more than the socket buffers hold
  listen();
  const int fd = connect_client();
  send_raw(fd, encode_call(Call{"io.jobwatch.List", {}, false, false}) +
                   encode_call(Call{"org.varlink.service.GetInfo", {}, false, false}));
  auto list = read_reply(fd);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->parameters.at("watches").as_array().size(), 3000u);
  auto info = read_reply(fd);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->parameters.at("product"), "jobwatchd");
}

TEST_F(ServerTest, OnewayGetsNoReply) {
  listen();
  const int fd = connect_client();
  send_call(fd, "io.jobwatch.Watch", R"({"jobs":[{"job_id":"ow"}]})", false, true);
  send_call(fd, "io.jobwatch.List");
  auto reply = read_reply(fd);
  ASSERT_TRUE(reply);
  ASSERT_TRUE(reply->parameters.contains("watches"));  // the first reply is List's
  EXPECT_EQ(reply->parameters.at("watches").as_array().size(), 1u);
}

TEST_F(ServerTest, IdleTimeoutClosesTheConnection) {
  listen();
  const int fd = connect_client();
  send_call(fd, "io.jobwatch.List");
  ASSERT_TRUE(read_reply(fd));
  EXPECT_TRUE(closed_by_server(fd));
}

TEST_F(ServerTest, RunningWaitKeepsTheConnectionOpen) {
  listen();
  api_.set("long", 2);
  const int fd = connect_client();
  send_call(fd, "io.jobwatch.Wait", R"({"jobs":[{"job_id":"long"}]})", true);
  ASSERT_TRUE(read_reply(fd));
  // Three idle timeouts pass while the Wait runs.
  EXPECT_FALSE(closed_by_server(fd, 900ms));
  api_.set("long", 1);
  for (;;) {
    auto reply = read_reply(fd);
    ASSERT_TRUE(reply);
    if (!reply->continues) break;
  }
  EXPECT_TRUE(closed_by_server(fd));  // idle again afterwards
}

TEST_F(ServerTest, OversizeMessageGetsAnErrorThenClose) {
  listen();
  const int fd = connect_client();
  send_raw(fd, std::string(5000, ' '));  // no NUL yet, already over 4096
  auto reply = read_reply(fd);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->error, errors::invalid_parameter);
  EXPECT_EQ(reply->parameters.at("parameter"), "message");
  EXPECT_TRUE(closed_by_server(fd));
}

TEST_F(ServerTest, TooDeepAndMalformedGetAnErrorThenClose) {
  listen();
  for (std::string bad : {std::string(40, '[') + std::string(40, ']'), std::string("{\"method\":"),
                          std::string("\xff\xfe garbage"), std::string("[1,2]")}) {
    const int fd = connect_client();
    send_raw(fd, bad + '\0');
    auto reply = read_reply(fd);
    ASSERT_TRUE(reply) << bad;
    EXPECT_EQ(reply->error, errors::invalid_parameter);
    EXPECT_EQ(reply->parameters.at("parameter"), "message");
    EXPECT_TRUE(reply->parameters.at("reason").is_string());
    EXPECT_TRUE(closed_by_server(fd));
  }
  // The server still serves.
  const int fd = connect_client();
  send_call(fd, "io.jobwatch.List");
  EXPECT_TRUE(read_reply(fd));
}

TEST_F(ServerTest, SilentClientsDoNotBlockOthers) {
  listen();
  for (int i = 0; i < 50; ++i) {
    const int silent = connect_client();
    if (i % 2 == 0) send_raw(silent, "{\"method\":\"io.jobwatch.Li");  // half a call
  }
  const int fd = connect_client();
  send_call(fd, "org.varlink.service.GetInfo");
  auto reply = read_reply(fd);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->parameters.at("vendor"), "jobwatch");
}

TEST_F(ServerTest, ConnectionsBeyondTheLimitAreClosed) {
  server_ = std::make_unique<ControlServer>(io_.get_executor(), config_.control, service_, 2);
  listen();
  const int a = connect_client();
  const int b = connect_client();
  const int c = connect_client();
  EXPECT_TRUE(closed_by_server(c, 2s));
  send_call(a, "io.jobwatch.List");
  EXPECT_TRUE(read_reply(a));
  send_call(b, "io.jobwatch.List");
  EXPECT_TRUE(read_reply(b));
  EXPECT_EQ(service_.control_stats().at("connections_rejected"), 1);
}

TEST_F(ServerTest, DisconnectEndsFollow) {
  listen();
  const int fd = connect_client();
  send_call(fd, "io.jobwatch.Follow", "{}", true);
  ASSERT_TRUE(run_until([&] { return service_.control_stats().at("streams_open") == 1; }));
  ::close(fd);
  fds_.erase(std::find(fds_.begin(), fds_.end(), fd));
  ASSERT_TRUE(run_until([&] { return service_.control_stats().at("streams_open") == 0; }));
  EXPECT_EQ(service_.control_stats().at("connections_open"), 0);
}

TEST_F(ServerTest, FollowOverTheSocket) {
  listen();
  const int fd = connect_client();
  send_call(fd, "io.jobwatch.Follow", "{}", true);
  ASSERT_TRUE(run_until([&] { return service_.control_stats().at("streams_open") == 1; }));
  api_.set("ev", 0);
  const int other = connect_client();
  send_call(other, "io.jobwatch.Watch", R"({"jobs":[{"job_id":"ev"}]})");
  ASSERT_TRUE(read_reply(other));
  auto event = read_reply(fd);
  ASSERT_TRUE(event);
  EXPECT_TRUE(event->continues);
  EXPECT_EQ(event->parameters.at("event").at("type"), "job.failed");
}

TEST_F(ServerTest, PeerUidIsRecorded) {
  listen();
  const int fd = connect_client();
  send_call(fd, "io.jobwatch.Watch", R"({"jobs":[{"job_id":"mine"}]})");
  ASSERT_TRUE(read_reply(fd));
  // The same uid may cancel it; a different uid may not (checked in the
  // service tests), so here: the watch belongs to us.
  send_call(fd, "io.jobwatch.Cancel", R"({"jobs":[{"job_id":"mine"}]})");
  auto reply = read_reply(fd);
  ASSERT_TRUE(reply);
  EXPECT_TRUE(reply->error.empty()) << reply->error;
}

TEST_F(ServerTest, StaleSocketFileIsReplacedLiveOneIsNot) {
  // A stale socket: bound, then its owner went away without unlinking.
  {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, config_.control.socket.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  listen();
  ControlServer second(io_.get_executor(), config_.control, service_);
  auto error = second.listen();
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("another process is listening"), std::string::npos) << *error;
  // The first server is untouched.
  const int fd = connect_client();
  send_call(fd, "io.jobwatch.List");
  EXPECT_TRUE(read_reply(fd));
}

TEST_F(ServerTest, RegularFileIsNeverRemoved) {
  { std::ofstream(config_.control.socket) << "data"; }
  auto error = server_->listen();
  ASSERT_TRUE(error);
  EXPECT_TRUE(std::filesystem::is_regular_file(config_.control.socket));
}

TEST_F(ServerTest, InheritedSocketIsUsed) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, config_.control.socket.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  ASSERT_FALSE(server_->listen(fd));
  const int client = connect_client();
  send_call(client, "io.jobwatch.List");
  EXPECT_TRUE(read_reply(client));
}
