#include "core/reference.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <span>

#include "core/json_validation.h"
#include "core/read_file.h"
#include "core/sha256.h"

namespace driftd {
namespace {

using Json = nlohmann::json;

// Joins a key path (see core/json_validation.h).
std::string Join(const std::string& path, const std::string& key) { return JoinPath(path, key); }

// `s` quoted, cut to its first 40 bytes for a message about an over-long name.
std::string QuotedHead(std::string_view s) {
  constexpr size_t kHead = 40;
  return Json(std::string(s.substr(0, kHead)))
             .dump(-1, ' ', false, Json::error_handler_t::replace) +
         (s.size() > kHead ? "..." : "");
}

// "N what, at most MAX" for a limit from core/reference.h.
std::string OverLimit(size_t n, const char* what, size_t max) {
  return std::to_string(n) + " " + what + ", at most " + std::to_string(max);
}

// A count is a non-negative integer (an integral JSON float such as 12.0 is accepted).
std::optional<uint64_t> ReadCount(const Json& v, const std::string& path, Problems* p) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) {
    p->Add(path, "must be non-negative, got " + v.dump());
    return std::nullopt;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (d < 0) {
      p->Add(path, "must be non-negative, got " + v.dump());
    } else if (!std::isfinite(d) || d != std::floor(d) || d >= 18446744073709551616.0) {
      p->Add(path, "must be an integer count, got " + v.dump());
    } else {
      return static_cast<uint64_t>(d);
    }
    return std::nullopt;
  }
  p->Add(path, "must be a non-negative integer, got " + std::string(v.type_name()));
  return std::nullopt;
}

// Reads the optional special-bin count `key` of `obj` (0 when absent).
uint64_t OptionalCount(const Json& obj, const char* key, const std::string& path, Problems* p) {
  auto it = obj.find(key);
  if (it == obj.end()) return 0;
  return ReadCount(*it, Join(path, key), p).value_or(0);
}

std::optional<ReferenceFeature> ParseNumeric(const std::string& name, const Json& f,
                                             const std::string& path, Problems* p) {
  const size_t before = p->count();
  CheckKeys(f, {"type", "edges", "counts", "underflow", "overflow", "missing"}, path, p);
  std::vector<double> edges;
  auto e = f.find("edges");
  if (e == f.end()) {
    p->Add(Join(path, "edges"), "missing required key");
  } else if (!e->is_array()) {
    p->Add(Join(path, "edges"), "must be an array of numbers");
  } else if (e->size() < 2) {
    p->Add(Join(path, "edges"), "must hold at least 2 edges");
  } else if (e->size() > kMaxNumericEdges) {
    p->Add(Join(path, "edges"), OverLimit(e->size(), "edges", kMaxNumericEdges));
  } else {
    for (size_t i = 0; i < e->size(); ++i) {
      const Json& v = (*e)[i];
      if (!v.is_number() || !std::isfinite(v.get<double>())) {
        p->Add(Join(path, "edges") + "[" + std::to_string(i) + "]", "must be a finite number");
        edges.clear();
        break;
      }
      edges.push_back(v.get<double>());
    }
    for (size_t i = 1; i < edges.size(); ++i) {
      if (!(edges[i - 1] < edges[i])) {
        p->Add(Join(path, "edges"), "must be strictly increasing");
        break;
      }
    }
  }
  std::vector<uint64_t> counts;
  auto c = f.find("counts");
  if (c == f.end()) {
    p->Add(Join(path, "counts"), "missing required key");
  } else if (!c->is_array()) {
    p->Add(Join(path, "counts"), "must be an array of counts");
  } else if (c->size() > kMaxNumericEdges - 1) {
    p->Add(Join(path, "counts"), OverLimit(c->size(), "counts", kMaxNumericEdges - 1));
  } else {
    if (e != f.end() && e->is_array() && c->size() + 1 != e->size()) {
      p->Add(Join(path, "counts"),
             "must hold len(edges) - 1 = " + std::to_string(e->size() > 0 ? e->size() - 1 : 0) +
                 " counts, got " + std::to_string(c->size()));
    }
    for (size_t i = 0; i < c->size(); ++i) {
      counts.push_back(
          ReadCount((*c)[i], Join(path, "counts") + "[" + std::to_string(i) + "]", p).value_or(0));
    }
  }
  counts.push_back(OptionalCount(f, "underflow", path, p));
  counts.push_back(OptionalCount(f, "overflow", path, p));
  counts.push_back(OptionalCount(f, "missing", path, p));
  if (p->count() != before) return std::nullopt;
  return ReferenceFeature{name, FeatureBins::Numeric(std::move(edges)), std::move(counts)};
}

