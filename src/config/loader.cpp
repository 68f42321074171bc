#include "jobwatch/config/loader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "sections.hpp"
#include "yaml_map.hpp"

namespace jobwatch::config {
namespace {

void read_document(const YAML::Node& root, detail::Diagnostics& diagnostics, Config& config) {
  detail::MapReader map(diagnostics, root, "", YAML::Mark(),
                        {"api", "poll", "control", "state", "sinks", "log", "metrics"});
  bool not_a_map = root.IsDefined() && !root.IsNull() && !root.IsMap();
  if (not_a_map) return;  // reported by MapReader; nothing else to check
  detail::read_api(map, config.api);
  detail::read_poll(map, config.poll);
  detail::read_control(map, config.control);
  detail::read_state(map, config.state);
  detail::read_sinks(map, config.sinks);
  detail::read_log(map, config.log);
  detail::read_metrics(map, config.metrics);
}

}  // namespace

std::string Diagnostic::to_string() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

LoadResult load_string(std::string_view yaml, const std::string& file_name) {
  detail::Diagnostics diagnostics(file_name);
  Config config;
  try {
    std::vector<YAML::Node> documents = YAML::LoadAll(std::string(yaml));
    if (documents.size() > 1) {
      diagnostics.add(documents[1].Mark(), "the file must hold one YAML document, not several");
    }
    read_document(documents.empty() ? YAML::Node() : documents.front(), diagnostics, config);
  } catch (const YAML::Exception& e) {
    // Syntax errors (and yaml-cpp's depth guard) end the reading.
    diagnostics.add(e.mark, e.msg);
  } catch (const std::exception& e) {
    diagnostics.add(YAML::Mark(), std::string("cannot read the YAML: ") + e.what());
  } catch (...) {
    diagnostics.add(YAML::Mark(), "cannot read the YAML");
  }
  LoadResult result;
  if (diagnostics.empty()) result.config = std::move(config);
  result.errors = diagnostics.take();
  return result;
}

LoadResult load_file(const std::string& path) {
  auto unreadable = [&path](int error) {
    LoadResult result;
    result.errors.push_back(
        Diagnostic{path, 0, 0, "cannot read: " + std::system_category().message(error)});
    return result;
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return unreadable(errno);
  std::string text;
  char buffer[16 * 1024];
  int error = 0;
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) error = errno;
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (error != 0) return unreadable(error);
  return load_string(text, path);
}

}  // namespace jobwatch::config
