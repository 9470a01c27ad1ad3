// What --web.config.file makes of the HTTP server (config/web_config.h): the TLS context and
// basic authentication. bcrypt is libxcrypt's crypt_r and the comparison OpenSSL's
// CRYPTO_memcmp (constant time); nothing of either is written here by hand.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "config/web_config.h"

namespace boost::asio::ssl {
class context;
}

namespace driftd {

// Credentials a request carries: `Authorization: Basic base64(user:password)`, or `Authorization:
// Token user:password` (how InfluxDB 2.x clients send 1.x credentials).
struct Credentials {
  std::string user, password;
};
// The credentials of an Authorization field value; nullopt when it holds none of those forms.
std::optional<Credentials> ParseAuthorization(std::string_view value);

// Checks users' passwords against their bcrypt hashes. Thread-safe.
class BasicAuth {
 public:
  enum class Outcome { kOk, kWrong };
  explicit BasicAuth(std::map<std::string, std::string> users);
  // kOk when `c` names a user and its password matches the user's hash. An unknown user costs a
  // bcrypt like a known one (no timing tells which users exist). Passing credentials are
  // remembered (by a SHA-256 of them, at most 1024), so that a scraper or sender pays bcrypt
  // once; failures never are.
  Outcome Check(const Credentials& c) const;
  // Whether Check(c) would answer from what it remembers (no bcrypt to wait for).
  bool Remembered(const Credentials& c) const;

 private:
  std::string Key(const Credentials& c) const;
  std::map<std::string, std::string> users_;
  mutable std::mutex mu_;
  mutable std::unordered_set<std::string> passed_;  // guarded by mu_
};

struct HttpSecurity {
  std::shared_ptr<boost::asio::ssl::context> tls;            // null: plain HTTP
  std::unique_ptr<BasicAuth> auth;                           // null: no authentication
  std::vector<std::pair<std::string, std::string>> headers;  // added to every response
};

// Builds what `web` describes: loads the certificate, key and client CA (TLS versions and the
// client-certificate policy set); nullopt-like null with *error naming the file on failure.
std::shared_ptr<const HttpSecurity> MakeHttpSecurity(const WebConfig& web, std::string* error);

}  // namespace driftd
