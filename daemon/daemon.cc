#include "daemon/daemon.h"

#include <malloc.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <future>

#include "config/web_config.h"
#include "daemon/duration.h"
#include "daemon/event_loop.h"
#include "daemon/export/metrics.h"
#include "daemon/http/security.h"
#include "daemon/log.h"
#include "daemon/resource_limits.h"
#include "daemon/state.h"

namespace driftd {
namespace {

namespace asio = boost::asio;

double WallClock() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::vector<ModelAlerts> AlertsFrom(const Config& config) {
  std::vector<ModelAlerts> alerts;
  for (const ModelConfig& m : config.models) alerts.push_back(m.alerts);
  return alerts;
}

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

double SteadySeconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Runs `f` on `io`'s thread and returns its answer.
bool OnThread(asio::io_context* io, const std::function<bool()>& f) {
  std::promise<bool> answer;
  asio::post(*io, [&] { answer.set_value(f()); });
  return answer.get_future().get();
}

}  // namespace

// The reload and checkpoint metrics.
struct Daemon::StateMetrics {
  explicit StateMetrics(prometheus::Registry* r)
      : reload_successful(prometheus::BuildGauge()
                              .Name("driftd_config_last_reload_successful")
                              .Help("Whether the last configuration reload attempt succeeded.")
                              .Register(*r)
                              .Add({})),
        reload_timestamp(prometheus::BuildGauge()
                             .Name("driftd_config_last_reload_success_timestamp_seconds")
                             .Help("When the configuration was last loaded successfully.")
                             .Register(*r)
                             .Add({})),
        checkpoint_duration(prometheus::BuildGauge()
                                .Name("driftd_state_checkpoint_duration_seconds")
                                .Help("How long the last checkpoint took to take and write.")
                                .Register(*r)
                                .Add({})),
        checkpoint_lock(prometheus::BuildGauge()
                            .Name("driftd_state_checkpoint_lock_seconds")
                            .Help("The longest a model's lock was held by the last checkpoint.")
                            .Register(*r)
                            .Add({})),
        checkpoint_timestamp(prometheus::BuildGauge()
                                 .Name("driftd_state_last_checkpoint_timestamp_seconds")
                                 .Help("When the last checkpoint was written.")
                                 .Register(*r)
                                 .Add({})),
        restored(prometheus::BuildGauge()
                     .Name("driftd_state_restored_records")
                     .Help("Records in the window restored from the checkpoint at start.")
                     .Register(*r)),
        errors(prometheus::BuildCounter()
                   .Name("driftd_state_errors_total")
                   .Help("Checkpoints not written, and checkpoints or models not restored.")
                   .Register(*r)) {
    for (const char* reason : {"write", "unreadable", "corrupt", "mismatch"}) {
      errors.Add({{"reason", reason}});
    }
  }
  prometheus::Gauge& reload_successful;
  prometheus::Gauge& reload_timestamp;
  prometheus::Gauge& checkpoint_duration;
  prometheus::Gauge& checkpoint_lock;
  prometheus::Gauge& checkpoint_timestamp;
  prometheus::Family<prometheus::Gauge>& restored;
  prometheus::Family<prometheus::Counter>& errors;
};

Daemon::Daemon(std::string version, std::string revision, std::function<double()> clock)
    : version_(std::move(version)),
      revision_(std::move(revision)),
      clock_(clock ? std::move(clock) : WallClock) {}

Daemon::~Daemon() {
  // Only reached with threads still running when Run was never called or did not finish.
  for (asio::io_context* io : {&ingest_io_, &http_io_, &eval_io_, &state_io_}) io->stop();
  for (const auto& io : lane_io_) io->stop();
  for (std::thread* t : {&ingest_thread_, &http_thread_, &eval_thread_, &state_thread_}) {
    if (t->joinable()) t->join();
  }
  for (std::thread& t : lane_threads_) {
    if (t.joinable()) t.join();
  }
}

bool Daemon::Start(Config config, std::vector<Reference> references, std::string* error) {
  // Every connection costs a descriptor: take what the hard limit allows, and say what it is
  // once the listeners are up (a failed start prints its one error line only).
  const OpenFileLimit files = RaiseOpenFileLimit();
  config_path_ = config.source;
  ApplyConfig(std::move(config), std::move(references));
  if (!Listen(error)) return false;
  RestoreState();
  if (files.error.empty()) {
    Log(spdlog::level::info, "open file limit",
        {{"soft", files.soft}, {"hard", files.hard}, {"soft_before", files.soft_before}});
  } else {
    Log(spdlog::level::warn, "cannot raise the open file limit",
        {{"soft", files.soft}, {"hard", files.hard}, {"error", files.error}});
  }
  Evaluate();  // so /metrics and /api/v1/status answer from the first scrape
  ScheduleEvaluation();
  ScheduleCheckpoint();
  // Before anything reports readiness, so an early SIGTERM or SIGHUP is never fatal; before the
  // threads start, so that they inherit the block (docs/architecture.md, "Threads").
  signals_ = std::make_unique<SignalReader>(&main_io_, kDaemonSignals);
  StartThreads();
  ready_ = true;
  Log(spdlog::level::info, "driftd started",
      {{"version", version_},
       {"models", static_cast<uint64_t>(monitor_->models())},
       {"config", config_.source}});
  return true;
}

void Daemon::ApplyConfig(Config config, std::vector<Reference> references) {
  config_ = std::move(config);
  const MonitorOptions options = MonitorOptionsFrom(config_);
  monitor_ =
      std::make_unique<Monitor>(options, std::move(references), clock_(), AlertsFrom(config_),
                                &drift_log_, config_.ingest.ThreadCount());
  // Parsing the references builds large transient JSON trees; hand that memory back now.
  malloc_trim(0);

  metrics_ = std::make_unique<IngestMetrics>(&registry_);
  state_metrics_ = std::make_unique<StateMetrics>(&registry_);
  state_metrics_->reload_successful.Set(1);
  state_metrics_->reload_timestamp.Set(clock_());
  prometheus::BuildGauge()
      .Name("driftd_build_info")
      .Help("driftd's version and source revision.")
      .Register(registry_)
      .Add({{"version", version_}, {"revision", revision_}})
      .Set(1);

  auto& jumps = prometheus::BuildCounter()
                    .Name("driftd_clock_jumps_total")
                    .Help(
                        "Wall-clock steps detected (against CLOCK_BOOTTIME); the windows moved "
                        "with each.")
                    .Register(registry_);
  prometheus::Counter* forward = &jumps.Add({{"direction", "forward"}});
  prometheus::Counter* backward = &jumps.Add({{"direction", "backward"}});
  const double threshold = ClockJumpThreshold(options.windows.front().options.slice_seconds());
  jump_clock_ = std::make_unique<JumpDetectingClock>(
      clock_, BootClockSeconds, threshold, [this, forward, backward](double jump) {
        monitor_->ShiftWindows(jump);
        (jump > 0 ? forward : backward)->Increment();
        Log(spdlog::level::warn, "wall clock jumped; windows moved with it",
            {{"seconds", jump}, {"direction", jump > 0 ? "forward" : "backward"}});
      });
  now_ = [clock = jump_clock_.get()] { return clock->Now(); };
  now_();  // the first reading: jumps are measured from here
}

std::shared_ptr<const HttpSecurity> Daemon::LoadSecurity(std::vector<std::string>* errors) {
  if (web_config_path_.empty()) return nullptr;
  std::optional<WebConfig> web = LoadWebConfigFile(web_config_path_, errors);
  if (!web) return nullptr;
  std::string error;
  std::shared_ptr<const HttpSecurity> security = MakeHttpSecurity(*web, &error);
  if (!security) errors->push_back(web_config_path_ + ": " + error);
  return security;
}

std::unique_ptr<HttpServer> Daemon::StartIngestHttp(const HttpConfig& config,
                                                    std::shared_ptr<const HttpSecurity> security,
                                                    std::string* error) {
  auto server = std::make_unique<HttpServer>(&http_io_, config, http_context_, HttpRole::kIngest);
  server->SetSecurity(std::move(security));
  if (!server->Start(error)) return nullptr;
  return server;
}

bool Daemon::Listen(std::string* error) {
  std::vector<asio::io_context*> lanes;
  for (uint32_t k = 1; k < config_.ingest.ThreadCount(); ++k) {
    lane_io_.push_back(std::make_unique<asio::io_context>(1));
    lanes.push_back(lane_io_.back().get());
  }
  ingest_ = std::make_unique<IngestServer>(&ingest_io_, config_.ingest, monitor_.get(),
                                           metrics_.get(), now_, lanes);
  if (!ingest_->Start(error)) {
    *error = "cannot listen on " + *error;
    return false;
  }
  HttpContext hctx;
  hctx.published = &published_;
  hctx.registry = &registry_;
  hctx.monitor = monitor_.get();
  hctx.metrics = metrics_.get();
  hctx.clock = now_;
  hctx.ready = &ready_;
  hctx.max_line_bytes = config_.ingest.max_line_bytes;
  hctx.refresh_seconds = config_.evaluation.interval_seconds;
  if (lifecycle_api_) hctx.reload = [this](std::string* error) { return Reload(error); };
  hctx.version = version_;
  http_context_ = hctx;
  http_context_.reload = nullptr;  // the ingest listener serves no /-/reload
  http_ = std::make_unique<HttpServer>(&http_io_, config_.http, std::move(hctx));
  std::vector<std::string> errors;
  http_security_ = LoadSecurity(&errors);
  if (!errors.empty()) {
    *error = errors.front();
    return false;
  }
  http_->SetSecurity(http_security_);
  if (!http_->Start(error)) {
    *error = "cannot listen on " + *error;
    return false;
  }
  if (config_.http.ingest_listen) {
    http_ingest_ = StartIngestHttp(config_.http, http_security_, error);
    if (!http_ingest_) {
      *error = "cannot listen on " + *error;
      return false;
    }
  }
  for (const std::string& b : ingest_->bound()) {
    Log(spdlog::level::info, "listening", {{"address", b}});
  }
  Log(spdlog::level::info, "listening", {{"address", http_->bound()}});
  if (http_ingest_) Log(spdlog::level::info, "listening", {{"address", http_ingest_->bound()}});
  return true;
}

void Daemon::Evaluate() {
  const auto start = std::chrono::steady_clock::now();
  auto eval = monitor_->Evaluate(now_());
  std::vector<std::string> export_bins;
  for (const ModelConfig& m : config_.models) {
    if (m.export_bins) export_bins.push_back(m.name);
  }
  std::string text = RenderEvaluation(*eval, export_bins);
  eval->duration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_->evaluation_duration()->Observe(eval->duration_seconds);
  metrics_->last_evaluation()->Set(eval->timestamp);
  auto history = MetricHistory::Extend(published_.history().get(), *eval);
  published_.Set(std::move(eval), std::move(text), std::move(history));
  // The previous evaluation and its rendering were just freed: return the pages, so RSS tracks
  // what is live rather than the high-water mark of two evaluations.
  malloc_trim(0);
}

void Daemon::ScheduleEvaluation() {
  timer_.expires_after(SecondsToDuration(config_.evaluation.interval_seconds));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    Evaluate();
    ScheduleEvaluation();
  });
}

