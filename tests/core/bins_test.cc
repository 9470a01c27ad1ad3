#include "core/bins.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace driftd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(FeatureBinsTest, NumericLayoutAndBoundaries) {
  // Edges 0, 10, 50, 200, 1000: four interior bins, then underflow, overflow, missing.
  FeatureBins b = FeatureBins::Numeric({0, 10, 50, 200, 1000});
  ASSERT_EQ(b.size(), 7u);
  EXPECT_EQ(b.underflow_bin(), 4u);
  EXPECT_EQ(b.overflow_bin(), 5u);
  EXPECT_EQ(b.missing_bin(), 6u);

  EXPECT_EQ(b.NumericBin(0), 0u);  // e_0 is in the first bin
  EXPECT_EQ(b.NumericBin(9.999), 0u);
  EXPECT_EQ(b.NumericBin(10), 1u);  // left-closed
  EXPECT_EQ(b.NumericBin(49.5), 1u);
  EXPECT_EQ(b.NumericBin(50), 2u);
  EXPECT_EQ(b.NumericBin(200), 3u);
  EXPECT_EQ(b.NumericBin(999.99), 3u);
  EXPECT_EQ(b.NumericBin(1000), 3u);  // e_k belongs to the last interior bin (numpy)
  EXPECT_EQ(b.NumericBin(std::nextafter(1000.0, kInf)), 5u);
  EXPECT_EQ(b.NumericBin(std::nextafter(0.0, -kInf)), 4u);
  EXPECT_EQ(b.NumericBin(-1e300), 4u);
}

TEST(FeatureBinsTest, NumericSpecialValues) {
  FeatureBins b = FeatureBins::Numeric({-1, 1});
  EXPECT_EQ(b.NumericBin(std::nan("")), b.missing_bin());
  EXPECT_EQ(b.NumericBin(-kInf), b.underflow_bin());
  EXPECT_EQ(b.NumericBin(kInf), b.overflow_bin());
  EXPECT_EQ(b.NumericBin(1), 0u);
  EXPECT_EQ(b.NumericBin(-1), 0u);
}

// The definition NumericBin implements, written the obvious way: numpy.histogram's bins, the
// last one closed.
uint32_t ReferenceBin(const FeatureBins& b, double x) {
  const std::span<const double> e = b.edges();
  if (std::isnan(x)) return b.missing_bin();
  if (x < e.front()) return b.underflow_bin();
  if (x > e.back()) return b.overflow_bin();
  if (x == e.back()) return static_cast<uint32_t>(e.size() - 2);
  return static_cast<uint32_t>(std::upper_bound(e.begin(), e.end(), x) - e.begin() - 1);
}

TEST(FeatureBinsTest, NumericMatchesUpperBoundOnBothSearchPaths) {
  // Edge counts on both sides of kLinearSearchMax: up to it NumericBin counts the edges linearly
  // (only the half that holds x when the padded count is a multiple of 8), above it the
  // branchless binary search runs. Random strictly increasing edges (some gaps of one
  // ulp), probed at every edge, its neighbours, random points and the specials.
  std::mt19937_64 rng(20241120);
  std::uniform_real_distribution<double> gap(1e-3, 100);
  std::vector<size_t> edge_counts;
  for (size_t n = 2; n <= 2 * FeatureBins::kLinearSearchMax + 9; ++n) edge_counts.push_back(n);
  edge_counts.insert(edge_counts.end(), {255, 256, 257, 1000, 1001, 4097});
  for (size_t n : edge_counts) {
    std::vector<double> edges{std::uniform_real_distribution<double>(-1e4, 1e4)(rng)};
    while (edges.size() < n) {
      const double last = edges.back();
      edges.push_back(rng() % 8 == 0 ? std::nextafter(last, kInf) : last + gap(rng));
    }
    const FeatureBins b = FeatureBins::Numeric(edges);
    std::vector<double> probes = {-kInf, kInf, std::nan(""), -1e308, 1e308};
    for (double e : edges) {
      probes.insert(probes.end(), {e, std::nextafter(e, -kInf), std::nextafter(e, kInf)});
    }
    std::uniform_real_distribution<double> inside(edges.front() - 10, edges.back() + 10);
    for (int i = 0; i < 2000; ++i) probes.push_back(inside(rng));
    for (double x : probes) {
      ASSERT_EQ(b.NumericBin(x), ReferenceBin(b, x))
          << "edges=" << n << " x=" << std::setprecision(17) << x;
    }
  }
}

// `count` edge sets as skewed features' quantiles are, into *sets: 2 to 41 lognormal draws
// (log-location -(locations / 2) to locations / 2 - 1, spread 0.5 to 2.5), each at most `cap`,
// sorted and distinct, the first negated in every fifth set; sets left with one edge are dropped.
void AddSkewedEdgeSets(int count, int locations, double cap, std::mt19937_64* rng,
                       std::vector<std::vector<double>>* sets) {
  for (int i = 0; i < count; ++i) {
    std::lognormal_distribution<double> skewed(
        static_cast<double>((*rng)() % static_cast<uint64_t>(locations)) - locations / 2,
        0.5 + (*rng)() % 3);
    std::vector<double> e(2 + (*rng)() % 40);
    for (double& x : e) x = std::min(skewed(*rng), cap);
    if (i % 5 == 0) e[0] = -e[0];
    std::sort(e.begin(), e.end());
    e.erase(std::unique(e.begin(), e.end()), e.end());
    if (e.size() >= 2) sets->push_back(e);
  }
}

