// The streaming calls: Wait (progress until every job has ended) and Follow
// (every event). Each lives in a shared state that engine listeners and
// timers reach through weak pointers, so a disconnect (the handle dying)
// can never leave a callback pointing at freed memory.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include "jobwatch/control/service.hpp"
#include "jobwatch/control/validation.hpp"

namespace jobwatch::control {

namespace json = boost::json;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

std::optional<json::value> parse_document(const std::string& text) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 256;
  auto value = json::parse(text, ec, json::storage_ptr(), options);
  if (ec) return std::nullopt;
  return value;
}

}  // namespace

class WaitCall : public std::enable_shared_from_this<WaitCall> {
 public:
  WaitCall(Service& service, std::vector<watch::JobRef> jobs, bool more,
           std::optional<std::chrono::milliseconds> timeout, Service::ReplyFn reply)
      : service_(service),
        jobs_(std::move(jobs)),
        results_(jobs_.size()),
        more_(more),
        timeout_(timeout),
        reply_(std::move(reply)),
        progress_timer_(service.executor_),
        timeout_timer_(service.executor_),
        sweep_timer_(service.executor_) {}

  // Returns false when every job had already ended (the final reply is sent).
  bool start() {
    check_all();
    if (done_) return false;
    service_.streams_open_.add(1);
    streaming_ = true;
    std::weak_ptr<WaitCall> weak = weak_from_this();
    subscription_ = service_.engine_.subscribe_changes([weak](const watch::WatchInfo& info) {
      if (auto self = weak.lock()) self->on_change(info);
    });
    if (more_) send_progress();
    if (timeout_) {
      timeout_timer_.expires_after(*timeout_);
      timeout_timer_.async_wait([weak](boost::system::error_code ec) {
        if (auto self = weak.lock(); self && !ec) self->on_timeout();
      });
    }
    arm_sweep();
    return true;
  }

  // The handle died (disconnect) or the call finished.
  void close() {
    if (closed_) return;
    closed_ = true;
    if (subscription_) service_.engine_.unsubscribe(*subscription_);
    subscription_.reset();
    progress_timer_.cancel();
    timeout_timer_.cancel();
    sweep_timer_.cancel();
    if (streaming_) service_.streams_open_.add(-1);
  }

 private:
  // Runs inside the engine: only note what happened, act later.
  void on_change(const watch::WatchInfo& info) {
    if (closed_) return;
    const auto it = std::find(jobs_.begin(), jobs_.end(), info.record->job);
    if (it == jobs_.end()) return;
    progress_dirty_ = true;
    if (more_) schedule_progress();
    if (watch::is_finished(info.record->status)) {
      asio::post(service_.executor_, [weak = weak_from_this()] {
        if (auto self = weak.lock(); self && !self->closed_) self->check_all();
      });
    }
  }

  void schedule_progress() {
    if (progress_armed_) return;
    progress_armed_ = true;
    const auto due = std::max(Clock::now(), last_progress_ + Service::progress_interval);
    progress_timer_.expires_at(due);
    progress_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (!self || ec || self->closed_) return;
      self->progress_armed_ = false;
      self->check_all();
      if (!self->done_) self->send_progress();
    });
  }

  // A change may go unreported (a watch cancelled by someone else emits
  // nothing), so unresolved jobs are looked at once a second as well.
  void arm_sweep() {
    sweep_timer_.expires_after(std::chrono::seconds(1));
    sweep_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (!self || ec || self->closed_) return;
      self->check_all();
      if (!self->done_) self->arm_sweep();
    });
  }

  void send_progress() {
    last_progress_ = Clock::now();
    progress_dirty_ = false;
    json::array progress;
    for (const auto& job : jobs_) {
      if (auto info = service_.engine_.info(job)) progress.push_back(watch::to_json(*info));
    }
    reply_(Reply{{}, json::object{{"progress", std::move(progress)}}, true});
  }

  void check_all() {
    for (std::size_t i = 0; i < jobs_.size(); ++i) {
      if (results_[i]) continue;
      if (auto finished = service_.engine_.finished(jobs_[i])) {
        auto result = base_result(i, watch::outcome_name(finished->outcome));
        if (auto event = parse_document(finished->final_event)) result["event"] = std::move(*event);
        results_[i] = std::move(result);
      } else if (!service_.engine_.info(jobs_[i])) {
        // Cancelled while we waited: it will never end on its own.
        results_[i] = base_result(i, "abandoned");
      }
    }
    if (std::all_of(results_.begin(), results_.end(),
                    [](const auto& r) { return r.has_value(); })) {
      finish();
    }
  }

  void on_timeout() {
    if (closed_) return;
    check_all();
    if (done_) return;
    for (std::size_t i = 0; i < jobs_.size(); ++i) {
      if (!results_[i]) results_[i] = base_result(i, "timeout");
    }
    finish();
  }

  json::object base_result(std::size_t i, std::string_view outcome) const {
    return json::object{
        {"job_id", jobs_[i].job_id}, {"project_id", jobs_[i].project_id}, {"outcome", outcome}};
  }

  void finish() {
    if (done_) return;
    done_ = true;
    // The last change goes out before the results, so a client's final view
    // is complete (not coalesced away). A call that ends at once (every job
    // had already ended) still gets one, so it can show how far each got.
    if (more_ && (!streaming_ || progress_dirty_)) send_progress();
    json::array results;
    for (auto& result : results_) results.push_back(std::move(*result));
    close();
    // The reply function may drop the handle (and so us): call it last.
    auto reply = std::move(reply_);
    reply(Reply{{}, json::object{{"results", std::move(results)}}, false});
  }

  Service& service_;
  std::vector<watch::JobRef> jobs_;
  std::vector<std::optional<json::object>> results_;
  bool more_;
  std::optional<std::chrono::milliseconds> timeout_;
  Service::ReplyFn reply_;
  asio::steady_timer progress_timer_;
  asio::steady_timer timeout_timer_;
  asio::steady_timer sweep_timer_;
  std::optional<watch::SubscriptionId> subscription_;
  Clock::time_point last_progress_{};
  bool progress_armed_ = false;
  bool progress_dirty_ = false;
  bool streaming_ = false;
  bool done_ = false;
  bool closed_ = false;
};

