// Decoder benchmarks: ns per record for 10-feature NDJSON and 10-field line-protocol lines (the
// ingest budget is 1.5 M records/s on one core including socket I/O, so decoding must stay well
// under 300 ns), and for the whole path of a read (BM_FeedNdjsonBenchmarkRecords). Lines cycle
// through 1024 variants with random values so that branch predictors do not learn one line.
#include <benchmark/benchmark.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/monitor.h"
#include "core/reference.h"
#include "daemon/ingest/decoder.h"
#include "daemon/ingest/line_processor.h"

namespace driftd {
namespace {

constexpr size_t kVariants = 1024;

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Mixed record: 7 numbers, 2 strings, 1 bool; `numeric_only` makes all 10 numbers.
std::vector<std::string> JsonLines(bool numeric_only) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0, 1000);
  std::vector<std::string> lines;
  for (size_t i = 0; i < kVariants; ++i) {
    std::string l = R"({"model":"fraud","ts":)" + Fixed(1732060000 + i * 0.25, 2) +
                    R"(,"features":{"amount":)" + Fixed(u(rng), 2) + R"(,"age":)" +
                    std::to_string(rng() % 90) + R"(,"score":)" + Fixed(u(rng) / 1000, 4) +
                    R"(,"tenure_days":)" + std::to_string(rng() % 4000) + R"(,"n_tx_24h":)" +
                    std::to_string(rng() % 20) + R"(,"hour":)" + std::to_string(rng() % 24) +
                    R"(,"balance":)" + Fixed(u(rng) * 10, 2);
    if (numeric_only) {
      l += R"(,"country":)" + std::to_string(rng() % 200) + R"(,"device":)" +
           std::to_string(rng() % 3) + R"(,"is_new":)" + std::to_string(rng() % 2) + "}}";
    } else {
      l += std::string(R"(,"country":")") + (rng() % 2 ? "US" : "DE") + R"(","device":")" +
           (rng() % 2 ? "ios" : "android") + R"(","is_new":)" + (rng() % 2 ? "true" : "false") +
           "}}";
    }
    lines.push_back(std::move(l));
  }
  return lines;
}

// The records scripts/bench-daemon sends: ten numeric features written as Python's repr writes a
// double (up to 17 significant digits), spread over a few orders of magnitude.
// With `signed_values`, each value's sign is a coin toss (standardised features, log returns):
// a sign the branch predictor cannot learn.
std::vector<std::string> ReprLines(bool signed_values) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> u(0, 1.5);
  std::vector<std::string> lines;
  for (size_t i = 0; i < kVariants; ++i) {
    std::string l = R"({"model":"ten","features":{)";
    for (int f = 0; f < 10; ++f) {
      char buf[64];
      const double v = signed_values && rng() % 2 ? -u(rng) : u(rng);
      std::snprintf(buf, sizeof buf, "%s\"f%d\":%.17g", f ? "," : "", f, v);
      l += buf;
    }
    lines.push_back(l + "}}");
  }
  return lines;
}

std::vector<std::string> LineProtocolLines(bool numeric_only) {
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<double> u(0, 1000);
  std::vector<std::string> lines;
  for (size_t i = 0; i < kVariants; ++i) {
    std::string l =
        "fraud,host=web01 amount=" + Fixed(u(rng), 2) + ",age=" + std::to_string(rng() % 90) + "i" +
        ",score=" + Fixed(u(rng) / 1000, 4) + ",tenure_days=" + std::to_string(rng() % 4000) + "i" +
        ",n_tx_24h=" + std::to_string(rng() % 20) + "i" + ",hour=" + std::to_string(rng() % 24) +
        "i" + ",balance=" + Fixed(u(rng) * 10, 2);
    if (numeric_only) {
      l += ",country=" + std::to_string(rng() % 200) + "i,device=" + std::to_string(rng() % 3) +
           "i,is_new=" + std::to_string(rng() % 2) + "i";
    } else {
      l += std::string(",country=\"") + (rng() % 2 ? "US" : "DE") + "\",device=\"" +
           (rng() % 2 ? "ios" : "android") + "\",is_new=" + (rng() % 2 ? "true" : "false");
    }
    l += ' ';
    l += std::to_string(1732060000250000000 + i * 1000000);
    lines.push_back(std::move(l));
  }
  return lines;
}

