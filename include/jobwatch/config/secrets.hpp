// Reading the secrets the config points at (api tokens, passwords, webhook
// keys). Errors name the setting and the file, never the secret itself.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "jobwatch/config/config.hpp"

namespace jobwatch::config {

struct SecretError {
  std::string message;  // "api.auth.token: cannot read /x/token: No such file or directory"
};

// The inline value when set; otherwise the content of `ref.file` without
// trailing whitespace. A relative file resolves in $CREDENTIALS_DIRECTORY
// (systemd LoadCredential=) when set, else in the working directory.
// `what` names the setting in error messages, e.g. "api.auth.token".
// Errors: neither set, unreadable file, empty file, file over 64 KiB.
std::variant<std::string, SecretError> read_secret(const SecretRef& ref, std::string_view what);

// Where `file` is read from (the $CREDENTIALS_DIRECTORY rule above).
std::string resolve_secret_path(const std::string& file);

// Reads every secret the config names and reports those that cannot be
// had, e.g. for --check-config. The values are discarded. Without
// $CREDENTIALS_DIRECTORY a relative file cannot be told from a missing
// credential, so with `relative_files` false those are left out and counted
// in `*skipped` (when given).
std::vector<SecretError> check_secrets(const Config& config, bool relative_files = true,
                                       std::size_t* skipped = nullptr);

}  // namespace jobwatch::config
