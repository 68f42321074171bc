// Shared bits for the upstream tests: running an io_context to completion
// (and proving nothing was left pending), and temporary files.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace jobwatch::testing {

// Runs until the io_context runs out of work. The limit is only a guard so
// a bug hangs one test instead of the suite; reaching it is the failure
// "work was left pending".
inline ::testing::AssertionResult run_to_completion(
    boost::asio::io_context& io, std::chrono::seconds limit = std::chrono::seconds(30)) {
  io.restart();  // a second run in the same test
  io.run_for(limit);
  if (!io.stopped()) {
    return ::testing::AssertionFailure() << "the io_context still has pending work";
  }
  return ::testing::AssertionSuccess();
}

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "jobwatch-test-XXXXXX").string();
    int fd = ::mkstemp(pattern.data());
    if (fd >= 0) ::close(fd);
    path_ = pattern;
    std::ofstream(path_) << content;
  }
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace jobwatch::testing
