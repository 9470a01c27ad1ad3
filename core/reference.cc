#include "core/reference.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "core/json_validation.h"
#include "core/read_file.h"
#include "core/sha256.h"

namespace driftd {
namespace {

using Json = nlohmann::json;

// Joins a key path (see core/json_validation.h).
std::string Join(const std::string& path, const std::string& key) { return JoinPath(path, key); }

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
  } else {
    for (const auto& [category, count] : c->items()) {
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
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const Json::exception& e) {
    p.Add("", "invalid JSON: " + JsonErrorMessage(e));
    return std::nullopt;
  }
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
  } else {
    for (const auto& [name, f] : fs->items()) {
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
      ref.features.push_back(std::move(*parsed));
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
      j["edges"] = f.bins.edges();
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

}  // namespace driftd
