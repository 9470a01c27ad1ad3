#include "config/config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "core/feature_metrics.h"
#include "core/json_validation.h"
#include "core/monitor.h"
#include "core/read_file.h"
#include "core/window_set.h"

namespace driftd {
uint32_t IngestConfig::ThreadCount() const {
  if (threads > 0) return threads;
  const unsigned cores = std::thread::hardware_concurrency();
  return std::clamp<uint32_t>(cores, 1, kDefaultIngestThreads);
}

namespace {

using Json = nlohmann::json;

constexpr uint32_t kMinLineBytes = 64;
constexpr uint32_t kMaxLineBytes = 64 << 20;
constexpr uint32_t kMaxSlices = 3600;
constexpr double kMinSliceSeconds = 0.001;
// Upper bounds of the durations, in seconds (docs/configuration.md).
constexpr double kMaxIdleTimeoutSeconds = 86400;  // 1 day
constexpr double kMaxIntervalSeconds = 3600;      // 1 hour
constexpr double kMaxLineTimeoutSeconds = 3600;   // 1 hour
constexpr double kMaxCheckpointSeconds = 86400;   // 1 day
constexpr uint32_t kMaxIngestConnections = 1 << 20;
constexpr double kMaxWindowSeconds = 400.0 * 86400;  // 400 days
// sizeof(sockaddr_un::sun_path) on Linux, less the terminating NUL.
constexpr size_t kMaxUnixPathBytes = 107;

// Joins a key path (see core/json_validation.h).
std::string Join(const std::string& path, const std::string& key) { return JoinPath(path, key); }

std::string Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

std::string Quote(std::string_view s) { return Json(std::string(s)).dump(); }

// Returns the member `key` of `obj`, or nullptr.
const Json* Find(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// Returns the object at `key` of `parent` (nullptr when absent or not an object; the latter is
// reported) after checking its keys against `allowed`.
const Json* Section(const Json& parent, const char* key, const std::set<std::string>& allowed,
                    Problems* p) {
  const Json* v = Find(parent, key);
  if (v == nullptr) return nullptr;
  if (!v->is_object()) {
    p->Add(key, "must be an object");
    return nullptr;
  }
  CheckKeys(*v, allowed, key, p);
  return v;
}

// Reads an integer in [lo, hi] into *out, leaving it alone on error. An integral JSON float (12.0)
// is accepted, as in reference files.
template <typename T>
void ReadInteger(const Json& obj, const char* key, const std::string& path, uint64_t lo,
                 uint64_t hi, T* out, Problems* p) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return;
  const std::string at = Join(path, key);
  bool below = false, above = false;
  uint64_t value = 0;
  if (v->is_number_unsigned()) {
    value = v->get<uint64_t>();
  } else if (v->is_number_integer()) {
    below = true;  // nlohmann keeps non-negative integers unsigned
  } else if (v->is_number_float()) {
    const double d = v->get<double>();
    if (!std::isfinite(d) || d != std::floor(d)) {
      p->Add(at, "must be an integer");
      return;
    }
    if (d < 0) {
      below = true;
    } else if (d >= 18446744073709551616.0) {
      above = true;
    } else {
      value = static_cast<uint64_t>(d);
    }
  } else {
    p->Add(at, "must be an integer");
    return;
  }
  below = below || (!above && value < lo);
  above = above || (!below && value > hi);
  if (below || above) {
    if (hi < std::numeric_limits<T>::max()) {
      p->Add(at, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    } else if (below) {
      p->Add(at, "must be >= " + std::to_string(lo));
    } else {
      p->Add(at, "must be <= " + std::to_string(hi));
    }
    return;
  }
  *out = static_cast<T>(value);
}

// Reads a finite number > 0 into *out, leaving it alone on error.
void ReadPositive(const Json& obj, const char* key, const std::string& path, double* out,
                  Problems* p) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return;
  const std::string at = Join(path, key);
  if (!v->is_number()) {
    p->Add(at, "must be a number");
    return;
  }
  const double d = v->get<double>();
  if (!std::isfinite(d)) {
    p->Add(at, "must be a finite number");
  } else if (!(d > 0)) {
    p->Add(at, "must be > 0");
  } else {
    *out = d;
  }
}

// Reads a duration in seconds, a finite number in (0, max_seconds], into *out, leaving it alone
// on error.
void ReadDuration(const Json& obj, const char* key, const std::string& path, double max_seconds,
                  double* out, Problems* p) {
  double d = *out;
  const size_t before = p->count();
  ReadPositive(obj, key, path, &d, p);
  if (p->count() != before) return;
  if (d > max_seconds) {
    std::ostringstream what;
    what << "must be <= " << std::fixed << std::setprecision(0) << max_seconds << " (seconds)";
    p->Add(Join(path, key), what.str());
    return;
  }
  *out = d;
}

// Reads one of `names` (a string) into *out as the matching value, leaving it alone on error.
template <typename T>
void ReadEnum(const Json& obj, const char* key, const std::string& path,
              const std::vector<std::pair<const char*, T>>& names, T* out, Problems* p) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return;
  const std::string at = Join(path, key);
  if (!v->is_string()) {
    p->Add(at, "must be a string");
    return;
  }
  std::string allowed;
  for (const auto& [name, value] : names) {
    if (*v == name) {
      *out = value;
      return;
    }
    allowed += (allowed.empty() ? "" : " or ") + std::string(name);
  }
  p->Add(at, "unknown value " + v->dump() + " (" + allowed + ")");
}

// Parses the address at `at`; reports a problem and returns nullopt when it is invalid.
std::optional<HostPort> ReadAddress(const Json& v, const std::string& at, Problems* p) {
  HostPort hp;
  std::string error;
  if (!ParseHostPort(v.get<std::string>(), &hp, &error)) {
    p->Add(at, "invalid address " + v.dump() + ": " + error);
    return std::nullopt;
  }
  return hp;
}

// Reads a listener address that may be null or absent (both disable the listener).
void ReadListener(const Json& obj, const char* key, const std::string& path,
                  std::optional<HostPort>* out, Problems* p) {
  const Json* v = Find(obj, key);
  if (v == nullptr || v->is_null()) return;
  const std::string at = Join(path, key);
  if (!v->is_string()) {
    p->Add(at, "must be a string or null");
    return;
  }
  *out = ReadAddress(*v, at, p);
}

// `path` joined with `base_dir` when it is relative and base_dir is non-empty.
std::string Resolve(const std::string& path, const std::string& base_dir) {
  if (base_dir.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(base_dir) / path).string();
}

void ParseIngest(const Json& doc, const std::string& base_dir, IngestConfig* c, Problems* p) {
  const Json* s =
      Section(doc, "ingest",
              {"tcp", "udp", "unix", "unix_mode", "max_line_bytes", "max_connections",
               "max_unix_connections", "idle_timeout_seconds", "line_timeout_seconds", "threads"},
              p);
  if (s == nullptr) return;
  ReadListener(*s, "tcp", "ingest", &c->tcp, p);
  ReadListener(*s, "udp", "ingest", &c->udp, p);
  if (const Json* u = Find(*s, "unix"); u != nullptr && !u->is_null()) {
    if (!u->is_string()) {
      p->Add("ingest.unix", "must be a string or null");
    } else if (u->get<std::string>().empty()) {
      p->Add("ingest.unix", "must not be empty");
    } else {
      std::string path = Resolve(u->get<std::string>(), base_dir);
      if (path.size() > kMaxUnixPathBytes) {
        p->Add("ingest.unix", "path too long for a unix socket: " + std::to_string(path.size()) +
                                  " bytes, at most " + std::to_string(kMaxUnixPathBytes));
      } else {
        c->unix_path = std::move(path);
      }
    }
  }
  ReadInteger(*s, "max_line_bytes", "ingest", kMinLineBytes, kMaxLineBytes, &c->max_line_bytes, p);
  ReadInteger(*s, "max_connections", "ingest", 1, kMaxIngestConnections, &c->max_connections, p);
  ReadInteger(*s, "max_unix_connections", "ingest", 1, kMaxIngestConnections,
              &c->max_unix_connections, p);
  ReadInteger(*s, "threads", "ingest", 0, kMaxIngestThreads, &c->threads, p);
  ReadDuration(*s, "idle_timeout_seconds", "ingest", kMaxIdleTimeoutSeconds,
               &c->idle_timeout_seconds, p);
  ReadDuration(*s, "line_timeout_seconds", "ingest", kMaxLineTimeoutSeconds,
               &c->line_timeout_seconds, p);
  if (const Json* m = Find(*s, "unix_mode"); m != nullptr) {
    const std::string text = m->is_string() ? m->get<std::string>() : "";
    char* end = nullptr;
    const unsigned long mode = std::strtoul(text.c_str(), &end, 8);
    if (!m->is_string() || text.empty() || text.size() > 4 || *end != '\0' || text[0] != '0' ||
        text.find_first_not_of("01234567") != std::string::npos || mode > 0777) {
      p->Add("ingest.unix_mode", "must be an octal mode string such as \"0660\", got " + m->dump());
    } else {
      c->unix_mode = static_cast<uint32_t>(mode);
    }
  }
}

// The HTTP server's resource bounds (docs/architecture.md, "Memory and time bounds: HTTP").
constexpr uint32_t kMaxHttpConnections = 65536;
constexpr double kMaxHttpHeaderSeconds = 300;
constexpr double kMaxHttpRequestSeconds = 3600;
constexpr uint64_t kMinHttpBodyBytes = 1 << 10;
constexpr uint64_t kMaxHttpBodyBytes = 1 << 30;
constexpr uint32_t kMaxHttpStatusResponses = 1024;

void ReadRange(const Json& obj, const char* key, const std::string& path, double lo, bool lo_open,
               double hi, double* out, Problems* p);  // below

void ParseHttp(const Json& doc, HttpConfig* c, Problems* p) {
  const Json* s =
      Section(doc, "http",
              {"listen", "ingest", "ingest_listen", "max_connections", "header_timeout_seconds",
               "request_timeout_seconds", "max_body_bytes", "max_status_responses"},
              p);
  if (s == nullptr) return;
  if (const Json* v = Find(*s, "listen"); v != nullptr) {
    if (!v->is_string()) {
      p->Add("http.listen", "must be a string");
    } else if (auto hp = ReadAddress(*v, "http.listen", p)) {
      c->listen = *hp;
    }
  }
  if (const Json* v = Find(*s, "ingest"); v != nullptr) {
    if (!v->is_boolean()) {
      p->Add("http.ingest", "must be true or false");
    } else {
      c->ingest = v->get<bool>();
    }
  }
  ReadListener(*s, "ingest_listen", "http", &c->ingest_listen, p);
  if (c->ingest_listen && !c->ingest) {
    p->Add("http.ingest_listen", "set while http.ingest is false (no ingest endpoint to serve)");
  }
  if (c->ingest_listen && c->ingest_listen->port != 0 && *c->ingest_listen == c->listen) {
    p->Add("http.ingest_listen", "same address as http.listen (" + FormatHostPort(c->listen) + ")");
  }
  const size_t before = p->count();
  ReadInteger(*s, "max_connections", "http", 1, kMaxHttpConnections, &c->max_connections, p);
  ReadRange(*s, "header_timeout_seconds", "http", 0, true, kMaxHttpHeaderSeconds,
            &c->header_timeout_seconds, p);
  ReadRange(*s, "request_timeout_seconds", "http", 0, true, kMaxHttpRequestSeconds,
            &c->request_timeout_seconds, p);
  ReadInteger(*s, "max_body_bytes", "http", kMinHttpBodyBytes, kMaxHttpBodyBytes,
              &c->max_body_bytes, p);
  ReadInteger(*s, "max_status_responses", "http", 1, kMaxHttpStatusResponses,
              &c->max_status_responses, p);
  if (p->count() == before && c->header_timeout_seconds > c->request_timeout_seconds) {
    std::ostringstream what;
    what << "must be <= http.request_timeout_seconds (" << c->request_timeout_seconds << ")";
    p->Add("http.header_timeout_seconds", what.str());
  }
}

void ParseState(const Json& doc, const std::string& base_dir, StateConfig* c, Problems* p) {
  const Json* s = Section(doc, "state", {"directory", "checkpoint_seconds"}, p);
  if (s == nullptr) return;
  if (const Json* d = Find(*s, "directory"); d != nullptr && !d->is_null()) {
    if (!d->is_string()) {
      p->Add("state.directory", "must be a string or null");
    } else if (d->get<std::string>().empty()) {
      p->Add("state.directory", "must not be empty");
    } else {
      c->directory = Resolve(d->get<std::string>(), base_dir);
    }
  }
  ReadDuration(*s, "checkpoint_seconds", "state", kMaxCheckpointSeconds, &c->checkpoint_seconds, p);
}

// One window object at `path` ("window" or "windows[1]"); `named`: the name is required.
void ParseOneWindow(const Json& w, const std::string& path, bool named, WindowConfig* c,
                    Problems* p) {
  CheckKeys(w, {"name", "length_seconds", "slices"}, path, p);
  const size_t before = p->count();
  ReadDuration(w, "length_seconds", path, kMaxWindowSeconds, &c->length_seconds, p);
  ReadInteger(w, "slices", path, 1, kMaxSlices, &c->slices, p);
  if (p->count() == before && c->length_seconds / c->slices < kMinSliceSeconds) {
    std::ostringstream what;
    what << "length_seconds / slices must be at least " << kMinSliceSeconds << " s, got "
         << c->length_seconds / c->slices;
    p->Add(path, what.str());
  }
  c->name = WindowName(c->length_seconds);
  const Json* name = Find(w, "name");
  if (name == nullptr) {
    if (named) p->Add(Join(path, "name"), "is required");
    return;
  }
  const std::string text = name->is_string() ? name->get<std::string>() : "";
  const bool ok =
      !text.empty() && text.size() <= 32 && std::all_of(text.begin(), text.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
      });
  if (!ok) {
    p->Add(Join(path, "name"), "must be 1 to 32 letters, digits or '_'");
    return;
  }
  c->name = text;
}

