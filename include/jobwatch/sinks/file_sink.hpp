// The `file` sink: JSON Lines appended to a local file, fdatasync'ed once per
// batch before any event in it counts as delivered. Blocking I/O on the loop
// thread is deliberate: local disk, and a burst costs one sync.
#pragma once

#include <string>

#include "jobwatch/sinks/sink.hpp"

namespace jobwatch::sinks {

class FileSink final : public Sink {
 public:
  // Opens the file at once; if that fails, deliveries report `retry` and the
  // open is tried again on the next batch (and on reopen()). Every open
  // first cuts a torn last line (a crash mid-write) back to the last '\n'.
  FileSink(boost::asio::any_io_executor executor, std::string name, std::string path);
  ~FileSink() override;

  void deliver(const watch::Event& event, Done done) override;
  void deliver_batch(std::span<const watch::Event* const> events, BatchDone done) override;
  std::size_t max_batch() const override { return max_batch_events; }
  // logrotate `create`: the old file was renamed; write to a new one at path.
  void reopen() override;
  void stop() override;

  const std::string& path() const { return path_; }
  bool is_open() const { return fd_ >= 0; }

  static constexpr std::size_t max_batch_events = 256;  // 2 iovecs each, under IOV_MAX
  // How far back a torn line's start is looked for. Events are far smaller
  // (upstream bodies are capped at 4 MiB); a file with no line break in its
  // last 64 MiB is not ours to cut, and is not written to.
  static constexpr std::size_t max_torn_line = 64 * 1024 * 1024;

 private:
  std::string open_file();  // empty on success, else the error
  // Cuts a partial last line off the file open at `fd`; empty on success.
  std::string repair_tail(int fd);
  void close_file();
  // Writes and syncs; returns how many leading events are durably written,
  // and the error that stopped the rest (empty when all were).
  std::pair<std::size_t, std::string> write_batch(std::span<const watch::Event* const> events);

  std::string path_;
  int fd_ = -1;
};

}  // namespace jobwatch::sinks
