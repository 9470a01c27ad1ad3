#include "core/bins.h"

#include <charconv>
#include <limits>

namespace driftd {

FeatureBins FeatureBins::Numeric(std::vector<double> edges) {
  FeatureBins b;
  b.kind_ = FeatureKind::kNumeric;
  b.size_ = static_cast<uint32_t>(edges.size() - 1 + 3);
  b.padded_ = std::move(edges);
  while (b.padded_.size() % 4) b.padded_.push_back(std::numeric_limits<double>::infinity());
  return b;
}

FeatureBins FeatureBins::Categorical(std::vector<std::string> categories) {
  FeatureBins b;
  b.kind_ = FeatureKind::kCategorical;
  b.size_ = static_cast<uint32_t>(categories.size() + 2);
  b.categories_ = std::move(categories);
  for (uint32_t i = 0; i < b.categories_.size(); ++i) b.index_.emplace(b.categories_[i], i);
  return b;
}

size_t FeatureBins::HeapBytes() const {
  size_t bytes = padded_.size() * sizeof(double);
  for (const std::string& c : categories_) {
    // The vector's string, and the index's node: next pointer, its own key copy, the bin, the
    // cached hash.
    bytes += sizeof(std::string) + StringHeapBytes(c);
    bytes += sizeof(void*) + sizeof(std::pair<const std::string, uint32_t>) + sizeof(size_t) +
             StringHeapBytes(c);
  }
  if (!index_.empty()) bytes += index_.bucket_count() * sizeof(void*);
  return bytes;
}

std::string FeatureBins::BinLabel(uint32_t b) const {
  if (b == missing_bin()) return "missing";
  if (kind_ == FeatureKind::kCategorical) {
    return b == other_bin() ? "other" : categories_[b];
  }
  if (b == underflow_bin()) return "underflow";
  if (b == overflow_bin()) return "overflow";
  // One buffer written front to back (a shortest double takes at most 24 characters), not a
  // chain of std::string operator+, whose inlined insert at the front GCC 12 flags at -O2
  // (-Wrestrict).
  char buf[2 * 24 + 4];
  char* const end = buf + sizeof buf;
  char* p = buf;
  *p++ = '[';
  p = std::to_chars(p, end, padded_[b]).ptr;
  *p++ = ',';
  *p++ = ' ';
  p = std::to_chars(p, end, padded_[b + 1]).ptr;
  *p++ = b + 1 == edge_count() - 1 ? ']' : ')';
  return std::string(buf, p);
}

}  // namespace driftd
