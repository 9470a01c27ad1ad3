#include "core/bins.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

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

TEST(FeatureBinsTest, NumericMatchesLinearScanOnManyEdgeCounts) {
  // The branchless search against the definition, for every edge count from 2 to 40.
  for (int k = 2; k <= 40; ++k) {
    std::vector<double> edges;
    for (int i = 0; i < k; ++i) edges.push_back(i * 1.5 - 7);
    FeatureBins b = FeatureBins::Numeric(edges);
    for (double x = -10; x <= k * 1.5 - 4; x += 0.25) {
      uint32_t want;
      if (x < edges.front()) {
        want = b.underflow_bin();
      } else if (x > edges.back()) {
        want = b.overflow_bin();
      } else if (x == edges.back()) {
        want = static_cast<uint32_t>(k - 2);
      } else {
        want = 0;
        while (!(edges[want] <= x && x < edges[want + 1])) ++want;
      }
      ASSERT_EQ(b.NumericBin(x), want) << "k=" << k << " x=" << x;
    }
  }
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
