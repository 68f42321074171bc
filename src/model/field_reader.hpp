// Reading typed fields out of a JSON object with the first problem kept as a
// path-qualified message. Shared by the per-API mapping files; private to
// src/model.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "jobwatch/model/snapshot.hpp"

namespace jobwatch::model::detail {

namespace json = boost::json;

inline std::string_view kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "number";
    case json::kind::string:
      return "string";
    case json::kind::array:
      return "array";
    case json::kind::object:
      return "object";
  }
  return "value";
}

// JSON does not tell integers from reals, so an integral double (1.0, 1e0)
// is accepted where the table says Integer; 1.5 is not.
inline std::optional<std::int64_t> as_integer(const json::value& v) {
  if (const auto* i = v.if_int64()) return *i;
  if (const auto* u = v.if_uint64()) {
    if (*u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return static_cast<std::int64_t>(*u);
    }
    return std::nullopt;
  }
  if (const auto* d = v.if_double()) {
    // 2^63 is exactly representable; anything at or beyond it does not fit.
    if (std::isfinite(*d) && std::trunc(*d) == *d && *d >= -9223372036854775808.0 &&
        *d < 9223372036854775808.0) {
      return static_cast<std::int64_t>(*d);
    }
  }
  return std::nullopt;
}

// Reads the fields of one JSON object. The first problem wins: later reads
// do nothing once `error` is set, so callers check ok() once at the end.
class FieldReader {
 public:
  FieldReader(const json::object& obj, std::string path, std::string& error)
      : obj_(obj), path_(std::move(path)), error_(error) {}

  bool ok() const { return error_.empty(); }
  std::string child_path(std::string_view key) const { return path_ + "." + std::string(key); }

  void str(std::string_view key, std::optional<std::string>& out) {
    const json::value* v = get(key);
    if (!v) return;
    if (const auto* s = v->if_string()) {
      out.emplace(s->data(), s->size());
    } else {
      wrong_type(key, "string", *v);
    }
  }

  void integer(std::string_view key, std::optional<std::int64_t>& out) {
    const json::value* v = get(key);
    if (!v) return;
    if (auto i = as_integer(*v)) {
      out = *i;
    } else {
      wrong_type(key, "integer", *v);
    }
  }

  void number(std::string_view key, std::optional<double>& out) {
    const json::value* v = get(key);
    if (!v) return;
    if (const auto* d = v->if_double()) {
      out = *d;
    } else if (const auto* i = v->if_int64()) {
      out = static_cast<double>(*i);
    } else if (const auto* u = v->if_uint64()) {
      out = static_cast<double>(*u);
    } else {
      wrong_type(key, "number", *v);
    }
  }

  void object(std::string_view key, std::optional<json::object>& out) {
    const json::value* v = get(key);
    if (!v) return;
    if (const auto* o = v->if_object()) {
      out = *o;
    } else {
      wrong_type(key, "object", *v);
    }
  }

  // An object-valued field mapped by parse_element (see array()).
  template <class T, class ParseElement>
  void child(std::string_view key, std::optional<T>& out, ParseElement parse_element) {
    const json::value* v = get(key);
    if (!v) return;
    const auto* element = v->if_object();
    if (!element) return wrong_type(key, "object", *v);
    T parsed = parse_element(*element, child_path(key), error_);
    if (ok()) out = std::move(parsed);
  }

  // parse_element(const json::object&, std::string path, std::string& error) -> T
  template <class T, class ParseElement>
  void array(std::string_view key, std::optional<std::vector<T>>& out, ParseElement parse_element) {
    const json::value* v = get(key);
    if (!v) return;
    const auto* arr = v->if_array();
    if (!arr) {
      wrong_type(key, "array", *v);
      return;
    }
    std::vector<T> items;
    items.reserve(arr->size());
    for (std::size_t i = 0; i < arr->size() && ok(); ++i) {
      std::string path = child_path(key) + "[" + std::to_string(i) + "]";
      const auto* element = (*arr)[i].if_object();
      if (!element) {
        error_ = path + ": expected object, got " + std::string(kind_name((*arr)[i]));
        return;
      }
      items.push_back(parse_element(*element, std::move(path), error_));
    }
    if (ok()) out = std::move(items);
  }

  void required_str(std::string_view key, std::string& out) {
    std::optional<std::string> value;
    str(key, value);
    if (!ok()) return;
    if (!value) {
      error_ = child_path(key) + ": missing";
      return;
    }
    out = std::move(*value);
  }

  // A problem found by the caller (e.g. a value outside a table); keeps
  // "first problem wins".
  void fail(std::string_view key, std::string_view what) {
    if (ok()) error_ = child_path(key) + ": " + std::string(what);
  }

  // The raw value of a present, non-null key (nullptr otherwise).
  const json::value* value(std::string_view key) const { return get(key); }

 private:
  // null counts as absent: the API is not consistent about omitting fields.
  const json::value* get(std::string_view key) const {
    if (!ok()) return nullptr;
    const json::value* v = obj_.if_contains(key);
    if (!v || v->is_null()) return nullptr;
    return v;
  }

  void wrong_type(std::string_view key, std::string_view expected, const json::value& got) {
    error_ = child_path(key) + ": expected " + std::string(expected) + ", got " +
             std::string(kind_name(got));
  }

  const json::object& obj_;
  std::string path_;
  std::string& error_;
};

// A required string status, mapped through SPEC §1.3's table (v2 APIs).
inline void required_status_name(FieldReader& r, std::string_view key, JobStatus& status,
                                 json::value& upstream) {
  std::optional<std::string> name;
  r.str(key, name);
  if (!r.ok()) return;
  if (!name) return r.fail(key, "missing");
  auto meaning = status_from_name(*name);
  if (!meaning) return r.fail(key, "unknown value \"" + *name + "\"");
  status = *meaning;
  upstream = json::string(*name);
}

// A body that must be one JSON object (the v2 APIs send no wrapper).
inline std::variant<json::object, ParseError> parse_object_body(std::string_view body) {
  boost::system::error_code ec;
  json::value root = json::parse(body, ec);
  if (ec) return ParseError{"body: malformed JSON: " + ec.message()};
  auto* obj = root.if_object();
  if (!obj) return ParseError{"body: expected object, got " + std::string(kind_name(root))};
  return std::move(*obj);
}

// The fields every v2 job and subjob share, into the snapshot; moves out of
// `in` (an AppV2Job/AppV2SubJob/DesktopJob/DesktopSubJob).
template <class In>
void fill_v2_common(StatusSnapshot& out, In& in) {
  out.id = std::move(in.id);
  out.status = in.meaning;
  out.upstream_status = json::string(in.status);
  if (in.job_type) out.job_type = json::string(*in.job_type);
  out.begin_time = std::move(in.begin_time);
  out.end_time = std::move(in.end_time);
  out.raw = std::move(in.raw);
}

}  // namespace jobwatch::model::detail
