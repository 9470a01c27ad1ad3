// Divergences between a window distribution P and a reference distribution Q over the same bins.
// Both are smoothed additively: p_i = (c_i + alpha) / (n + alpha * K), so every result is finite.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace driftd {

enum class LogBase { kE, kTwo };

// Which way the KL divergence (and with it entropy and cross-entropy) is reported.
enum class KlDirection { kWindowToReference, kReferenceToWindow };
// "window_to_reference" or "reference_to_window", as configured and shown in /api/v1/status.
inline const char* KlDirectionName(KlDirection d) {
  return d == KlDirection::kReferenceToWindow ? "reference_to_window" : "window_to_reference";
}

struct DivergenceOptions {
  // The additive smoothing alpha on every bin of both distributions (evaluation.smoothing); > 0.
  double smoothing = 0.5;
  LogBase base = LogBase::kE;  // for KL, entropy, cross-entropy and JS; PSI is always in nats
};

// Every divergence of one feature. When `samples` is 0 the window holds no data: `has_data` is
// false and the values are 0 and must not be reported.
struct Divergences {
  bool has_data = false;
  uint64_t samples = 0;
  double kl_window_to_reference = 0;   // D_KL(P || Q)
  double kl_reference_to_window = 0;   // D_KL(Q || P)
  double entropy = 0;                  // H(P)
  double cross_entropy = 0;            // H(P, Q) = H(P) + D_KL(P || Q)
  double reference_entropy = 0;        // H(Q)
  double reference_cross_entropy = 0;  // H(Q, P) = H(Q) + D_KL(Q || P)
  double psi = 0;                      // sum (p_i - q_i) ln(p_i / q_i), nats
  double js = 0;                       // Jensen-Shannon divergence
  double hellinger = 0;                // sqrt(1/2 sum (sqrt p_i - sqrt q_i)^2), in [0, 1]
  double tvd = 0;                      // total variation: 1/2 sum |p_i - q_i|, in [0, 1]
  double linf = 0;                     // L-infinity: max |p_i - q_i|, in [0, 1]
};

// The reference side of the computation, prepared once per feature so an evaluation only takes
// logarithms of the window side. Immutable; safe to share across threads.
class PreparedReference {
 public:
  // `counts` is the reference's full bin vector. Requires options.smoothing > 0 and counts
  // non-empty.
  PreparedReference(std::span<const uint64_t> counts, const DivergenceOptions& options);

  size_t bins() const { return q_.size(); }
  // Heap bytes a PreparedReference of `bins` bins holds (two doubles per bin).
  static size_t HeapBytesFor(size_t bins) { return 2 * bins * sizeof(double); }
  const std::vector<double>& probabilities() const { return q_; }
  const DivergenceOptions& options() const { return options_; }

  // All divergences of the window counts `window` (same bins, same order) against this reference.
  // Thread-safe; allocation-free.
  Divergences Compare(std::span<const uint64_t> window) const;

 private:
  DivergenceOptions options_;
  std::vector<double> q_, ln_q_;
  double entropy_q_nats_ = 0;
};

// Smoothed probabilities of `counts`: (c_i + alpha) / (n + alpha * K).
std::vector<double> SmoothedProbabilities(std::span<const uint64_t> counts, double alpha);

}  // namespace driftd
