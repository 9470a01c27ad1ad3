#include "core/read_file.h"

#include <filesystem>
#include <fstream>
#include <iterator>

namespace driftd {

std::optional<std::string> ReadFile(const std::string& path, std::vector<std::string>* errors) {
  std::error_code ec;
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path, ec)) {
    errors->push_back(path + ": cannot open file");
    return std::nullopt;
  }
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace driftd
