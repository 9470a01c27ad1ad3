// Feature binning: maps a served value to its bin in a feature's full bin vector.
// The layout is fixed so every divergence sees missing and out-of-range values as drift:
//   numeric:     [interior 0..k-1][underflow][overflow][missing]
//   categorical: [category 0..m-1][other][missing]
#pragma once

#include <cstddef>
#include <cstdint>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace driftd {

enum class FeatureKind { kNumeric, kCategorical };

// Transparent hashing so categorical lookups take a string_view without allocating.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// Bytes a std::string holding `s` allocates beyond its own object (libstdc++ keeps up to 15
// characters inline).
inline size_t StringHeapBytes(std::string_view s) { return s.size() > 15 ? s.size() + 1 : 0; }

// The bins of one feature. Immutable after construction; safe to share across threads.
class FeatureBins {
 public:
  // NumericBin starts from a grid of cells over [e_0, e_k] when there are at most this many
  // interior bins; more take a binary search.
  static constexpr size_t kGridBinsMax = 16384;

  // Numeric bins over `edges` (strictly increasing, finite, at least two; not checked here:
  // the reference loader validates).
  static FeatureBins Numeric(std::vector<double> edges);
  // Categorical bins over `categories` (distinct), in the given order.
  static FeatureBins Categorical(std::vector<std::string> categories);

  FeatureKind kind() const { return kind_; }
  // Number of bins in the full bin vector (interior or categories, plus the special bins).
  uint32_t size() const { return size_; }
  const std::vector<double>& edges() const { return edges_; }
  const std::vector<std::string>& categories() const { return categories_; }

  uint32_t underflow_bin() const { return size_ - 3; }  // numeric only
  uint32_t overflow_bin() const { return size_ - 2; }   // numeric only
  uint32_t other_bin() const { return size_ - 2; }      // categorical only
  uint32_t missing_bin() const { return size_ - 1; }

  // Bin of a numeric value: e_i <= x < e_(i+1) is interior bin i, x == e_k is the last interior
  // bin, x < e_0 (and -inf) underflow, x > e_k (and +inf) overflow, NaN missing.
  uint32_t NumericBin(double x) const {
    if (x != x) return missing_bin();
    const size_t k = edges_.size() - 1;  // interior bins
    if (!(x >= first_)) return underflow_bin();
    if (!(x < last_)) return x == last_ ? static_cast<uint32_t>(k - 1) : overflow_bin();
    // e_0 <= x < e_k: the bin i with e_i <= x < e_(i+1).
    if (grid_.empty()) return SearchBin(x);
    // The grid cell's first bin, then up past the edges that share the cell, four at a time.
    size_t b = grid_[Cell(x)];
    for (const double* p = padded_.data() + b + 1;; p += 4) {
      const size_t n = CountLessEqual4(p, x);
      b += n;
      if (n < 4) break;
    }
    return static_cast<uint32_t>(b);
  }

  // Bin of a categorical value: its category, or `other` for a category the reference never saw.
  uint32_t CategoryBin(std::string_view value) const {
    auto it = index_.find(value);
    return it == index_.end() ? other_bin() : it->second;
  }

  // Whether `other` puts every value in the same bin (same kind, edges and categories in order).
  bool SameBinsAs(const FeatureBins& other) const {
    return kind_ == other.kind_ && edges_ == other.edges_ && categories_ == other.categories_;
  }

  // Heap bytes the bins hold beyond the object (edges and their grid; categories and
  // their index), computed from their sizes: what `driftd check-config` reports.
  size_t HeapBytes() const;

  // Human-readable label of bin `b` ("[0, 10)", "underflow", "US", "other", "missing").
  std::string BinLabel(uint32_t b) const;

 private:
  FeatureKind kind_ = FeatureKind::kNumeric;
  uint32_t size_ = 0;
  // The bin of e_0 <= x < e_k by binary search: without a grid.
  uint32_t SearchBin(double x) const;
  // The grid cell of e_0 <= x < e_k: (x - e_0) scaled to [0, cells), truncated. Monotone in x,
  // so an edge in an earlier cell than x is below x.
  size_t Cell(double x) const {
    // In [0, cells] (rounding may reach cells): a signed conversion, one instruction.
    const auto c = static_cast<size_t>(static_cast<int64_t>((x - first_) * cell_scale_));
    return c < grid_.size() ? c : grid_.size() - 1;
  }

  // How many of the increasing p[0..3] are <= x (not NaN).
  static size_t CountLessEqual4(const double* p, double x) {
#if defined(__SSE2__)
    const __m128d v = _mm_set1_pd(x);
    const int low = _mm_movemask_pd(_mm_cmple_pd(_mm_loadu_pd(p), v));
    const int high = _mm_movemask_pd(_mm_cmple_pd(_mm_loadu_pd(p + 2), v));
    // Increasing values: the bits are a run of ones from bit 0.
    return static_cast<size_t>(__builtin_ctz(~(low | high << 2)));
#else
    return (p[0] <= x) + (p[1] <= x) + (p[2] <= x) + (p[3] <= x);
#endif
  }

  std::vector<double> edges_;
  double first_ = 0, last_ = 0;  // e_0 and e_k
  std::vector<double> padded_;   // with a grid: edges_, then three +inf (CountLessEqual4)
  // Numeric, up to kGridBinsMax bins and a range whose cells are representable: a power of two
  // of cells (four per bin or more) over [e_0, e_k], each holding the last bin whose left edge
  // lies in an earlier cell (0 for none); empty otherwise.
  std::vector<uint16_t> grid_;
  double cell_scale_ = 0;  // cells per unit of x
  std::vector<std::string> categories_;
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> index_;
};

}  // namespace driftd
