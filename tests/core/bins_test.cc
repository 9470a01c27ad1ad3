#include "core/bins.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <random>
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
  const std::vector<double>& e = b.edges();
  if (std::isnan(x)) return b.missing_bin();
  if (x < e.front()) return b.underflow_bin();
  if (x > e.back()) return b.overflow_bin();
  if (x == e.back()) return static_cast<uint32_t>(e.size() - 2);
  return static_cast<uint32_t>(std::upper_bound(e.begin(), e.end(), x) - e.begin() - 1);
}

// Probes `b` at every edge, its neighbours, random points around the edges and the specials.
void ExpectMatchesUpperBound(const FeatureBins& b, std::mt19937_64& rng) {
  const std::vector<double>& edges = b.edges();
  std::vector<double> probes = {-kInf, kInf, std::nan(""), -1e308, 1e308, 0.0, -0.0};
  for (double e : edges) {
    probes.insert(probes.end(), {e, std::nextafter(e, -kInf), std::nextafter(e, kInf)});
  }
  // Points between each pair of neighbouring edges, and over the whole range and a bit beyond.
  for (size_t i = 0; i + 1 < edges.size(); ++i) {
    probes.push_back(edges[i] + (edges[i + 1] - edges[i]) / 2);
  }
  const double span = edges.back() - edges.front();
  if (std::isfinite(span)) {
    std::uniform_real_distribution<double> inside(edges.front() - span / 10,
                                                  edges.back() + span / 10);
    for (int i = 0; i < 2000; ++i) probes.push_back(inside(rng));
  }
  for (double x : probes) {
    ASSERT_EQ(b.NumericBin(x), ReferenceBin(b, x))
        << "edges=" << edges.size() << " from " << std::setprecision(17) << edges.front() << " to "
        << edges.back() << " x=" << x;
  }
}

TEST(FeatureBinsTest, NumericMatchesUpperBoundWithAndWithoutTheGrid) {
  // Random strictly increasing edges (some gaps of one ulp), with bin counts on both sides of
  // kGridBinsMax: up to it NumericBin starts from the grid, above it a binary search runs.
  std::mt19937_64 rng(20241120);
  std::uniform_real_distribution<double> gap(1e-3, 100);
  std::vector<size_t> edge_counts;
  for (size_t n = 2; n <= 80; ++n) edge_counts.push_back(n);
  edge_counts.insert(edge_counts.end(),
                     {255, 256, 257, 1000, 1001, 4097, FeatureBins::kGridBinsMax + 1,
                      FeatureBins::kGridBinsMax + 2});
  for (size_t n : edge_counts) {
    std::vector<double> edges{std::uniform_real_distribution<double>(-1e4, 1e4)(rng)};
    while (edges.size() < n) {
      const double last = edges.back();
      edges.push_back(rng() % 8 == 0 ? std::nextafter(last, kInf) : last + gap(rng));
    }
    ExpectMatchesUpperBound(FeatureBins::Numeric(edges), rng);
  }
}

TEST(FeatureBinsTest, NumericMatchesUpperBoundOnSkewedAndExtremeRanges) {
  std::mt19937_64 rng(20261206);
  // Quantile edges of a heavy tail: most edges crowd into the first few grid cells.
  std::vector<double> tail;
  for (int i = 0; i <= 40; ++i) tail.push_back(std::exp(i * i / 40.0) - 1);
  ExpectMatchesUpperBound(FeatureBins::Numeric(tail), rng);
  // A range too wide to scale (e_k - e_0 overflows): no grid.
  ExpectMatchesUpperBound(FeatureBins::Numeric({-1.7e308, -1, 0, 1, 1.7e308}), rng);
  // A range of a few subnormals: cells per unit overflow, no grid.
  const double tiny = std::numeric_limits<double>::denorm_min();
  ExpectMatchesUpperBound(FeatureBins::Numeric({0, tiny, 2 * tiny, 5 * tiny}), rng);
  // Edges one ulp apart around a large value, and around zero.
  std::vector<double> ulps{1e15};
  while (ulps.size() < 30) ulps.push_back(std::nextafter(ulps.back(), kInf));
  ExpectMatchesUpperBound(FeatureBins::Numeric(ulps), rng);
  ExpectMatchesUpperBound(FeatureBins::Numeric({-tiny, 0, tiny}), rng);
  // Two edges.
  ExpectMatchesUpperBound(FeatureBins::Numeric({-3, 7}), rng);
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
