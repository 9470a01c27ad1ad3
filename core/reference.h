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
// Touches no files; thread-safe.
std::optional<Reference> ParseReference(std::string_view text, std::string_view source,
                                        std::vector<std::string>* errors);

// Reads and parses the file at `path`; errors name the path as given.
std::optional<Reference> LoadReferenceFile(const std::string& path,
                                           std::vector<std::string>* errors);

// Serialises `ref` in the reference file format (pretty-printed JSON, ends with a newline).
std::string SerializeReference(const Reference& ref);

}  // namespace driftd
