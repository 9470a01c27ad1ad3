// Shared pieces of strict JSON validation (reference files, configuration): strict parsing
// (bounded nesting, no duplicate keys), problems that name the source and the key path,
// unknown-key checks, and nlohmann's error text without its tag.
#pragma once

#include <cstddef>
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

// The deepest nesting of arrays and objects a configuration or reference may have. Real files
// need 4 or 5 levels; the bound keeps every recursive walk of a parsed document (dump, compare,
// destroy) shallow.
inline constexpr size_t kMaxJsonDepth = 64;

// The byte offset of the first '[' or '{' in `text` that opens a level deeper than `max_depth`,
// or npos when there is none. Strings are skipped; anything else invalid is left to the parser.
// A plain loop over the bytes: no recursion, whatever the input.
inline size_t JsonTooDeepAt(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::string_view::npos;
}

// Records the key path of every key that appears twice in one object (nlohmann keeps the last
// value silently). A SAX handler: a pass over the text of its own, linear in its size (nlohmann's
// callback parser rescans an object's members at the end of each member object, which is
// quadratic for a reference with 100,000 features).
class DuplicateKeys : public nlohmann::json_sax<nlohmann::json> {
 public:
  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool start_object(std::size_t) override { return Open(false); }
  bool start_array(std::size_t) override { return Open(true); }
  bool end_object() override { return Close(); }
  bool end_array() override { return Close(); }
  bool key(string_t& key) override {
    if (!stack_.empty()) {
      Frame& top = stack_.back();
      top.key = key;
      if (!top.keys.insert(key).second) paths_.push_back(Path());
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception&) override {
    return false;  // the DOM parse reports it
  }

  const std::vector<std::string>& paths() const { return paths_; }

 private:
  struct Frame {
    bool array;
    std::string key;    // objects: the current member's key
    size_t next_index;  // arrays: index of the next element
    std::set<std::string> keys;
  };

  bool Value() {
    if (!stack_.empty() && stack_.back().array) ++stack_.back().next_index;
    return true;
  }
  bool Open(bool array) {
    Value();
    stack_.push_back({array, "", 0, {}});
    return true;
  }
  bool Close() {
    if (!stack_.empty()) stack_.pop_back();
    return true;
  }

  // The key path of the current member of the innermost object.
  std::string Path() const {
    std::string path;
    for (const Frame& f : stack_) {
      path = f.array ? path + "[" + std::to_string(f.next_index - 1) + "]" : JoinPath(path, f.key);
    }
    return path;
  }

  std::vector<Frame> stack_;
  std::vector<std::string> paths_;
};

// Parses `text` strictly into *doc: nesting deeper than kMaxJsonDepth and invalid JSON are
// reported (at the root) and return false; every duplicate key is reported at its path
// ("models[0].name: duplicate key") and the document, holding the last value of each, is still
// returned (true) so that the caller can report its other problems too.
inline bool ParseStrictJson(std::string_view text, Problems* p, nlohmann::json* doc) {
  if (const size_t at = JsonTooDeepAt(text, kMaxJsonDepth); at != std::string_view::npos) {
    p->Add("", "invalid JSON: nested deeper than " + std::to_string(kMaxJsonDepth) +
                   " levels at byte " + std::to_string(at));
    return false;
  }
  DuplicateKeys duplicates;
  nlohmann::json::sax_parse(text, &duplicates);  // invalid JSON: reported by the parse below
  try {
    *doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    p->Add("", "invalid JSON: " + JsonErrorMessage(e));
    return false;
  }
  for (const std::string& path : duplicates.paths()) p->Add(path, "duplicate key");
  return true;
}

}  // namespace driftd
