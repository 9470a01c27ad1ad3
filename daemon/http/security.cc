#include "daemon/http/security.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <boost/asio/ssl.hpp>
#include <cctype>
#include <cstring>
#include <optional>

#include "core/sha256.h"

namespace driftd {

std::optional<Credentials> ParseAuthorization(std::string_view value) {
  auto split = [](std::string_view pair) -> std::optional<Credentials> {
    const size_t colon = pair.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    return Credentials{std::string(pair.substr(0, colon)), std::string(pair.substr(colon + 1))};
  };
  auto scheme = [&](std::string_view name) {
    if (value.size() <= name.size() || value[name.size()] != ' ') return false;
    for (size_t i = 0; i < name.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(value[i])) != name[i]) return false;
    }
    value.remove_prefix(name.size() + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    return true;
  };
  if (scheme("token")) return split(value);
  if (!scheme("basic")) return std::nullopt;
  if (value.empty() || value.size() % 4 != 0 || value.size() > 4096) return std::nullopt;
  std::string decoded(value.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                reinterpret_cast<const unsigned char*>(value.data()),
                                static_cast<int>(value.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding's bytes as zeros.
  size_t len = static_cast<size_t>(n);
  for (size_t i = value.size(); i > 0 && value[i - 1] == '=' && len > 0; --i) --len;
  decoded.resize(len);
  return split(decoded);
}

BasicAuth::BasicAuth(std::map<std::string, std::string> users) : users_(std::move(users)) {}

std::string BasicAuth::Key(const Credentials& c) const {
  std::string text = c.user;
  text.push_back('\0');
  text += c.password;
  return Sha256Hex(text);
}

bool BasicAuth::Remembered(const Credentials& c) const {
  const std::string key = Key(c);
  std::lock_guard lock(mu_);
  return passed_.count(key) != 0;
}

BasicAuth::Outcome BasicAuth::Check(const Credentials& c) const {
  const std::string key = Key(c);
  {
    std::lock_guard lock(mu_);
    if (passed_.count(key)) return Outcome::kOk;
  }
  const auto it = users_.find(c.user);
  // An unknown user is checked against a known user's hash, whose cost it then takes, and fails.
  const std::string& hash = it != users_.end() ? it->second : users_.begin()->second;
  crypt_data data{};
  const char* out = crypt_r(c.password.c_str(), hash.c_str(), &data);
  const bool match = out != nullptr && out[0] != '*' && std::strlen(out) == hash.size() &&
                     CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
  if (!match || it == users_.end()) return Outcome::kWrong;
  std::lock_guard lock(mu_);
  if (passed_.size() >= 1024) passed_.clear();
  passed_.insert(key);
  return Outcome::kOk;
}

namespace {

// Accepts whatever certificate the client gave (RequestClientCert, RequireAnyClientCert).
int AcceptAny(int, X509_STORE_CTX*) { return 1; }

}  // namespace

std::shared_ptr<const HttpSecurity> MakeHttpSecurity(const WebConfig& web, std::string* error) {
  auto out = std::make_shared<HttpSecurity>();
  if (!web.basic_auth_users.empty()) out->auth = std::make_unique<BasicAuth>(web.basic_auth_users);
  for (const auto& header : web.headers) out->headers.push_back(header);
  if (!web.tls) return out;
  const TlsServerConfig& t = *web.tls;
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                       ssl::context::single_dh_use,
                   ec);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, t.min_version);
  SSL_CTX_set_max_proto_version(native, t.max_version);
  if (ctx->use_certificate_chain_file(t.cert_file, ec); ec) {
    *error = "tls_server_config.cert_file " + t.cert_file + ": " + ec.message();
    return nullptr;
  }
  if (ctx->use_private_key_file(t.key_file, ssl::context::pem, ec); ec) {
    *error = "tls_server_config.key_file " + t.key_file + ": " + ec.message();
    return nullptr;
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    *error = "tls_server_config.key_file " + t.key_file + ": does not match cert_file";
    return nullptr;
  }
  if (!t.client_ca_file.empty()) {
    if (ctx->load_verify_file(t.client_ca_file, ec); ec) {
      *error = "tls_server_config.client_ca_file " + t.client_ca_file + ": " + ec.message();
      return nullptr;
    }
    // Tells clients which CAs' certificates are wanted.
    SSL_CTX_set_client_CA_list(native, SSL_load_client_CA_file(t.client_ca_file.c_str()));
  }
  switch (t.client_auth) {
    case ClientAuth::kNoClientCert:
      ctx->set_verify_mode(ssl::verify_none);
      break;
    case ClientAuth::kRequestClientCert:
      SSL_CTX_set_verify(native, SSL_VERIFY_PEER, AcceptAny);
      break;
    case ClientAuth::kRequireAnyClientCert:
      SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, AcceptAny);
      break;
    case ClientAuth::kVerifyClientCertIfGiven:
      ctx->set_verify_mode(ssl::verify_peer);
      break;
    case ClientAuth::kRequireAndVerifyClientCert:
      ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
      break;
  }
  out->tls = std::move(ctx);
  return out;
}

}  // namespace driftd
