// False alarms and detection of the alert policy (issue 4), printed as Markdown tables.
//
// A numeric feature's reference is a sample of 100,000 draws of N(0, 1) in 20 quantile bins, as
// `driftd reference build` makes it. Production windows are drawn from the true N(0, 1) (no
// drift) or from N(0.25, 1) (a shift of a quarter standard deviation), with the bin counts drawn
// from the multinomial of the true bin probabilities.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <span>
#include <vector>

#include "core/alert_policy.h"
#include "core/divergence.h"
#include "core/reference_builder.h"
#include "core/significance.h"

namespace driftd {
namespace {

double NormalCdf(double x, double mean) { return 0.5 * std::erfc(-(x - mean) / std::sqrt(2.0)); }

// True probabilities of the full bin vector (interior, underflow, overflow, missing) for N(mean,
// 1).
std::vector<double> TrueProbabilities(std::span<const double> edges, double mean) {
  std::vector<double> p;
  for (size_t i = 0; i + 1 < edges.size(); ++i) {
    p.push_back(NormalCdf(edges[i + 1], mean) - NormalCdf(edges[i], mean));
  }
  p.push_back(NormalCdf(edges.front(), mean));
  p.push_back(1 - NormalCdf(edges.back(), mean));
  p.push_back(0);
  return p;
}

// Multinomial(n, p) by sequential binomials: K draws whatever n is.
std::vector<uint64_t> Multinomial(std::mt19937_64& rng, uint64_t n, const std::vector<double>& p) {
  std::vector<uint64_t> c(p.size(), 0);
  double left = 1;
  for (size_t i = 0; i < p.size() && n > 0; ++i) {
    const double share = left > 0 ? std::min(1.0, std::max(0.0, p[i] / left)) : 0;
    std::binomial_distribution<uint64_t> b(n, share);
    c[i] = b(rng);
    n -= c[i];
    left -= p[i];
  }
  return c;
}

}  // namespace
}  // namespace driftd

int main() {
  using namespace driftd;
  std::mt19937_64 rng(20261120);
  std::normal_distribution<double> normal(0, 1);
  std::vector<double> train(100000);
  for (double& x : train) x = normal(rng);
  std::vector<double> sorted = train;
  std::sort(sorted.begin(), sorted.end());
  const FeatureBins bins = FeatureBins::Numeric(ComputeEdges(sorted, 20, BinStrategy::kQuantile));
  std::vector<uint64_t> ref(bins.size(), 0);
  for (double x : train) ++ref[bins.NumericBin(x)];
  const DivergenceOptions options;  // alpha 0.5, nats
  const PreparedReference prepared(ref, options);
  const AlertPolicy policy;  // the defaults: KL warning 0.01, critical 0.025, max_p_value 0.01
  const std::vector<double> shifted = TrueProbabilities(bins.edges(), 0.25);

  auto false_alarms = [&](const char* title, const std::vector<double>& source) {
    std::printf("## False alarms: %s\n\n", title);
    std::printf(
        "Reference: 100,000 draws of N(0,1) in %u bins. Alert = KL >= %.3g (warning); "
        "4,000 windows per row.\n\n",
        bins.size(), policy.warning);
    std::printf(
        "| n | KL noise floor (K-1)/2n | mean KL | KL threshold alone | p <= %.2g alone | "
        "driftd (KL threshold and p <= %.2g) |\n",
        *policy.max_p_value, *policy.max_p_value);
    std::printf("|---:|---:|---:|---:|---:|---:|\n");
    for (uint64_t n : {100ull, 1000ull, 10000ull, 100000ull, 1000000ull}) {
      const int trials = 4000;
      const std::vector<double>& no_drift = source;
      int threshold = 0, significant = 0, both = 0;
      double mean_kl = 0;
      for (int t = 0; t < trials; ++t) {
        const std::vector<uint64_t> w = Multinomial(rng, n, no_drift);
        const double kl = prepared.Compare(w).kl_window_to_reference;
        const double p = GTest(w, prepared.probabilities(), ref).p_value;
        mean_kl += kl / trials;
        threshold += kl >= policy.warning;
        significant += p <= *policy.max_p_value;
        both += kl >= policy.warning && p <= *policy.max_p_value;
      }
      const Significance s = GTest(Multinomial(rng, n, no_drift), prepared.probabilities(), ref);
      std::printf("| %llu | %.5f | %.5f | %.2f%% | %.2f%% | %.2f%% |\n",
                  static_cast<unsigned long long>(n), s.kl_noise_floor, mean_kl,
                  100.0 * threshold / trials, 100.0 * significant / trials, 100.0 * both / trials);
    }
    std::printf("\n");
  };
  std::vector<double> empirical;  // the reference histogram itself, r_i / N
  for (uint64_t c : ref) empirical.push_back(static_cast<double>(c) / train.size());
  false_alarms("windows drawn from the reference itself (its histogram r_i / N)", empirical);
  false_alarms("windows drawn from N(0,1), the distribution the reference was sampled from",
               TrueProbabilities(bins.edges(), 0));

  std::printf("## Detection: the mean shifts by 0.25 standard deviations\n\n");
  std::printf(
      "Shifted data streams in at 50 samples per evaluation into an empty window "
      "(min_samples 200, for_evaluations %u, defaults otherwise); 500 runs. True binned "
      "KL of the shift: %.4f nats.\n\n",
      policy.for_evaluations, [&] {
        double kl = 0;
        const auto& q = prepared.probabilities();
        for (size_t i = 0; i < q.size(); ++i) {
          if (shifted[i] > 0) kl += shifted[i] * std::log(shifted[i] / q[i]);
        }
        return kl;
      }());
  std::printf(
      "| level | median samples to reach it | 90th percentile | runs that reached it "
      "within 20,000 |\n|---|---:|---:|---:|\n");
  const int runs = 500;
  std::vector<double> to_warning, to_critical;
  for (int r = 0; r < runs; ++r) {
    std::vector<uint64_t> window(bins.size(), 0);
    FeatureAlertState state;
    double warned = -1, critical = -1;
    for (uint64_t n = 50; n <= 20000 && critical < 0; n += 50) {
      const std::vector<uint64_t> batch = Multinomial(rng, 50, shifted);
      for (size_t i = 0; i < window.size(); ++i) window[i] += batch[i];
      const bool evaluable = n >= 200;
      const double kl = prepared.Compare(window).kl_window_to_reference;
      const double p = GTest(window, prepared.probabilities(), ref).p_value;
      state.Update(policy, {evaluable, kl, p});
      if (warned < 0 && state.level() >= DriftLevel::kWarning) warned = static_cast<double>(n);
      if (critical < 0 && state.level() == DriftLevel::kCritical) critical = static_cast<double>(n);
    }
    if (warned > 0) to_warning.push_back(warned);
    if (critical > 0) to_critical.push_back(critical);
  }
  auto row = [&](const char* name, std::vector<double> v) {
    std::sort(v.begin(), v.end());
    if (v.empty()) {
      std::printf("| %s | never | never | 0%% |\n", name);
      return;
    }
    std::printf("| %s | %.0f | %.0f | %.0f%% |\n", name, v[v.size() / 2], v[v.size() * 9 / 10],
                100.0 * v.size() / runs);
  };
  row("warning", to_warning);
  row("critical", to_critical);
  return 0;
}
