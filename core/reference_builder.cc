#include "core/reference_builder.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "core/category.h"
#include "core/json_validation.h"

namespace driftd {
namespace {

// Everything seen in one column.
struct Column {
  std::vector<double> numbers;       // parsed values (finite or +-inf), in input order
  std::vector<std::string> strings;  // the category text of every non-missing value, in input order
  uint64_t missing = 0;
  bool all_numeric = true;
};

// Splits one CSV record (RFC 4180 quoting). Returns false when a quoted field is still open at the
// end of `line` (the caller appends the next line and tries again).
bool SplitCsv(const std::string& line, std::vector<std::string>* fields) {
  fields->clear();
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields->push_back(std::move(cur));
      cur.clear();
    } else if (c != '\r' || i + 1 != line.size()) {
      cur += c;
    }
  }
  if (quoted) return false;
  fields->push_back(std::move(cur));
  return true;
}

class Collector {
 public:
  Column& Get(const std::string& name) {
    auto it = index_.find(name);
    if (it != index_.end()) return columns_[it->second];
    index_.emplace(name, columns_.size());
    names_.push_back(name);
    columns_.emplace_back();
    // A column first seen after some records were read was missing in those records.
    columns_.back().missing = records_;
    return columns_.back();
  }
  // Ends a record: columns absent from it count it as missing.
  void EndRecord(const std::set<size_t>& seen) {
    ++records_;
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (!seen.count(i)) ++columns_[i].missing;
    }
  }
  size_t IndexOf(const std::string& name) const { return index_.at(name); }
  const std::vector<std::string>& names() const { return names_; }
  std::vector<Column>& columns() { return columns_; }
  uint64_t records() const { return records_; }

 private:
  std::unordered_map<std::string, size_t> index_;
  std::vector<std::string> names_;
  std::vector<Column> columns_;
  uint64_t records_ = 0;
};

// A number (NaN: missing). Its category text, used when the column turns out categorical, is the
// canonical one (core/category.h): the text the daemon derives from the same value on the wire.
void AddNumber(Column* col, double v) {
  if (std::isnan(v)) {
    ++col->missing;
    return;
  }
  CategoryBuffer buf;
  col->numbers.push_back(v);
  col->strings.emplace_back(CanonicalNumber(v, &buf));
}

// A CSV cell: a number if it spells one, otherwise a category in its canonical text.
void AddText(Column* col, std::string_view text) {
  if (const std::optional<double> v = ParseNumber(text)) return AddNumber(col, *v);
  CategoryBuffer buf;
  col->all_numeric = false;
  col->strings.emplace_back(CanonicalText(text, &buf).value_or(text));
}

std::string Where(std::string_view source, uint64_t line) {
  return std::string(source) + ":" + std::to_string(line) + ": ";
}

bool ReadCsv(std::istream& in, std::string_view source, Collector* out, std::string* error) {
  std::string line, record;
  std::vector<std::string> header, fields;
  uint64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const uint64_t start = line_no;
    record = line;
    while (!SplitCsv(record, &fields)) {
      if (!std::getline(in, line)) {
        *error = Where(source, start) + "unterminated quoted field";
        return false;
      }
      ++line_no;
      record += "\n" + line;
    }
    if (header.empty()) {
      header = fields;
      std::set<std::string> unique;
      for (const std::string& h : header) {
        if (h.empty() || !unique.insert(h).second) {
          *error =
              Where(source, start) + "header has an empty or repeated column name \"" + h + "\"";
          return false;
        }
        out->Get(h);
      }
      continue;
    }
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    if (fields.size() != header.size()) {
      *error = Where(source, start) + "expected " + std::to_string(header.size()) +
               " fields, got " + std::to_string(fields.size());
      return false;
    }
    std::set<size_t> seen;
    for (size_t i = 0; i < fields.size(); ++i) {
      Column& col = out->Get(header[i]);
      seen.insert(i);
      if (fields[i].empty()) {
        ++col.missing;
      } else {
        AddText(&col, fields[i]);
      }
    }
    out->EndRecord(seen);
  }
  if (header.empty()) {
    *error = std::string(source) + ": empty input: expected a header row";
    return false;
  }
  return true;
}

bool ReadNdjson(std::istream& in, std::string_view source, Collector* out, std::string* error) {
  std::string line;
  uint64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      *error = Where(source, line_no) + "invalid JSON: " + JsonErrorMessage(e);
      return false;
    }
    if (doc.is_object() && doc.size() == 1 && doc.contains("features") &&
        doc["features"].is_object()) {
      doc = doc["features"];
    }
    if (!doc.is_object()) {
      *error = Where(source, line_no) + "expected a JSON object of feature -> value";
      return false;
    }
    std::set<size_t> seen;
    for (const auto& [key, v] : doc.items()) {
      Column& col = out->Get(key);
      seen.insert(out->IndexOf(key));
      if (v.is_null()) {
        ++col.missing;
      } else if (v.is_number()) {
        AddNumber(&col, v.get<double>());
      } else if (v.is_string()) {
        col.all_numeric = false;
        col.strings.push_back(v.get<std::string>());
      } else if (v.is_boolean()) {
        col.all_numeric = false;
        col.strings.push_back(v.dump());
      } else {
        *error = Where(source, line_no) + key + ": expected a number, string, boolean or null";
        return false;
      }
    }
    out->EndRecord(seen);
  }
  return true;
}

