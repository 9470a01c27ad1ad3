// Shared pieces of strict JSON validation (reference files, configuration): problems that name
// the source and the key path, unknown-key checks, and nlohmann's error text without its tag.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace driftd {

// Collects validation problems, each "SOURCE: key.path: what" (or "SOURCE: what" at the root).
class Problems {
 public:
  Problems(std::string_view source, std::vector<std::string>* out) : source_(source), out_(out) {}
  void Add(const std::string& path, const std::string& what) {
    out_->push_back(std::string(source_) + ": " + (path.empty() ? "" : path + ": ") + what);
    ++count_;
  }
  // Problems added through this collector so far.
  size_t count() const { return count_; }

 private:
  std::string_view source_;
  std::vector<std::string>* out_;
  size_t count_ = 0;
};

// "path.key", or "key" at the root.
inline std::string JoinPath(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

// Reports every key of `obj` outside `allowed` as "path.key: unknown key".
inline void CheckKeys(const nlohmann::json& obj, const std::set<std::string>& allowed,
                      const std::string& path, Problems* p) {
  for (const auto& [key, _] : obj.items()) {
    if (!allowed.count(key)) p->Add(JoinPath(path, key), "unknown key");
  }
}

// The user-facing text of a nlohmann::json error, without the library's "[json.exception...]" tag.
inline std::string JsonErrorMessage(const nlohmann::json::exception& e) {
  std::string what = e.what();
  const auto close = what.find("] ");
  if (what.rfind("[json.exception", 0) == 0 && close != std::string::npos) {
    what = what.substr(close + 2);
  }
  return what;
}

}  // namespace driftd
