// The web configuration file of Prometheus exporters (`--web.config.file`, exporter-toolkit's
// YAML format): TLS and HTTP basic authentication for driftd's HTTP endpoints, so that operators
// reuse the files they have for node_exporter. Strict like the JSON configuration: an unknown key,
// a bad value or a missing file is an error naming the file and the key.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace driftd {

// Who must present a client certificate, and whether it is verified against client_ca_file
// (Go's tls.ClientAuthType, by its exporter-toolkit name).
enum class ClientAuth {
  kNoClientCert,
  kRequestClientCert,           // asked for, not required, not verified
  kRequireAnyClientCert,        // required, not verified
  kVerifyClientCertIfGiven,     // verified when given
  kRequireAndVerifyClientCert,  // required and verified
};

struct TlsServerConfig {
  // Paths as written, resolved against the web configuration file's directory.
  std::string cert_file, key_file, client_ca_file;
  ClientAuth client_auth = ClientAuth::kNoClientCert;
  int min_version = 0x0303;  // TLS12 (TLS1_2_VERSION); TLS10 .. TLS13
  int max_version = 0x0304;  // TLS13
};

struct WebConfig {
  std::optional<TlsServerConfig> tls;  // tls_server_config; absent: plain HTTP
  // basic_auth_users: user -> bcrypt hash ($2a$, $2b$ or $2y$). Empty: no authentication.
  std::map<std::string, std::string> basic_auth_users;
  // http_server_config.headers: added to every response (the security headers exporter-toolkit
  // allows: Strict-Transport-Security, X-Frame-Options, ...).
  std::map<std::string, std::string> headers;
};

// Parses `text` (YAML). `source` names the file in messages; `dir` is what relative paths are
// resolved against. On any problem returns nullopt with every problem in *errors
// ("web.yml: tls_server_config.client_auth_type: ..."). Touches no files.
std::optional<WebConfig> ParseWebConfig(std::string_view text, const std::string& source,
                                        const std::string& dir, std::vector<std::string>* errors);

// Reads and parses the file at `path`, and checks that the files it names can be read.
std::optional<WebConfig> LoadWebConfigFile(const std::string& path,
                                           std::vector<std::string>* errors);

}  // namespace driftd
