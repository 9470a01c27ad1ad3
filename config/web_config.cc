#include "config/web_config.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace driftd {
namespace {

struct Parser {
  const std::string& source;
  const std::string& dir;
  std::vector<std::string>* errors;

  void Error(const std::string& key, const std::string& message) {
    errors->push_back(source + ": " + key + ": " + message);
  }

  // Reports every key of `node` (a map) not in `known`; false when `node` is not a map.
  bool Keys(const YAML::Node& node, const std::string& where, const std::set<std::string>& known,
            const std::set<std::string>& unsupported = {}) {
    if (!node.IsMap()) {
      Error(where.empty() ? "(top level)" : where, "expected a mapping");
      return false;
    }
    std::set<std::string> seen;
    for (const auto& kv : node) {
      const std::string key = kv.first.as<std::string>();
      const std::string path = where.empty() ? key : where + "." + key;
      if (!seen.insert(key).second) {
        Error(path, "duplicate key");
      } else if (unsupported.count(key)) {
        Error(path, "not supported by driftd (OpenSSL's defaults for the TLS versions are used)");
      } else if (!known.count(key)) {
        Error(path, "unknown key");
      }
    }
    return true;
  }

  std::optional<std::string> String(const YAML::Node& node, const std::string& path) {
    if (!node.IsScalar()) {
      Error(path, "expected a string");
      return std::nullopt;
    }
    return node.as<std::string>();
  }

  std::string Resolve(const std::string& path) const {
    if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
    return (std::filesystem::path(dir) / path).string();
  }

  std::optional<int> Version(const YAML::Node& node, const std::string& path) {
    const auto text = String(node, path);
    if (!text) return std::nullopt;
    static const std::map<std::string, int> kVersions = {
        {"TLS10", 0x0301}, {"TLS11", 0x0302}, {"TLS12", 0x0303}, {"TLS13", 0x0304}};
    const auto it = kVersions.find(*text);
    if (it == kVersions.end()) {
      Error(path, "expected TLS10, TLS11, TLS12 or TLS13, got \"" + *text + "\"");
      return std::nullopt;
    }
    return it->second;
  }

  void Tls(const YAML::Node& node, WebConfig* out) {
    const std::string where = "tls_server_config";
    if (!Keys(node, where,
              {"cert_file", "key_file", "client_ca_file", "client_auth_type", "min_version",
               "max_version"},
              {"cipher_suites", "curve_preferences", "prefer_server_cipher_suites",
               "client_allowed_sans", "cert", "key"})) {
      return;
    }
    TlsServerConfig tls;
    auto file = [&](const char* key, std::string* to) {
      if (!node[key]) return;
      if (auto s = String(node[key], where + "." + key)) *to = Resolve(*s);
    };
    file("cert_file", &tls.cert_file);
    file("key_file", &tls.key_file);
    file("client_ca_file", &tls.client_ca_file);
    if (tls.cert_file.empty()) Error(where + ".cert_file", "required with tls_server_config");
    if (tls.key_file.empty()) Error(where + ".key_file", "required with tls_server_config");
    if (node["client_auth_type"]) {
      static const std::map<std::string, ClientAuth> kTypes = {
          {"NoClientCert", ClientAuth::kNoClientCert},
          {"RequestClientCert", ClientAuth::kRequestClientCert},
          {"RequireAnyClientCert", ClientAuth::kRequireAnyClientCert},
          {"VerifyClientCertIfGiven", ClientAuth::kVerifyClientCertIfGiven},
          {"RequireAndVerifyClientCert", ClientAuth::kRequireAndVerifyClientCert}};
      if (auto s = String(node["client_auth_type"], where + ".client_auth_type")) {
        const auto it = kTypes.find(*s);
        if (it == kTypes.end()) {
          Error(where + ".client_auth_type",
                "expected NoClientCert, RequestClientCert, RequireAnyClientCert, "
                "VerifyClientCertIfGiven or RequireAndVerifyClientCert, got \"" +
                    *s + "\"");
        } else {
          tls.client_auth = it->second;
        }
      }
    }
    const bool verifies = tls.client_auth == ClientAuth::kVerifyClientCertIfGiven ||
                          tls.client_auth == ClientAuth::kRequireAndVerifyClientCert;
    if (verifies && tls.client_ca_file.empty()) {
      Error(where + ".client_ca_file", "required to verify client certificates");
    }
    if (!verifies && !tls.client_ca_file.empty()) {
      Error(where + ".client_auth_type",
            "client_ca_file is set but client certificates are not verified: use "
            "VerifyClientCertIfGiven or RequireAndVerifyClientCert");
    }
    if (node["min_version"]) {
      if (auto v = Version(node["min_version"], where + ".min_version")) tls.min_version = *v;
    }
    if (node["max_version"]) {
      if (auto v = Version(node["max_version"], where + ".max_version")) tls.max_version = *v;
    }
    if (tls.min_version > tls.max_version) {
      Error(where + ".max_version", "lower than min_version");
    }
    out->tls = std::move(tls);
  }