void Daemon::StartThreads() {
  ingest_guard_.emplace(asio::make_work_guard(ingest_io_));
  http_guard_.emplace(asio::make_work_guard(http_io_));
  eval_guard_.emplace(asio::make_work_guard(eval_io_));
  state_guard_.emplace(asio::make_work_guard(state_io_));
  // Each thread's loop survives a handler that throws (logged and counted, see event_loop.h),
  // and leaves the signals to the main thread.
  auto run = [this](asio::io_context* io, const std::string& name) {
    return StartLoopThread(io, name, InternalErrors(&registry_, name));
  };
  InternalErrors(&registry_, "main");  // exported from the start, like the other threads'
  ingest_thread_ = run(&ingest_io_, "ingest");
  for (size_t k = 0; k < lane_io_.size(); ++k) {
    lane_guards_.push_back(asio::make_work_guard(*lane_io_[k]));
    lane_threads_.push_back(run(lane_io_[k].get(), "ingest-" + std::to_string(k + 1)));
  }
  http_thread_ = run(&http_io_, "http");
  eval_thread_ = run(&eval_io_, "eval");
  state_thread_ = run(&state_io_, "state");
}

void Daemon::WaitForSignal() {
  signals_->AsyncWait([this](boost::system::error_code ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      // systemctl reload, a terminal hang-up, a process manager: reload, never stop.
      Log(spdlog::level::info, "reloading the configuration", {{"signal", "SIGHUP"}});
      std::string ignored;  // Reload logs every problem itself
      Reload(&ignored);
      WaitForSignal();
      return;
    }
    Log(spdlog::level::info, "shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
    Shutdown();
  });
}

