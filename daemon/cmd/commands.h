// driftd's subcommands. Each takes the arguments after its name and returns the exit status;
// errors are printed on stderr as one line each.
#pragma once

#include <string>
#include <vector>

namespace driftd {

int ReferenceBuildCommand(const std::vector<std::string>& args);
int CheckConfigCommand(const std::vector<std::string>& args);
int RunCommand(const std::vector<std::string>& args, const std::string& version,
               const std::string& revision);
int LoadgenCommand(const std::vector<std::string>& args);

}  // namespace driftd