void ParseWindows(const Json& doc, std::vector<WindowConfig>* out, Problems* p) {
  const Json* one = Find(doc, "window");
  const Json* list = Find(doc, "windows");
  if (one != nullptr && list != nullptr) {
    p->Add("windows", "give either window (one) or windows (a list), not both");
    return;
  }
  if (one != nullptr) {
    if (!one->is_object()) {
      p->Add("window", "must be an object");
      return;
    }
    WindowConfig c;
    ParseOneWindow(*one, "window", false, &c, p);
    *out = {c};
    return;
  }
  if (list == nullptr) return;
  if (!list->is_array() || list->empty() || list->size() > kMaxWindows) {
    p->Add("windows", "must be a list of 1 to " + std::to_string(kMaxWindows) + " windows");
    return;
  }
  const size_t before = p->count();
  std::vector<WindowConfig> windows(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string path = Index("windows", i);
    if (!(*list)[i].is_object()) {
      p->Add(path, "must be an object");
      continue;
    }
    ParseOneWindow((*list)[i], path, true, &windows[i], p);
    for (size_t j = 0; j < i; ++j) {
      if (windows[j].name == windows[i].name) {
        p->Add(Join(path, "name"), "repeats the name of windows[" + std::to_string(j) + "]");
      }
    }
  }
  if (p->count() != before) return;
  std::vector<WindowOptions> tiers;
  for (const WindowConfig& w : windows) tiers.push_back({w.length_seconds, w.slices});
  if (const std::string why = WindowSet::CheckTiers(tiers); !why.empty()) {
    p->Add("windows", why);
    return;
  }
  *out = std::move(windows);
}

