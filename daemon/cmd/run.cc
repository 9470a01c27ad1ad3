// `driftd run` and `driftd check-config`: load and validate everything; `run` then hands it to a
// Daemon (daemon/daemon.h) and runs it until SIGTERM or SIGINT.
#include <csignal>
#include <iostream>

#include "config/config.h"
#include "daemon/cmd/commands.h"
#include "daemon/cmd/flags.h"
#include "daemon/daemon.h"
#include "daemon/log.h"

namespace driftd {
namespace {

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
  Daemon daemon(version, revision);
  if (!daemon.Start(std::move(config), std::move(refs), &error)) {
    std::cerr << "driftd: " << error << "\n";
    return 1;
  }
  daemon.Run();
  return 0;
}

}  // namespace driftd
