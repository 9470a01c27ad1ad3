// `driftd check-config`: validates a configuration and every reference file it names.
#include <cstdio>
#include <iostream>

#include "config/config.h"
#include "config/web_config.h"
#include "core/monitor.h"
#include "core/reference.h"
#include "daemon/cmd/commands.h"
#include "daemon/http/security.h"

namespace driftd {

bool LoadConfigAndReferences(const std::string& path, Config* config,
                             std::vector<Reference>* references) {
  std::vector<std::string> errors;
  auto parsed = LoadConfigFile(path, &errors);
  if (parsed) {
    *config = std::move(*parsed);
    LoadReferences(*config, references, &errors);
  }
  for (const std::string& e : errors) std::cerr << e << "\n";
  return errors.empty();
}

std::string FormatBytes(size_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[unit]);
  return buf;
}

std::string MemoryReport(const Config& config, const std::vector<Reference>& references) {
  const MonitorOptions options = MonitorOptionsFrom(config);
  std::string out;
  const uint32_t threads = config.ingest.ThreadCount();
  MemoryEstimate total;
  for (const Reference& ref : references) {
    const MemoryEstimate e = Monitor::EstimateMemory(options, {ref}, threads);
    out += "memory: model \"" + ref.model + "\": windows " + FormatBytes(e.windows) +
           ", reference " + FormatBytes(e.references) + ", ingest at most " +
           FormatBytes(e.ingest) + "\n";
    total.windows += e.windows;
    total.references += e.references;
    total.ingest += e.ingest;
  }
  out += "memory: windows " + FormatBytes(total.windows) + ", references " +
         FormatBytes(total.references) + ", ingest (key caches; " + std::to_string(threads) +
         " threads' shards) " + FormatBytes(total.ingest) + ", total " +
         FormatBytes(total.total()) + " (estimate)\n";
  return out;
}

ParseOutcome ParseCheckConfigArgs(const std::vector<std::string>& args, CheckConfigArgs* out) {
  auto app = NewCommandLine(
      "check-config",
      "Validates a configuration file and every reference file it names. Exits 0 when\n"
      "all are valid; otherwise prints every problem, each naming the file and key path.");
  AddText(app.get(), "config", &out->config, "configuration file", "FILE")->required();
  AddText(app.get(), "web.config.file", &out->web_config,
          "exporter-toolkit web configuration (YAML) to check too: its keys, and that its "
          "certificate, key and CA load",
          "FILE");
  return ParseArgs(app.get(), args);
}

int CheckConfigCommand(const std::vector<std::string>& args) {
  CheckConfigArgs check;
  if (auto status = ExitStatus(ParseCheckConfigArgs(args, &check), "check-config")) return *status;
  Config config;
  std::vector<Reference> refs;
  const bool config_ok = LoadConfigAndReferences(check.config, &config, &refs);
  bool web_ok = true;
  if (!check.web_config.empty()) {
    std::vector<std::string> errors;
    std::optional<WebConfig> web = LoadWebConfigFile(check.web_config, &errors);
    std::string error;
    if (web && !MakeHttpSecurity(*web, &error)) errors.push_back(check.web_config + ": " + error);
    for (const std::string& e : errors) std::cerr << e << "\n";
    web_ok = errors.empty();
    if (web_ok) {
      std::cout << check.web_config << ": ok (" << (web->tls ? "TLS" : "no TLS") << ", "
                << web->basic_auth_users.size() << " users)\n";
    }
  }
  if (!config_ok || !web_ok) return 1;
  size_t features = 0;
  for (const Reference& r : refs) features += r.features.size();
  std::cout << check.config << ": ok (" << refs.size() << " models, " << features << " features)\n"
            << MemoryReport(config, refs);
  return 0;
}

}  // namespace driftd