void ParseEvaluation(const Json& doc, EvaluationConfig* c, Problems* p) {
  const Json* s = Section(doc, "evaluation",
                          {"interval_seconds", "min_samples", "smoothing", "log_base",
                           "kl_direction", "max_bin_series"},
                          p);
  if (s == nullptr) return;
  ReadDuration(*s, "interval_seconds", "evaluation", kMaxIntervalSeconds, &c->interval_seconds, p);
  ReadInteger(*s, "min_samples", "evaluation", 1, std::numeric_limits<uint64_t>::max(),
              &c->min_samples, p);
  ReadPositive(*s, "smoothing", "evaluation", &c->smoothing, p);
  ReadEnum<LogBase>(*s, "log_base", "evaluation", {{"e", LogBase::kE}, {"2", LogBase::kTwo}},
                    &c->log_base, p);
  ReadEnum<KlDirection>(*s, "kl_direction", "evaluation",
                        {{"window_to_reference", KlDirection::kWindowToReference},
                         {"reference_to_window", KlDirection::kReferenceToWindow}},
                        &c->kl_direction, p);
  ReadInteger(*s, "max_bin_series", "evaluation", 1, 10000000, &c->max_bin_series, p);
}

// Reads the non-empty string at `key` of model `obj` into *out.
void ReadModelString(const Json& obj, const char* key, const std::string& path, std::string* out,
                     Problems* p) {
  const Json* v = Find(obj, key);
  const std::string at = Join(path, key);
  if (v == nullptr) {
    p->Add(at, "missing required key");
  } else if (!v->is_string()) {
    p->Add(at, "must be a string");
  } else if (v->get<std::string>().empty()) {
    p->Add(at, "must not be empty");
  } else {
    *out = v->get<std::string>();
  }
}

