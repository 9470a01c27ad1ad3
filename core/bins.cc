#include "core/bins.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace driftd {

FeatureBins FeatureBins::Numeric(std::vector<double> edges) {
  FeatureBins b;
  b.kind_ = FeatureKind::kNumeric;
  b.size_ = static_cast<uint32_t>(edges.size() - 1 + 3);
  b.padded_ = std::move(edges);
  while (b.padded_.size() % 4) b.padded_.push_back(std::numeric_limits<double>::infinity());
  b.BuildTable();
  b.BuildDecimalLimits();
  return b;
}

namespace {

// The least digits m <= kDecimalDigitsEnd for which holds(m), where holds is false up to some m
// and true from there, and true at kDecimalDigitsEnd itself; `guess` is near the answer. A gallop
// from the guess, then halving: a few conversions when the guess is good.
template <class Holds>
uint64_t FirstHolding(long double guess, Holds holds) {
  using Wide = __int128;  // -1 and kDecimalDigitsEnd are sentinels: false and true
  const Wide end = kDecimalDigitsEnd;
  auto at = [&](Wide m) {
    return m < 0 ? false : m >= end ? true : holds(static_cast<uint64_t>(m));
  };
  const Wide start = !(guess > 0)                             ? 0
                     : guess >= static_cast<long double>(end) ? end
                                                              : static_cast<Wide>(guess);
  Wide lo, hi;  // !at(lo), at(hi)
  if (at(start)) {
    hi = start;
    for (Wide step = 1;; step *= 2) {
      lo = hi - step;
      if (!at(lo)) break;
      hi = lo;
    }
  } else {
    lo = start;
    for (Wide step = 1;; step *= 2) {
      hi = lo + step;
      if (at(hi)) break;
      lo = hi;
    }
  }
  while (hi - lo > 1) {
    const Wide mid = lo + (hi - lo) / 2;
    (at(mid) ? hi : lo) = mid;
  }
  return static_cast<uint64_t>(hi);
}

}  // namespace

uint32_t FeatureBins::DecimalBinSearch(const Value& v) const {
  const uint64_t digits = v.digits;
  // The number of limits <= digits (they never decrease).
  const auto le =
      static_cast<size_t>(std::upper_bound(decimal_limits_.begin(), decimal_limits_.end(), digits) -
                          decimal_limits_.begin());
  // Strictly between digits and the limit digits + 1, the limits do not decide: convert.
  if (v.kind == Value::Kind::kDecimalAbove && le < decimal_limits_.size() &&
      decimal_limits_[le] == digits + 1) {
    return NumericBin(v.Number());
  }
  // Limits 0..k-1 start the interior bins; limit k is past e_k.
  if (le == 0) return underflow_bin();
  return le < decimal_limits_.size() ? static_cast<uint32_t>(le - 1) : overflow_bin();
}

void FeatureBins::BuildDecimalLimits() {
  const size_t k = edge_count() - 1;
  decimal_limits_.resize(k + 1);
  constexpr double kInf = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i <= k; ++i) {
    // Limit i < k: the digits that round to e_i or above, which start near the midpoint of e_i
    // and the double below it. Limit k: those that round above e_k, near e_k's upper midpoint.
    const double e = padded_[i];
    const bool past = i == k;
    const long double neighbour = std::nextafter(e, past ? kInf : -kInf);
    decimal_limits_[i] = FirstHolding((neighbour + e) / 2 * 1e16L, [e, past](uint64_t m) {
      const double d = NearestDouble(m, -16);
      return past ? d > e : d >= e;
    });
  }
}

void FeatureBins::BuildTable() {
  const size_t k = edge_count() - 1;  // interior bins
  if (k > kTableBin + 1) return;
  // From the first positive edge: below it, the representations of zero and the tiny values
  // would take up most of the buckets (those values, and negative ones, search).
  size_t first = 0;
  while (first < k && !(padded_[first] > 0)) ++first;
  if (first == k) return;
  table_base_ = std::bit_cast<uint64_t>(padded_[first]);
  const double last = padded_[k];
  const uint64_t span = std::bit_cast<uint64_t>(last) - table_base_;
  while ((span >> table_shift_) >= 256) ++table_shift_;
  table_buckets_ = (span >> table_shift_) + 1;
  table_.resize(table_buckets_);
  for (uint64_t i = 0; i < table_buckets_; ++i) {
    // The bucket's lowest and highest representations: the last bucket's may pass e_k (even
    // into +inf and NaN), which makes its highest bin no interior one.
    const uint64_t low = table_base_ + (i << table_shift_);
    const uint64_t high = low + ((uint64_t{1} << table_shift_) - 1);
    const uint32_t lo = NumericBinSearch(std::bit_cast<double>(low));
    const uint32_t hi = NumericBinSearch(std::bit_cast<double>(high));
    if (lo == hi && hi < k) {
      table_[i] = static_cast<uint8_t>(lo);
    } else if (hi == lo + 1 && hi < k) {
      table_[i] = static_cast<uint8_t>(lo | kTableEdge);
    } else {
      table_[i] = kTableSearch;
    }
  }
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
  size_t bytes =
      padded_.size() * sizeof(double) + table_.size() + decimal_limits_.size() * sizeof(uint64_t);
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