  void Users(const YAML::Node& node, WebConfig* out) {
    if (node.IsNull()) return;
    if (!node.IsMap()) {
      Error("basic_auth_users", "expected a mapping of user names to bcrypt hashes");
      return;
    }
    for (const auto& kv : node) {
      const std::string user = kv.first.as<std::string>();
      const std::string path = "basic_auth_users." + user;
      const auto hash = String(kv.second, path);
      if (!hash) continue;
      if (out->basic_auth_users.count(user)) {
        Error(path, "duplicate user");
      } else if (user.empty() || user.find(':') != std::string::npos) {
        Error(path, "a user name must be non-empty and hold no ':'");
      } else if (hash->size() != 60 ||
                 !(hash->rfind("$2a$", 0) == 0 || hash->rfind("$2b$", 0) == 0 ||
                   hash->rfind("$2y$", 0) == 0)) {
        Error(path,
              "expected a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters; htpasswd -nBC 10 "
              "USER makes one)");
      } else {
        out->basic_auth_users[user] = *hash;
      }
    }
  }

  void Server(const YAML::Node& node, WebConfig* out) {
    const std::string where = "http_server_config";
    if (!Keys(node, where, {"http2", "headers"})) return;
    if (node["http2"] && !node["http2"].IsScalar()) Error(where + ".http2", "expected a boolean");
    const YAML::Node headers = node["headers"];
    if (!headers) return;
    if (!headers.IsMap()) {
      Error(where + ".headers", "expected a mapping of header names to values");
      return;
    }
    static const std::set<std::string> kAllowed = {"Content-Security-Policy", "X-Frame-Options",
                                                   "X-Content-Type-Options", "X-XSS-Protection",
                                                   "Strict-Transport-Security"};
    for (const auto& kv : headers) {
      const std::string name = kv.first.as<std::string>();
      const std::string path = where + ".headers." + name;
      if (!kAllowed.count(name)) {
        Error(path,
              "not a header driftd sets (Content-Security-Policy, X-Frame-Options, "
              "X-Content-Type-Options, X-XSS-Protection, Strict-Transport-Security)");
        continue;
      }
      const auto value = String(kv.second, path);
      if (!value) continue;
      if (value->find_first_of("\r\n") != std::string::npos) {
        Error(path, "a header value must be one line");
      } else {
        out->headers[name] = *value;
      }
    }
  }
};

}  // namespace

std::optional<WebConfig> ParseWebConfig(std::string_view text, const std::string& source,
                                        const std::string& dir, std::vector<std::string>* errors) {
  const size_t before = errors->size();
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    errors->push_back(source + ": " + e.what());
    return std::nullopt;
  }
  WebConfig out;
  Parser p{source, dir, errors};
  if (root.IsNull()) return out;  // an empty file: plain HTTP, no authentication
  try {
    if (p.Keys(root, "", {"tls_server_config", "basic_auth_users", "http_server_config"})) {
      if (root["tls_server_config"]) p.Tls(root["tls_server_config"], &out);
      if (root["basic_auth_users"]) p.Users(root["basic_auth_users"], &out);
      if (root["http_server_config"]) p.Server(root["http_server_config"], &out);
    }
  } catch (const YAML::Exception& e) {  // a key that is not a scalar, ...
    errors->push_back(source + ": " + e.what());
  }
  if (errors->size() != before) return std::nullopt;
  return out;
}

std::optional<WebConfig> LoadWebConfigFile(const std::string& path,
                                           std::vector<std::string>* errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors->push_back(path + ": cannot read the web configuration file");
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  const std::string dir = std::filesystem::path(path).parent_path().string();
  auto config = ParseWebConfig(text.str(), path, dir.empty() ? "." : dir, errors);
  if (!config || !config->tls) return config;
  const size_t before = errors->size();
  for (const auto& [key, file] :
       {std::pair<const char*, const std::string&>{"cert_file", config->tls->cert_file},
        {"key_file", config->tls->key_file},
        {"client_ca_file", config->tls->client_ca_file}}) {
    if (file.empty()) continue;
    if (!std::ifstream(file)) {
      errors->push_back(path + ": tls_server_config." + key + ": cannot read " + file);
    }
  }
  if (errors->size() != before) return std::nullopt;
  return config;
}

}  // namespace driftd
