// The one upstream operation jobwatch needs: fetch a job's status. The
// engine sees only this interface, so it can be driven by a scripted API in
// unit tests and by the real HTTP client in the daemon.
#pragma once

#include <functional>
#include <string>

#include "jobwatch/upstream/answer.hpp"

namespace jobwatch::upstream {

class JobApi {
 public:
  using Callback = std::function<void(Answer)>;
  virtual ~JobApi() = default;
  // The job's status from `api` (its path, host and body mapping). `done`
  // runs exactly once, on the event loop thread, never inside fetch() itself.
  virtual void fetch(model::Api api, const std::string& project_id, const std::string& job_id,
                     Callback done) = 0;
};

}  // namespace jobwatch::upstream
