#include "core/significance.h"

#include <algorithm>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <numeric>

namespace driftd {

double ChiSquareSurvival(double x, uint32_t dof) {
  if (dof == 0) return x <= 0 ? 1.0 : 0.0;
  if (!(x > 0)) return 1.0;
  if (std::isinf(x)) return 0.0;
  return boost::math::gamma_q(0.5 * dof, 0.5 * x);
}

Significance GTest(std::span<const uint64_t> window, std::span<const double> q,
                   std::span<const uint64_t> reference) {
  Significance s;
  uint32_t k = 0;
  for (uint64_t c : reference) k += c > 0;
  s.dof = k > 0 ? k - 1 : 0;
  uint64_t n = 0;
  for (uint64_t c : window) n += c;
  if (n == 0) return s;
  const double nd = static_cast<double>(n);
  double kl = 0;  // D_KL(P^ || Q): empty bins contribute 0
  for (size_t i = 0; i < window.size(); ++i) {
    if (window[i] == 0) continue;
    const double p = static_cast<double>(window[i]) / nd;
    kl += p * std::log(p / q[i]);
  }
  s.g = std::max(0.0, 2.0 * nd * kl);
  s.p_value = ChiSquareSurvival(s.g, s.dof);
  s.kl_noise_floor = static_cast<double>(s.dof) / (2.0 * nd);
  return s;
}

std::vector<double> BenjaminiHochberg(std::span<const double> p) {
  const size_t m = p.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> adjusted(m);
  double running = 1.0;
  for (size_t r = m; r-- > 0;) {
    const size_t i = order[r];
    running = std::min(running, p[i] * static_cast<double>(m) / static_cast<double>(r + 1));
    adjusted[i] = std::min(1.0, running);
  }
  return adjusted;
}

}  // namespace driftd
