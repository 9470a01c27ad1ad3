// The InfluxDB write API (1.x POST /write, 2.x POST /api/v2/write) on driftd's ingest pipeline,
// so that the InfluxDB client libraries and Telegraf's influxdb outputs can send records as they
// are. Inflating gzip is zlib's; the rest is the ingest endpoint's.
#include <zlib.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "daemon/http/endpoints.h"
#include "daemon/http/query.h"

namespace driftd {
namespace {

enum class Api { kV1, kV2 };

// InfluxDB's error body: 1.x {"error": MESSAGE}; 2.x {"code", "message"} and, for a rejected
// line, its number.
HttpResponse WriteError(Api api, int status, const std::string& message, uint64_t line = 0) {
  nlohmann::json j;
  if (api == Api::kV1) {
    j = {{"error", message}};
  } else {
    j = {{"code", status == 413   ? "request too large"
                  : status == 415 ? "unsupported media type"
                                  : "invalid"},
         {"message", message}};
    if (line != 0) j["line"] = line;
  }
  return {status, "application/json; charset=utf-8",
          j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
}

enum class Inflated { kOk, kCorrupt, kTooLarge };

// Inflates the gzip data `gz` (one member or several, as gzip allows), handing the output to
// `sink` a piece of at most 64 KiB at a time; stops with kTooLarge once more than `limit` bytes
// came out, with kCorrupt (and *error) when `gz` is not gzip or ends early.
template <class Sink>
Inflated Inflate(std::string_view gz, size_t limit, Sink sink, std::string* error) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {  // 16: a gzip header and trailer
    *error = "cannot start inflating";
    return Inflated::kCorrupt;
  }
  std::string out(64 << 10, '\0');
  size_t total = 0;
  Inflated result = Inflated::kOk;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  size_t left = gz.size();
  bool ended = gz.empty();
  for (;;) {
    if (zs.avail_in == 0 && left > 0) {
      zs.avail_in = static_cast<uInt>(std::min<size_t>(left, 1u << 30));
      left -= zs.avail_in;
    }
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&zs, Z_NO_FLUSH);
    const size_t produced = out.size() - zs.avail_out;
    total += produced;
    if (total > limit) {
      result = Inflated::kTooLarge;
      break;
    }
    if (produced > 0) sink(std::string_view(out.data(), produced));
    if (rc == Z_STREAM_END) {
      ended = true;
      if (zs.avail_in == 0 && left == 0) break;
      inflateReset(&zs);  // another member follows
      ended = false;
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && left == 0) break;  // the input ended early
    *error = std::string("not valid gzip: ") + (zs.msg ? zs.msg : "inflate failed");
    result = Inflated::kCorrupt;
    break;
  }
  inflateEnd(&zs);
  if (result == Inflated::kOk && !ended) {
    *error = "not valid gzip: the body ends in the middle of the compressed data";
    result = Inflated::kCorrupt;
  }
  return result;
}

HttpResponse Write(HttpContext* ctx, const HttpRequest& req, Api api) {
  TransportMetrics& counters = ctx->metrics->transport(Transport::kHttp);
  auto refuse = [&](Reason reason, int status, const std::string& message) {
    counters.Error(reason);
    return WriteError(api, status, message);
  };
  std::string error;
  const std::optional<QueryParams> params = ParseQuery(req.query, &error);
  if (!params) return refuse(Reason::kBadRequest, 400, error);
  TimestampPrecision precision = TimestampPrecision::kNanoseconds;
  for (const auto& [key, value] : *params) {
    if (key != "precision") continue;  // db, rp, org, bucket, credentials: not used
    const auto p = ParsePrecision(value, api == Api::kV1);
    if (!p) {
      return refuse(Reason::kBadRequest, 400,
                    "invalid precision \"" + value + "\"; valid precision units are " +
                        (api == Api::kV1 ? "n, ns, u, us, µ, ms, s, m and h" : "ns, us, ms and s"));
    }
    precision = *p;
  }

  const bool gzip = req.content_encoding == "gzip";
  if (!gzip && !req.content_encoding.empty() && req.content_encoding != "identity") {
    return refuse(Reason::kBadRequest, 415,
                  "Content-Encoding \"" + std::string(req.content_encoding) +
                      "\" is not supported; send gzip or no encoding");
  }
  if (gzip) {
    // A first pass only measures: a body that is corrupt or inflates past the limit (a gzip
    // bomb) is refused before any of it is applied, and nothing inflated is held in memory.
    const Inflated checked = Inflate(
        req.body, ctx->max_body_bytes, [](std::string_view) {}, &error);
    if (checked == Inflated::kTooLarge) {
      return refuse(Reason::kBodyTooLarge, 413,
                    "the body inflates to more than http.max_body_bytes (" +
                        std::to_string(ctx->max_body_bytes) + " bytes)");
    }
    if (checked == Inflated::kCorrupt) return refuse(Reason::kBadRequest, 400, error);
  }

  LineProcessor proc = NewBodyProcessor(ctx, req);
  proc.set_precision(precision);
  const double now = ctx->clock();
  if (gzip) {
    Inflate(
        req.body, ctx->max_body_bytes,
        [&](std::string_view piece) { FeedBody(ctx, &proc, piece, now); }, &error);
  } else {
    FeedBody(ctx, &proc, req.body, now);
  }
  proc.EndMessage(now);
  proc.Flush();
  if (proc.rejected() == 0) return {204, "text/plain; charset=utf-8", ""};

  const LineProcessor::FirstError& first = proc.first_error();
  std::string message = "unable to parse '" + first.sample + "' (line " +
                        std::to_string(first.line) + "): " + first.error;
  if (proc.accepted() > 0) message = "partial write: " + message;
  message += api == Api::kV1
                 ? " dropped=" + std::to_string(proc.rejected())
                 : " (" + std::to_string(proc.rejected()) + " of " +
                       std::to_string(proc.rejected() + proc.accepted()) + " lines rejected)";
  return WriteError(api, 400, message, first.line);
}

}  // namespace

HttpResponse BodyTooLargeResponse(std::string_view target, size_t limit) {
  const std::string_view path = target.substr(0, target.find('?'));
  const std::string message =
      "the body is larger than http.max_body_bytes (" + std::to_string(limit) + " bytes)";
  if (path == "/write") return WriteError(Api::kV1, 413, message);
  if (path == "/api/v2/write") return WriteError(Api::kV2, 413, message);
  return {413, "text/plain; charset=utf-8", "body too large\n"};
}

HttpResponse WriteV1Endpoint(HttpContext* ctx, const HttpRequest& req) {
  return Write(ctx, req, Api::kV1);
}

HttpResponse WriteV2Endpoint(HttpContext* ctx, const HttpRequest& req) {
  return Write(ctx, req, Api::kV2);
}

}  // namespace driftd
