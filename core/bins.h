// Feature binning: maps a served value to its bin in a feature's full bin vector.
// The layout is fixed so every divergence sees missing and out-of-range values as drift:
//   numeric:     [interior 0..k-1][underflow][overflow][missing]
//   categorical: [category 0..m-1][other][missing]
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/record.h"

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

// The number of a[i] <= x for i < n; n is a multiple of 4.
inline size_t CountLessEqual(const double* a, size_t n, double x) {
#if defined(__SSE2__)
  const __m128d v = _mm_set1_pd(x);
  __m128i acc = _mm_setzero_si128();  // each lane: minus the count (a true compare is all ones)
  for (size_t i = 0; i < n; i += 4) {
    acc = _mm_add_epi64(acc, _mm_castpd_si128(_mm_cmple_pd(_mm_loadu_pd(a + i), v)));
    acc = _mm_add_epi64(acc, _mm_castpd_si128(_mm_cmple_pd(_mm_loadu_pd(a + i + 2), v)));
  }
  const __m128i hi = _mm_unpackhi_epi64(acc, acc);
  return static_cast<size_t>(-_mm_cvtsi128_si64(_mm_add_epi64(acc, hi)));
#else
  size_t le = 0;
  for (size_t i = 0; i < n; ++i) le += a[i] <= x;
  return le;
#endif
}

// The bins of one feature. Immutable after construction; safe to share across threads.
class FeatureBins {
 public:
  // NumericBin counts up to this many (padded) edges linearly; more take a binary search.
  static constexpr size_t kLinearSearchMax = 64;

  // Numeric bins over `edges` (strictly increasing, finite, at least two; not checked here:
  // the reference loader validates).
  static FeatureBins Numeric(std::vector<double> edges);
  // Categorical bins over `categories` (distinct), in the given order.
  static FeatureBins Categorical(std::vector<std::string> categories);

  FeatureKind kind() const { return kind_; }
  // Number of bins in the full bin vector (interior or categories, plus the special bins).
  uint32_t size() const { return size_; }
  // The edges (numeric only; empty for categorical bins).
  std::span<const double> edges() const { return {padded_.data(), edge_count()}; }
  const std::vector<std::string>& categories() const { return categories_; }

  uint32_t underflow_bin() const { return size_ - 3; }  // numeric only
  uint32_t overflow_bin() const { return size_ - 2; }   // numeric only
  uint32_t other_bin() const { return size_ - 2; }      // categorical only
  uint32_t missing_bin() const { return size_ - 1; }

  // Bin of a numeric value: e_i <= x < e_(i+1) is interior bin i, x == e_k is the last interior
  // bin, x < e_0 (and -inf) underflow, x > e_k (and +inf) overflow, NaN missing.
  [[gnu::always_inline]] uint32_t NumericBin(double x) const {
    // The usual case, a value from the first positive edge to e_k: its bucket in the table (see
    // table_), found from the top bits of its representation. A value below the table's range,
    // negative or NaN makes `index` wrap past it.
    const uint64_t index = (std::bit_cast<uint64_t>(x) - table_base_) >> table_shift_;
    if (index < table_buckets_) {
      const unsigned entry = table_[index];
      if (entry < kTableSearch) {
        const unsigned b = entry & kTableBin;
        return b + ((entry >> 6) & unsigned{padded_[b + 1] <= x});
      }
    }
    return NumericBinSearch(x);
  }

  // Bin of a decimal (Value::Decimal): NumericBin of the double nearest it, found from its digits
  // (issue 14: converting them was a fifth of the decode). The decimals digits x 10^-16 that
  // round to e_i or above are exactly those from some digits L_i on (rounding is monotone), and
  // the bins hold those L_i (decimal_limits_): the value's bin is where its digits fall among
  // them. A value `above` its digits has the same bin, unless its digits are the last below a
  // limit; that case (about one value in 10^16 near each edge) converts `text`. Numeric only.
  [[gnu::always_inline]] uint32_t DecimalBin(const Value& v) const {
    // The usual case: the table's bin for the nearby double digits x 1e-16 (within a few units
    // in the last place of the value), and the limits say whether the value is in it. If not (it
    // was near an edge, or outside the table), they are searched.
    const uint64_t digits = v.digits;
    if (static_cast<int64_t>(digits) >= 0) [[likely]] {
      const double near = static_cast<double>(static_cast<int64_t>(digits)) * 1e-16;
      const uint64_t index = (std::bit_cast<uint64_t>(near) - table_base_) >> table_shift_;
      if (index < table_buckets_) {
        const unsigned entry = table_[index];
        if (entry < kTableSearch) {
          const uint64_t* const limits = decimal_limits_.data();
          unsigned b = entry & kTableBin;
          b += (entry >> 6) & unsigned{limits[b + 1] <= digits};
          const uint64_t above =  // 0 or 1 (kDecimalAbove follows kDecimal)
              static_cast<unsigned>(v.kind) - static_cast<unsigned>(Value::Kind::kDecimal);
          if (limits[b] <= digits && digits + above < limits[b + 1]) return b;
        }
      }
    }
    return DecimalBinSearch(v);
  }