class FollowCall {
 public:
  FollowCall(Service& service, Service::ReplyFn reply)
      : service_(service), reply_(std::move(reply)) {
    service_.streams_open_.add(1);
    // Sending only queues bytes in the server, so it is safe inside the
    // engine's listener; the server defers any close to a later turn.
    subscription_ = service_.engine_.subscribe_events([this](const watch::Event& event) {
      auto document = parse_document(event.document);
      if (!document) {
        spdlog::warn("control: event {} is not JSON; not streamed", event.id);
        return;
      }
      reply_(Reply{{}, json::object{{"event", std::move(*document)}}, true});
    });
  }
  ~FollowCall() {
    service_.engine_.unsubscribe(subscription_);
    service_.streams_open_.add(-1);
  }
  FollowCall(const FollowCall&) = delete;
  FollowCall& operator=(const FollowCall&) = delete;

 private:
  Service& service_;
  Service::ReplyFn reply_;
  watch::SubscriptionId subscription_ = 0;
};

namespace {

struct WaitHandle final : ActiveCall {
  explicit WaitHandle(std::shared_ptr<WaitCall> call) : call_(std::move(call)) {}
  ~WaitHandle() override { call_->close(); }
  std::shared_ptr<WaitCall> call_;
};

struct FollowHandle final : ActiveCall {
  FollowHandle(Service& service, Service::ReplyFn reply) : call_(service, std::move(reply)) {}
  FollowCall call_;
};

}  // namespace

std::unique_ptr<ActiveCall> Service::wait_call(const Call& call, const Peer& peer, ReplyFn& reply) {
  auto fail = [&](Reply error) -> std::unique_ptr<ActiveCall> {
    count_reply(error);
    reply(std::move(error));
    return nullptr;
  };
  const auto& params = call.parameters;
  if (auto bad = check_known(params, {"jobs", "timeout_s"})) return fail(std::move(*bad));
  auto jobs = parse_jobs(params, default_project_);
  if (auto* e = std::get_if<Reply>(&jobs)) return fail(std::move(*e));
  auto timeout = parse_seconds(params, "timeout_s");
  if (auto* e = std::get_if<Reply>(&timeout)) return fail(std::move(*e));
  auto targets = resolve_apis(std::get<0>(jobs));
  if (auto* e = std::get_if<Reply>(&targets)) return fail(std::move(*e));

  watch::WatchRequest request;
  request.submitter = peer.uid;
  std::vector<watch::JobRef> refs;
  for (const auto& target : std::get<0>(targets)) {
    refs.push_back(target.job);
    if (!engine_.info(target.job)) request.jobs.push_back(target);
  }
  if (!request.jobs.empty()) {
    auto result = engine_.watch(request);
    if (auto* error = std::get_if<watch::EngineError>(&result)) return fail(engine_error(*error));
  }

  auto state = std::make_shared<WaitCall>(*this, std::move(refs), call.more, std::get<0>(timeout),
                                          std::move(reply));
  if (!state->start()) return nullptr;
  return std::make_unique<WaitHandle>(std::move(state));
}

std::unique_ptr<ActiveCall> Service::follow_call(const Call& call, ReplyFn& reply) {
  auto fail = [&](Reply error) -> std::unique_ptr<ActiveCall> {
    count_reply(error);
    reply(std::move(error));
    return nullptr;
  };
  if (auto bad = check_known(call.parameters, {})) return fail(std::move(*bad));
  if (!call.more)
    return fail(invalid_parameter("more", "Follow streams events: call it with \"more\": true"));
  return std::make_unique<FollowHandle>(*this, std::move(reply));
}

}  // namespace jobwatch::control
