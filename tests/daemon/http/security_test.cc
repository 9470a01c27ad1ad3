#include "daemon/http/security.h"

#include <gtest/gtest.h>

#include <boost/asio/ssl.hpp>

namespace driftd {
namespace {

// Made with Python's crypt module (libxcrypt), cost 4 to keep the test fast.
constexpr char kHunter2[] = "$2b$04$vb/j/KotYp0YXi6qktcdLuqQ7TojxFW9YYvXt4rBQF.JexDJKm/su";
constexpr char kS3cret[] = "$2b$04$ozoabe/wxx2VPlLVniYV4urQahkoY2VqbtJHVI9Ii6Q9/1BS/lN3u";

TEST(ParseAuthorizationTest, BasicAndToken) {
  // base64("alice:hunter2") = YWxpY2U6aHVudGVyMg== (worked out by hand from the alphabet).
  auto c = ParseAuthorization("Basic YWxpY2U6aHVudGVyMg==");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->password, "hunter2");
  c = ParseAuthorization("basic   YWxpY2U6aHVudGVyMg==");  // the scheme is case-insensitive
  ASSERT_TRUE(c);
  EXPECT_EQ(c->password, "hunter2");
  // A password may hold ':' (only the first one separates): "bob:a:b" = Ym9iOmE6Yg==.
  c = ParseAuthorization("Basic Ym9iOmE6Yg==");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "bob");
  EXPECT_EQ(c->password, "a:b");
  c = ParseAuthorization("Token alice:hunter2");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->password, "hunter2");
  for (const char* bad : {"", "Basic", "Basic ", "Basic !!!!", "Basic YWxpY2U=", "Bearer x:y",
                          "Token nocolon", "Basicx YWxpY2U6aHVudGVyMg=="}) {
    EXPECT_FALSE(ParseAuthorization(bad)) << bad;
  }
}

TEST(BasicAuthTest, ChecksBcryptHashes) {
  BasicAuth auth(std::map<std::string, std::string>{{"alice", kHunter2}, {"bob", kS3cret}});
  EXPECT_EQ(auth.Check({"alice", "hunter2"}), BasicAuth::Outcome::kOk);
  EXPECT_EQ(auth.Check({"bob", "s3cret"}), BasicAuth::Outcome::kOk);
  EXPECT_EQ(auth.Check({"alice", "s3cret"}), BasicAuth::Outcome::kWrong);
  EXPECT_EQ(auth.Check({"alice", "hunter"}), BasicAuth::Outcome::kWrong);
  EXPECT_EQ(auth.Check({"alice", ""}), BasicAuth::Outcome::kWrong);
  // An unknown user fails even with another user's password.
  EXPECT_EQ(auth.Check({"carol", "hunter2"}), BasicAuth::Outcome::kWrong);
}

// htpasswd -B (Apache) writes $2y$, the prefix of PHP's crypt_blowfish; exporter-toolkit files
// made with it must work as $2b$ ones do. (Made with libxcrypt, salt "abcdefghijklmnopqrstuu".)
TEST(BasicAuthTest, ChecksTheHtpasswdPrefix) {
  BasicAuth auth(std::map<std::string, std::string>{
      {"alice", "$2y$04$abcdefghijklmnopqrstuuV3duMsC0HpUex6N9qapiuOHHWkwRXVm"}});
  EXPECT_EQ(auth.Check({"alice", "hunter2"}), BasicAuth::Outcome::kOk);
  EXPECT_EQ(auth.Check({"alice", "hunter3"}), BasicAuth::Outcome::kWrong);
}

TEST(BasicAuthTest, RemembersOnlyWhatPassed) {
  BasicAuth auth(std::map<std::string, std::string>{{"alice", kHunter2}});
  EXPECT_FALSE(auth.Remembered({"alice", "hunter2"}));
  EXPECT_EQ(auth.Check({"alice", "wrong"}), BasicAuth::Outcome::kWrong);
  EXPECT_FALSE(auth.Remembered({"alice", "wrong"}));
  EXPECT_EQ(auth.Check({"alice", "hunter2"}), BasicAuth::Outcome::kOk);
  EXPECT_TRUE(auth.Remembered({"alice", "hunter2"}));
  EXPECT_FALSE(auth.Remembered({"alice", "hunter3"}));
}

TEST(MakeHttpSecurityTest, PlainWithUsersAndHeaders) {
  WebConfig web;
  web.basic_auth_users["alice"] = kHunter2;
  web.headers["X-Frame-Options"] = "deny";
  std::string error;
  auto sec = MakeHttpSecurity(web, &error);
  ASSERT_TRUE(sec) << error;
  EXPECT_EQ(sec->tls, nullptr);
  ASSERT_NE(sec->auth, nullptr);
  EXPECT_EQ(sec->headers.size(), 1u);
}

TEST(MakeHttpSecurityTest, AMissingCertificateNamesTheFile) {
  WebConfig web;
  web.tls = TlsServerConfig{};
  web.tls->cert_file = "/nonexistent/server.crt";
  web.tls->key_file = "/nonexistent/server.key";
  std::string error;
  EXPECT_EQ(MakeHttpSecurity(web, &error), nullptr);
  EXPECT_NE(error.find("tls_server_config.cert_file /nonexistent/server.crt"), std::string::npos)
      << error;
}

}  // namespace
}  // namespace driftd
