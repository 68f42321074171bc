#include "jobwatch/sinks/file_sink.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <system_error>
#include <vector>

namespace jobwatch::sinks {

namespace {

std::string errno_text(std::string_view what, const std::string& path, int err) {
  std::string text(what);
  text.append(" ").append(path).append(": ");
  text.append(std::error_code(err, std::generic_category()).message());
  return text;
}

}  // namespace

FileSink::FileSink(boost::asio::any_io_executor executor, std::string name, std::string path)
    : Sink(std::move(executor), std::move(name), config::SinkType::file), path_(std::move(path)) {
  if (auto error = open_file(); !error.empty()) {
    spdlog::warn("sink {}: {} (events are kept and retried)", this->name(), error);
  }
}

FileSink::~FileSink() {
  close_file();
}

std::string FileSink::open_file() {
  if (fd_ >= 0) return {};
  // Read access as well, to find a torn last line; a file we may only write
  // to is still written to, unchecked.
  bool readable = true;
  int fd = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0 && errno == EACCES) {
    readable = false;
    fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  }
  if (fd < 0) return errno_text("open", path_, errno);
  if (readable) {
    if (auto error = repair_tail(fd); !error.empty()) {
      ::close(fd);
      return error;
    }
  } else {
    spdlog::warn("sink {}: {} is not readable; a torn last line would not be repaired", name(),
                 path_);
  }
  fd_ = fd;
  return {};
}

std::string FileSink::repair_tail(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return errno_text("stat", path_, errno);
  if (!S_ISREG(st.st_mode) || st.st_size == 0) return {};  // a pipe or device: nothing to cut
  const off_t size = st.st_size;

  // Search backwards, a chunk at a time, for the last '\n'.
  std::vector<char> buffer(64 * 1024);
  off_t pos = size;  // everything from here to the end has no '\n'
  off_t keep = -1;   // the length to keep, once known
  while (keep < 0 && pos > 0) {
    if (static_cast<std::size_t>(size - pos) >= max_torn_line) {
      return path_ + " does not end with a line break and has none in its last " +
             std::to_string(max_torn_line / (1024 * 1024)) +
             " MiB: not a JSON Lines file, not writing to it";
    }
    const auto chunk = static_cast<std::size_t>(std::min<off_t>(pos, buffer.size()));
    const off_t from = pos - static_cast<off_t>(chunk);
    std::size_t got = 0;
    while (got < chunk) {
      const ssize_t n =
          ::pread(fd, buffer.data() + got, chunk - got, from + static_cast<off_t>(got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno_text("read", path_, errno);
      if (n == 0) return "read " + path_ + ": file shrank while being checked";
      got += static_cast<std::size_t>(n);
    }
    // Only the very last byte decides whether anything is torn.
    if (pos == size && buffer[chunk - 1] == '\n') return {};
    for (std::size_t i = chunk; i-- > 0;) {
      if (buffer[i] == '\n') {
        keep = from + static_cast<off_t>(i) + 1;
        break;
      }
    }
    pos = from;
  }
  if (keep < 0) keep = 0;  // one partial line and nothing before it

  if (::ftruncate(fd, keep) != 0) return errno_text("truncate", path_, errno);
  int rc = 0;
  do {
    rc = ::fdatasync(fd);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return errno_text("fdatasync", path_, errno);
  spdlog::warn("sink {}: cut {} bytes of a torn last line from {} (a write was interrupted)",
               name(), size - keep, path_);
  return {};
}

void FileSink::close_file() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void FileSink::reopen() {
  close_file();
  if (auto error = open_file(); !error.empty()) {
    spdlog::warn("sink {}: reopen: {}", name(), error);
  }
}

void FileSink::stop() {
  close_file();
}

void FileSink::deliver(const watch::Event& event, Done done) {
  const watch::Event* one[] = {&event};
  deliver_batch(one, [done = std::move(done)](std::vector<DeliveryResult> results) {
    done(results.empty() ? DeliveryResult::retry("not attempted") : std::move(results.front()));
  });
}

void FileSink::deliver_batch(std::span<const watch::Event* const> events, BatchDone done) {
  std::vector<DeliveryResult> results;
  if (!events.empty()) {
    const auto [durable, error] = write_batch(events);
    results.resize(durable);  // value-initialised: delivered
    if (durable < events.size()) results.push_back(DeliveryResult::retry(error));
  }
  post_batch_done(std::move(done), std::move(results));
}

std::pair<std::size_t, std::string> FileSink::write_batch(
    std::span<const watch::Event* const> events) {
  if (auto error = open_file(); !error.empty()) return {0, error};

  struct stat st {};
  if (::fstat(fd_, &st) != 0) return {0, errno_text("stat", path_, errno)};
  const off_t start = st.st_size;

  static const char newline = '\n';
  std::vector<iovec> iov;
  iov.reserve(events.size() * 2);
  for (const auto* event : events) {
    iov.push_back({const_cast<char*>(event->document.data()), event->document.size()});
    iov.push_back({const_cast<char*>(&newline), 1});
  }

  std::size_t total = 0;  // bytes written so far
  std::size_t next = 0;   // first iovec not fully written
  std::string error;
  while (next < iov.size()) {
    const int count = static_cast<int>(std::min<std::size_t>(iov.size() - next, IOV_MAX));
    const ssize_t n = ::writev(fd_, iov.data() + next, count);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = errno_text("write", path_, errno);
      break;
    }
    if (n == 0) {
      error = "write " + path_ + ": wrote nothing";
      break;
    }
    total += static_cast<std::size_t>(n);
    auto left = static_cast<std::size_t>(n);
    while (next < iov.size() && left >= iov[next].iov_len) left -= iov[next++].iov_len;
    if (left > 0) {  // partial iovec: continue from where the kernel stopped
      iov[next].iov_base = static_cast<char*>(iov[next].iov_base) + left;
      iov[next].iov_len -= left;
    }
  }

  // Count the events whose whole line made it; cut off a torn last line so
  // that the retry does not glue its line onto a fragment.
  std::size_t complete = 0;
  std::size_t complete_bytes = 0;
  for (const auto* event : events) {
    const auto line = event->document.size() + 1;
    if (complete_bytes + line > total) break;
    complete_bytes += line;
    ++complete;
  }
  if (complete_bytes < total) {
    if (::ftruncate(fd_, start + static_cast<off_t>(complete_bytes)) != 0) {
      spdlog::warn("sink {}: {}", name(), errno_text("truncate", path_, errno));
    }
  }

  if (complete > 0) {
    int rc = 0;
    do {
      rc = ::fdatasync(fd_);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      // After a failed sync the kernel may have dropped the dirty pages;
      // start over with a fresh descriptor and write everything again.
      auto sync_error = errno_text("fdatasync", path_, errno);
      close_file();
      return {0, std::move(sync_error)};
    }
  }
  return {complete, std::move(error)};
}

}  // namespace jobwatch::sinks
