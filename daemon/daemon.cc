#include "daemon/daemon.h"

#include <malloc.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <chrono>
#include <csignal>
#include <future>

#include "daemon/duration.h"
#include "daemon/event_loop.h"
#include "daemon/export/metrics.h"
#include "daemon/log.h"
#include "daemon/resource_limits.h"

namespace driftd {
namespace {

namespace asio = boost::asio;

double WallClock() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

MonitorOptions MonitorOptionsFrom(const Config& config) {
  MonitorOptions mo;
  mo.window.length_seconds = config.window.length_seconds;
  mo.window.slices = config.window.slices;
  mo.divergence.smoothing = config.evaluation.smoothing;
  mo.divergence.base = config.evaluation.log_base;
  mo.kl_direction = config.evaluation.kl_direction;
  mo.min_samples = config.evaluation.min_samples;
  return mo;
}

}  // namespace

Daemon::Daemon(std::string version, std::string revision, std::function<double()> clock)
    : version_(std::move(version)),
      revision_(std::move(revision)),
      clock_(clock ? std::move(clock) : WallClock) {}

Daemon::~Daemon() {
  // Only reached with threads still running when Run was never called or did not finish.
  for (asio::io_context* io : {&ingest_io_, &http_io_, &eval_io_}) io->stop();
  for (std::thread* t : {&ingest_thread_, &http_thread_, &eval_thread_}) {
    if (t->joinable()) t->join();
  }
}

bool Daemon::Start(Config config, std::vector<Reference> references, std::string* error) {
  // Every connection costs a descriptor: take what the hard limit allows, and say what it is
  // once the listeners are up (a failed start prints its one error line only).
  const OpenFileLimit files = RaiseOpenFileLimit();
  ApplyConfig(std::move(config), std::move(references));
  if (!Listen(error)) return false;
  if (files.error.empty()) {
    Log(spdlog::level::info, "open file limit",
        {{"soft", files.soft}, {"hard", files.hard}, {"soft_before", files.soft_before}});
  } else {
    Log(spdlog::level::warn, "cannot raise the open file limit",
        {{"soft", files.soft}, {"hard", files.hard}, {"error", files.error}});
  }
  Evaluate();  // so /metrics and /api/v1/status answer from the first scrape
  ScheduleEvaluation();
  // Installed before anything reports readiness, so an early SIGTERM or SIGHUP is never fatal.
  signals_.add(SIGINT);
  signals_.add(SIGTERM);
  signals_.add(SIGHUP);
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
  std::vector<ModelAlerts> alerts;
  for (const ModelConfig& m : config_.models) alerts.push_back(m.alerts);
  const MonitorOptions options = MonitorOptionsFrom(config_);
  monitor_ = std::make_unique<Monitor>(options, std::move(references), clock_(), std::move(alerts),
                                       &drift_log_);
  // Parsing the references builds large transient JSON trees; hand that memory back now.
  malloc_trim(0);

  metrics_ = std::make_unique<IngestMetrics>(&registry_);
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
  const double threshold = ClockJumpThreshold(options.window.slice_seconds());
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

bool Daemon::Listen(std::string* error) {
  ingest_ = std::make_unique<IngestServer>(&ingest_io_, config_.ingest, monitor_.get(),
                                           metrics_.get(), now_);
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
  hctx.version = version_;
  http_ = std::make_unique<HttpServer>(&http_io_, config_.http, std::move(hctx));
  if (!http_->Start(error)) {
    *error = "cannot listen on " + *error;
    return false;
  }
  for (const std::string& b : ingest_->bound()) {
    Log(spdlog::level::info, "listening", {{"address", b}});
  }
  Log(spdlog::level::info, "listening", {{"address", http_->bound()}});
  return true;
}

void Daemon::Evaluate() {
  const auto start = std::chrono::steady_clock::now();
  auto eval = monitor_->Evaluate(now_());
  std::string text = RenderEvaluation(*eval);
  eval->duration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_->evaluation_duration()->Observe(eval->duration_seconds);
  metrics_->last_evaluation()->Set(eval->timestamp);
  published_.Set(std::move(eval), std::move(text));
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
  // Each thread's loop survives a handler that throws (logged and counted, see event_loop.h).
  auto run = [this](asio::io_context* io, const std::string& name) {
    return std::thread(
        [io, name, errors = InternalErrors(&registry_, name)] { RunEventLoop(io, name, errors); });
  };
  InternalErrors(&registry_, "main");  // exported from the start, like the other threads'
  ingest_thread_ = run(&ingest_io_, "ingest");
  http_thread_ = run(&http_io_, "http");
  eval_thread_ = run(&eval_io_, "eval");
}

void Daemon::WaitForSignal() {
  signals_.async_wait([this](boost::system::error_code ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      // systemctl reload, a terminal hang-up, a process manager: never a reason to stop.
      Log(spdlog::level::warn, "SIGHUP received: configuration reload is not supported yet",
          {{"signal", "SIGHUP"}});
      WaitForSignal();
      return;
    }
    Log(spdlog::level::info, "shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
    Shutdown();
  });
}

void Daemon::Run() {
  WaitForSignal();
  RunEventLoop(&main_io_, "main", InternalErrors(&registry_, "main"));
  ingest_thread_.join();
  eval_thread_.join();
  http_io_.stop();
  http_thread_.join();
  Log(spdlog::level::info, "driftd stopped");
}

void Daemon::Shutdown() {
  if (shutting_down_.exchange(true)) return;
  ready_ = false;
  // Stop accepting and process everything already received, on the ingest thread.
  std::promise<void> drained;
  asio::post(ingest_io_, [&] { ingest_->Drain([&] { drained.set_value(); }); });
  drained.get_future().wait();
  ingest_guard_.reset();
  ingest_io_.stop();
  // The final evaluation, on the eval thread so it never races the timer.
  std::promise<void> evaluated;
  asio::post(eval_io_, [&] {
    timer_.cancel();
    Evaluate();
    uint64_t records = 0, samples = 0;
    for (const ModelEvaluation& m : published_.evaluation()->models) {
      records += m.records;
      for (const FeatureEvaluation& f : m.features) samples += f.samples;
    }
    Log(spdlog::level::info, "final evaluation", {{"records", records}, {"samples", samples}});
    evaluated.set_value();
  });
  evaluated.get_future().wait();
  eval_guard_.reset();
  eval_io_.stop();
  asio::post(http_io_, [this] { http_->Stop(); });
  http_guard_.reset();
  // Lets Run's loop run out of work: the pending wait ends with operation_aborted.
  asio::post(main_io_, [this] {
    boost::system::error_code ec;
    signals_.cancel(ec);
  });
}

}  // namespace driftd
