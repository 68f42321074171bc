// varlink wire format (SPEC §3), sans-io: splitting a byte stream into
// NUL-terminated messages, parsing a call, encoding replies. No sockets here;
// the server and jobwatchctl move the bytes.
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace jobwatch::control {

inline constexpr std::size_t default_max_message = 64 * 1024;
inline constexpr int max_json_depth = 32;

// Accumulates bytes and hands out complete messages (without the NUL).
class VarlinkFramer {
 public:
  struct Oversize {};  // the message at the head exceeds max_message bytes
  struct NeedMore {};
  using Next = std::variant<std::string, NeedMore, Oversize>;

  explicit VarlinkFramer(std::size_t max_message = default_max_message) : max_(max_message) {}

  void feed(std::string_view bytes);
  Next next();
  // Bytes buffered but not yet handed out (for read back-pressure).
  std::size_t buffered() const { return buffer_.size() - start_; }

 private:
  std::size_t max_;
  std::string buffer_;
  std::size_t start_ = 0;    // consumed prefix of buffer_, compacted lazily
  std::size_t scanned_ = 0;  // bytes after start_ known to contain no NUL
};

struct Call {
  std::string method;
  boost::json::object parameters;
  bool more = false;
  bool oneway = false;
};

struct ParseFailure {
  std::string reason;  // "invalid JSON: …", "nested deeper than 32 levels", …
};

// One message (without its NUL) to a call; never throws.
std::variant<Call, ParseFailure> parse_call(std::string_view message);

// The encoded message of a reply too large to build at once (List of 100k
// watches: 22 MB of text, ten times that as a JSON DOM): the connection
// asks for the next piece only when the last one is written, so the daemon
// holds one piece at a time and other work runs in between.
class ReplyPieces {
 public:
  virtual ~ReplyPieces() = default;
  // Appends the next piece of the message to `out`; false once that piece
  // ended the message (its terminating NUL included).
  virtual bool next(std::string& out) = 0;
};

// A reply as the service produces it; `error` empty means success.
struct Reply {
  std::string error;
  boost::json::object parameters;
  bool continues = false;
  // When set, the whole message comes from these pieces (a final success
  // reply); error, parameters and continues are unused.
  std::shared_ptr<ReplyPieces> pieces;
};

// The encoded message including its terminating NUL. A pieced reply's
// pieces are drawn, all at once: fine for tests and small replies only.
std::string encode(const Reply& reply);
std::string encode_call(const Call& call);

// Parses a reply message (client side). nullopt when it is not a reply.
std::optional<Reply> parse_reply(std::string_view message);

// Error helpers with the standard parameter shapes.
Reply error_reply(std::string name, boost::json::object parameters = {});
Reply invalid_parameter(std::string_view parameter, std::string_view reason);

// Error names (SPEC §3).
namespace errors {
inline constexpr std::string_view method_not_found = "org.varlink.service.MethodNotFound";
inline constexpr std::string_view invalid_parameter = "org.varlink.service.InvalidParameter";
inline constexpr std::string_view interface_not_found = "org.varlink.service.InterfaceNotFound";
inline constexpr std::string_view invalid_job_id = "io.jobwatch.InvalidJobId";
inline constexpr std::string_view not_watched = "io.jobwatch.NotWatched";
inline constexpr std::string_view limit_reached = "io.jobwatch.LimitReached";
inline constexpr std::string_view shutting_down = "io.jobwatch.ShuttingDown";
inline constexpr std::string_view permission_denied = "io.jobwatch.PermissionDenied";
// Not in SPEC's list: the state store could not make a new watch durable,
// so the daemon refuses it rather than acknowledge what a crash would lose.
inline constexpr std::string_view unavailable = "io.jobwatch.Unavailable";
}  // namespace errors

}  // namespace jobwatch::control
