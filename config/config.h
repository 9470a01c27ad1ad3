// driftd's configuration: the model of the JSON file, its defaults, and strict loading that
// reports every problem with the file name and the key path ("driftd.json: window.slices: ...").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/alert_policy.h"
#include "core/divergence.h"
#include "core/reference.h"

namespace driftd {

// Which way the exported KL divergence goes: D_KL(window || reference) or the reverse.
// A listening address. An IPv6 host is held without brackets ("::1").
struct HostPort {
  std::string host;
  uint16_t port = 0;  // 0 = an ephemeral port chosen by the kernel

  bool operator==(const HostPort&) const = default;
};

struct IngestConfig {
  std::optional<HostPort> tcp, udp;      // absent or JSON null disables the listener
  std::optional<std::string> unix_path;  // key "unix"; relative paths resolved against base_dir
  uint32_t max_line_bytes = 65536;       // 64 .. 64 MiB
  uint32_t max_connections = 1024;       // 1 .. 1048576: open TCP connections
  uint32_t max_unix_connections = 1024;  // 1 .. 1048576: open unix connections, counted apart
  double idle_timeout_seconds = 300;  // (0, 86400]: a stream connection silent this long is closed
  // (0, 3600]: a line begun on a stream connection must end (its '\n') within this long, or the
  // connection is closed as "slow_client": a sender dripping bytes cannot hold a slot forever.
  double line_timeout_seconds = 10;
  uint32_t unix_mode = 0660;  // key "unix_mode", an octal string ("0660"): the socket's mode
  // 0 .. kMaxIngestThreads; 0 (the default) is the number of cores, at most kDefaultIngestThreads.
  // Read at start: a reload that changes it is applied at the next restart.
  uint32_t threads = 0;
  // The ingest threads `threads` asks for on this machine.
  uint32_t ThreadCount() const;
};

inline constexpr uint32_t kMaxIngestThreads = 64;
inline constexpr uint32_t kDefaultIngestThreads = 8;

struct HttpConfig {
  HostPort listen{"127.0.0.1", 9470};
  // The ingest endpoints (POST /api/v1/ingest, /write, /api/v2/write): false turns them off; with
  // ingest_listen they are served there (with /healthz and /readyz) and not on `listen`, so that
  // /metrics can be exposed while ingest stays on loopback.
  bool ingest = true;
  std::optional<HostPort> ingest_listen;
  uint32_t max_connections = 128;       // 1 .. 65536; at the limit the longest idle is evicted
  double header_timeout_seconds = 10;   // > 0, <= 300: a request header (or keep-alive idle)
  double request_timeout_seconds = 60;  // >= header_timeout_seconds, <= 3600: header + body
  uint64_t max_body_bytes = 64 << 20;   // 1 KiB .. 1 GiB: POST /api/v1/ingest
  uint32_t max_status_responses = 4;    // 1 .. 1024: concurrent /api/v1/status responses
};

struct WindowConfig {
  // The `window` label: 1 to 32 of [A-Za-z0-9_], unique. The single `window` key's window is
  // named after its length (WindowName), unless it gives a name.
  std::string name = "1h";
  double length_seconds = 3600;  // (0, 400 days = 34560000]
  uint32_t slices = 60;          // 1 .. 3600; length_seconds / slices >= 0.001
};

// The most windows `windows` may list.
inline constexpr size_t kMaxWindows = 8;

struct EvaluationConfig {
  double interval_seconds = 10;  // (0, 3600]
  uint64_t min_samples = 200;    // >= 1
  double smoothing = 0.5;        // > 0, finite
  LogBase log_base = LogBase::kE;
  KlDirection kl_direction = KlDirection::kWindowToReference;
  // 1 .. 10,000,000: the most bin-count series (models[].export_bins) all models may export
  // together; a configuration over it is refused when its references are loaded.
  uint64_t max_bin_series = 100000;
};

struct StateConfig {
  // Where windows and alert states are checkpointed (created if missing); absent or JSON null:
  // nothing is kept across restarts. Relative paths are resolved against base_dir.
  std::optional<std::string> directory;
  double checkpoint_seconds = 30;  // (0, 86400]: also at shutdown
};

struct ModelConfig {
  std::string name;
  std::string reference;  // path as resolved (relative -> joined with base_dir)
  // The "reference" value as written in the file, for messages; empty means same as `reference`.
  std::string reference_as_written;
  ModelAlerts alerts;  // "alerts"; defaults when absent (docs/alerting.md)
  // "export_bins": export the window's and the reference's count per bin, for fleet-wide
  // divergences computed by Prometheus (docs/fleet.md).
  bool export_bins = false;
};

struct Config {
  IngestConfig ingest;
  HttpConfig http;
  // Key `windows` (a list, shortest first: each window's slice a whole multiple of the one
  // before's and its length longer by at least one of its slices, see core/window_set.h), or
  // the single window of key `window`. Default: one window, "1h".
  std::vector<WindowConfig> windows{WindowConfig()};
  EvaluationConfig evaluation;
  StateConfig state;
  std::vector<ModelConfig> models;  // at least one; names non-empty and unique
  std::string source;               // the file name as given, for messages
};

// Parses and validates a configuration document. `source` names it in messages; `base_dir`
// resolves relative paths (ingest.unix, models[].reference); "" leaves them as given.
// On success returns the configuration; otherwise returns nullopt and appends every problem found
// to *errors, each "SOURCE: key.path: what", e.g. "driftd.json: evaluation.smoothing: must be > 0".
// Unknown and duplicate keys are errors. Touches no files; thread-safe.
std::optional<Config> ParseConfig(std::string_view text, std::string_view source,
                                  const std::string& base_dir, std::vector<std::string>* errors);

// Reads and parses the file at `path`, resolving relative paths against the file's folder.
// Errors name `path` as given; an unreadable file gives "PATH: cannot open file".
std::optional<Config> LoadConfigFile(const std::string& path, std::vector<std::string>* errors);

// The name of a window `length_seconds` long when none is given: the length in the largest unit
// that divides it, "1d", "6h", "5m", "90s", or in seconds ("0.5s"). Thread-safe.
std::string WindowName(double length_seconds);

struct MonitorOptions;  // core/monitor.h

// The engine's options for `config`: its windows, evaluation settings. Thread-safe.
MonitorOptions MonitorOptionsFrom(const Config& config);

// Parses "host:port" or "[ipv6]:port" (port 0..65535; the host must be non-empty). On success
// sets *out and returns true; otherwise leaves *out alone, sets *error (when non-null) to the
// reason, such as "expected host:port", and returns false. Thread-safe.
bool ParseHostPort(std::string_view text, HostPort* out, std::string* error);

// The inverse of ParseHostPort: "host:port", or "[host]:port" when the host contains a colon
// (IPv6). The one place an address is written, for messages and logs. Thread-safe.
std::string FormatHostPort(const HostPort& address);

// The bin-count series `config` exports with `references` (one per model, in model order): per
// model with export_bins, every feature's bins once per window and once for the reference.
uint64_t BinSeries(const Config& config, const std::vector<Reference>& references);

// Loads every model's reference file, in model order, and checks that each file is for its model.
// Returns true when all loaded, with *out replaced by one reference per model. Otherwise returns
// false, leaves *out alone and appends every problem to *errors: "SOURCE: models[1].reference:
// no such file: fraud.json" (the path as written), the reference file's own validation errors
// (naming the resolved path), and "SOURCE: models[0].reference: file is for model \"x\",
// expected \"fraud\"". Reads files; thread-safe.
bool LoadReferences(const Config& config, std::vector<Reference>* out,
                    std::vector<std::string>* errors);

}  // namespace driftd
