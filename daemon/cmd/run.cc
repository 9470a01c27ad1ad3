// `driftd run`: parses its flags, loads and validates the configuration and its references, and
// hands them to a Daemon (daemon/daemon.h), which runs until SIGTERM or SIGINT.
#include <malloc.h>

#include <csignal>
#include <iostream>

#include "config/config.h"
#include "daemon/cmd/commands.h"
#include "daemon/daemon.h"
#include "daemon/log.h"

namespace driftd {

ParseOutcome ParseRunArgs(const std::vector<std::string>& args, RunArgs* out) {
  auto app = NewCommandLine(
      "run",
      "Runs the drift monitor: ingests feature streams, keeps sliding windows, evaluates\n"
      "them against the reference distributions and serves Prometheus metrics.");
  AddText(app.get(), "config", &out->config, "configuration file", "FILE")->required();
  AddChoice(app.get(), "log.level", &out->log_level,
            {"trace", "debug", "info", "warn", "error", "off"}, "log level");
  AddChoice(app.get(), "log.format", &out->log_format, {"text", "json"}, "log format on stderr");
  app->add_flag("--web.enable-lifecycle", out->enable_lifecycle,
                "serve POST /-/reload (SIGHUP reloads either way)");
  AddText(app.get(), "web.config.file", &out->web_config,
          "exporter-toolkit web configuration (YAML): TLS and basic authentication", "FILE");
  return ParseArgs(app.get(), args);
}

int RunCommand(const std::vector<std::string>& args, const std::string& version,
               const std::string& revision) {
  RunArgs run;
  if (auto status = ExitStatus(ParseRunArgs(args, &run), "run")) return *status;
  // Both values were checked by the parse, so this cannot fail.
  SetupLogging(run.log_level, run.log_format == "json" ? LogFormat::kJson : LogFormat::kText);
  std::signal(SIGPIPE, SIG_IGN);
  // Blocks of 4 MiB and more (an evaluation's page with 10,000s of features) get their own
  // mappings, returned when freed. By default glibc raises this threshold to the largest block
  // freed so far, after which such blocks come from the heap, whose free space fragments: with
  // 10,000 features that added up to 5 MB to every evaluation's peak RSS. Fixing it also fixes
  // the trim threshold, which would then stay at 128 KiB and hand back, then fault in again, the
  // heap behind every HTTP ingest body (it cost two thirds of /api/v1/ingest's CPU); freed heap
  // memory is returned after each evaluation instead (malloc_trim in Daemon::Evaluate).
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 32 << 20);

  Config config;
  std::vector<Reference> refs;
  if (!LoadConfigAndReferences(run.config, &config, &refs)) return 1;
  Daemon daemon(version, revision);
  if (run.enable_lifecycle) daemon.EnableLifecycleApi();
  if (!run.web_config.empty()) daemon.SetWebConfigFile(run.web_config);
  std::string error;
  if (!daemon.Start(std::move(config), std::move(refs), &error)) {
    std::cerr << "driftd: " << error << "\n";
    return 1;
  }
  daemon.Run();
  return 0;
}

}  // namespace driftd
