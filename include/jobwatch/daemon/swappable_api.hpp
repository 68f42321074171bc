// The engine's JobApi across SIGHUP: forwards to the current upstream client
// and lets a reload put a new one in place while polls sent through the old
// one are still out. The old client lives until its last answer arrived.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <vector>

#include "jobwatch/asio/lifetime.hpp"
#include "jobwatch/upstream/http_job_api.hpp"

namespace jobwatch::daemon {

class SwappableJobApi final : public upstream::JobApi {
 public:
  SwappableJobApi(boost::asio::any_io_executor executor,
                  std::unique_ptr<upstream::HttpJobApi> first);
  ~SwappableJobApi() override;

  void fetch(model::Api api, const std::string& project_id, const std::string& job_id,
             Callback done) override;

  // Later fetches go to `next`. The one it replaces, with its connections,
  // is destroyed once nothing is out on it any more (at once when idle).
  void replace(std::unique_ptr<upstream::HttpJobApi> next);

  upstream::HttpJobApi& current() { return *current_->api; }
  const upstream::HttpJobApi& current() const { return *current_->api; }
  // Clients replaced but still waiting for answers (for tests and stats).
  std::size_t retired() const { return retired_.size(); }

 private:
  struct Slot {
    std::unique_ptr<upstream::HttpJobApi> api;
    std::size_t outstanding = 0;  // fetches sent through it, not yet answered
  };
  void release_idle();

  boost::asio::any_io_executor executor_;
  std::shared_ptr<Slot> current_;
  std::vector<std::shared_ptr<Slot>> retired_;
  Lifetime lifetime_;
};

}  // namespace jobwatch::daemon
