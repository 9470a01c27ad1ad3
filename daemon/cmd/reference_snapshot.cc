// `driftd reference snapshot`: asks a running driftd for a model's current window as a reference
// file (GET /api/v1/snapshot), checks it as check-config would, and writes it.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <iostream>

#include "config/config.h"
#include "core/reference.h"
#include "daemon/asio.h"
#include "daemon/cmd/commands.h"
#include "daemon/http/query.h"
#include "daemon/state.h"

namespace driftd {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// "http://host:port" (a trailing '/' allowed) as host and port, or false with *error.
bool ParseBaseUrl(const std::string& url, HostPort* out, std::string* error) {
  constexpr std::string_view kScheme = "http://";
  std::string_view rest = url;
  if (rest.substr(0, kScheme.size()) != kScheme) {
    *error = "--url: expected http://HOST:PORT, got \"" + url + "\"";
    return false;
  }
  rest.remove_prefix(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  std::string why;
  if (!ParseHostPort(rest, out, &why)) {
    *error = "--url: " + why + ", got \"" + url + "\"";
    return false;
  }
  return true;
}

// GET `target` from `address`: the status and body, or false with *error.
bool Get(const HostPort& address, const std::string& target, unsigned* status, std::string* body,
         std::string* error) {
  asio::io_context io;
  beast::error_code ec;
  asio::ip::tcp::resolver resolver(io);
  const auto endpoints = resolver.resolve(address.host, std::to_string(address.port), ec);
  asio::ip::tcp::socket socket(io);
  if (!ec) asio::connect(socket, endpoints, ec);
  if (ec) {
    *error = "cannot connect to " + FormatHostPort(address) + ": " + ec.message();
    return false;
  }
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, FormatHostPort(address));
  req.set(http::field::user_agent, "driftd reference snapshot");
  http::write(socket, req, ec);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxReferenceFileBytes);
  if (!ec) http::read(socket, buffer, parser, ec);
  if (ec) {
    *error = "GET " + target + " from " + FormatHostPort(address) + ": " + ec.message();
    return false;
  }
  *status = parser.get().result_int();
  *body = std::move(parser.get().body());
  return true;
}

}  // namespace

ParseOutcome ParseReferenceSnapshotArgs(const std::vector<std::string>& args,
                                        ReferenceSnapshotArgs* out) {
  auto app = NewCommandLine(
      "reference snapshot",
      "Freezes a running driftd's current window of one model as a reference file: the same\n"
      "features and bins, the window's counts, a new version and created_at. Load it as the\n"
      "model's reference to measure drift against that period (\"against last week\").");
  CLI::App* a = app.get();
  AddText(a, "url", &out->url, "the driftd's HTTP address, http://HOST:PORT", "URL")->required();
  AddText(a, "model", &out->model, "the model whose window to freeze", "NAME")->required();
  AddText(a, "output", &out->output, "the reference file to write", "FILE")->required();
  AddText(a, "window", &out->window, "the window to freeze (default: the longest)", "NAME");
  AddText(a, "reference-version", &out->reference_version,
          "the version written into the file (default: snapshot- and the time)");
  return ParseArgs(a, args);
}

int ReferenceSnapshotCommand(const std::vector<std::string>& args) {
  ReferenceSnapshotArgs flags;
  if (auto status = ExitStatus(ParseReferenceSnapshotArgs(args, &flags), "reference snapshot")) {
    return *status;
  }
  HostPort address;
  std::string error;
  if (!ParseBaseUrl(flags.url, &address, &error)) {
    std::cerr << "driftd reference snapshot: " << error << " (see --help)\n";
    return kExitUsage;
  }
  std::string target = "/api/v1/snapshot?model=" + PercentEncode(flags.model);
  if (!flags.reference_version.empty())
    target += "&version=" + PercentEncode(flags.reference_version);
  if (!flags.window.empty()) target += "&window=" + PercentEncode(flags.window);
  unsigned status = 0;
  std::string body;
  if (!Get(address, target, &status, &body, &error)) {
    std::cerr << "driftd reference snapshot: " << error << "\n";
    return 1;
  }
  if (status != 200) {
    std::cerr << "driftd reference snapshot: " << FormatHostPort(address) << " answered " << status
              << ": " << body;
    if (!body.empty() && body.back() != '\n') std::cerr << "\n";
    return 1;
  }
  std::vector<std::string> problems;
  const std::optional<Reference> ref = ParseReference(body, flags.output, &problems);
  if (!ref) {
    for (const std::string& p : problems) std::cerr << p << "\n";
    return 1;
  }
  // Written whole or not at all, as a checkpoint is.
  if (!WriteFileAtomically(flags.output, body, 0666, &error)) {
    std::cerr << "driftd reference snapshot: cannot write " << flags.output << ": " << error
              << "\n";
    return 1;
  }
  uint64_t records = 0;
  if (!ref->features.empty()) {
    for (uint64_t c : ref->features[0].counts) records += c;
  }
  std::cout << "wrote " << flags.output << ": model " << ref->model << ", version " << ref->version
            << ", " << ref->features.size() << " features, " << records << " records\n";
  return 0;
}

}  // namespace driftd
