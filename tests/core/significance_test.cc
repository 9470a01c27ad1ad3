#include "core/significance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/divergence.h"

namespace driftd {
namespace {

TEST(ChiSquareTest, KnownValues) {
  // The 5% critical value of chi-square(1) is 3.841458820694124.
  EXPECT_NEAR(ChiSquareSurvival(3.841458820694124, 1), 0.05, 1e-12);
  // With 2 degrees of freedom the survival function is exp(-x/2).
  EXPECT_NEAR(ChiSquareSurvival(2.0, 2), std::exp(-1.0), 1e-15);
  EXPECT_NEAR(ChiSquareSurvival(10.0, 2), std::exp(-5.0), 1e-15);
  EXPECT_EQ(ChiSquareSurvival(0, 5), 1.0);
  EXPECT_EQ(ChiSquareSurvival(INFINITY, 5), 0.0);
  EXPECT_EQ(ChiSquareSurvival(0, 0), 1.0);
  EXPECT_EQ(ChiSquareSurvival(1, 0), 0.0);
}

TEST(BenjaminiHochbergTest, ByHand) {
  // m = 4, sorted p: 0.01 0.02 0.03 0.5 -> 0.04, 0.04, 0.04, 0.5 (monotone from the top).
  const std::vector<double> p = {0.03, 0.5, 0.01, 0.02};
  const std::vector<double> a = BenjaminiHochberg(p);
  ASSERT_EQ(a.size(), 4u);
  EXPECT_DOUBLE_EQ(a[0], 0.04);
  EXPECT_DOUBLE_EQ(a[1], 0.5);
  EXPECT_DOUBLE_EQ(a[2], 0.04);
  EXPECT_DOUBLE_EQ(a[3], 0.04);
  // Capped at 1, and an empty input is fine.
  EXPECT_DOUBLE_EQ(BenjaminiHochberg(std::vector<double>{0.9, 0.95})[0], 0.95);
  EXPECT_TRUE(BenjaminiHochberg(std::vector<double>{}).empty());
}

TEST(GTestTest, ByHand) {
  // Reference counts {1, 1} with alpha 0.5: q = {0.5, 0.5}. Window {3, 1}: p^ = {0.75, 0.25}.
  const std::vector<uint64_t> ref = {1, 1}, win = {3, 1};
  const std::vector<double> q = SmoothedProbabilities(ref, 0.5);
  const Significance s = GTest(win, q, ref);
  const double g = 2 * 4 * (0.75 * std::log(1.5) + 0.25 * std::log(0.5));
  EXPECT_NEAR(s.g, g, 1e-14);
  EXPECT_EQ(s.dof, 1u);
  EXPECT_NEAR(s.kl_noise_floor, 1.0 / 8, 1e-15);
  // Williams' correction with K = 2, n = 4: 1 + 3 / 24.
  EXPECT_NEAR(s.p_value, ChiSquareSurvival(g / (1 + 3.0 / 24), 1), 1e-15);
  // Bins the reference never saw do not add degrees of freedom.
  const std::vector<uint64_t> ref0 = {5, 0, 5};
  EXPECT_EQ(GTest(std::vector<uint64_t>{1, 0, 1}, SmoothedProbabilities(ref0, 0.5), ref0).dof, 1u);
  // An empty window is not evidence of anything.
  EXPECT_EQ(GTest(std::vector<uint64_t>{0, 0}, q, ref).p_value, 1.0);
}

// Under "no drift" (windows drawn from Q itself) the p-values are uniform: every decile holds
// about a tenth of them, and the 1% and 5% tails hold about 1% and 5%.
TEST(GTestTest, PValuesAreUniformUnderNoDrift) {
  std::mt19937_64 rng(20261120);
  const std::vector<uint64_t> ref = {500, 1200, 3000, 2500, 1500, 800, 300, 150, 40, 10};
  const std::vector<double> q = SmoothedProbabilities(ref, 0.5);
  std::discrete_distribution<size_t> draw(q.begin(), q.end());
  constexpr int kWindows = 4000, kSamples = 2000;
  std::vector<int> deciles(10, 0);
  int below_1 = 0, below_5 = 0;
  for (int w = 0; w < kWindows; ++w) {
    std::vector<uint64_t> win(ref.size(), 0);
    for (int i = 0; i < kSamples; ++i) ++win[draw(rng)];
    const double p = GTest(win, q, ref).p_value;
    ++deciles[std::min(9, static_cast<int>(p * 10))];
    below_1 += p < 0.01;
    below_5 += p < 0.05;
  }
  // Binomial standard deviations: sqrt(4000 * .1 * .9) = 19; 4 sigma bounds.
  for (int d = 0; d < 10; ++d) {
    EXPECT_NEAR(deciles[d], kWindows / 10, 4 * 19) << "decile " << d;
  }
  EXPECT_NEAR(below_5, 0.05 * kWindows, 4 * std::sqrt(kWindows * 0.05 * 0.95));
  EXPECT_NEAR(below_1, 0.01 * kWindows, 4 * std::sqrt(kWindows * 0.01 * 0.99));
}

}  // namespace
}  // namespace driftd