std::optional<ReferenceFeature> ParseCategorical(const std::string& name, const Json& f,
                                                 const std::string& path, Problems* p) {
  const size_t before = p->count();
  CheckKeys(f, {"type", "categories", "other", "missing"}, path, p);
  std::vector<std::string> categories;
  std::vector<uint64_t> counts;
  auto c = f.find("categories");
  if (c == f.end()) {
    p->Add(Join(path, "categories"), "missing required key");
  } else if (!c->is_object() || c->empty()) {
    p->Add(Join(path, "categories"), "must be a non-empty object of category -> count");
  } else if (c->size() > kMaxCategories) {
    p->Add(Join(path, "categories"), OverLimit(c->size(), "categories", kMaxCategories));
  } else {
    for (const auto& [category, count] : c->items()) {
      if (category.size() > kMaxCategoryBytes) {
        p->Add(Join(path, "categories"), "category " + QuotedHead(category) + " is " +
                                             std::to_string(category.size()) + " bytes, at most " +
                                             std::to_string(kMaxCategoryBytes));
        continue;
      }
      categories.push_back(category);
      counts.push_back(ReadCount(count, Join(path, "categories") + "." + category, p).value_or(0));
    }
  }
  counts.push_back(OptionalCount(f, "other", path, p));
  counts.push_back(OptionalCount(f, "missing", path, p));
  if (p->count() != before) return std::nullopt;
  return ReferenceFeature{name, FeatureBins::Categorical(std::move(categories)), std::move(counts)};
}

void RequireString(const Json& doc, const char* key, bool required, std::string* out, Problems* p) {
  auto it = doc.find(key);
  if (it == doc.end()) {
    if (required) p->Add(key, "missing required key");
  } else if (!it->is_string()) {
    p->Add(key, "must be a string");
  } else {
    *out = it->get<std::string>();
    if (required && out->empty()) p->Add(key, "must not be empty");
  }
}

}  // namespace

int Reference::FindFeature(std::string_view name) const {
  auto it =
      std::lower_bound(features.begin(), features.end(), name,
                       [](const ReferenceFeature& f, std::string_view n) { return f.name < n; });
  if (it == features.end() || it->name != name) return -1;
  return static_cast<int>(it - features.begin());
}