bool Daemon::Reload(std::string* error) {
  std::lock_guard<std::mutex> lock(reload_mu_);
  if (shutting_down_) {
    *error = "driftd is shutting down";
    return false;
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> errors;
  std::optional<Config> next = LoadConfigFile(config_path_, &errors);
  std::vector<Reference> references;
  if (next) LoadReferences(*next, &references, &errors);
  std::shared_ptr<const HttpSecurity> security = LoadSecurity(&errors);
  if (!errors.empty()) {
    error->clear();
    for (const std::string& e : errors) {
      Log(spdlog::level::err, "configuration reload failed; the running configuration is kept",
          {{"error", e}});
      *error += e + "\n";
    }
    state_metrics_->reload_successful.Set(0);
    return false;
  }
  // The listeners first: every new one is bound before anything changes, so one that cannot
  // bind fails the reload with everything as it was.
  auto listen_failed = [&](const std::string& why) {
    *error = config_path_ + ": cannot listen on " + why + "\n";
    Log(spdlog::level::err, "configuration reload failed; the running configuration is kept",
        {{"error", "cannot listen on " + why}});
    state_metrics_->reload_successful.Set(0);
    return false;
  };
  std::string listen_error;
  // The ingest listener (http.ingest_listen) is prepared like the main one when it stays, and
  // started now when it is new (stopped again if the reload fails).
  std::unique_ptr<HttpServer> new_ingest_http;
  auto abandon_http = [&] {
    OnThread(&http_io_, [&] {
      http_->Abandon();
      if (http_ingest_) http_ingest_->Abandon();
      if (new_ingest_http) new_ingest_http->Stop();
      return true;
    });
    if (new_ingest_http) retired_http_.push_back(std::move(new_ingest_http));
  };
  if (!OnThread(&http_io_, [&] {
        if (!http_->Prepare(next->http, &listen_error)) return false;
        if (!next->http.ingest_listen) return true;
        if (http_ingest_) return http_ingest_->Prepare(next->http, &listen_error);
        new_ingest_http = StartIngestHttp(next->http, security, &listen_error);
        return new_ingest_http != nullptr;
      })) {
    abandon_http();
    return listen_failed(listen_error);
  }
  std::vector<std::string> started, stopped;
  if (!OnThread(&ingest_io_, [&] {
        return ingest_->Reconfigure(next->ingest, &started, &stopped, &listen_error);
      })) {
    abandon_http();
    return listen_failed(listen_error);
  }
  OnThread(&http_io_, [&] {
    http_->Commit(next->http, next->ingest.max_line_bytes, next->evaluation.interval_seconds,
                  &started, &stopped);
    http_->SetSecurity(security);
    if (http_ingest_ && next->http.ingest_listen) {
      http_ingest_->Commit(next->http, next->ingest.max_line_bytes,
                           next->evaluation.interval_seconds, &started, &stopped);
      http_ingest_->SetSecurity(security);
    } else if (http_ingest_) {
      // Kept until shutdown: handlers of its last connections may still refer to it.
      http_ingest_->Stop();
      stopped.push_back(http_ingest_->bound());
      retired_http_.push_back(std::move(http_ingest_));
    } else if (new_ingest_http) {
      started.push_back(new_ingest_http->bound());
      http_ingest_ = std::move(new_ingest_http);
    }
    http_security_ = security;
    return true;
  });
  for (const std::string& b : stopped)
    Log(spdlog::level::info, "stopped listening", {{"address", b}});
  for (const std::string& b : started) Log(spdlog::level::info, "listening", {{"address", b}});
  config_.ingest = next->ingest;
  config_.http = next->http;

  std::promise<ReloadReport> applied;
  asio::post(eval_io_, [&] {
    const double interval = config_.evaluation.interval_seconds;
    const std::optional<std::string> state_dir = config_.state.directory;
    const double checkpoint = config_.state.checkpoint_seconds;
    ReloadReport report = monitor_->Reload(MonitorOptionsFrom(*next), std::move(references), now_(),
                                           AlertsFrom(*next));
    config_.windows = next->windows;
    config_.evaluation = next->evaluation;
    config_.state = next->state;
    config_.models = next->models;
    Evaluate();  // added and removed models show in /metrics at once
    if (config_.evaluation.interval_seconds != interval) ScheduleEvaluation();
    if (config_.state.directory != state_dir || config_.state.checkpoint_seconds != checkpoint) {
      ScheduleCheckpoint();
    }
    applied.set_value(std::move(report));
  });
  const ReloadReport report = applied.get_future().get();
  for (const auto& [model, feature] : report.reset_features) {
    Log(spdlog::level::warn, "feature window reset: its bins changed in the new reference",
        {{"model", model}, {"feature", feature}});
  }
  if (report.windows_reset) {
    Log(spdlog::level::warn, "window settings changed: every window starts empty");
  }
  state_metrics_->reload_successful.Set(1);
  state_metrics_->reload_timestamp.Set(clock_());
  Log(spdlog::level::info, "configuration reloaded",
      {{"models", static_cast<uint64_t>(monitor_->models())},
       {"unchanged", Joined(report.unchanged)},
       {"new_reference", Joined(report.swapped)},
       {"added", Joined(report.added)},
       {"removed", Joined(report.removed)},
       {"features_reset", static_cast<uint64_t>(report.reset_features.size())},
       {"seconds", SteadySeconds(start)}});
  return true;
}

void Daemon::RestoreState() {
  if (!config_.state.directory) return;
  const std::string& dir = *config_.state.directory;
  std::string error, aside;
  if (!EnsureStateDirectory(dir, &error)) {
    Log(spdlog::level::err, "state directory unusable; starting empty", {{"error", error}});
    state_metrics_->errors.Add({{"reason", "unreadable"}}).Increment();
    return;
  }
  CheckpointFile file;
  switch (ReadCheckpointFile(dir, &file, &error, &aside)) {
    case CheckpointLoad::kNone:
      Log(spdlog::level::info, "no checkpoint to restore; starting empty", {{"directory", dir}});
      return;
    case CheckpointLoad::kError:
      Log(spdlog::level::err, "checkpoint unreadable; starting empty", {{"error", error}});
      state_metrics_->errors.Add({{"reason", "unreadable"}}).Increment();
      return;
    case CheckpointLoad::kSetAside:
      Log(spdlog::level::err, "checkpoint unusable, set aside; starting empty",
          {{"error", error}, {"set_aside_as", aside}});
      state_metrics_->errors.Add({{"reason", "corrupt"}}).Increment();
      return;
    case CheckpointLoad::kLoaded:
      break;
  }
  const double now = now_();
  for (const ModelCheckpoint& m : file.models) {
    uint64_t records = 0;
    std::string why;
    if (!monitor_->Restore(m, now, &records, &why)) {
      Log(spdlog::level::warn, "model not restored from the checkpoint; its window starts empty",
          {{"model", m.model}, {"reason", why}});
      state_metrics_->errors.Add({{"reason", "mismatch"}}).Increment();
      continue;
    }
    state_metrics_->restored.Add({{"model", m.model}}).Set(static_cast<double>(records));
    Log(spdlog::level::info, "model restored from the checkpoint",
        {{"model", m.model},
         {"records", records},
         {"checkpoint_age_seconds", now - file.written_at}});
  }
}

void Daemon::WriteCheckpoint(std::function<void()> done) {
  if (!config_.state.directory || (!done && checkpoint_in_flight_)) {
    // Off, or the last one still being written (a slow disk): the next tick takes a newer one.
    if (done) done();
    return;
  }
  // The windows are copied here (one slice per lock); encoding and writing, which take about a
  // second at 10,000 features, run on the state thread so that evaluations are not held up.
  // One thread writes every checkpoint, in the order they were taken.
  const auto start = std::chrono::steady_clock::now();
  double lock_seconds = 0;
  auto file = std::make_shared<CheckpointFile>();
  file->written_at = now_();
  file->models = monitor_->Checkpoint(&lock_seconds);
  checkpoint_in_flight_ = true;
  asio::post(state_io_, [this, file, start, lock_seconds, dir = *config_.state.directory,
                         done = std::move(done)] {
    const std::string bytes = EncodeCheckpoint(*file);
    std::string error;
    if (!EnsureStateDirectory(dir, &error) || !WriteCheckpointFile(dir, bytes, &error)) {
      state_metrics_->errors.Add({{"reason", "write"}}).Increment();
      Log(spdlog::level::err, "checkpoint not written", {{"error", error}});
    } else {
      state_metrics_->checkpoint_duration.Set(SteadySeconds(start));
      state_metrics_->checkpoint_lock.Set(lock_seconds);
      state_metrics_->checkpoint_timestamp.Set(file->written_at);
      Log(spdlog::level::debug, "checkpoint written",
          {{"bytes", static_cast<uint64_t>(bytes.size())}, {"seconds", SteadySeconds(start)}});
    }
    checkpoint_in_flight_ = false;
    if (done) done();
  });
}

void Daemon::ScheduleCheckpoint() {
  checkpoint_timer_.expires_after(SecondsToDuration(config_.state.checkpoint_seconds));
  checkpoint_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    WriteCheckpoint();
    ScheduleCheckpoint();
  });
}

