#include "jobwatch/config/secrets.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace jobwatch::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A private temp dir, and CREDENTIALS_DIRECTORY restored afterwards.
class SecretTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("jobwatch-secret-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    if (const char* old = std::getenv("CREDENTIALS_DIRECTORY")) saved_ = old;
    ::unsetenv("CREDENTIALS_DIRECTORY");
  }
  void TearDown() override {
    if (saved_) {
      ::setenv("CREDENTIALS_DIRECTORY", saved_->c_str(), 1);
    } else {
      ::unsetenv("CREDENTIALS_DIRECTORY");
    }
    std::filesystem::remove_all(dir_);
  }
  std::string write(const std::string& name, const std::string& content) {
    auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  static std::string value_of(const std::variant<std::string, SecretError>& result) {
    if (auto* error = std::get_if<SecretError>(&result)) return "ERROR: " + error->message;
    return std::get<std::string>(result);
  }

  std::filesystem::path dir_;
  std::optional<std::string> saved_;
};

TEST_F(SecretTest, InlineValueWinsOverFile) {
  SecretRef ref{.inline_value = "inline-token", .file = "/nonexistent"};
  EXPECT_EQ(value_of(read_secret(ref, "api.auth.token")), "inline-token");
}

TEST_F(SecretTest, FileContentWithoutTrailingWhitespace) {
  auto path = write("token", "  abc def\t\r\n\n");
  EXPECT_EQ(value_of(read_secret(SecretRef{.file = path}, "api.auth.token")), "  abc def");
}

TEST_F(SecretTest, RelativePathResolvesInCredentialsDirectory) {
  write("api-token", "from-credentials\n");
  ::setenv("CREDENTIALS_DIRECTORY", dir_.c_str(), 1);
  EXPECT_EQ(value_of(read_secret(SecretRef{.file = "api-token"}, "api.auth.token")),
            "from-credentials");
  EXPECT_EQ(resolve_secret_path("api-token"), (dir_ / "api-token").string());
  EXPECT_EQ(resolve_secret_path("/abs/path"), "/abs/path");
}

TEST_F(SecretTest, RelativePathWithoutCredentialsDirectoryIsRelativeToCwd) {
  EXPECT_EQ(resolve_secret_path("api-token"), "api-token");
}

TEST_F(SecretTest, MissingFileNamesSettingFileAndReason) {
  auto result = read_secret(SecretRef{.file = "nope"}, "api.auth.token");
  ::setenv("CREDENTIALS_DIRECTORY", dir_.c_str(), 1);
  auto in_credentials = read_secret(SecretRef{.file = "nope"}, "api.auth.token");
  ASSERT_TRUE(std::holds_alternative<SecretError>(result));
  EXPECT_EQ(std::get<SecretError>(result).message,
            "api.auth.token: cannot read nope: No such file or directory");
  EXPECT_EQ(
      std::get<SecretError>(in_credentials).message,
      "api.auth.token: cannot read " + (dir_ / "nope").string() + ": No such file or directory");
}

TEST_F(SecretTest, UnreadableFileNamesTheReason) {
  // A directory opens but cannot be read: the read error is reported too.
  auto result = read_secret(SecretRef{.file = dir_.string()}, "sinks[0].secret");
  ASSERT_TRUE(std::holds_alternative<SecretError>(result));
  EXPECT_EQ(std::get<SecretError>(result).message,
            "sinks[0].secret: cannot read " + dir_.string() + ": Is a directory");
}

TEST_F(SecretTest, EmptyFileIsAnError) {
  auto path = write("empty", "\n \n");
  auto result = read_secret(SecretRef{.file = path}, "api.auth.password");
  ASSERT_TRUE(std::holds_alternative<SecretError>(result));
  EXPECT_EQ(std::get<SecretError>(result).message, "api.auth.password: " + path + " is empty");
}

TEST_F(SecretTest, OversizedFileIsAnErrorWithoutContent) {
  auto path = write("big", std::string(70 * 1024, 'Q'));
  auto result = read_secret(SecretRef{.file = path}, "api.auth.token");
  ASSERT_TRUE(std::holds_alternative<SecretError>(result));
  EXPECT_THAT(std::get<SecretError>(result).message, HasSubstr("larger than 64 KiB"));
  EXPECT_THAT(std::get<SecretError>(result).message, Not(HasSubstr("QQQQ")));
}

TEST_F(SecretTest, NothingConfiguredIsAnError) {
  auto result = read_secret(SecretRef{}, "api.auth.token");
  ASSERT_TRUE(std::holds_alternative<SecretError>(result));
  EXPECT_EQ(std::get<SecretError>(result).message,
            "api.auth.token: neither a value nor a file is configured");
}

TEST_F(SecretTest, CheckSecretsReportsEveryUnreadableSecret) {
  Config config;
  config.api.auth.type = AuthType::token;
  config.api.auth.token.file = write("token", "t\n");
  config.sinks.push_back(SinkConfig{.name = "a", .type = SinkType::webhook});
  config.sinks.push_back(SinkConfig{.name = "b", .type = SinkType::webhook});
  config.sinks[1].secret.file = (dir_ / "missing").string();
  auto errors = check_secrets(config);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "sinks[1].secret: cannot read " + (dir_ / "missing").string() +
                                   ": No such file or directory");
}

TEST_F(SecretTest, CheckSecretsCanLeaveRelativeFilesForLater) {
  Config config;
  config.api.auth.type = AuthType::token;
  config.api.auth.token.file = "jobwatch_api-token";  // a credential, not in the cwd
  config.sinks.push_back(SinkConfig{.name = "a", .type = SinkType::webhook});
  config.sinks[0].secret.file = (dir_ / "missing").string();
  std::size_t skipped = 0;
  auto errors = check_secrets(config, false, &skipped);
  EXPECT_EQ(skipped, 1u);
  ASSERT_EQ(errors.size(), 1u);  // the absolute path is still checked
  EXPECT_EQ(errors[0].message.rfind("sinks[0].secret: cannot read ", 0), 0u);
  EXPECT_EQ(check_secrets(config).size(), 2u);
}

}  // namespace
}  // namespace jobwatch::config
