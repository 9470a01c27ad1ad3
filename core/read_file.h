// The one way driftd reads a whole file (configurations, references): its bytes, or an error that
// names the path. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace driftd {

// The contents of the regular file at `path`. When it cannot be opened or is a directory, returns
// nullopt and appends "PATH: cannot open file" to *errors.
std::optional<std::string> ReadFile(const std::string& path, std::vector<std::string>* errors);

}  // namespace driftd
