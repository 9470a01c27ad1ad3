#include "daemon/http/endpoints.h"
#include "daemon/http/query.h"

namespace driftd {
namespace {

HttpResponse Text(int status, std::string body) {
  return {status, "text/plain; charset=utf-8", std::move(body)};
}

}  // namespace

HttpResponse SnapshotEndpoint(HttpContext* ctx, const HttpRequest& req) {
  std::string error;
  const std::optional<QueryParams> params = ParseQuery(req.query, &error);
  if (!params) return Text(400, error + "\n");
  std::optional<std::string> model, version, window;
  for (const auto& [key, value] : *params) {
    if (key == "model" && !model) {
      model = value;
    } else if (key == "version" && !version) {
      version = value;
    } else if (key == "window" && !window) {
      window = value;
    } else {
      return Text(400, "unknown or repeated parameter \"" + key +
                           "\" (expected model=NAME and optionally version=TEXT, window=NAME)\n");
    }
  }
  if (!model) return Text(400, "missing parameter model=NAME\n");
  HttpResponse r(200, "application/json", "");
  if (!TakeLargeResponseSlot(ctx, &r)) {
    return BusyResponse(
        {503, "text/plain; charset=utf-8", std::string(kLargeResponsesBusy) + "\n"});
  }
  // The longest window unless one is named: "against last week" wants the most data.
  const std::vector<NamedWindow> windows = ctx->monitor->options().windows;
  const std::optional<size_t> k = window ? FindWindow(windows, *window) : windows.size() - 1;
  if (!k) return Text(404, "no window named \"" + *window + "\"\n");
  const double now = ctx->clock();
  std::optional<Reference> ref = ctx->monitor->Snapshot(*model, *k, now, &error);
  if (!ref) {
    const bool unknown = error.rfind("no model", 0) == 0;
    return Text(unknown ? 404 : 409, error + "\n");
  }
  ref->created_at = Rfc3339(now);
  ref->version = version ? *version : "snapshot-" + ref->created_at;
  std::string text = SerializeReference(*ref);
  // What a reference file must be, checked as driftd will check it when it is loaded.
  std::vector<std::string> problems;
  if (!ParseReference(text, "snapshot", &problems)) {
    std::string body = "the window does not make a valid reference:\n";
    for (const std::string& p : problems) body += p + "\n";
    return Text(409, body);
  }
  r.body = std::move(text);
  r.headers.emplace_back("Content-Disposition",
                         "attachment; filename=\"" + ref->model + ".reference.json\"");
  return r;
}

}  // namespace driftd