// Reads a number in [lo, hi] (lo exclusive when `lo_open`) into *out, leaving it alone on error.
void ReadRange(const Json& obj, const char* key, const std::string& path, double lo, bool lo_open,
               double hi, double* out, Problems* p) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return;
  const std::string at = Join(path, key);
  if (!v->is_number() || !std::isfinite(v->get<double>())) {
    p->Add(at, "must be a finite number");
    return;
  }
  const double d = v->get<double>();
  if (lo_open ? !(d > lo) : !(d >= lo)) {
    std::ostringstream what;
    what << "must be " << (lo_open ? "> " : ">= ") << lo << (hi < 1e300 ? " and <= " : "");
    if (hi < 1e300) what << hi;
    p->Add(at, what.str());
  } else if (d > hi) {
    std::ostringstream what;
    what << "must be <= " << hi;
    p->Add(at, what.str());
  } else {
    *out = d;
  }
}

// The `alerts.metric` values: the alertable rows of the per-feature metric table, in its order.
std::vector<std::pair<const char*, DriftMetric>> AlertMetricValues() {
  std::vector<std::pair<const char*, DriftMetric>> values;
  for (const FeatureMetric& m : FeatureMetrics()) {
    if (m.alertable()) values.emplace_back(m.alert_name.data(), m.id);  // literals: terminated
  }
  return values;
}

