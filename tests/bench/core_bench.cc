// Core benchmarks (issue 2 targets): recording a numeric observation, evaluating every divergence
// for 10,000 features x 32 bins, and the window's bytes per counter.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>
#include <string>

#include "core/bins.h"
#include "core/checkpoint.h"
#include "core/divergence.h"
#include "core/monitor.h"
#include "core/window.h"
#include "core/window_set.h"

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

// The windows of the benchmarks: one hour (the default), or 5 minutes, an hour and a day.
std::vector<NamedWindow> BenchWindows(int count) {
  if (count == 1) return {{"1h", {3600, 60}}};
  return {{"5m", {300, 30}}, {"1h", {3600, 60}}, {"1d", {86400, 96}}};
}

// Monitor::Apply of one record of 10 numeric features, with 1 or 3 windows: the ingest cost of a
// value must not grow with the windows (a value is counted once, in the shortest window).
void BM_ApplyRecordWindows(benchmark::State& state) {
  Reference ref;
  ref.model = "m";
  ref.sha256 = "bench";
  std::vector<std::string> names;
  for (int f = 0; f < 10; ++f) {
    names.push_back("f" + std::to_string(f));
    ref.features.push_back(
        {names.back(), FeatureBins::Numeric(Edges(kBins - 3)), std::vector<uint64_t>(kBins, 10)});
  }
  MonitorOptions o;
  o.windows = BenchWindows(static_cast<int>(state.range(0)));
  Monitor m(o, {std::move(ref)}, 1000);
  const std::vector<double> values = RandomValues(4);
  std::vector<Record> records(256);
  size_t i = 0;
  for (Record& r : records) {
    r.model = "m";
    for (const std::string& n : names) {
      r.fields.push_back({n, {Value::Kind::kNumber, values[i++ & (values.size() - 1)], {}}});
    }
  }
  Monitor::Batch batch;
  size_t k = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(m.Apply(records[k], 1000, &batch));
    k = (k + 1) & 255;
  }
  batch.Release();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ApplyRecordWindows)->Arg(1)->Arg(3);

// A model of 10,000 numeric features of 32 bins, every one of its 60 slices holding data.
std::unique_ptr<Monitor> FullMonitor(double now, int windows = 1) {
  Reference ref;
  ref.model = "m";
  ref.sha256 = "bench";
  for (uint32_t f = 0; f < kFeatures; ++f) {
    char name[16];
    std::snprintf(name, sizeof name, "f%05u", f);
    ref.features.push_back(
        {name, FeatureBins::Numeric(Edges(kBins - 3)), std::vector<uint64_t>(kBins, 10)});
  }
  MonitorOptions o;
  o.windows = BenchWindows(windows);
  const double span = o.windows.back().options.length_seconds;
  auto m = std::make_unique<Monitor>(o, std::vector<Reference>{std::move(ref)}, now - span);
  const std::vector<double> values = RandomValues(7);
  Record r;
  r.model = "m";
  std::vector<std::string> names;
  for (uint32_t f = 0; f < kFeatures; f += 100) {
    names.push_back("f" + std::to_string(100000 + f).substr(1));  // f00000, f00100, ...
  }
  const int slices = static_cast<int>(o.windows.back().options.slices);
  const double slice_seconds = o.windows.back().options.slice_seconds();
  for (int slice = 0; slice < slices; ++slice) {
    const double t = now - span + slice * slice_seconds + 1;
    for (int i = 0; i < 50; ++i) {
      r.fields.clear();
      for (size_t k = 0; k < names.size(); ++k) {
        const double v = values[(i * 101 + k) % values.size()];
        r.fields.push_back({names[k], {Value::Kind::kNumber, v, {}}});
      }
      m->Apply(r, t);
    }
  }
  return m;
}

// Monitor::Evaluate of 10,000 features x 32 bins with 1 window (1h) or 3 (5m, 1h, 1d), every
// slice holding data: the slices summed and every divergence of every window; window_MB is what
// the windows hold.
void BM_EvaluateWindows(benchmark::State& state) {
  const double now = 1'700'000'000;
  const int windows = static_cast<int>(state.range(0));
  auto m = FullMonitor(now, windows);
  double t = now;
  for (auto _ : state) {
    t += 1;
    benchmark::DoNotOptimize(m->Evaluate(t));
  }
  state.counters["window_MB"] =
      static_cast<double>(Monitor::EstimateMemory(m->options(), {}).windows +
                          WindowSet::MemoryBytesFor(
                              [&] {
                                std::vector<WindowOptions> tiers;
                                for (const NamedWindow& w : m->options().windows)
                                  tiers.push_back(w.options);
                                return tiers;
                              }(),
                              size_t{kFeatures} * kBins + 1, kFeatures + 1)) /
      1e6;
}
BENCHMARK(BM_EvaluateWindows)->Arg(1)->Arg(3)->Unit(benchmark::kMillisecond);

// Monitor::Checkpoint of 10,000 features x 32 bins x 60 slices: the copy of the live slices, taken
// under the model's lock (lock_ms: the longest a model's lock was held, which is what ingest of
// that model waits for).
void BM_CheckpointTake(benchmark::State& state) {
  const double now = 1'732'060'800;
  auto m = FullMonitor(now);
  double lock = 0, longest = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    auto saved = m->Checkpoint(&lock);
    longest = std::max(longest, lock);
    bytes = 0;
    for (const auto& tier : saved[0].slices) {
      for (const auto& slice : tier) bytes += slice.second.size() * sizeof(uint32_t);
    }
    benchmark::DoNotOptimize(saved.data());
  }
  state.counters["lock_ms_max"] = longest * 1e3;
  state.counters["window_MB"] = static_cast<double>(bytes) / 1e6;
}
BENCHMARK(BM_CheckpointTake)->Unit(benchmark::kMillisecond);

// The rest of a checkpoint, with no lock held: encoding (with its SHA-256) and restoring.
void BM_CheckpointEncode(benchmark::State& state) {
  const double now = 1'732'060'800;
  auto m = FullMonitor(now);
  const CheckpointFile file{now, m->Checkpoint()};
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string encoded = EncodeCheckpoint(file);
    bytes = encoded.size();
    benchmark::DoNotOptimize(encoded.data());
  }
  state.counters["file_MB"] = static_cast<double>(bytes) / 1e6;
}
BENCHMARK(BM_CheckpointEncode)->Unit(benchmark::kMillisecond);

void BM_CheckpointDecodeAndRestore(benchmark::State& state) {
  const double now = 1'732'060'800;
  auto m = FullMonitor(now);
  const std::string encoded = EncodeCheckpoint({now, m->Checkpoint()});
  auto target = FullMonitor(now);
  for (auto _ : state) {
    std::string error;
    const auto file = DecodeCheckpoint(encoded, &error);
    uint64_t records = 0;
    if (!file || !target->Restore(file->models[0], now, &records, &error)) {
      state.SkipWithError(error.c_str());
      break;
    }
    benchmark::DoNotOptimize(records);
  }
}
BENCHMARK(BM_CheckpointDecodeAndRestore)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace driftd

BENCHMARK_MAIN();
