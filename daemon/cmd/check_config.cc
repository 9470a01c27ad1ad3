// `driftd check-config`: validates a configuration and every reference file it names.
#include <iostream>

#include "config/config.h"
#include "core/reference.h"
#include "daemon/cmd/commands.h"

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

ParseOutcome ParseCheckConfigArgs(const std::vector<std::string>& args, CheckConfigArgs* out) {
  auto app = NewCommandLine(
      "check-config",
      "Validates a configuration file and every reference file it names. Exits 0 when\n"
      "all are valid; otherwise prints every problem, each naming the file and key path.");
  AddText(app.get(), "config", &out->config, "configuration file", "FILE")->required();
  return ParseArgs(app.get(), args);
}

int CheckConfigCommand(const std::vector<std::string>& args) {
  CheckConfigArgs check;
  if (auto status = ExitStatus(ParseCheckConfigArgs(args, &check), "check-config")) return *status;
  Config config;
  std::vector<Reference> refs;
  if (!LoadConfigAndReferences(check.config, &config, &refs)) return 1;
  size_t features = 0;
  for (const Reference& r : refs) features += r.features.size();
  std::cout << check.config << ": ok (" << refs.size() << " models, " << features << " features)\n";
  return 0;
}

}  // namespace driftd