void Run(benchmark::State& state, const std::vector<std::string>& lines) {
  LineDecoder decoder;
  Record record;
  DecodeError error;
  size_t i = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string& line = lines[i];
    if (decoder.Decode(line, &record, &error) != DecodeStatus::kRecord ||
        record.fields.size() != 10) {
      state.SkipWithError(("decode failed: " + error.message).c_str());
      break;
    }
    benchmark::DoNotOptimize(record.fields.data());
    bytes += line.size();
    i = (i + 1) % kVariants;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

// Each benchmark runs with fast:1, the decoder's one-pass paths for flat JSON records and plain
// line-protocol lines (what driftd runs), and fast:0, every line left to the general decoders
// (simdjson's On-Demand API, the bitmap-driven line-protocol parser): their ratio in one run.
void BM_DecodeNdjson10Features(benchmark::State& state) {
  SetFastPathsForTesting(state.range(0) == 1);
  Run(state, JsonLines(false));
  SetFastPathsForTesting(true);
}
BENCHMARK(BM_DecodeNdjson10Features)->ArgName("fast")->Arg(1)->Arg(0);

void BM_DecodeNdjson10NumericFeatures(benchmark::State& state) {
  SetFastPathsForTesting(state.range(0) == 1);
  Run(state, JsonLines(true));
  SetFastPathsForTesting(true);
}
BENCHMARK(BM_DecodeNdjson10NumericFeatures)->ArgName("fast")->Arg(1)->Arg(0);

void BM_DecodeNdjsonBenchmarkRecords(benchmark::State& state) {
  SetFastPathsForTesting(state.range(0) == 1);
  Run(state, ReprLines(false));
  SetFastPathsForTesting(true);
}
BENCHMARK(BM_DecodeNdjsonBenchmarkRecords)->ArgName("fast")->Arg(1)->Arg(0);

void BM_DecodeNdjsonSignedRecords(benchmark::State& state) {
  SetFastPathsForTesting(state.range(0) == 1);
  Run(state, ReprLines(true));
  SetFastPathsForTesting(true);
}
BENCHMARK(BM_DecodeNdjsonSignedRecords)->ArgName("fast")->Arg(1)->Arg(0);

void BM_DecodeLineProtocol10Fields(benchmark::State& state) {
  SetFastPathsForTesting(state.range(0) == 1);
  Run(state, LineProtocolLines(false));
  SetFastPathsForTesting(true);
}
BENCHMARK(BM_DecodeLineProtocol10Fields)->ArgName("fast")->Arg(1)->Arg(0);

void BM_DecodeLineProtocol10NumericFields(benchmark::State& state) {
  SetFastPathsForTesting(state.range(0) == 1);
  Run(state, LineProtocolLines(true));
  SetFastPathsForTesting(true);
}
BENCHMARK(BM_DecodeLineProtocol10NumericFields)->ArgName("fast")->Arg(1)->Arg(0);

// The whole path of a TCP read, for the records scripts/bench-daemon sends: LineProcessor::Feed
// frames, decodes and counts the 1,024 lines (one read of about 250 KB) through an ingest thread's
// Monitor shard, then Flush() ends the read. The reference has the lines' ten features, each of
// 29 bins cut at quantiles of the distribution their values are drawn from. Items: records. In
// process, so that two builds compare on the noisy machine without the socket and the sender.
void BM_FeedNdjsonBenchmarkRecords(benchmark::State& state) {
  const std::vector<std::string> lines = ReprLines(false);
  std::string read;
  for (const std::string& l : lines) read += l + '\n';
  std::mt19937_64 rng(4);
  std::lognormal_distribution<double> u(0, 1.5);  // as ReprLines draws its values
  std::vector<double> draws(100000);
  for (double& d : draws) d = u(rng);
  std::sort(draws.begin(), draws.end());
  std::string edges, counts;
  for (size_t b = 0; b <= 29; ++b) {
    if (b > 0) edges += ',';
    edges += Fixed(draws[std::min(b * draws.size() / 29, draws.size() - 1)], 6);
    if (b < 29) counts += b > 0 ? ",100" : "100";
  }
  std::string json = R"({"model": "ten", "version": "bench", "features": {)";
  for (int f = 0; f < 10; ++f) {
    if (f > 0) json += ',';
    json += "\"f";
    json += std::to_string(f);
    json += R"(": {"type": "numeric", "edges": [)";
    json += edges;
    json += R"(], "counts": [)";
    json += counts;
    json += "]}";
  }
  json += "}}";
  std::vector<std::string> errors;
  std::optional<Reference> ref = ParseReference(json, "bench.json", &errors);
  if (!ref) {
    const std::string why = "reference: " + (errors.empty() ? std::string() : errors.front());
    state.SkipWithError(why.c_str());
    return;
  }
  constexpr double kNow = 1'732'060'800;
  MonitorOptions options;
  options.windows = {{"1h", {3600, 60}}};
  Monitor monitor(options, {std::move(*ref)}, kNow, {}, nullptr, 1);
  prometheus::Registry registry;
  IngestMetrics metrics(&registry);
  LogRateLimiter limiter{0};
  DecodeScratch scratch;
  scratch.shard = 0;
  LineProcessor processor(&monitor, &metrics.transport(Transport::kTcp), metrics.values(), &limiter,
                          size_t{1} << 22, &scratch);
  for (auto _ : state) {
    processor.Feed(read, kNow);
    processor.Flush();
  }
  if (processor.accepted() != state.iterations() * lines.size()) {
    state.SkipWithError("not every record was counted");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * lines.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * read.size()));
}
BENCHMARK(BM_FeedNdjsonBenchmarkRecords);

}  // namespace
}  // namespace driftd

BENCHMARK_MAIN();
