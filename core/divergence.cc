#include "core/divergence.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#if defined(__x86_64__) && defined(__GLIBC__) && !defined(DRIFTD_NO_MULTIVERSIONING)
#define DRIFTD_HAVE_MVEC 1
#include <immintrin.h>
// glibc's libmvec: four natural logarithms at once, within 4 ulp (glibc's libmvec-ulps).
extern "C" __attribute__((target("avx2,fma"))) __m256d _ZGVdN4v_log(__m256d);
#endif

namespace driftd {
namespace {

#ifdef DRIFTD_HAVE_MVEC
__attribute__((target("avx2,fma"))) void LogInPlaceAvx2(double* x, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) _mm256_storeu_pd(x + i, _ZGVdN4v_log(_mm256_loadu_pd(x + i)));
  for (; i < n; ++i) x[i] = std::log(x[i]);
}
#endif

// x[i] = ln(x[i]) for i < n: four at a time where the CPU has AVX2, one at a time elsewhere.
void LogInPlace(double* x, size_t n) {
#ifdef DRIFTD_HAVE_MVEC
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2) return LogInPlaceAvx2(x, n);
#endif
  for (size_t i = 0; i < n; ++i) x[i] = std::log(x[i]);
}

}  // namespace

std::vector<double> SmoothedProbabilities(std::span<const uint64_t> counts, double alpha) {
  double n = 0;
  for (uint64_t c : counts) n += static_cast<double>(c);
  // Multiplying by the inverse, exactly as Compare() does for the window, so equal counts give
  // bit-identical probabilities (and a divergence of exactly 0).
  const double inv_denom = 1.0 / (n + alpha * static_cast<double>(counts.size()));
  std::vector<double> p(counts.size());
  for (size_t i = 0; i < counts.size(); ++i) {
    p[i] = (static_cast<double>(counts[i]) + alpha) * inv_denom;
  }
  return p;
}

PreparedReference::PreparedReference(std::span<const uint64_t> counts,
                                     const DivergenceOptions& options)
    : options_(options), q_(SmoothedProbabilities(counts, options.smoothing)) {
  ln_q_.resize(q_.size());
  for (size_t i = 0; i < q_.size(); ++i) {
    ln_q_[i] = std::log(q_[i]);
    entropy_q_nats_ -= q_[i] * ln_q_[i];
  }
}

#if defined(__x86_64__) && !defined(DRIFTD_NO_MULTIVERSIONING) && !defined(__clang__)
// Compiled twice, for AVX2+FMA CPUs and for the baseline, and picked when the program loads.
// (GCC only: clang 14 emits no resolver for a multiversioned member function.)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
Divergences
PreparedReference::Compare(std::span<const uint64_t> window) const {
  Divergences d;
  uint64_t n = 0;
  for (uint64_t c : window) n += c;
  d.samples = n;
  if (n == 0) return d;
  d.has_data = true;

  const double alpha = options_.smoothing;
  const double inv_denom =
      1.0 / (static_cast<double>(n) + alpha * static_cast<double>(window.size()));
  double entropy = 0, cross = 0, reverse_cross = 0, kl_pq = 0, kl_qp = 0, psi = 0, js = 0, hell = 0;
  double l1 = 0, linf = 0;
  // Two logarithms per bin. r = ln(p/q) is taken directly (not ln p - ln q) so it keeps full
  // relative precision when p is close to q, which is where KL, PSI and JS are small; ln p is then
  // ln q + r, accurate to rounding in absolute terms, which is what H(P) needs. The bins go in
  // blocks: the arguments first, then a tight loop of logarithms, then the sums, so the log calls
  // do not force the accumulators out of registers.
  constexpr size_t kBlock = 64;
  double p[kBlock], r[kBlock], s[kBlock];
  for (size_t base = 0; base < window.size(); base += kBlock) {
    const size_t len = std::min(kBlock, window.size() - base);
    const double* q = q_.data() + base;
    for (size_t i = 0; i < len; ++i) {
      p[i] = (static_cast<double>(window[base + i]) + alpha) * inv_denom;
      r[i] = p[i] / q[i];
      s[i] = 2.0 * p[i] / (p[i] + q[i]);  // p/m with m = (p+q)/2
    }
    LogInPlace(r, len);
    LogInPlace(s, len);
    const double* ln_q = ln_q_.data() + base;
    for (size_t i = 0; i < len; ++i) {
      const double ln_p = ln_q[i] + r[i];
      entropy -= p[i] * ln_p;
      cross -= p[i] * ln_q[i];
      reverse_cross -= q[i] * ln_p;
      kl_pq += p[i] * r[i];
      kl_qp -= q[i] * r[i];
      psi += (p[i] - q[i]) * r[i];
      js += p[i] * s[i] + q[i] * (s[i] - r[i]);  // p ln(p/m) + q ln(q/m)
      // sqrt(q) again rather than held: correctly rounded, so the same bits, and 8 bytes per bin
      // less for every feature (issue 14's 10,000-feature memory bound).
      const double h = std::sqrt(p[i]) - std::sqrt(q[i]);
      hell += h * h;
      const double diff = std::abs(p[i] - q[i]);
      l1 += diff;
      linf = std::max(linf, diff);
    }
  }
  const double scale = options_.base == LogBase::kTwo ? 1.0 / std::numbers::ln2 : 1.0;
  d.entropy = entropy * scale;
  d.cross_entropy = cross * scale;
  // The divergences are >= 0 in exact arithmetic; rounding can leave -1e-17 when P == Q.
  d.kl_window_to_reference = std::max(0.0, kl_pq) * scale;
  d.kl_reference_to_window = std::max(0.0, kl_qp) * scale;
  d.reference_entropy = entropy_q_nats_ * scale;
  d.reference_cross_entropy = reverse_cross * scale;
  d.psi = std::max(0.0, psi);
  d.js = std::max(0.0, 0.5 * js) * scale;
  d.hellinger = std::sqrt(0.5 * hell);
  d.tvd = 0.5 * l1;
  d.linf = linf;
  return d;
}

}  // namespace driftd
