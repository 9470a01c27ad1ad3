// `driftd run` and `driftd check-config`: load and validate everything, wire the monitor, the
// ingest and HTTP listeners and the evaluation timer onto their threads, and shut down cleanly.
//
// Threads (one io_context each): main (signals), ingest (TCP/UDP/Unix sessions), http (Beast),
// eval (the evaluation timer). The Monitor's models each have their own mutex; the evaluation is
// published through `Published`.
#include <malloc.h>
#include <prometheus/gauge.h>

#include <chrono>
#include <csignal>
#include <future>
#include <iostream>
#include <thread>

#include "config/config.h"
#include "daemon/asio.h"
#include "daemon/cmd/commands.h"
#include "daemon/event_loop.h"
#include "daemon/cmd/flags.h"
#include "daemon/http/server.h"
#include "daemon/ingest/listeners.h"
#include "daemon/log.h"

namespace driftd {
namespace {

namespace asio = boost::asio;

double WallClock() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void AddLogFlags(Flags* flags) {
  flags->Choice("log.level", "info", {"trace", "debug", "info", "warn", "error", "off"},
                "log level: trace, debug, info, warn, error or off");
  flags->Choice("log.format", "text", {"text", "json"}, "log format on stderr: text or json");
}

void SetupLogFlags(const Flags& flags) {
  // Both values were checked by Flags::Parse (Choice), so this cannot fail.
  SetupLogging(flags.Get("log.level"),
               flags.Get("log.format") == "json" ? LogFormat::kJson : LogFormat::kText);
}

// Loads the configuration and every reference, printing every problem found.
bool LoadAll(const std::string& path, Config* config, std::vector<Reference>* refs) {
  std::vector<std::string> errors;
  auto parsed = LoadConfigFile(path, &errors);
  if (parsed) {
    *config = std::move(*parsed);
    LoadReferences(*config, refs, &errors);
  }
  for (const std::string& e : errors) std::cerr << e << "\n";
  return errors.empty();
}

}  // namespace

int CheckConfigCommand(const std::vector<std::string>& args) {
  Flags flags("driftd check-config --config FILE",
              "Validates a configuration file and every reference file it names. Exits 0 when\n"
              "all are valid; otherwise prints every problem, each naming the file and key path.");
  flags.Value("config", "", "configuration file", true);
  std::string error;
  if (!flags.Parse(args, &error)) {
    return UsageError("check-config", error);
  }
  if (flags.help_requested()) {
    std::cout << flags.Help();
    return 0;
  }
  Config config;
  std::vector<Reference> refs;
  if (!LoadAll(flags.Get("config"), &config, &refs)) return 1;
  size_t features = 0;
  for (const Reference& r : refs) features += r.features.size();
  std::cout << flags.Get("config") << ": ok (" << refs.size() << " models, " << features
            << " features)\n";
  return 0;
}

int RunCommand(const std::vector<std::string>& args, const std::string& version,
               const std::string& revision) {
  Flags flags("driftd run --config FILE [flags]",
              "Runs the drift monitor: ingests feature streams, keeps sliding windows, evaluates\n"
              "them against the reference distributions and serves Prometheus metrics.");
  flags.Value("config", "", "configuration file", true);
  AddLogFlags(&flags);
  std::string error;
  if (!flags.Parse(args, &error)) {
    return UsageError("run", error);
  }
  if (flags.help_requested()) {
    std::cout << flags.Help();
    return 0;
  }
  SetupLogFlags(flags);
  std::signal(SIGPIPE, SIG_IGN);

  Config config;
  std::vector<Reference> refs;
  if (!LoadAll(flags.Get("config"), &config, &refs)) return 1;
  std::vector<std::string> sha;
  for (const Reference& r : refs) sha.push_back(r.sha256);

  MonitorOptions mo;
  mo.window.length_seconds = config.window.length_seconds;
  mo.window.slices = config.window.slices;
  mo.divergence.alpha = config.evaluation.smoothing;
  mo.divergence.base = config.evaluation.log_base;
  mo.kl_reference_to_window = config.evaluation.kl_direction == KlDirection::kReferenceToWindow;
  mo.min_samples = config.evaluation.min_samples;
  std::vector<ModelAlerts> alerts;
  for (const ModelConfig& m : config.models) alerts.push_back(m.alerts);
  Monitor monitor(mo, std::move(refs), sha, WallClock(), std::move(alerts));

  // Parsing the references builds large transient JSON trees; hand that memory back now.
  malloc_trim(0);

  prometheus::Registry registry;
  IngestMetrics metrics(&registry);
  prometheus::BuildGauge()
      .Name("driftd_build_info")
      .Help("driftd's version and source revision.")
      .Register(registry)
      .Add({{"version", version}, {"revision", revision}})
      .Set(1);

  asio::io_context ingest_io(1), http_io(1), eval_io(1), main_io(1);
  IngestServer ingest(&ingest_io, config.ingest, &monitor, &metrics, WallClock);
  if (!ingest.Start(&error)) {
    std::cerr << "driftd: cannot listen on " << error << "\n";
    return 1;
  }

  std::atomic<bool> ready{false};
  Published published;
  HttpContext hctx;
  hctx.published = &published;
  hctx.registry = &registry;
  hctx.monitor = &monitor;
  hctx.metrics = &metrics;
  hctx.clock = WallClock;
  hctx.ready = &ready;
  hctx.max_line_bytes = config.ingest.max_line_bytes;
  hctx.version = version;
  HttpServer http(&http_io, config.http, hctx);
  if (!http.Start(&error)) {
    std::cerr << "driftd: cannot listen on " << error << "\n";
    return 1;
  }
  for (const std::string& b : ingest.bound())
    Log(spdlog::level::info, "listening", {{"address", b}});
  Log(spdlog::level::info, "listening", {{"address", http.bound()}});

  auto evaluate = [&] {
    const auto start = std::chrono::steady_clock::now();
    auto eval = monitor.Evaluate(WallClock());
    std::string text = RenderEvaluation(*eval);
    eval->duration_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    metrics.evaluation_duration()->Observe(eval->duration_seconds);
    metrics.last_evaluation()->Set(eval->timestamp);
    published.Set(std::move(eval), std::move(text));
    // The previous evaluation and its rendering were just freed: return the pages, so RSS tracks
    // what is live rather than the high-water mark of two evaluations.
    malloc_trim(0);
  };
  evaluate();  // so /metrics and /api/v1/status answer from the first scrape

  const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(config.evaluation.interval_seconds));
  asio::steady_timer timer(eval_io);
  std::function<void()> schedule = [&] {
    timer.expires_after(interval);
    timer.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      evaluate();
      schedule();
    });
  };
  schedule();

  // Installed before anything reports readiness, so an early SIGTERM or SIGHUP is never fatal.
  asio::signal_set signals(main_io, SIGINT, SIGTERM, SIGHUP);
  auto ingest_guard = asio::make_work_guard(ingest_io);
  auto http_guard = asio::make_work_guard(http_io);
  auto eval_guard = asio::make_work_guard(eval_io);
  // Each thread's loop survives a handler that throws (logged and counted, see event_loop.h).
  auto run = [&registry](asio::io_context* io, const std::string& name) {
    return std::thread([io, name, errors = InternalErrors(&registry, name)] {
      RunEventLoop(io, name, errors);
    });
  };
  prometheus::Counter* main_errors = InternalErrors(&registry, "main");
  std::thread ingest_thread = run(&ingest_io, "ingest");
  std::thread http_thread = run(&http_io, "http");
  std::thread eval_thread = run(&eval_io, "eval");
  ready = true;
  Log(spdlog::level::info, "driftd started",
      {{"version", version},
       {"models", static_cast<uint64_t>(monitor.models())},
       {"config", flags.Get("config")}});

  std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code ec,
                                                                      int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      // systemctl reload, a terminal hang-up, a process manager: never a reason to stop.
      Log(spdlog::level::warn, "SIGHUP received: configuration reload is not supported yet",
          {{"signal", "SIGHUP"}});
      signals.async_wait(on_signal);
      return;
    }
    Log(spdlog::level::info, "shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
    ready = false;
    // Stop accepting and process everything already received, on the ingest thread.
    std::promise<void> drained;
    asio::post(ingest_io, [&] { ingest.Drain([&] { drained.set_value(); }); });
    drained.get_future().wait();
    ingest_guard.reset();
    ingest_io.stop();
    // The final evaluation, on the eval thread so it never races the timer.
    std::promise<void> evaluated;
    asio::post(eval_io, [&] {
      timer.cancel();
      evaluate();
      uint64_t records = 0, samples = 0;
      for (const ModelEvaluation& m : published.evaluation()->models) {
        records += m.records;
        for (const FeatureEvaluation& f : m.features) samples += f.samples;
      }
      Log(spdlog::level::info, "final evaluation", {{"records", records}, {"samples", samples}});
      evaluated.set_value();
    });
    evaluated.get_future().wait();
    eval_guard.reset();
    eval_io.stop();
    asio::post(http_io, [&] { http.Stop(); });
    http_guard.reset();
  };
  signals.async_wait(on_signal);
  RunEventLoop(&main_io, "main", main_errors);
  ingest_thread.join();
  eval_thread.join();
  http_io.stop();
  http_thread.join();
  Log(spdlog::level::info, "driftd stopped");
  return 0;
}

}  // namespace driftd
