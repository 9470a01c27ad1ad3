#include "core/divergence.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace driftd {

std::vector<double> SmoothedProbabilities(std::span<const uint64_t> counts, double alpha) {
  double n = 0;
  for (uint64_t c : counts) n += static_cast<double>(c);
  const double denom = n + alpha * static_cast<double>(counts.size());
  std::vector<double> p(counts.size());
  for (size_t i = 0; i < counts.size(); ++i) p[i] = (static_cast<double>(counts[i]) + alpha) / denom;
  return p;
}

PreparedReference::PreparedReference(std::span<const uint64_t> counts,
                                     const DivergenceOptions& options)
    : options_(options), q_(SmoothedProbabilities(counts, options.alpha)) {
  ln_q_.resize(q_.size());
  sqrt_q_.resize(q_.size());
  for (size_t i = 0; i < q_.size(); ++i) {
    ln_q_[i] = std::log(q_[i]);
    sqrt_q_[i] = std::sqrt(q_[i]);
    entropy_q_nats_ -= q_[i] * ln_q_[i];
  }
}

Divergences PreparedReference::Compare(std::span<const uint64_t> window) const {
  Divergences d;
  uint64_t n = 0;
  for (uint64_t c : window) n += c;
  d.samples = n;
  if (n == 0) return d;
  d.has_data = true;

  const double alpha = options_.alpha;
  const double denom = static_cast<double>(n) + alpha * static_cast<double>(window.size());
  double entropy = 0, cross = 0, reverse_cross = 0, kl_pq = 0, kl_qp = 0, psi = 0, js = 0, hell = 0;
  for (size_t i = 0; i < window.size(); ++i) {
    const double p = (static_cast<double>(window[i]) + alpha) / denom;
    const double q = q_[i];
    const double ln_p = std::log(p);
    const double r = std::log(p / q);                // ln(p/q), exact near p == q
    const double s = std::log(2.0 * p / (p + q));    // ln(p/m) with m = (p+q)/2
    entropy -= p * ln_p;
    cross -= p * ln_q_[i];
    reverse_cross -= q * ln_p;
    kl_pq += p * r;
    kl_qp -= q * r;
    psi += (p - q) * r;
    js += p * s + q * (s - r);  // p ln(p/m) + q ln(q/m)
    const double h = std::sqrt(p) - sqrt_q_[i];
    hell += h * h;
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
  return d;
}

}  // namespace driftd