// Reads the policy keys of `obj` on top of *policy. A metric set without thresholds takes that
// metric's default thresholds.
void ReadPolicy(const Json& obj, const std::string& path, AlertPolicy* policy, Problems* p) {
  const DriftMetric before = policy->metric;
  ReadEnum<DriftMetric>(obj, "metric", path, AlertMetricValues(), &policy->metric, p);
  if (policy->metric != before) {
    AlertPolicy::DefaultThresholds(policy->metric, &policy->warning, &policy->critical);
  }
  ReadPositive(obj, "warning", path, &policy->warning, p);
  ReadPositive(obj, "critical", path, &policy->critical, p);
  if (policy->warning > policy->critical) {
    std::ostringstream what;
    what << "warning threshold " << policy->warning << " is above critical " << policy->critical;
    p->Add(path, what.str());
  }
  if (const Json* v = Find(obj, "max_p_value"); v != nullptr) {
    if (v->is_null()) {
      policy->max_p_value.reset();
    } else {
      double d = 0;
      const size_t errors = p->count();
      ReadRange(obj, "max_p_value", path, 0, true, 1, &d, p);
      if (p->count() == errors) policy->max_p_value = d;
    }
  }
  ReadInteger(obj, "for_evaluations", path, 1, 1000000, &policy->for_evaluations, p);
  ReadRange(obj, "resolve_ratio", path, 0, true, 1, &policy->resolve_ratio, p);
}

