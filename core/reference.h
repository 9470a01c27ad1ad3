// Reference distributions: the training-time histogram of every feature of one model, and the
// JSON file format users write (by hand or with `driftd reference build`) and driftd reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bins.h"

namespace driftd {

// Limits on a reference file, so that a bad or hostile file is rejected with a clear message
// instead of taking the daemon's memory (docs/reference-format.md).
inline constexpr size_t kMaxReferenceFileBytes = size_t{256} << 20;  // 256 MiB
inline constexpr size_t kMaxReferenceFeatures = 100'000;
inline constexpr size_t kMaxNumericEdges = 10'001;  // 10,000 interior bins
inline constexpr size_t kMaxCategories = 10'000;
inline constexpr size_t kMaxReferenceBins = 2'000'000;  // full bin vectors of every feature
inline constexpr size_t kMaxFeatureNameBytes = 256;
inline constexpr size_t kMaxCategoryBytes = 1024;

struct ReferenceFeature {
  std::string name;
  FeatureBins bins;
  // The full bin vector's counts, in FeatureBins order (interior/categories, then the specials).
  std::vector<uint64_t> counts;
};

struct Reference {
  std::string model;
  std::string version;
  std::string created_at;
  std::vector<ReferenceFeature> features;  // sorted by name
  // SHA-256 (lowercase hex) of the document's bytes as parsed; empty for a reference built in
  // memory. Identifies the file a model was loaded from (driftd_reference_info{sha256}).
  std::string sha256;

  // Index of the feature called `name`, or -1.
  int FindFeature(std::string_view name) const;
};

// Parses and validates a reference document. `source` names it in errors ("fraud.json").
// On success returns the reference; otherwise returns nullopt and appends one message per problem
// found to *errors, each naming the source and the JSON path:
//   "fraud.json: features.amount.edges: must be strictly increasing".
// Duplicate keys, nesting deeper than kMaxJsonDepth and anything over the limits above are
// problems too.
// Touches no files; thread-safe.
std::optional<Reference> ParseReference(std::string_view text, std::string_view source,
                                        std::vector<std::string>* errors);

// Reads and parses the file at `path`; errors name the path as given. A file larger than
// kMaxReferenceFileBytes is rejected before it is read.
std::optional<Reference> LoadReferenceFile(const std::string& path,
                                           std::vector<std::string>* errors);

// Unix seconds as the reference format's created_at, RFC 3339 in UTC to the second:
// "2026-12-03T12:00:00Z". Thread-safe.
std::string Rfc3339(double unix_seconds);

// Serialises `ref` in the reference file format (pretty-printed JSON, ends with a newline).
std::string SerializeReference(const Reference& ref);

}  // namespace driftd