  // Bin of a categorical value: its category, or `other` for a category the reference never saw.
  uint32_t CategoryBin(std::string_view value) const {
    auto it = index_.find(value);
    return it == index_.end() ? other_bin() : it->second;
  }

  // Whether `other` puts every value in the same bin (same kind, edges and categories in order).
  bool SameBinsAs(const FeatureBins& other) const {
    return kind_ == other.kind_ && std::ranges::equal(edges(), other.edges()) &&
           categories_ == other.categories_;
  }

  // Buckets of the lookup table (see table_), 0 when the edges have none (tests).
  size_t table_buckets() const { return table_buckets_; }

  // Heap bytes the bins hold beyond the object (the padded edges and the table; categories and
  // their index), computed from their sizes: what `driftd check-config` reports.
  size_t HeapBytes() const;

  // Human-readable label of bin `b` ("[0, 10)", "underflow", "US", "other", "missing").
  std::string BinLabel(uint32_t b) const;

 private:
  // NumericBin without the table: the edges searched.
  [[gnu::always_inline]] uint32_t NumericBinSearch(double x) const {
    if (x != x) return missing_bin();
    size_t le;  // the number of edges <= x (padding included, see below)
    if (padded_.size() <= kLinearSearchMax) {
      // Few edges: count them. The comparisons are independent, so this vectorises and beats a
      // binary search, whose every step waits on the previous load (and mispredicts). When the
      // halves are whole blocks of four, one step first picks the half that holds x, without a
      // branch, and only that half is counted (measured: 17% less time per value at 32 edges).
      const double* const a = padded_.data();
      const size_t n = padded_.size();
      if (n % 8 == 0) {
        const size_t half = n / 2;
        const size_t skipped = half & (size_t{0} - size_t{a[half - 1] <= x});
        le = skipped + CountLessEqual(a + skipped, half, x);
      } else {
        le = CountLessEqual(a, n, x);
      }
    } else {
      // Branchless binary search.
      const double* base = padded_.data();
      size_t n = edge_count();
      while (n > 1) {
        const size_t half = n / 2;
        base = (base[half] <= x) ? base + half : base;
        n -= half;
      }
      le = static_cast<size_t>(base - padded_.data()) + (*base <= x);
    }
    const size_t k = edge_count() - 1;  // interior bins
    if (le == 0) return underflow_bin();
    if (le <= k) return static_cast<uint32_t>(le - 1);
    // x >= e_k (including +inf, for which the +inf padding counts too).
    return x == padded_[k] ? static_cast<uint32_t>(k - 1) : overflow_bin();
  }

  FeatureKind kind_ = FeatureKind::kNumeric;
  uint32_t size_ = 0;
  size_t edge_count() const { return kind_ == FeatureKind::kNumeric ? size_ - 2 : 0; }

  // The edges, then +inf up to a multiple of 4 (the linear count): one copy, which edges() views.
  std::vector<double> padded_;

  // The bin of most values in one load (issue 14). The doubles from the first positive edge to
  // e_k, taken by their bits (which rise with the value for positive doubles, about as a
  // logarithm does), are cut into at most 256 buckets of 2^table_shift_ representations each. A
  // bucket whose values all fall in one bin holds that bin; one that an edge splits holds the bin
  // below the edge and kTableEdge, and the value's compare with that one edge decides; one with
  // more edges, or past e_k, holds kTableSearch, and the edges are searched, as for a value outside
  // the table. Built from NumericBinSearch itself, for features of at most 64 interior bins with a
  // positive edge below e_k.
  static constexpr unsigned kTableBin = 0x3F, kTableEdge = 0x40, kTableSearch = 0x80;
  std::vector<uint8_t> table_;
  uint64_t table_base_ = 0;     // the representation of the first bucket's first value
  uint64_t table_buckets_ = 0;  // table_.size(), read by NumericBin in one load
  uint32_t table_shift_ = 0;
  void BuildTable();

  // DecimalBin without the table: the limits searched.
  uint32_t DecimalBinSearch(const Value& v) const;

  // DecimalBin's limits, k + 1 of them: for i < k, the least digits whose decimal x 10^-16 rounds
  // to e_i or above; then the least that rounds above e_k. kDecimalDigitsEnd when none does.
  std::vector<uint64_t> decimal_limits_;
  void BuildDecimalLimits();

  std::vector<std::string> categories_;
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> index_;
};

}  // namespace driftd