TEST(FeatureBinsTest, NumericTableLookupMatchesUpperBound) {
  // The lookup table answers most values from 0 (or e_0) to e_k from the top bits of their
  // representation. Edge sets of every scale and span: quantiles of a skewed distribution, edges
  // a few ulps apart, edges from 1e-300 to 1e300, a negative or zero or negative-zero first edge,
  // 64 interior bins (the most it takes) and 65; probed at every edge, its neighbours, values
  // drawn by value and by representation, and the specials of both signs.
  std::mt19937_64 rng(20261207);
  std::vector<std::vector<double>> sets;
  AddSkewedEdgeSets(200, 7, kInf, &rng, &sets);
  std::vector<double> ulps = {1.0};
  for (int i = 0; i < 20; ++i) ulps.push_back(std::nextafter(ulps.back(), kInf));
  sets.push_back(ulps);
  std::vector<double> wide;
  for (int x = -300; x <= 300; x += 20) wide.push_back(std::pow(10.0, x));
  sets.push_back(wide);
  sets.push_back({0.0, 1e-310, 1e-300, 1.0});  // denormals
  sets.push_back({-0.0, 0.5, 1.0});
  sets.push_back({-5.0, -1.0});      // no positive value: no table
  for (const size_t n : {65, 66}) {  // 64 and 65 interior bins
    std::vector<double> e;
    for (size_t i = 0; i < n; ++i) e.push_back(0.25 * static_cast<double>(i + 1));
    sets.push_back(e);
  }
  size_t with_table = 0;
  for (const std::vector<double>& edges : sets) {
    const FeatureBins b = FeatureBins::Numeric(edges);
    with_table += b.table_buckets() > 0;
    std::vector<double> probes = {-kInf,
                                  kInf,
                                  std::nan(""),
                                  -std::nan(""),
                                  0.0,
                                  -0.0,
                                  1e-320,
                                  -1e-320,
                                  std::numeric_limits<double>::max(),
                                  std::numeric_limits<double>::min()};
    for (double e : edges) {
      probes.insert(probes.end(), {e, std::nextafter(e, -kInf), std::nextafter(e, kInf)});
    }
    std::uniform_real_distribution<double> inside(edges.front(), edges.back());
    const uint64_t low = std::bit_cast<uint64_t>(std::max(edges.front(), 0.0));  // +0 at least
    const uint64_t high = std::bit_cast<uint64_t>(edges.back());
    for (int i = 0; i < 2000; ++i) {
      probes.push_back(inside(rng));
      if (high > low) probes.push_back(std::bit_cast<double>(low + rng() % (high - low + 2)));
    }
    for (double x : probes) {
      ASSERT_EQ(b.NumericBin(x), ReferenceBin(b, x))
          << "edges " << edges.front() << ".." << edges.back() << " (" << edges.size()
          << ") x=" << std::setprecision(17) << x;
    }
  }
  EXPECT_EQ(with_table, sets.size() - 2);  // all but the negative set and 65 bins
  EXPECT_EQ(FeatureBins::Numeric({-5.0, -1.0}).table_buckets(), 0u);
  EXPECT_GT(FeatureBins::Numeric(sets[sets.size() - 2]).table_buckets(), 0u);
  EXPECT_EQ(FeatureBins::Numeric(sets.back()).table_buckets(), 0u);
}

// The decimal N x 10^-(16 + cut) as a JSON number ("12.3456...", "0.000..."), and as a Value:
// its digits at power -16 (N / 10^cut) and whether the cut dropped anything. Worked out here from
// the integer, not by the decoder.
Value DecimalOf(unsigned __int128 n, int cut, std::string* text) {
  std::string digits;
  for (unsigned __int128 x = n; x != 0; x /= 10) digits.insert(digits.begin(), char('0' + x % 10));
  const size_t fraction = static_cast<size_t>(16 + cut);
  if (digits.size() <= fraction) digits.insert(0, fraction + 1 - digits.size(), '0');
  *text =
      digits.substr(0, digits.size() - fraction) + "." + digits.substr(digits.size() - fraction);
  unsigned __int128 scale = 1;
  for (int i = 0; i < cut; ++i) scale *= 10;
  return Value::Decimal(static_cast<uint64_t>(n / scale), n % scale != 0, *text);
}