std::optional<Reference> ParseReference(std::string_view text, std::string_view source,
                                        std::vector<std::string>* errors) {
  Problems p(source, errors);
  if (text.size() > kMaxReferenceFileBytes) {
    p.Add("", "file is " + OverLimit(text.size(), "bytes", kMaxReferenceFileBytes));
    return std::nullopt;
  }
  Json doc;
  if (!ParseStrictJson(text, &p, &doc)) return std::nullopt;
  if (!doc.is_object()) {
    p.Add("", "must be a JSON object");
    return std::nullopt;
  }
  Reference ref;
  CheckKeys(doc, {"model", "version", "created_at", "features"}, "", &p);
  RequireString(doc, "model", true, &ref.model, &p);
  RequireString(doc, "version", true, &ref.version, &p);
  RequireString(doc, "created_at", false, &ref.created_at, &p);
  auto fs = doc.find("features");
  if (fs == doc.end()) {
    p.Add("features", "missing required key");
  } else if (!fs->is_object() || fs->empty()) {
    p.Add("features", "must be a non-empty object of feature -> histogram");
  } else if (fs->size() > kMaxReferenceFeatures) {
    p.Add("features", OverLimit(fs->size(), "features", kMaxReferenceFeatures));
  } else {
    size_t bins = 0;
    ref.features.reserve(fs->size());  // no spare capacity kept for the daemon's lifetime
    for (const auto& [name, f] : fs->items()) {
      if (name.size() > kMaxFeatureNameBytes) {
        p.Add("features", "feature name " + QuotedHead(name) + " is " +
                              std::to_string(name.size()) + " bytes, at most " +
                              std::to_string(kMaxFeatureNameBytes));
        continue;
      }
      const std::string path = "features." + name;
      if (!f.is_object()) {
        p.Add(path, "must be an object");
        continue;
      }
      auto type = f.find("type");
      std::optional<ReferenceFeature> parsed;
      if (type == f.end()) {
        p.Add(Join(path, "type"), "missing required key");
      } else if (*type == "numeric") {
        parsed = ParseNumeric(name, f, path, &p);
      } else if (*type == "categorical") {
        parsed = ParseCategorical(name, f, path, &p);
      } else {
        p.Add(Join(path, "type"), "unknown type " + type->dump() + " (numeric or categorical)");
      }
      if (!parsed) continue;
      uint64_t total = 0;
      for (uint64_t c : parsed->counts) total += c;
      if (total == 0) {
        p.Add(path, "total count is zero: a reference needs at least one observation");
        continue;
      }
      bins += parsed->counts.size();
      ref.features.push_back(std::move(*parsed));
    }
    if (bins > kMaxReferenceBins) {
      p.Add("features", OverLimit(bins, "bins in all", kMaxReferenceBins));
    }
  }
  if (p.count() != 0) return std::nullopt;
  std::sort(ref.features.begin(), ref.features.end(),
            [](const ReferenceFeature& a, const ReferenceFeature& b) { return a.name < b.name; });
  ref.sha256 = Sha256Hex(text);
  return ref;
}

std::optional<Reference> LoadReferenceFile(const std::string& path,
                                           std::vector<std::string>* errors) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxReferenceFileBytes) {
    errors->push_back(path + ": file is " + OverLimit(size, "bytes", kMaxReferenceFileBytes));
    return std::nullopt;
  }
  const std::optional<std::string> text = ReadFile(path, errors);
  if (!text) return std::nullopt;
  return ParseReference(*text, path, errors);
}

std::string SerializeReference(const Reference& ref) {
  nlohmann::ordered_json doc;
  doc["model"] = ref.model;
  doc["version"] = ref.version;
  if (!ref.created_at.empty()) doc["created_at"] = ref.created_at;
  nlohmann::ordered_json features = nlohmann::ordered_json::object();
  for (const ReferenceFeature& f : ref.features) {
    nlohmann::ordered_json j;
    const size_t n = f.counts.size();
    if (f.bins.kind() == FeatureKind::kNumeric) {
      j["type"] = "numeric";
      const std::span<const double> edges = f.bins.edges();
      j["edges"] = std::vector<double>(edges.begin(), edges.end());
      j["counts"] = std::vector<uint64_t>(f.counts.begin(), f.counts.end() - 3);
      j["underflow"] = f.counts[n - 3];
      j["overflow"] = f.counts[n - 2];
    } else {
      j["type"] = "categorical";
      nlohmann::ordered_json cats = nlohmann::ordered_json::object();
      for (size_t i = 0; i < f.bins.categories().size(); ++i)
        cats[f.bins.categories()[i]] = f.counts[i];
      j["categories"] = cats;
      j["other"] = f.counts[n - 2];
    }
    j["missing"] = f.counts[n - 1];
    features[f.name] = j;
  }
  doc["features"] = features;
  return doc.dump(2) + "\n";
}

std::string Rfc3339(double unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace driftd
