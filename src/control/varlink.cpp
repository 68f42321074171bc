#include "jobwatch/control/varlink.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstring>
#include <exception>

namespace jobwatch::control {

namespace json = boost::json;

void VarlinkFramer::feed(std::string_view bytes) {
  // Compact once the consumed prefix dominates, so a long-lived connection
  // does not grow its buffer forever.
  if (start_ > 0 && start_ >= buffer_.size() / 2) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  buffer_.append(bytes);
}

VarlinkFramer::Next VarlinkFramer::next() {
  const std::size_t from = start_ + scanned_;
  const void* hit = from < buffer_.size()
                        ? std::memchr(buffer_.data() + from, '\0', buffer_.size() - from)
                        : nullptr;
  if (hit == nullptr) {
    scanned_ = buffer_.size() - start_;
    if (scanned_ > max_) return Oversize{};
    return NeedMore{};
  }
  const auto end = static_cast<std::size_t>(static_cast<const char*>(hit) - buffer_.data());
  const std::size_t length = end - start_;
  if (length > max_) return Oversize{};
  std::string message = buffer_.substr(start_, length);
  start_ = end + 1;
  scanned_ = 0;
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
  return message;
}

std::variant<Call, ParseFailure> parse_call(std::string_view message) {
  json::parse_options options;
  options.max_depth = max_json_depth;
  boost::system::error_code ec;
  json::value value;
  try {
    value = json::parse(message, ec, json::storage_ptr(), options);
  } catch (const std::exception& e) {
    return ParseFailure{std::string("cannot parse: ") + e.what()};
  }
  if (ec == json::error::too_deep) {
    return ParseFailure{"nested deeper than " + std::to_string(max_json_depth) + " levels"};
  }
  if (ec) return ParseFailure{"invalid JSON: " + ec.message()};
  auto* object = value.if_object();
  if (object == nullptr) return ParseFailure{"a call must be a JSON object"};

  Call call;
  const auto* method = object->if_contains("method");
  if (method == nullptr) return ParseFailure{"missing \"method\""};
  if (!method->is_string()) return ParseFailure{"\"method\" must be a string"};
  call.method = std::string(method->get_string());
  if (const auto* params = object->if_contains("parameters"); params && !params->is_null()) {
    if (!params->is_object()) return ParseFailure{"\"parameters\" must be an object"};
    call.parameters = params->get_object();
  }
  for (auto [name, flag] : {std::pair{"more", &call.more}, std::pair{"oneway", &call.oneway}}) {
    if (const auto* v = object->if_contains(name); v && !v->is_null()) {
      if (!v->is_bool()) return ParseFailure{std::string("\"") + name + "\" must be a boolean"};
      *flag = v->get_bool();
    }
  }
  return call;
}

std::string encode(const Reply& reply) {
  if (reply.pieces) {
    std::string out;
    while (reply.pieces->next(out)) {
    }
    return out;
  }
  json::object message;
  if (!reply.error.empty()) message["error"] = reply.error;
  message["parameters"] = reply.parameters;
  if (reply.continues) message["continues"] = true;
  std::string out = json::serialize(message);
  out.push_back('\0');
  return out;
}

std::string encode_call(const Call& call) {
  json::object message;
  message["method"] = call.method;
  if (!call.parameters.empty()) message["parameters"] = call.parameters;
  if (call.more) message["more"] = true;
  if (call.oneway) message["oneway"] = true;
  std::string out = json::serialize(message);
  out.push_back('\0');
  return out;
}

std::optional<Reply> parse_reply(std::string_view message) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 256;  // replies carry JobDetails; only calls are limited
  json::value value;
  try {
    value = json::parse(message, ec, json::storage_ptr(), options);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (ec || !value.is_object()) return std::nullopt;
  const auto& object = value.get_object();
  Reply reply;
  if (const auto* error = object.if_contains("error")) {
    if (!error->is_string()) return std::nullopt;
    reply.error = std::string(error->get_string());
  }
  if (const auto* params = object.if_contains("parameters"); params && params->is_object()) {
    reply.parameters = params->get_object();
  }
  if (const auto* c = object.if_contains("continues"); c && c->is_bool()) {
    reply.continues = c->get_bool();
  }
  return reply;
}

Reply error_reply(std::string name, json::object parameters) {
  return Reply{std::move(name), std::move(parameters), false};
}

Reply invalid_parameter(std::string_view parameter, std::string_view reason) {
  json::object params;
  params["parameter"] = parameter;
  if (!reason.empty()) params["reason"] = reason;
  return error_reply(std::string(errors::invalid_parameter), std::move(params));
}

}  // namespace jobwatch::control
