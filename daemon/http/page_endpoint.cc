// GET /: the live page. Server-rendered HTML with inline SVG, made from the published evaluation:
// no script, nothing fetched from anywhere (it works with no network), readable without colour
// (every state and series is labelled in text; the reference bars are outlined, the window bars
// filled). It refreshes itself every evaluation interval.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "daemon/http/endpoints.h"
#include "daemon/http/query.h"

namespace driftd {
namespace {

constexpr size_t kDefaultPerPage = 50;
constexpr size_t kMaxPerPage = 500;
constexpr size_t kMaxPage = 1'000'000;
// The bar chart's plot area, in SVG units.
constexpr double kChartWidth = 480, kChartHeight = 120;
constexpr double kSparkWidth = 240, kSparkHeight = 40;

void Escape(std::string_view s, std::string* out) {
  for (const char c : s) {
    switch (c) {
      case '&':
        *out += "&amp;";
        break;
      case '<':
        *out += "&lt;";
        break;
      case '>':
        *out += "&gt;";
        break;
      case '"':
        *out += "&quot;";
        break;
      case '\'':
        *out += "&#39;";
        break;
      default:
        *out += c;
    }
  }
}

std::string Esc(std::string_view s) {
  std::string out;
  Escape(s, &out);
  return out;
}

std::string Num(double v, const char* format = "%.6g") {
  if (!std::isfinite(v)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Worst first: critical, warning, ok, then the features without enough data; then by the alert
// metric, largest first, then by name.
int Rank(const FeatureEvaluation& f) {
  return f.alert.evaluable() ? static_cast<int>(f.alert.level()) : -1;
}

struct PageQuery {
  std::string model;   // empty: every model
  std::string search;  // features whose name contains it
  std::string window;  // empty: the first (shortest) window
  size_t page = 1, per_page = kDefaultPerPage;
};

// The window's and the reference's probability of every bin, side by side: the window's bar
// filled, the reference's outlined, heights on one scale (the largest probability of either).
void BinChart(const FeatureEvaluation& f, const std::vector<double>& window_p, std::string* out) {
  const std::vector<double>& ref_p = *f.reference_probabilities;
  double top = 0;
  for (size_t b = 0; b < window_p.size(); ++b) top = std::max({top, window_p[b], ref_p[b]});
  if (!(top > 0)) top = 1;
  const double group = kChartWidth / static_cast<double>(window_p.size());
  const double bar = std::max(1.0, group * 0.4);
  *out += "<svg class=\"bins\" role=\"img\" viewBox=\"0 0 " + Num(kChartWidth) + " " +
          Num(kChartHeight + 14) + "\" width=\"" + Num(kChartWidth) + "\" height=\"" +
          Num(kChartHeight + 14) + "\" data-feature=\"" + Esc(f.name) + "\" data-scale=\"" +
          Num(top, "%.17g") + "\"><title>" + Esc(f.name) +
          ": window (filled) and reference (outlined) share of each bin</title>";
  for (size_t b = 0; b < window_p.size(); ++b) {
    const std::string label = Esc(f.bins->BinLabel(static_cast<uint32_t>(b)));
    const double x = static_cast<double>(b) * group;
    const double hw = window_p[b] / top * kChartHeight, hr = ref_p[b] / top * kChartHeight;
    *out += "<rect class=\"bar window\" x=\"" + Num(x + group * 0.1) + "\" y=\"" +
            Num(kChartHeight - hw, "%.17g") + "\" width=\"" + Num(bar) + "\" height=\"" +
            Num(hw, "%.17g") + "\" data-bin=\"" + label + "\" data-probability=\"" +
            Num(window_p[b], "%.17g") + "\"><title>" + label + ": window " +
            Num(window_p[b] * 100, "%.2f") + "%</title></rect>";
    *out += "<rect class=\"bar reference\" x=\"" + Num(x + group * 0.1 + bar) + "\" y=\"" +
            Num(kChartHeight - hr, "%.17g") + "\" width=\"" + Num(bar) + "\" height=\"" +
            Num(hr, "%.17g") + "\" data-bin=\"" + label + "\" data-probability=\"" +
            Num(ref_p[b], "%.17g") + "\"><title>" + label + ": reference " +
            Num(ref_p[b] * 100, "%.2f") + "%</title></rect>";
  }
  // The first and last bins' labels under the axis.
  *out += "<line x1=\"0\" y1=\"" + Num(kChartHeight) + "\" x2=\"" + Num(kChartWidth) + "\" y2=\"" +
          Num(kChartHeight) + "\" class=\"axis\"/>";
  *out += "<text x=\"0\" y=\"" + Num(kChartHeight + 12) + "\">" + Esc(f.bins->BinLabel(0)) +
          "</text><text x=\"" + Num(kChartWidth) + "\" y=\"" + Num(kChartHeight + 12) +
          "\" text-anchor=\"end\">" +
          Esc(f.bins->BinLabel(static_cast<uint32_t>(window_p.size() - 1))) + "</text></svg>";
}

// The alert metric over the last evaluations: a line, with its latest value in text.
void Sparkline(const FeatureEvaluation& f, const std::vector<float>* series, std::string* out) {
  const char* metric = DriftMetricName(f.alert_metric);
  *out += "<figure class=\"history\"><svg class=\"spark\" viewBox=\"0 0 " + Num(kSparkWidth) + " " +
          Num(kSparkHeight) + "\" width=\"" + Num(kSparkWidth) + "\" height=\"" +
          Num(kSparkHeight) + "\" data-points=\"" + std::to_string(series ? series->size() : 0) +
          "\"><title>" + metric + " over the last evaluations</title>";
  double top = 0;
  if (series != nullptr) {
    for (float v : *series) {
      if (std::isfinite(v)) top = std::max(top, static_cast<double>(v));
    }
  }
  if (series != nullptr && top > 0 && series->size() > 1) {
    std::string points;
    const double step = kSparkWidth / static_cast<double>(MetricHistory::kPoints - 1);
    const double x0 = kSparkWidth - step * static_cast<double>(series->size() - 1);
    for (size_t i = 0; i < series->size(); ++i) {
      const float v = (*series)[i];
      if (!std::isfinite(v)) continue;
      points += Num(x0 + step * static_cast<double>(i)) + "," +
                Num(kSparkHeight - 2 - (kSparkHeight - 4) * v / top) + " ";
    }
    *out += "<polyline fill=\"none\" stroke=\"currentColor\" points=\"" + points + "\"/>";
  }
  *out += "</svg><figcaption>" + std::string(metric) + " over the last " +
          std::to_string(series ? series->size() : 0) + " evaluations (max " + Num(top) +
          ")</figcaption></figure>";
}

void FeatureCard(const FeatureEvaluation& f, const MonitorOptions& o, const MetricHistory* history,
                 const std::string& model, std::string* out) {
  const std::string state = f.alert.Name();
  *out += "<section class=\"feature " + state + "\" data-feature=\"" + Esc(f.name) +
          "\" data-state=\"" + state + "\"><h3>" + Esc(f.name) + " <span class=\"state\">" +
          (state == "insufficient_data" ? std::string("insufficient data") : state) +
          "</span></h3><dl>";
  auto item = [out](const char* name, const std::string& value) {
    *out += "<dt>";
    *out += name;
    *out += "</dt><dd>" + value + "</dd>";
  };
  item("samples", std::to_string(f.samples));
  if (f.evaluable) {
    item((std::string("alert metric (") + DriftMetricName(f.alert_metric) + ")").c_str(),
         Num(f.alert_value));
    item("KL divergence", Num(f.kl));
    item("KL noise floor", Num(f.kl_noise_floor));
    item("PSI", Num(f.divergences.psi));
    item("Jensen-Shannon", Num(f.divergences.js));
    item("Hellinger", Num(f.divergences.hellinger));
    item("p-value (adjusted)", Num(f.p_adjusted));
  }
  item("missing", Num(f.missing_ratio * 100, "%.2f") + "%");
  item("out of range", Num(f.out_of_range_ratio * 100, "%.2f") + "%");
  *out += "</dl>";
  BinChart(f, SmoothedProbabilities(f.window_counts, o.divergence.smoothing), out);
  Sparkline(f, history ? history->Series(model, o.windows[f.window].name, f.name) : nullptr, out);
  *out += "</section>\n";
}

constexpr char kStyle[] = R"(<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1em 2em;color:#111;background:#fff}
header a{margin-right:1em} h2{margin-top:1.5em;border-bottom:1px solid #999}
.features{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:1em}
.feature{border:1px solid #999;padding:.5em 1em;border-radius:4px}
.feature h3{margin:.2em 0} .state{font-size:80%;padding:0 .4em;border:1px solid;text-transform:uppercase}
.critical{border-width:3px} .critical .state{background:#b00020;color:#fff}
.warning{border-style:dashed;border-width:2px} .warning .state{background:#f4b400}
dl{display:grid;grid-template-columns:auto auto auto auto;gap:0 1em;margin:.3em 0}
dt{color:#444} dd{margin:0;font-variant-numeric:tabular-nums}
.bar.window{fill:#1f4e9c} .bar.reference{fill:none;stroke:#111;stroke-width:1}
.axis{stroke:#666} svg text{font-size:10px;fill:#444} figure{margin:.3em 0} figcaption{color:#444;font-size:85%}
.legend rect{vertical-align:middle} nav{margin:1em 0}
</style>)";

}  // namespace

HttpResponse PageEndpoint(HttpContext* ctx, const HttpRequest& req) {
  std::string error;
  const std::optional<QueryParams> params = ParseQuery(req.query, &error);
  if (!params) return {400, "text/plain; charset=utf-8", error + "\n"};
  PageQuery q;
  for (const auto& [key, value] : *params) {
    if (key == "model") {
      q.model = value;
    } else if (key == "q") {
      q.search = value;
    } else if (key == "window") {
      q.window = value;
    } else if (key == "page" || key == "per_page") {
      char* end = nullptr;
      const unsigned long long n = std::strtoull(value.c_str(), &end, 10);
      if (value.empty() || !std::isdigit(static_cast<unsigned char>(value[0])) || *end != '\0' ||
          n == 0 || n > kMaxPage) {
        return {400, "text/plain; charset=utf-8",
                key + ": expected an integer from 1 to 1000000\n"};
      }
      (key == "page" ? q.page : q.per_page) = std::min<size_t>(n, key == "page" ? n : kMaxPerPage);
    } else {
      return {400, "text/plain; charset=utf-8",
              "unknown parameter \"" + key + "\" (model, q, window, page, per_page)\n"};
    }
  }
  HttpResponse r(200, "text/html; charset=utf-8", "");
  if (!TakeLargeResponseSlot(ctx, &r)) {
    return BusyResponse(
        {503, "text/plain; charset=utf-8", std::string(kLargeResponsesBusy) + "\n"});
  }
  // Hundreds of charts take a while to write: off the HTTP thread.
  // The settings a reload may change are read here, on the HTTP thread.
  r.render = [ctx, q, refresh_seconds = ctx->refresh_seconds](HttpResponse* out) {
    const std::shared_ptr<const Evaluation> eval = ctx->published->evaluation();
    const std::shared_ptr<const MetricHistory> history = ctx->published->history();
    std::string& page = out->body;
    const double refresh = std::max(5.0, refresh_seconds);
    page +=
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"refresh\" content=\"" +
        Num(std::ceil(refresh)) + "\"><title>driftd</title>";
    page += kStyle;
    page += "</head><body><header><h1>driftd</h1><p>Version " + Esc(ctx->version) +
            ". <a href=\"/metrics\">/metrics</a><a href=\"/api/v1/status\">/api/v1/status</a>"
            "<a href=\"/healthz\">/healthz</a><a href=\"/readyz\">/readyz</a></p>";
    if (!eval) {
      page += "<p>No evaluation yet.</p></header></body></html>\n";
      return;
    }
    const std::vector<NamedWindow>& windows = eval->options.windows;
    const std::optional<size_t> found = q.window.empty() ? 0 : FindWindow(windows, q.window);
    if (!found) {
      out->status = 404;
      page += "<p>No window named \"" + Esc(q.window) + "\".</p></header></body></html>\n";
      return;
    }
    const size_t k = *found;
    const WindowOptions& w = windows[k].options;
    page += "<p>Window <b>" + Esc(windows[k].name) + "</b>: " + Num(w.length_seconds) + " s in " +
            std::to_string(w.slices) + " slices; evaluated at " + Rfc3339(eval->timestamp) +
            ". Bars: <b>filled</b> = window, <b>outlined</b> = reference, each bin's share "
            "(smoothed, alpha " +
            Num(eval->options.divergence.smoothing) + ").</p>";
    page += "<form method=\"get\" action=\"/\">";
    if (windows.size() > 1) {
      // The window selector: a plain form field, so it works without a script.
      page += "<label>window <select name=\"window\">";
      for (size_t i = 0; i < windows.size(); ++i) {
        page += "<option value=\"" + Esc(windows[i].name) + "\"" + (i == k ? " selected" : "") +
                ">" + Esc(windows[i].name) + "</option>";
      }
      page += "</select></label> ";
    }
    page += "<label>feature <input name=\"q\" value=\"" + Esc(q.search) + "\"></label>";
    if (!q.model.empty()) {
      page += "<input type=\"hidden\" name=\"model\" value=\"" + Esc(q.model) + "\">";
    }
    page += " <button>search</button></form></header>\n";
    size_t most_pages = 1;
    for (const ModelEvaluation& m : eval->models) {
      if (!q.model.empty() && m.model != q.model) continue;
      std::vector<const FeatureEvaluation*> features;
      for (const FeatureEvaluation& f : m.Window(k)) {
        if (q.search.empty() || f.name.find(q.search) != std::string::npos) {
          features.push_back(&f);
        }
      }
      std::stable_sort(features.begin(), features.end(), [](const auto* a, const auto* b) {
        if (Rank(*a) != Rank(*b)) return Rank(*a) > Rank(*b);
        if (a->evaluable && b->evaluable && a->alert_value != b->alert_value) {
          return a->alert_value > b->alert_value;
        }
        return a->name < b->name;
      });
      const size_t pages = std::max<size_t>(1, (features.size() + q.per_page - 1) / q.per_page);
      most_pages = std::max(most_pages, pages);
      page += "<h2 class=\"model\" data-model=\"" + Esc(m.model) + "\">" + Esc(m.model) +
              " <small>reference " + Esc(m.version) + " (sha256 " + Esc(m.sha256.substr(0, 12)) +
              "), " + std::to_string(m.records[k]) + " records in window " + Esc(windows[k].name) +
              ", " + std::to_string(m.alerts.drifted) + " of " +
              std::to_string(m.alerts.evaluable) + " evaluable features drifted" +
              (m.alerts.retrain ? ", <b>retraining recommended</b>" : "") + "</small></h2>\n";
      page += "<div class=\"features\">\n";
      const size_t begin = std::min(features.size(), (q.page - 1) * q.per_page);
      const size_t end = std::min(features.size(), begin + q.per_page);
      for (size_t i = begin; i < end; ++i) {
        FeatureCard(*features[i], eval->options, history.get(), m.model, &page);
      }
      page += "</div>\n";
      if (features.size() > q.per_page) {
        page += "<p>features " + std::to_string(begin + 1) + "&ndash;" + std::to_string(end) +
                " of " + std::to_string(features.size()) + "</p>";
      }
    }
    if (most_pages > 1) {
      page += "<nav>page " + std::to_string(q.page) + " of " + std::to_string(most_pages) + ": ";
      std::string base = "/?per_page=" + std::to_string(q.per_page);
      if (!q.model.empty()) base += "&amp;model=" + PercentEncode(q.model);
      if (!q.search.empty()) base += "&amp;q=" + PercentEncode(q.search);
      if (!q.window.empty()) base += "&amp;window=" + PercentEncode(q.window);
      if (q.page > 1) {
        page += "<a rel=\"prev\" href=\"" + base + "&amp;page=" + std::to_string(q.page - 1) +
                "\">previous</a> ";
      }
      if (q.page < most_pages) {
        page += "<a rel=\"next\" href=\"" + base + "&amp;page=" + std::to_string(q.page + 1) +
                "\">next</a>";
      }
      page += "</nav>";
    }
    page += "</body></html>\n";
  };
  return r;
}

}  // namespace driftd