TEST(FeatureBinsTest, DecimalBinIsTheBinOfTheDoubleStrtodGives) {
  // A decimal is binned from its digits (DecimalBin), never converted but near an edge. Every
  // one must land where its double does: strtod's double, binned by upper_bound. Probed at every
  // edge and at the midpoints to the doubles beside it (where rounding changes the double), at
  // 16 to 19 fraction digits, and at random; over edge sets of every kind a decimal meets:
  // skewed quantiles, edges one ulp apart, zero and negative first edges, edges past 922.3 (digits
  // above 2^63) and past 1000 (no decimal reaches them), tiny edges, and 65 bins (no table).
  std::mt19937_64 rng(20261208);
  std::vector<std::vector<double>> sets;
  AddSkewedEdgeSets(60, 5, 990.0, &rng, &sets);
  std::vector<double> ulps = {0.1};
  for (int i = 0; i < 8; ++i) ulps.push_back(std::nextafter(ulps.back(), kInf));
  sets.push_back(ulps);
  sets.push_back({-0.0, 0.5, 1.0});
  sets.push_back({0.0, 1e-17, 1e-16, 3e-16, 0.3});
  sets.push_back(
      {0.1, 0.2, 0.30000000000000004, 922.0, 922.3372036854775, 950.5, 999.9999999999999});
  sets.push_back({1.5, 999.0, 1000.0, 5000.0});
  sets.push_back({-5.0, -1.0});
  std::vector<double> many;
  for (size_t i = 0; i < 66; ++i) many.push_back(0.125 * static_cast<double>(i + 1));
  sets.push_back(many);
  size_t probed = 0;
  for (const std::vector<double>& edges : sets) {
    const FeatureBins b = FeatureBins::Numeric(edges);
    auto check = [&](unsigned __int128 n, int cut) {
      unsigned __int128 end = kDecimalDigitsEnd;  // a decimal's digits are below this
      for (int i = 0; i < cut; ++i) end *= 10;
      if (n >= end) return;
      std::string text;
      const Value v = DecimalOf(n, cut, &text);
      const double x = std::strtod(text.c_str(), nullptr);
      ASSERT_EQ(b.DecimalBin(v), ReferenceBin(b, x))
          << "edges " << edges.front() << ".." << edges.back() << " (" << edges.size() << ") "
          << text;
      ++probed;
    };
    for (double e : edges) {
      const long double below = std::nextafter(e, -kInf), above = std::nextafter(e, kInf);
      for (const long double center :
           {static_cast<long double>(e), (below + e) / 2, (e + above) / 2}) {
        for (int cut = 0; cut <= 3; ++cut) {
          const long double scaled = center * std::pow(10.0L, 16 + cut);
          if (!(scaled > 0) || scaled > 1e22L) continue;
          const auto n0 = static_cast<unsigned __int128>(scaled);
          for (int d = -40; d <= 40; ++d) {
            if (d < 0 && n0 < static_cast<unsigned __int128>(-d)) continue;
            check(n0 + d, cut);
          }
        }
      }
    }
    for (int i = 0; i < 2000; ++i) {
      const int cut = static_cast<int>(rng() % 4);
      const unsigned __int128 n = (static_cast<unsigned __int128>(rng()) << 64 | rng()) %
                                  (static_cast<unsigned __int128>(kDecimalDigitsEnd) * 1000);
      check(n, cut);
      // and within the edges' span, at power -16
      check(n % static_cast<unsigned __int128>(std::max(edges.back(), 1.0) * 1e16), 0);
    }
  }
  EXPECT_GT(probed, 200000u);
}

TEST(FeatureBinsTest, CategoricalLayout) {
  FeatureBins b = FeatureBins::Categorical({"DE", "FR", "US"});
  ASSERT_EQ(b.size(), 5u);
  EXPECT_EQ(b.CategoryBin("DE"), 0u);
  EXPECT_EQ(b.CategoryBin("US"), 2u);
  EXPECT_EQ(b.CategoryBin("CH"), b.other_bin());
  EXPECT_EQ(b.CategoryBin("us"), b.other_bin());  // case-sensitive
  EXPECT_EQ(b.CategoryBin(""), b.other_bin());
  EXPECT_EQ(b.other_bin(), 3u);
  EXPECT_EQ(b.missing_bin(), 4u);
}

TEST(FeatureBinsTest, Labels) {
  FeatureBins n = FeatureBins::Numeric({0, 0.1, 2});
  EXPECT_EQ(n.BinLabel(0), "[0, 0.1)");
  EXPECT_EQ(n.BinLabel(1), "[0.1, 2]");
  EXPECT_EQ(n.BinLabel(n.underflow_bin()), "underflow");
  EXPECT_EQ(n.BinLabel(n.overflow_bin()), "overflow");
  EXPECT_EQ(n.BinLabel(n.missing_bin()), "missing");
  // The longest shortest forms (24 characters each) fit.
  FeatureBins wide = FeatureBins::Numeric({-1.7976931348623157e308, -2.2250738585072014e-308, 0});
  EXPECT_EQ(wide.BinLabel(0), "[-1.7976931348623157e+308, -2.2250738585072014e-308)");
  FeatureBins c = FeatureBins::Categorical({"a"});
  EXPECT_EQ(c.BinLabel(0), "a");
  EXPECT_EQ(c.BinLabel(c.other_bin()), "other");
}

}  // namespace
}  // namespace driftd
