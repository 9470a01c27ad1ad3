// The user-facing text of a nlohmann::json error, without the library's "[json.exception...]" tag.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace driftd {

inline std::string JsonErrorMessage(const nlohmann::json::exception& e) {
  std::string what = e.what();
  const auto close = what.find("] ");
  if (what.rfind("[json.exception", 0) == 0 && close != std::string::npos) {
    what = what.substr(close + 2);
  }
  return what;
}

}  // namespace driftd
