// `driftd version`: the version and the source revision.
#include <iostream>

#include "daemon/cmd/commands.h"

namespace driftd {

int VersionCommand(const std::vector<std::string>& args, const std::string& version,
                   const std::string& revision) {
  auto app = NewCommandLine("version", "Prints driftd's version and source revision.");
  if (auto status = ExitStatus(ParseArgs(app.get(), args), "version")) return *status;
  std::cout << "driftd " << version << " (revision " << revision << ")\n";
  return 0;
}

}  // namespace driftd