void Daemon::Run() {
  WaitForSignal();
  RunEventLoop(&main_io_, "main", InternalErrors(&registry_, "main"));
  ingest_thread_.join();
  for (std::thread& t : lane_threads_) t.join();
  eval_thread_.join();
  state_thread_.join();
  http_io_.stop();
  http_thread_.join();
  Log(spdlog::level::info, "driftd stopped");
}

void Daemon::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(reload_mu_);  // waits for a reload in progress
    if (shutting_down_.exchange(true)) return;
  }
  ready_ = false;
  // Stop accepting and process everything already received, on the ingest thread.
  std::promise<void> drained;
  asio::post(ingest_io_, [&] { ingest_->Drain([&] { drained.set_value(); }); });
  drained.get_future().wait();
  ingest_guard_.reset();
  ingest_io_.stop();
  lane_guards_.clear();
  for (const auto& io : lane_io_) io->stop();
  // The final evaluation, on the eval thread so it never races the timer.
  std::promise<void> evaluated;
  asio::post(eval_io_, [&] {
    timer_.cancel();
    Evaluate();
    uint64_t records = 0, samples = 0;
    // In the longest window, which holds every shorter one's records.
    for (const ModelEvaluation& m : published_.evaluation()->models) {
      if (m.records.empty()) continue;
      records += m.records.back();
      for (const FeatureEvaluation& f : m.Window(m.records.size() - 1)) samples += f.samples;
    }
    Log(spdlog::level::info, "final evaluation", {{"records", records}, {"samples", samples}});
    checkpoint_timer_.cancel();
    evaluated.set_value();
  });
  evaluated.get_future().wait();
  // After the drain and the final evaluation: nothing sent before SIGTERM is left out. Written
  // after any checkpoint still in flight, and waited for.
  std::promise<void> checkpointed;
  asio::post(eval_io_, [&] { WriteCheckpoint([&] { checkpointed.set_value(); }); });
  checkpointed.get_future().wait();
  state_guard_.reset();
  eval_guard_.reset();
  eval_io_.stop();
  asio::post(http_io_, [this] {
    http_->Stop();
    if (http_ingest_) http_ingest_->Stop();
  });
  http_guard_.reset();
  // Lets Run's loop run out of work: the pending wait ends with operation_aborted.
  asio::post(main_io_, [this] { signals_->Cancel(); });
}

}  // namespace driftd