// numpy's _lerp: a + (b - a) * t, or b - (b - a) * (1 - t) when t >= 0.5.
double Lerp(double a, double b, double t) {
  const double d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

ReferenceFeature NumericFeature(const std::string& name, Column& col, const BuildOptions& o) {
  std::vector<double> finite;
  finite.reserve(col.numbers.size());
  uint64_t neg_inf = 0, pos_inf = 0;
  for (double v : col.numbers) {
    if (std::isfinite(v)) {
      finite.push_back(v);
    } else {
      (v < 0 ? neg_inf : pos_inf)++;
    }
  }
  std::sort(finite.begin(), finite.end());
  FeatureBins bins = FeatureBins::Numeric(ComputeEdges(finite, o.bins, o.strategy));
  std::vector<uint64_t> counts(bins.size(), 0);
  for (double v : finite) ++counts[bins.NumericBin(v)];
  counts[bins.underflow_bin()] += neg_inf;
  counts[bins.overflow_bin()] += pos_inf;
  counts[bins.missing_bin()] = col.missing;
  return ReferenceFeature{name, std::move(bins), std::move(counts)};
}

ReferenceFeature CategoricalFeature(const std::string& name, const Column& col,
                                    const BuildOptions& o) {
  std::map<std::string, uint64_t> freq;
  for (const std::string& s : col.strings) ++freq[s];
  std::vector<std::pair<std::string, uint64_t>> ranked(freq.begin(), freq.end());
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  uint64_t other = 0;
  if (ranked.size() > o.max_categories) {
    for (size_t i = o.max_categories; i < ranked.size(); ++i) other += ranked[i].second;
    ranked.resize(o.max_categories);
  }
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::string> names;
  std::vector<uint64_t> counts;
  for (auto& [k, c] : ranked) {
    names.push_back(k);
    counts.push_back(c);
  }
  counts.push_back(other);
  counts.push_back(col.missing);
  return ReferenceFeature{name, FeatureBins::Categorical(std::move(names)), std::move(counts)};
}

}  // namespace

std::vector<double> ComputeEdges(const std::vector<double>& sorted, uint32_t bins,
                                 BinStrategy strategy) {
  const double lo = sorted.front(), hi = sorted.back();
  if (lo == hi) return {lo - 0.5, hi + 0.5};
  std::vector<double> edges;
  edges.reserve(bins + 1);
  if (strategy == BinStrategy::kUniform) {
    // numpy.linspace(lo, hi, bins + 1): i * step + start, the last edge exactly `hi`.
    const double step = (hi - lo) / bins;
    for (uint32_t i = 0; i < bins; ++i) edges.push_back(i * step + lo);
    edges.push_back(hi);
    return edges;
  }
  const size_t n = sorted.size();
  const double step = 1.0 / bins;
  for (uint32_t i = 0; i <= bins; ++i) {
    const double q = i == bins ? 1.0 : i * step;
    const double virtual_index = static_cast<double>(n - 1) * q;
    const double below = std::floor(virtual_index);
    const size_t prev = std::min(static_cast<size_t>(below), n - 1);
    const size_t next = std::min(prev + 1, n - 1);
    const double e = Lerp(sorted[prev], sorted[next], virtual_index - below);
    if (edges.empty() || e > edges.back()) edges.push_back(e);
  }
  return edges;
}

std::optional<Reference> BuildReference(std::istream& in, std::string_view source,
                                        InputFormat format, const BuildOptions& options,
                                        std::string* error) {
  if (format == InputFormat::kAuto) {
    int c;
    while ((c = in.peek()) == ' ' || c == '\n' || c == '\r' || c == '\t') in.get();
    format = in.peek() == '{' ? InputFormat::kNdjson : InputFormat::kCsv;
  }
  Collector collected;
  const bool ok = format == InputFormat::kCsv ? ReadCsv(in, source, &collected, error)
                                              : ReadNdjson(in, source, &collected, error);
  if (!ok) return std::nullopt;
  if (collected.records() == 0) {
    *error = std::string(source) + ": no records";
    return std::nullopt;
  }
  std::vector<std::string> wanted = options.features.empty() ? collected.names() : options.features;
  const std::set<std::string> categorical(options.categorical.begin(), options.categorical.end());
  Reference ref{options.model, options.version, options.created_at, {}, {}};
  for (const std::string& name : wanted) {
    Column* col = nullptr;
    for (size_t i = 0; i < collected.names().size(); ++i) {
      if (collected.names()[i] == name) col = &collected.columns()[i];
    }
    if (col == nullptr) {
      *error = std::string(source) + ": no column named \"" + name + "\"";
      return std::nullopt;
    }
    if (categorical.count(name) || !col->all_numeric) {
      if (col->strings.empty()) {
        *error = std::string(source) + ": column \"" + name + "\" has no non-missing value";
        return std::nullopt;
      }
      ref.features.push_back(CategoricalFeature(name, *col, options));
    } else if (col->numbers.empty() || std::none_of(col->numbers.begin(), col->numbers.end(),
                                                    [](double v) { return std::isfinite(v); })) {
      *error =
          std::string(source) + ": column \"" + name +
          "\" has no finite numeric value to bin (force it with --categorical, or leave it out "
          "with --features)";
      return std::nullopt;
    } else {
      ref.features.push_back(NumericFeature(name, *col, options));
    }
  }
  for (const std::string& name : options.categorical) {
    if (std::find(wanted.begin(), wanted.end(), name) == wanted.end()) {
      *error = std::string(source) + ": --categorical names \"" + name + "\", which is not built";
      return std::nullopt;
    }
  }
  std::sort(ref.features.begin(), ref.features.end(),
            [](const ReferenceFeature& a, const ReferenceFeature& b) { return a.name < b.name; });
  return ref;
}

}  // namespace driftd
