// driftd: data-drift monitoring daemon. This file only dispatches to the subcommands.
#include <iostream>
#include <string>
#include <vector>

#include "daemon/cmd/commands.h"
#include "daemon/cmd/flags.h"

namespace {

constexpr char kUsage[] =
    "usage: driftd COMMAND [flags]\n"
    "\n"
    "commands:\n"
    "  run               run the drift monitor (driftd run --config FILE)\n"
    "  check-config      validate a configuration and its reference files\n"
    "  reference build   build a reference distribution from training data\n"
    "  loadgen           send synthetic or recorded traffic to a driftd and report throughput\n"
    "  version           print the version\n"
    "\n"
    "Run 'driftd COMMAND --help' for a command's flags.\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    // No command at all is a usage error too, but the user gets the whole list of commands.
    (args.empty() ? std::cerr : std::cout) << kUsage;
    return args.empty() ? driftd::kExitUsage : 0;
  }
  const std::string command = args[0];
  if (command == "version" || command == "--version") {
    std::cout << "driftd " << DRIFTD_VERSION << " (revision " << DRIFTD_REVISION << ")\n";
    return 0;
  }
  if (command == "run") {
    return driftd::RunCommand({args.begin() + 1, args.end()}, DRIFTD_VERSION, DRIFTD_REVISION);
  }
  if (command == "check-config") return driftd::CheckConfigCommand({args.begin() + 1, args.end()});
  if (command == "loadgen") return driftd::LoadgenCommand({args.begin() + 1, args.end()});
  if (command == "reference") {
    if (args.size() >= 2 && args[1] == "build") {
      return driftd::ReferenceBuildCommand({args.begin() + 2, args.end()});
    }
    std::cerr << "driftd reference: expected 'build' (see driftd reference build --help)\n";
    return driftd::kExitUsage;
  }
  std::cerr << "driftd: unknown command \"" << command << "\" (see driftd --help)\n";
  return driftd::kExitUsage;
}
