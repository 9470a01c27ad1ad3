// Significance of a window's difference from its reference: the G-test. Under "no drift",
// G = 2 n D_KL(P^ || Q) (nats; P^ the window's unsmoothed frequencies, Q the smoothed reference)
// follows a chi-square distribution with K - 1 degrees of freedom, K the number of bins where the
// reference has a non-zero count.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace driftd {

struct Significance {
  double g = 0;               // the G statistic
  uint32_t dof = 0;           // K - 1
  double p_value = 1;         // upper tail of chi-square(dof) at g / Williams' correction
  double kl_noise_floor = 0;  // (K - 1) / (2 n): the KL sampling noise alone gives on average
};

// `q` are the smoothed reference probabilities and `reference` the reference's counts (for K);
// `window` the window's counts. An empty window gives p = 1 and a zero noise floor.
// Thread-safe.
Significance GTest(std::span<const uint64_t> window, std::span<const double> q,
                   std::span<const uint64_t> reference);

// Upper tail of the chi-square distribution with `dof` degrees of freedom at `x` (Boost.Math).
// dof 0 is the point mass at 0: 1 for x <= 0, else 0.
double ChiSquareSurvival(double x, uint32_t dof);

// Benjamini-Hochberg adjusted p-values (the same order as `p`): p_(i) * m / i, made monotone from
// the largest down and capped at 1 (as R's p.adjust(method = "BH") and statsmodels' fdr_bh).
std::vector<double> BenjaminiHochberg(std::span<const double> p);

}  // namespace driftd
