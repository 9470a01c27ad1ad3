// Core benchmarks (issue 2 targets): recording a numeric observation, evaluating every divergence
// for 10,000 features x 32 bins, and the window's bytes per counter.
#include <benchmark/benchmark.h>

#include <random>

#include "core/bins.h"
#include "core/divergence.h"
#include "core/window.h"

namespace driftd {
namespace {

constexpr uint32_t kFeatures = 10000;
constexpr uint32_t kBins = 32;  // full bin vector: 29 interior + underflow + overflow + missing

std::vector<double> Edges(uint32_t interior) {
  std::vector<double> e;
  for (uint32_t i = 0; i <= interior; ++i) e.push_back(i * 10.0);
  return e;
}

// 65,536 values spread over the edges, the underflow and the overflow, in random order.
std::vector<double> RandomValues(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-10, 300);
  std::vector<double> values(1 << 16);
  for (double& v : values) v = u(rng);
  return values;
}

// Bin lookup + count of one numeric value into a 32-bin feature of a 60-slice window.
void BM_RecordNumeric(benchmark::State& state) {
  FeatureBins bins = FeatureBins::Numeric(Edges(kBins - 3));
  SlidingWindow window({3600, 60}, std::vector<uint32_t>(64, kBins), 0);
  const std::vector<double> values = RandomValues(1);
  uint32_t slot = 0;
  window.Admit(0, &slot);
  size_t i = 0;
  uint32_t feature = 0;
  for (auto _ : state) {
    window.Add(slot, feature, bins.NumericBin(values[i]));
    i = (i + 1) & (values.size() - 1);
    feature = (feature + 1) & 63;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecordNumeric);

// One record of 10 numeric features: admission (slice lookup) once, then 10 bin lookups + counts.
void BM_RecordTenFeatures(benchmark::State& state) {
  std::vector<FeatureBins> bins(10, FeatureBins::Numeric(Edges(kBins - 3)));
  SlidingWindow window({3600, 60}, std::vector<uint32_t>(10, kBins), 1000);
  const std::vector<double> values = RandomValues(2);
  size_t i = 0;
  for (auto _ : state) {
    uint32_t slot;
    if (window.Admit(1000, &slot) == Admission::kAccepted) {
      for (uint32_t f = 0; f < 10; ++f) {
        window.Add(slot, f, bins[f].NumericBin(values[i]));
        i = (i + 1) & (values.size() - 1);
      }
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["values/s"] =
      benchmark::Counter(10.0 * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RecordTenFeatures);

// Every divergence for 10,000 features x 32 bins, from window totals already summed.
void BM_EvaluateAllDivergences(benchmark::State& state) {
  std::mt19937_64 rng(3);
  std::vector<PreparedReference> refs;
  std::vector<std::vector<uint64_t>> windows;
  for (uint32_t f = 0; f < kFeatures; ++f) {
    std::vector<uint64_t> r(kBins), w(kBins);
    for (auto& c : r) c = rng() % 100000;
    for (auto& c : w) c = rng() % 10000;
    refs.emplace_back(r, DivergenceOptions{});
    windows.push_back(std::move(w));
  }
  double sink = 0;
  for (auto _ : state) {
    for (uint32_t f = 0; f < kFeatures; ++f) {
      const Divergences d = refs[f].Compare(windows[f]);
      sink += d.kl_window_to_reference + d.psi + d.js + d.hellinger + d.entropy;
    }
    benchmark::DoNotOptimize(sink);
  }
  state.SetItemsProcessed(state.iterations() * kFeatures);
}
BENCHMARK(BM_EvaluateAllDivergences)->Unit(benchmark::kMillisecond);

// Summing the 60 slices of a 10,000 x 32 window into totals (done once per evaluation), and the
// window's memory per (feature, bin, slice) counter.
void BM_WindowTotals(benchmark::State& state) {
  SlidingWindow window({3600, 60}, std::vector<uint32_t>(kFeatures, kBins), 0);
  std::vector<uint64_t> totals;
  for (auto _ : state) {
    window.Totals(&totals);
    benchmark::DoNotOptimize(totals.data());
  }
  const double counters = static_cast<double>(kFeatures) * kBins * 60;
  state.counters["window_MB"] = static_cast<double>(window.MemoryBytes()) / 1e6;
  state.counters["bytes_per_counter"] = static_cast<double>(window.MemoryBytes()) / counters;
}
BENCHMARK(BM_WindowTotals)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace driftd

BENCHMARK_MAIN();