const std::set<std::string> kPolicyKeys = {"metric",      "warning",         "critical",
                                           "max_p_value", "for_evaluations", "resolve_ratio"};

void ParseAlerts(const Json& m, const std::string& model_path, ModelAlerts* alerts, Problems* p) {
  const Json* a = Find(m, "alerts");
  if (a == nullptr || a->is_null()) return;
  const std::string path = Join(model_path, "alerts");
  if (!a->is_object()) {
    p->Add(path, "must be an object");
    return;
  }
  std::set<std::string> keys = kPolicyKeys;
  keys.insert("retrain");
  keys.insert("features");
  keys.insert("warning_window");
  keys.insert("critical_window");
  for (auto [key, out] : {std::pair{"warning_window", &alerts->warning_window},
                          std::pair{"critical_window", &alerts->critical_window}}) {
    const Json* w = Find(*a, key);
    if (w == nullptr) continue;
    if (!w->is_string()) {
      p->Add(Join(path, key), "must be a window's name");
    } else {
      *out = w->get<std::string>();
    }
  }
  CheckKeys(*a, keys, path, p);
  ReadPolicy(*a, path, &alerts->policy, p);
  if (const Json* r = Find(*a, "retrain"); r != nullptr) {
    const std::string rpath = Join(path, "retrain");
    if (!r->is_object()) {
      p->Add(rpath, "must be an object");
    } else {
      CheckKeys(*r, {"drifted_share", "critical_features"}, rpath, p);
      // A retrain object names the rules it wants; a rule it leaves out is off.
      RetrainPolicy retrain{std::nullopt, std::nullopt};
      if (Find(*r, "drifted_share") != nullptr) {
        double d = 0;
        const size_t errors = p->count();
        ReadRange(*r, "drifted_share", rpath, 0, true, 1, &d, p);
        if (p->count() == errors) retrain.drifted_share = d;
      }
      if (Find(*r, "critical_features") != nullptr) {
        uint32_t n = 0;
        const size_t errors = p->count();
        ReadInteger(*r, "critical_features", rpath, 1, std::numeric_limits<uint32_t>::max(), &n, p);
        if (p->count() == errors) retrain.critical_features = n;
      }
      alerts->retrain = retrain;
    }
  }
  if (const Json* f = Find(*a, "features"); f != nullptr) {
    const std::string fpath = Join(path, "features");
    if (!f->is_object()) {
      p->Add(fpath, "must be an object of feature -> policy");
      return;
    }
    for (const auto& [name, override_json] : f->items()) {
      const std::string opath = Join(fpath, name);
      if (!override_json.is_object()) {
        p->Add(opath, "must be an object");
        continue;
      }
      CheckKeys(override_json, kPolicyKeys, opath, p);
      AlertPolicy policy = alerts->policy;
      ReadPolicy(override_json, opath, &policy, p);
      alerts->features[name] = policy;
    }
  }
}

void ParseModels(const Json& doc, const std::string& base_dir, std::vector<ModelConfig>* models,
                 Problems* p) {
  const Json* v = Find(doc, "models");
  if (v == nullptr) {
    p->Add("models", "missing required key");
    return;
  }
  if (!v->is_array()) {
    p->Add("models", "must be an array");
    return;
  }
  if (v->empty()) {
    p->Add("models", "must hold at least one model");
    return;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < v->size(); ++i) {
    const Json& m = (*v)[i];
    const std::string path = Index("models", i);
    if (!m.is_object()) {
      p->Add(path, "must be an object");
      continue;
    }
    CheckKeys(m, {"name", "reference", "alerts", "export_bins"}, path, p);
    ModelConfig model;
    ReadModelString(m, "name", path, &model.name, p);
    if (!model.name.empty() && !names.insert(model.name).second) {
      p->Add(Join(path, "name"), "duplicate model " + Quote(model.name));
    }
    ReadModelString(m, "reference", path, &model.reference_as_written, p);
    model.reference = Resolve(model.reference_as_written, base_dir);
    ParseAlerts(m, path, &model.alerts, p);
    if (const Json* e = Find(m, "export_bins"); e != nullptr) {
      if (e->is_boolean()) {
        model.export_bins = e->get<bool>();
      } else {
        p->Add(Join(path, "export_bins"), "must be true or false");
      }
    }
    models->push_back(std::move(model));
  }
}

