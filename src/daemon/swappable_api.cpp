#include "jobwatch/daemon/swappable_api.hpp"

#include <boost/asio/post.hpp>

namespace jobwatch::daemon {

SwappableJobApi::SwappableJobApi(boost::asio::any_io_executor executor,
                                 std::unique_ptr<upstream::HttpJobApi> first)
    : executor_(std::move(executor)), current_(std::make_shared<Slot>()) {
  current_->api = std::move(first);
}

SwappableJobApi::~SwappableJobApi() {
  lifetime_.end();
}

void SwappableJobApi::fetch(model::Api api, const std::string& project_id,
                            const std::string& job_id, Callback done) {
  std::shared_ptr<Slot> slot = current_;
  ++slot->outstanding;
  slot->api->fetch(
      api, project_id, job_id,
      [this, slot, life = lifetime_.token(), done = std::move(done)](upstream::Answer answer) {
        --slot->outstanding;
        done(std::move(answer));
        // Not from inside the client's own completion: it is
        // still on the stack.
        if (!life.expired() && slot != current_ && slot->outstanding == 0) {
          boost::asio::post(executor_, [this, life] {
            if (!life.expired()) release_idle();
          });
        }
      });
}

void SwappableJobApi::replace(std::unique_ptr<upstream::HttpJobApi> next) {
  auto slot = std::make_shared<Slot>();
  slot->api = std::move(next);
  retired_.push_back(std::exchange(current_, std::move(slot)));
  release_idle();
}

void SwappableJobApi::release_idle() {
  std::erase_if(retired_, [](const std::shared_ptr<Slot>& slot) { return slot->outstanding == 0; });
}

}  // namespace jobwatch::daemon
