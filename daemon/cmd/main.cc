// driftd: data-drift monitoring daemon. This file only dispatches to the subcommands, each of
// which parses its own flags with CLI11 (daemon/cmd/commands.h).
#include <iostream>
#include <string>
#include <vector>

#include "daemon/cmd/commands.h"

namespace {

constexpr char kUsage[] =
    "usage: driftd COMMAND [flags]\n"
    "\n"
    "commands:\n"
    "  run               run the drift monitor (driftd run --config FILE)\n"
    "  check-config      validate a configuration and its reference files\n"
    "  reference build   build a reference distribution from training data\n"
    "  reference snapshot  freeze a running driftd's window of a model as a reference file\n"
    "  loadgen           send synthetic or recorded traffic to a driftd and report throughput\n"
    "  version           print the version\n"
    "\n"
    "Run 'driftd COMMAND --help' for a command's flags.\n";

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    // No command at all is a usage error too, but the user gets the whole list of commands.
    (args.empty() ? std::cerr : std::cout) << kUsage;
    return args.empty() ? driftd::kExitUsage : 0;
  }
  const std::string& command = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "version" || command == "--version") {
    return driftd::VersionCommand(rest, DRIFTD_VERSION, DRIFTD_REVISION);
  }
  if (command == "run") return driftd::RunCommand(rest, DRIFTD_VERSION, DRIFTD_REVISION);
  if (command == "check-config") return driftd::CheckConfigCommand(rest);
  if (command == "loadgen") return driftd::LoadgenCommand(rest);
  if (command == "reference") {
    if (!rest.empty() && rest[0] == "build") {
      return driftd::ReferenceBuildCommand({rest.begin() + 1, rest.end()});
    }
    if (!rest.empty() && rest[0] == "snapshot") {
      return driftd::ReferenceSnapshotCommand({rest.begin() + 1, rest.end()});
    }
    std::cerr << "driftd reference: expected 'build' or 'snapshot' (see driftd reference build "
                 "--help)\n";
    return driftd::kExitUsage;
  }
  std::cerr << "driftd: unknown command \"" << command << "\" (see driftd --help)\n";
  return driftd::kExitUsage;
}
