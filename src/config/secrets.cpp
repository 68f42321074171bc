#include "jobwatch/config/secrets.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>
#include <utility>

namespace jobwatch::config {
namespace {

// A secret is a token or a key; anything this large is the wrong file (or a
// device that never ends).
constexpr std::size_t max_secret_size = 64 * 1024;

std::string errno_text(int error) {
  return std::system_category().message(error);
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

std::string resolve_secret_path(const std::string& file) {
  if (file.empty() || file.front() == '/') return file;
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
  if (dir == nullptr || *dir == '\0') return file;
  std::string path = dir;
  if (path.back() != '/') path += '/';
  return path + file;
}

std::variant<std::string, SecretError> read_secret(const SecretRef& ref, std::string_view what) {
  if (!ref.inline_value.empty()) return ref.inline_value;
  std::string prefix = std::string(what) + ": ";
  if (ref.file.empty()) return SecretError{prefix + "neither a value nor a file is configured"};

  std::string path = resolve_secret_path(ref.file);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return SecretError{prefix + "cannot read " + path + ": " + errno_text(errno)};

  std::string content;
  char buffer[4096];
  int error = 0;
  while (content.size() <= max_secret_size) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = errno;
      break;
    }
    if (n == 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);

  if (error != 0) return SecretError{prefix + "cannot read " + path + ": " + errno_text(error)};
  if (content.size() > max_secret_size) {
    return SecretError{prefix + path + " is larger than 64 KiB; is it the right file?"};
  }
  while (!content.empty() && is_space(content.back())) content.pop_back();
  if (content.empty()) return SecretError{prefix + path + " is empty"};
  return content;
}

std::vector<SecretError> check_secrets(const Config& config, bool relative_files,
                                       std::size_t* skipped) {
  std::vector<SecretError> errors;
  auto check = [&](const SecretRef& ref, const std::string& what) {
    if (ref.empty()) return;
    if (!relative_files && ref.inline_value.empty() && !ref.file.starts_with('/')) {
      if (skipped) ++*skipped;
      return;
    }
    auto result = read_secret(ref, what);
    if (auto* error = std::get_if<SecretError>(&result)) errors.push_back(std::move(*error));
  };
  const AuthConfig& auth = config.api.auth;
  switch (auth.type) {
    case AuthType::none:
      break;
    case AuthType::token:
      check(auth.token, "api.auth.token");
      break;
    case AuthType::iam_password:
      check(auth.password, "api.auth.password");
      break;
    case AuthType::aksk:
      check(auth.secret_key, "api.auth.secret_key");
      check(auth.security_token, "api.auth.security_token");
      break;
  }
  for (std::size_t i = 0; i < config.sinks.size(); ++i) {
    check(config.sinks[i].secret, "sinks[" + std::to_string(i) + "].secret");
  }
  return errors;
}

}  // namespace jobwatch::config
