#include "jobwatch/daemon/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <memory>

namespace jobwatch::daemon {
namespace {

// "<N>" as sd-daemon(3) defines it, so journald files each line at its
// priority.
class JournalPriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static constexpr const char* prefixes[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", ""};
    const char* prefix = prefixes[static_cast<int>(msg.level)];
    dest.append(prefix, prefix + std::char_traits<char>::length(prefix));
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JournalPriorityFlag>();
  }
};

}  // namespace

void setup_logging(std::string_view level) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  // journald adds its own timestamps; a terminal or a file wants them.
  if (std::getenv("JOURNAL_STREAM") != nullptr)
    formatter->add_flag<JournalPriorityFlag>('*').set_pattern("%*%v");
  else
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  sink->set_formatter(std::move(formatter));
  auto logger = std::make_shared<spdlog::logger>("jobwatchd", std::move(sink));
  spdlog::set_default_logger(std::move(logger));
  set_log_level(level);
}

void set_log_level(std::string_view level) {
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
  spdlog::flush_on(spdlog::level::trace);
}

}  // namespace jobwatch::daemon
