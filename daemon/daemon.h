// The running process of `driftd run`: owns the metrics registry, the monitor, the ingest and HTTP
// listeners, the evaluation timer, the threads and the signal handling, from Start to Shutdown.
//
// Threads (one io_context each): main (signals; the thread that calls Run), ingest (TCP/UDP/Unix
// sessions), http (Beast), eval (the evaluation timer), state (encodes and writes checkpoints);
// HttpServer runs its own, status (large status documents). The Monitor's models each have their
// own mutex; evaluations reach the HTTP thread through `Published`.
#pragma once

#include <prometheus/registry.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "core/reference.h"
#include "daemon/asio.h"
#include "daemon/clock_jump.h"
#include "daemon/drift_log.h"
#include "daemon/http/server.h"
#include "daemon/ingest/listeners.h"
#include "daemon/signals.h"

namespace driftd {

class Daemon {
 public:
  // `version` and `revision` go to driftd_build_info, the status page and the "driftd started"
  // line. `clock` returns unix seconds (the default: the system clock). Its jumps (against
  // CLOCK_BOOTTIME, daemon/clock_jump.h) are logged, counted in driftd_clock_jumps_total and
  // move every window by as much.
  Daemon(std::string version, std::string revision, std::function<double()> clock = {});
  // Stops and joins whatever is still running (without the drain: call Shutdown for that).
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Applies `config` (whose models' references are `references`, in model order), binds every
  // listener, logs the "listening" lines, runs the first evaluation, starts the ingest, http and
  // eval threads and the signal handling, and logs "driftd started". On failure returns false
  // with *error naming the listener ("cannot listen on tcp 127.0.0.1:7070: Address already in
  // use") and has started no thread. Call once, from the thread that will call Run.
  bool Start(Config config, std::vector<Reference> references, std::string* error);

  // Handles signals on the calling thread until SIGTERM or SIGINT has run Shutdown (SIGHUP runs
  // Reload), then joins the threads and logs "driftd stopped". Call after a successful Start.
  void Run();

  // Reads the configuration file and every reference again and, when all of it is valid, applies
  // it (Monitor::Reload keeps what can be kept; the new evaluation is published at once);
  // otherwise keeps the running configuration, logs each problem as check-config prints it and
  // returns false with the problems in *error, one per line. Either way sets
  // driftd_config_last_reload_successful. Ingest goes on throughout. Call from any thread but
  // ingest, eval and http (the signal handler and the lifecycle endpoint's renderer do).
  bool Reload(std::string* error);

  // Serves POST /-/reload (Prometheus' --web.enable-lifecycle). Off unless called before Start.
  void EnableLifecycleApi() { lifecycle_api_ = true; }
  // Secures HTTP with the exporter-toolkit web configuration at `path` (--web.config.file):
  // TLS, basic authentication. Read at Start (a problem fails it) and again at every Reload (a
  // problem fails the reload). Before Start.
  void SetWebConfigFile(std::string path) { web_config_path_ = std::move(path); }

  // Stops accepting, processes everything already received, runs and logs the final evaluation
  // ("final evaluation" with the records and samples in the windows), stops the HTTP server and
  // lets Run return. Blocks until the drain and the final evaluation are done; call it from the
  // thread running Run (the signal handler does) or from any thread but ingest, eval and http.
  // Later calls do nothing.
  void Shutdown();

 private:
  // The configuration's part that makes the monitor and the published first evaluation: what a
  // Reload() would rebuild and swap in.
  void ApplyConfig(Config config, std::vector<Reference> references);
  bool Listen(std::string* error);
  // What web_config_path_ describes (null without one); problems appended to *errors.
  std::shared_ptr<const HttpSecurity> LoadSecurity(std::vector<std::string>* errors);
  // A started HttpServer for config.ingest_listen (http thread, or before the threads start).
  std::unique_ptr<HttpServer> StartIngestHttp(const HttpConfig& config,
                                              std::shared_ptr<const HttpSecurity> security,
                                              std::string* error);
  void StartThreads();
  void Evaluate();
  void ScheduleEvaluation();
  void WaitForSignal();
  // state.directory (eval thread, or before the threads start).
  void RestoreState();
  // Takes a checkpoint and hands it to the state thread to encode and write; `done` (which
  // forces one even while another is in flight) is called there once it is written.
  void WriteCheckpoint(std::function<void()> done = nullptr);
  void ScheduleCheckpoint();

  const std::string version_, revision_;
  const std::function<double()> clock_;
  bool lifecycle_api_ = false;
  std::string web_config_path_;  // --web.config.file; empty: none
  std::string config_path_;      // the configuration file, as given
  // Written before the threads start, then by Reload: `ingest` on its own thread, the rest on the
  // eval thread (Reload waits for it).
  Config config_;
  std::mutex reload_mu_;  // one reload at a time, and none once shutdown has begun
  std::unique_ptr<JumpDetectingClock> jump_clock_;  // clock_, watched for jumps
  std::function<double()> now_;                     // jump_clock_->Now(): every reader's clock

  prometheus::Registry registry_;
  std::unique_ptr<IngestMetrics> metrics_;
  DriftLog drift_log_;  // the monitor's state changes, logged
  std::unique_ptr<Monitor> monitor_;
  Published published_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> shutting_down_{false};

  boost::asio::io_context main_io_{1}, ingest_io_{1}, http_io_{1}, eval_io_{1}, state_io_{1};
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::optional<WorkGuard> ingest_guard_, http_guard_, eval_guard_, state_guard_;
  std::atomic<bool> checkpoint_in_flight_{false};
  std::unique_ptr<IngestServer> ingest_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<HttpServer> http_ingest_;                // http.ingest_listen; null without
  std::vector<std::unique_ptr<HttpServer>> retired_http_;  // ingest listeners a reload stopped
  HttpContext http_context_;  // what the ingest listener is made with (no reload)
  std::shared_ptr<const HttpSecurity> http_security_;     // --web.config.file's, as in force
  boost::asio::steady_timer timer_{eval_io_};             // eval thread only
  boost::asio::steady_timer checkpoint_timer_{eval_io_};  // eval thread only
  struct StateMetrics;                                    // daemon.cc
  std::unique_ptr<StateMetrics> state_metrics_;
  std::unique_ptr<SignalReader> signals_;  // main thread only; made by Start
  std::thread ingest_thread_, http_thread_, eval_thread_, state_thread_;
  // The ingest threads beyond the first (ingest.threads - 1): each its own io_context, serving
  // the connections ingest_io_ hands it ("ingest-1", ...).
  std::vector<std::unique_ptr<boost::asio::io_context>> lane_io_;
  std::vector<WorkGuard> lane_guards_;
  std::vector<std::thread> lane_threads_;
};

}  // namespace driftd