// Checks across sections, once each section is valid on its own.
void Validate(const Config& c, Problems* p) {
  for (size_t i = 0; i < c.models.size(); ++i) {
    const ModelAlerts& a = c.models[i].alerts;
    for (auto [key, name] : {std::pair{"warning_window", &a.warning_window},
                             std::pair{"critical_window", &a.critical_window}}) {
      if (name->empty()) continue;
      bool known = false;
      for (const WindowConfig& w : c.windows) known = known || w.name == *name;
      if (!known) {
        std::string names;
        for (const WindowConfig& w : c.windows) names += (names.empty() ? "" : ", ") + w.name;
        p->Add(Index("models", i) + ".alerts." + key,
               "no window named " + Quote(*name) + " (windows: " + names + ")");
      }
    }
  }
  if (c.ingest.tcp && c.ingest.tcp->port != 0 && *c.ingest.tcp == c.http.listen) {
    p->Add("http.listen", "same address as ingest.tcp (" + FormatHostPort(c.http.listen) + ")");
  }
  if (c.ingest.tcp && c.http.ingest_listen && c.ingest.tcp->port != 0 &&
      *c.ingest.tcp == *c.http.ingest_listen) {
    p->Add("http.ingest_listen",
           "same address as ingest.tcp (" + FormatHostPort(*c.http.ingest_listen) + ")");
  }
}

}  // namespace

MonitorOptions MonitorOptionsFrom(const Config& config) {
  MonitorOptions mo;
  mo.windows.clear();
  for (const WindowConfig& w : config.windows) {
    mo.windows.push_back({w.name, {w.length_seconds, w.slices}});
  }
  mo.divergence.smoothing = config.evaluation.smoothing;
  mo.divergence.base = config.evaluation.log_base;
  mo.kl_direction = config.evaluation.kl_direction;
  mo.min_samples = config.evaluation.min_samples;
  return mo;
}

std::string WindowName(double length_seconds) {
  for (auto [unit, seconds] : {std::pair{"d", 86400.0}, std::pair{"h", 3600.0},
                               std::pair{"m", 60.0}, std::pair{"s", 1.0}}) {
    const double n = length_seconds / seconds;
    if (n >= 1 && n == std::floor(n) && n < 1e15) {
      return std::to_string(static_cast<uint64_t>(n)) + unit;
    }
  }
  std::ostringstream out;
  out << length_seconds << "s";
  return out.str();
}

std::string FormatHostPort(const HostPort& address) {
  const std::string& host = address.host;
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(address.port);
}

bool ParseHostPort(std::string_view text, HostPort* out, std::string* error) {
  auto fail = [error](const std::string& what) {
    if (error != nullptr) *error = what;
    return false;
  };
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return fail("missing ']' after the IPv6 address");
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return fail("expected [host]:port");
    port = rest.substr(1);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("expected host:port");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return fail("an IPv6 host must be in brackets: [host]:port");
    }
  }
  if (host.empty()) return fail("host must not be empty");
  for (char ch : host) {
    if (ch == '[' || ch == ']' || static_cast<unsigned char>(ch) <= ' ') {
      return fail("invalid character in host");
    }
  }
  if (port.empty()) return fail("missing port");
  uint32_t value = 0;
  for (char ch : port) {
    if (ch < '0' || ch > '9') return fail("port must be a number");
    value = value * 10 + static_cast<uint32_t>(ch - '0');
    if (value > 65535) return fail("port must be between 0 and 65535");
  }
  out->host = std::string(host);
  out->port = static_cast<uint16_t>(value);
  return true;
}

