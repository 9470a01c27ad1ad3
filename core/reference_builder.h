// Builds a reference distribution from training data (CSV with a header row, or NDJSON).
// Pure: reads from a stream the caller opened; no files, no clock.
#pragma once

#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/reference.h"

namespace driftd {

enum class BinStrategy {
  kQuantile,  // unique quantiles of the data (numpy.quantile, method "linear")
  kUniform,   // equal-width bins from min to max (numpy.histogram_bin_edges)
};

struct BuildOptions {
  std::string model;
  std::string version;
  std::string created_at;
  uint32_t bins = 20;
  BinStrategy strategy = BinStrategy::kQuantile;
  std::vector<std::string> features;     // empty: every column
  std::vector<std::string> categorical;  // forced categorical, whatever the values look like
  uint32_t max_categories = 1000;        // the most frequent are kept; the rest count as "other"
};

enum class InputFormat { kAuto, kCsv, kNdjson };

// Reads every record of `in` and returns the reference. A column whose non-missing values are not
// all numbers is categorical. Empty CSV cells, NaN and JSON null count as missing; +-inf count as
// underflow/overflow. On failure returns nullopt and sets *error, naming `source` and the line:
//   "train.csv:17: expected 5 fields, got 4".
std::optional<Reference> BuildReference(std::istream& in, std::string_view source,
                                        InputFormat format, const BuildOptions& options,
                                        std::string* error);

// The edges numpy would use: unique quantiles (linear interpolation) or equal-width edges over the
// finite values in `sorted` (ascending). A single distinct value v gets edges [v - 0.5, v + 0.5].
// Requires `sorted` non-empty and bins >= 1.
std::vector<double> ComputeEdges(const std::vector<double>& sorted, uint32_t bins,
                                 BinStrategy strategy);

}  // namespace driftd
