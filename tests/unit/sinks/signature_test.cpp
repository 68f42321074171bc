#include <gtest/gtest.h>

#include "jobwatch/sinks/webhook_signature.hpp"

namespace jobwatch::sinks {
namespace {

// The Standard Webhooks reference vector.
constexpr std::string_view ref_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view ref_id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::int64_t ref_ts = 1614265330;
constexpr std::string_view ref_body = R"({"test": 2432232314})";
constexpr std::string_view ref_signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

TEST(WebhookSignature, MatchesStandardWebhooksReferenceVector) {
  const auto key = decode_webhook_secret(ref_secret);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->size(), 24u);
  EXPECT_EQ(sign_standard_webhook(*key, ref_id, ref_ts, ref_body), ref_signature);
}

TEST(WebhookSignature, ChangesWithEveryInput) {
  const auto key = *decode_webhook_secret(ref_secret);
  EXPECT_NE(sign_standard_webhook(key, ref_id, ref_ts + 1, ref_body), ref_signature);
  EXPECT_NE(sign_standard_webhook(key, "msg_other", ref_ts, ref_body), ref_signature);
  EXPECT_NE(sign_standard_webhook(key, ref_id, ref_ts, R"({"test": 2432232315})"), ref_signature);
  EXPECT_NE(sign_standard_webhook("other key", ref_id, ref_ts, ref_body), ref_signature);
}

TEST(WebhookSignature, SecretWithoutPrefixIsUsedAsRawBytes) {
  EXPECT_EQ(decode_webhook_secret("plain-secret"), "plain-secret");
}

TEST(WebhookSignature, SecretFileNewlineIsIgnored) {
  const auto key = decode_webhook_secret(std::string(ref_secret) + "\n");
  ASSERT_TRUE(key);
  EXPECT_EQ(sign_standard_webhook(*key, ref_id, ref_ts, ref_body), ref_signature);
}

TEST(WebhookSignature, PrefixedSecretMustBeBase64) {
  EXPECT_FALSE(decode_webhook_secret("whsec_not*base64!"));
  EXPECT_FALSE(decode_webhook_secret("whsec_abc"));  // not a multiple of 4
}

TEST(Base64, RoundTripsWithPadding) {
  for (std::string_view s : {"", "a", "ab", "abc", "abcd", "\x00\xff\x10"}) {
    const auto encoded = base64_encode(s);
    EXPECT_EQ(encoded.size() % 4, 0u);
    EXPECT_EQ(base64_decode(encoded), std::string(s)) << encoded;
  }
  EXPECT_EQ(base64_encode("ab"), "YWI=");
  EXPECT_EQ(base64_decode("YQ=="), "a");
}

}  // namespace
}  // namespace jobwatch::sinks