std::optional<Config> ParseConfig(std::string_view text, std::string_view source,
                                  const std::string& base_dir, std::vector<std::string>* errors) {
  Problems p(source, errors);
  Json doc;
  if (!ParseStrictJson(text, &p, &doc)) return std::nullopt;
  if (!doc.is_object()) {
    p.Add("", "must be a JSON object");
    return std::nullopt;
  }
  Config c;
  c.source = std::string(source);
  CheckKeys(doc, {"ingest", "http", "window", "windows", "evaluation", "state", "models"}, "", &p);
  ParseIngest(doc, base_dir, &c.ingest, &p);
  ParseHttp(doc, &c.http, &p);
  ParseWindows(doc, &c.windows, &p);
  ParseEvaluation(doc, &c.evaluation, &p);
  ParseState(doc, base_dir, &c.state, &p);
  ParseModels(doc, base_dir, &c.models, &p);
  if (p.count() != 0) return std::nullopt;
  Validate(c, &p);
  if (p.count() != 0) return std::nullopt;
  return c;
}

std::optional<Config> LoadConfigFile(const std::string& path, std::vector<std::string>* errors) {
  const std::optional<std::string> text = ReadFile(path, errors);
  if (!text) return std::nullopt;
  return ParseConfig(*text, path, std::filesystem::path(path).parent_path().string(), errors);
}

uint64_t BinSeries(const Config& config, const std::vector<Reference>& references) {
  uint64_t n = 0;
  for (size_t i = 0; i < config.models.size() && i < references.size(); ++i) {
    if (!config.models[i].export_bins) continue;
    for (const ReferenceFeature& f : references[i].features) {
      n += f.bins.size() * (config.windows.size() + 1);
    }
  }
  return n;
}

bool LoadReferences(const Config& config, std::vector<Reference>* out,
                    std::vector<std::string>* errors) {
  Problems p(config.source, errors);
  std::vector<Reference> refs;
  bool ok = true;
  for (size_t i = 0; i < config.models.size(); ++i) {
    const ModelConfig& m = config.models[i];
    const std::string at = Index("models", i) + ".reference";
    const std::string& written =
        m.reference_as_written.empty() ? m.reference : m.reference_as_written;
    std::error_code ec;
    const auto type = std::filesystem::status(m.reference, ec).type();
    if (type == std::filesystem::file_type::not_found) {
      p.Add(at, "no such file: " + written);
      ok = false;
      continue;
    }
    if (type == std::filesystem::file_type::directory) {
      p.Add(at, "is a directory: " + written);
      ok = false;
      continue;
    }
    std::optional<Reference> ref = LoadReferenceFile(m.reference, errors);
    if (!ref) {
      ok = false;
      continue;
    }
    if (ref->model != m.name) {
      p.Add(at, "file is for model " + Quote(ref->model) + ", expected " + Quote(m.name));
      ok = false;
      continue;
    }
    for (const auto& [feature, policy] : m.alerts.features) {
      if (ref->FindFeature(feature) < 0) {
        p.Add(Index("models", i) + ".alerts.features." + feature,
              "no feature " + Quote(feature) + " in the reference");
        ok = false;
      }
    }
    refs.push_back(std::move(*ref));
  }
  if (!ok) return false;
  if (const uint64_t series = BinSeries(config, refs); series > config.evaluation.max_bin_series) {
    for (size_t i = 0; i < config.models.size(); ++i) {
      if (!config.models[i].export_bins) continue;
      p.Add(Index("models", i) + ".export_bins",
            "the models would export " + std::to_string(series) +
                " bin-count series (features x bins x (windows + 1)), over "
                "evaluation.max_bin_series (" +
                std::to_string(config.evaluation.max_bin_series) + ")");
    }
    return false;
  }
  *out = std::move(refs);
  return true;
}

}  // namespace driftd
