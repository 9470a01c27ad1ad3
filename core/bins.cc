#include "core/bins.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>

namespace driftd {

FeatureBins FeatureBins::Numeric(std::vector<double> edges) {
  FeatureBins b;
  b.kind_ = FeatureKind::kNumeric;
  b.size_ = static_cast<uint32_t>(edges.size() - 1 + 3);
  b.edges_ = std::move(edges);
  b.first_ = b.edges_.front();
  b.last_ = b.edges_.back();
  const size_t k = b.edges_.size() - 1;
  const size_t cells = std::bit_ceil(4 * k);
  const double scale = static_cast<double>(cells) / (b.last_ - b.first_);
  if (k <= kGridBinsMax && std::isfinite(scale) && scale > 0) {
    b.cell_scale_ = scale;
    b.padded_ = b.edges_;
    b.padded_.insert(b.padded_.end(), 3, std::numeric_limits<double>::infinity());
    b.grid_.assign(cells, 0);
    // Edge i > 0 in cell c starts bin i for every later cell (up to the next edge's bin).
    for (size_t i = 1; i < k; ++i) {
      const size_t c = b.Cell(b.edges_[i]);
      if (c + 1 < cells) b.grid_[c + 1] = static_cast<uint16_t>(i);
    }
    for (size_t c = 1; c < cells; ++c) b.grid_[c] = std::max(b.grid_[c], b.grid_[c - 1]);
  }
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

uint32_t FeatureBins::SearchBin(double x) const {
  // Branchless: the last of e_0..e_(k-1) that is <= x (e_k > x).
  const double* base = edges_.data();
  size_t n = edges_.size() - 1;
  while (n > 1) {
    const size_t half = n / 2;
    base = (base[half] <= x) ? base + half : base;
    n -= half;
  }
  return static_cast<uint32_t>(base - edges_.data());
}

size_t FeatureBins::HeapBytes() const {
  size_t bytes =
      (edges_.size() + padded_.size()) * sizeof(double) + grid_.size() * sizeof(uint16_t);
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
  p = std::to_chars(p, end, edges_[b]).ptr;
  *p++ = ',';
  *p++ = ' ';
  p = std::to_chars(p, end, edges_[b + 1]).ptr;
  *p++ = b + 1 == edges_.size() - 1 ? ']' : ')';
  return std::string(buf, p);
}

}  // namespace driftd
