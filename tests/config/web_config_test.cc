#include "config/web_config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace driftd {
namespace {

constexpr char kHash[] = "$2b$04$vb/j/KotYp0YXi6qktcdLuqQ7TojxFW9YYvXt4rBQF.JexDJKm/su";

std::optional<WebConfig> Parse(const std::string& yaml, std::vector<std::string>* errors) {
  return ParseWebConfig(yaml, "web.yml", "/etc/driftd", errors);
}

TEST(WebConfigTest, AnExporterToolkitFile) {
  std::vector<std::string> errors;
  auto c = Parse(std::string(R"(
tls_server_config:
  cert_file: tls/server.crt
  key_file: /abs/server.key
  client_ca_file: ca.crt
  client_auth_type: RequireAndVerifyClientCert
  min_version: TLS13
http_server_config:
  http2: false
  headers:
    X-Frame-Options: deny
basic_auth_users:
  alice: )") + kHash +
                     "\n",
                 &errors);
  ASSERT_TRUE(c) << errors.at(0);
  ASSERT_TRUE(c->tls);
  EXPECT_EQ(c->tls->cert_file, "/etc/driftd/tls/server.crt");
  EXPECT_EQ(c->tls->key_file, "/abs/server.key");
  EXPECT_EQ(c->tls->client_ca_file, "/etc/driftd/ca.crt");
  EXPECT_EQ(c->tls->client_auth, ClientAuth::kRequireAndVerifyClientCert);
  EXPECT_EQ(c->tls->min_version, 0x0304);
  EXPECT_EQ(c->tls->max_version, 0x0304);
  EXPECT_EQ(c->basic_auth_users.at("alice"), kHash);
  EXPECT_EQ(c->headers.at("X-Frame-Options"), "deny");
}

TEST(WebConfigTest, AnEmptyFileIsPlainHttp) {
  std::vector<std::string> errors;
  auto c = Parse("", &errors);
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->tls);
  EXPECT_TRUE(c->basic_auth_users.empty());
  c = Parse("basic_auth_users:\n", &errors);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->basic_auth_users.empty());
}

TEST(WebConfigTest, EveryProblemNamesTheKey) {
  struct Case {
    std::string yaml, error;
  };
  const std::string users = std::string("basic_auth_users:\n  alice: ") + kHash + "\n";
  const std::vector<Case> cases = {
      {"tls_server_config:\n  cert_file: a\n", "web.yml: tls_server_config.key_file: required"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Always\n",
       "web.yml: tls_server_config.client_auth_type: expected NoClientCert, RequestClientCert, "
       "RequireAnyClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert, got "
       "\"Always\""},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: "
       "RequireAndVerifyClientCert\n",
       "web.yml: tls_server_config.client_ca_file: required to verify client certificates"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c\n",
       "web.yml: tls_server_config.client_auth_type: client_ca_file is set but"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS9\n",
       "web.yml: tls_server_config.min_version: expected TLS10, TLS11, TLS12 or TLS13, got "
       "\"TLS9\""},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n  max_version: "
       "TLS12\n",
       "web.yml: tls_server_config.max_version: lower than min_version"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: "
       "[TLS_AES_128_GCM_SHA256]\n",
       "web.yml: tls_server_config.cipher_suites: not supported by driftd"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  certfile: c\n",
       "web.yml: tls_server_config.certfile: unknown key"},
      {"basic_auth_users:\n  alice: plaintext\n",
       "web.yml: basic_auth_users.alice: expected a bcrypt hash"},
      {users + "  alice: " + kHash + "\n", "web.yml: basic_auth_users.alice: duplicate"},
      {users + "basic_auth_users:\n  bob: " + kHash + "\n",
       "web.yml: basic_auth_users: duplicate key"},
      {"http_server_config:\n  headers:\n    Server: x\n",
       "web.yml: http_server_config.headers.Server: not a header driftd sets"},
      {"tls_config: {}\n", "web.yml: tls_config: unknown key"},
      {"- a\n- b\n", "web.yml: (top level): expected a mapping"},
      {"tls_server_config: [\n", "web.yml: "},
  };
  for (const Case& c : cases) {
    std::vector<std::string> errors;
    EXPECT_FALSE(Parse(c.yaml, &errors)) << c.yaml;
    ASSERT_FALSE(errors.empty()) << c.yaml;
    EXPECT_EQ(errors[0].rfind(c.error, 0), 0u) << c.yaml << "\n got: " << errors[0];
  }
}

TEST(WebConfigTest, LoadingChecksTheNamedFiles) {
  std::vector<std::string> errors;
  EXPECT_FALSE(LoadWebConfigFile("/nonexistent/web.yml", &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "/nonexistent/web.yml: cannot read the web configuration file");
}

}  // namespace
}  // namespace driftd
