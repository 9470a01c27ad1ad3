// Hand-worked values; the randomised comparison with scipy is check_divergences.py.
#include "core/divergence.h"

#include <gtest/gtest.h>

#include <cmath>

namespace driftd {
namespace {

TEST(DivergenceTest, EmptyWindowIsNoData) {
  PreparedReference ref(std::vector<uint64_t>{10, 20, 30}, {});
  Divergences d = ref.Compare(std::vector<uint64_t>{0, 0, 0});
  EXPECT_FALSE(d.has_data);
  EXPECT_EQ(d.samples, 0u);
  EXPECT_EQ(d.kl_window_to_reference, 0);
}

TEST(DivergenceTest, TwoBinsByHand) {
  // alpha = 0.5: window {1, 3} -> p = {1.5, 3.5} / 5 = {0.3, 0.7};
  // reference {3, 1} -> q = {0.7, 0.3}.
  DivergenceOptions o;
  PreparedReference ref(std::vector<uint64_t>{3, 1}, o);
  Divergences d = ref.Compare(std::vector<uint64_t>{1, 3});
  ASSERT_TRUE(d.has_data);
  EXPECT_EQ(d.samples, 4u);
  const double kl = 0.3 * std::log(0.3 / 0.7) + 0.7 * std::log(0.7 / 0.3);
  EXPECT_NEAR(d.kl_window_to_reference, kl, 1e-15);
  EXPECT_NEAR(d.kl_reference_to_window, kl, 1e-15);  // symmetric here by construction
  const double h = -(0.3 * std::log(0.3) + 0.7 * std::log(0.7));
  EXPECT_NEAR(d.entropy, h, 1e-15);
  EXPECT_NEAR(d.cross_entropy, -(0.3 * std::log(0.7) + 0.7 * std::log(0.3)), 1e-15);
  EXPECT_NEAR(d.cross_entropy, d.entropy + d.kl_window_to_reference, 1e-15);
  EXPECT_NEAR(d.psi, (0.3 - 0.7) * std::log(0.3 / 0.7) + (0.7 - 0.3) * std::log(0.7 / 0.3), 1e-15);
  // m = {0.5, 0.5}
  const double js = 0.5 * (0.3 * std::log(0.6) + 0.7 * std::log(1.4)) +
                    0.5 * (0.7 * std::log(1.4) + 0.3 * std::log(0.6));
  EXPECT_NEAR(d.js, js, 1e-15);
  const double hd = std::sqrt(0.5 * 2 * std::pow(std::sqrt(0.3) - std::sqrt(0.7), 2));
  EXPECT_NEAR(d.hellinger, hd, 1e-15);
  // |p - q| = {0.4, 0.4}
  EXPECT_NEAR(d.tvd, 0.4, 1e-15);
  EXPECT_NEAR(d.linf, 0.4, 1e-15);
}

TEST(DivergenceTest, TotalVariationAndLInfinityByHand) {
  // alpha = 1: window {0, 2, 5} -> p = {1, 3, 6} / 10; reference {3, 3, 1} -> q = {4, 4, 2} / 10.
  DivergenceOptions o;
  o.smoothing = 1;
  Divergences d =
      PreparedReference(std::vector<uint64_t>{3, 3, 1}, o).Compare(std::vector<uint64_t>{0, 2, 5});
  // |p - q| = {0.3, 0.1, 0.4}: half the sum, and the largest.
  EXPECT_NEAR(d.tvd, 0.4, 1e-15);
  EXPECT_NEAR(d.linf, 0.4, 1e-15);
  o.smoothing = 0.5;
  d = PreparedReference(std::vector<uint64_t>{1, 3, 5, 1}, o)
          .Compare(std::vector<uint64_t>{2, 2, 3, 3});
  // Four bins where the largest difference is not half the sum: p = {2.5, 2.5, 3.5, 3.5} / 12,
  // q = {1.5, 3.5, 5.5, 1.5} / 12, |p - q| = {1, 1, 2, 2} / 12.
  EXPECT_NEAR(d.tvd, 3.0 / 12, 1e-15);
  EXPECT_NEAR(d.linf, 2.0 / 12, 1e-15);
}

TEST(DivergenceTest, BitsScaleEverythingButPsi) {
  DivergenceOptions nats, bits;
  bits.base = LogBase::kTwo;
  std::vector<uint64_t> r{5, 9, 0, 2}, w{1, 0, 7, 3};
  Divergences a = PreparedReference(r, nats).Compare(w);
  Divergences b = PreparedReference(r, bits).Compare(w);
  EXPECT_NEAR(b.kl_window_to_reference, a.kl_window_to_reference / std::log(2), 1e-14);
  EXPECT_NEAR(b.entropy, a.entropy / std::log(2), 1e-14);
  EXPECT_NEAR(b.js, a.js / std::log(2), 1e-14);
  EXPECT_DOUBLE_EQ(b.psi, a.psi);
  EXPECT_DOUBLE_EQ(b.hellinger, a.hellinger);
  EXPECT_DOUBLE_EQ(b.tvd, a.tvd);
  EXPECT_DOUBLE_EQ(b.linf, a.linf);
  EXPECT_LE(b.js, 1.0);  // JS in bits is bounded by 1
}

TEST(DivergenceTest, IdenticalDistributionsAreZeroNotNegative) {
  std::vector<uint64_t> c{7, 11, 13, 17, 19, 23};
  Divergences d = PreparedReference(c, {}).Compare(c);
  EXPECT_EQ(d.kl_window_to_reference, 0);
  EXPECT_GE(d.psi, 0);
  EXPECT_GE(d.js, 0);
  EXPECT_LT(d.js, 1e-16);
  EXPECT_LT(d.hellinger, 1e-8);
  EXPECT_EQ(d.tvd, 0);  // bit-identical probabilities
  EXPECT_EQ(d.linf, 0);
}

TEST(DivergenceTest, DisjointSupportStaysFinite) {
  // The window puts everything where the reference has nothing: smoothing keeps it finite.
  Divergences d = PreparedReference(std::vector<uint64_t>{1000000, 0}, {})
                      .Compare(std::vector<uint64_t>{0, 1000000});
  EXPECT_TRUE(std::isfinite(d.kl_window_to_reference));
  EXPECT_TRUE(std::isfinite(d.psi));
  EXPECT_GT(d.kl_window_to_reference, 10);
  EXPECT_LE(d.js, std::log(2) + 1e-15);
  EXPECT_LE(d.hellinger, 1.0);
  EXPECT_LE(d.tvd, 1.0);
  EXPECT_GT(d.tvd, 0.99);    // almost all the mass moved
  EXPECT_EQ(d.linf, d.tvd);  // two bins: one gains what the other loses
}

TEST(DivergenceTest, SmoothedProbabilities) {
  auto p = SmoothedProbabilities(std::vector<uint64_t>{0, 1, 2}, 1.0);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_DOUBLE_EQ(p[0], 1.0 / 6);
  EXPECT_DOUBLE_EQ(p[1], 2.0 / 6);
  EXPECT_DOUBLE_EQ(p[2], 3.0 / 6);
}

}  // namespace
}  // namespace driftd
