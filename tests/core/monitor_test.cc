#include "core/monitor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace driftd {
namespace {

constexpr double kNow = 1'732'060'800;

// Parses the reference the tests monitor into *out: a fatal failure, naming the parse errors, when
// it does not parse (call it inside ASSERT_NO_FATAL_FAILURE).
void MakeReference(Reference* out) {
  std::vector<std::string> errors;
  auto ref = ParseReference(R"({"model": "m", "version": "1", "features": {
      "x": {"type": "numeric", "edges": [0, 1, 2], "counts": [5, 5]},
      "c": {"type": "categorical", "categories": {"a": 5, "b": 5}}}})",
                            "m.json", &errors);
  ASSERT_TRUE(ref) << testing::PrintToString(errors);
  *out = std::move(*ref);
}

MonitorOptions Options() {
  MonitorOptions o;
  o.windows = {{"w", {600, 10}}};
  o.min_samples = 1;
  return o;
}

Value Num(double v) { return {Value::Kind::kNumber, v, {}}; }
Value Str(std::string_view s) { return {Value::Kind::kString, 0, s}; }

// Feature `name` of the only model; throws (which fails the test) when there is no such feature.
const FeatureEvaluation& Feature(const Evaluation& e, const std::string& name) {
  if (e.models.size() != 1) throw std::runtime_error("expected one model");
  for (const auto& f : e.models[0].features) {
    if (f.name == name) return f;
  }
  throw std::runtime_error("no feature " + name);
}

TEST(MonitorTest, CountsValuesAbsentAsMissingAndTags) {
  Reference ref;
  ASSERT_NO_FATAL_FAILURE(MakeReference(&ref));
  Monitor m(Options(), {ref}, kNow);
  ApplyStats stats;
  Record r;
  r.model = "m";
  r.fields = {{"x", Num(0.5)}, {"c", Str("b")}};
  stats.Add(m.Apply(r, kNow));
  r.fields = {{"x", Num(1.5)}};  // c absent: missing
  stats.Add(m.Apply(r, kNow));
  r.fields = {{"x", Num(7)}};
  r.tags = {{"c", Str("zz")}, {"host", Str("h1")}};  // a tag naming a categorical feature counts
  stats.Add(m.Apply(r, kNow));
  EXPECT_EQ(stats.records, 3u);
  EXPECT_EQ(stats.values, 5u);
  auto e = m.Evaluate(kNow);
  // x: [0,1) [1,2] underflow overflow missing
  EXPECT_EQ(Feature(*e, "x").window_counts, (std::vector<uint64_t>{1, 1, 0, 1, 0}));
  // c: a b other missing
  EXPECT_EQ(Feature(*e, "c").window_counts, (std::vector<uint64_t>{0, 1, 1, 1}));
  EXPECT_EQ(e->models[0].records[0], 3u);
  EXPECT_DOUBLE_EQ(Feature(*e, "c").missing_ratio, 1.0 / 3);
  EXPECT_DOUBLE_EQ(Feature(*e, "x").out_of_range_ratio, 1.0 / 3);
}

TEST(MonitorTest, ErrorsAreCountedAndLoseNothingElse) {
  Reference ref;
  ASSERT_NO_FATAL_FAILURE(MakeReference(&ref));
  Monitor m(Options(), {ref}, kNow);
  ApplyStats stats;
  Record r;
  r.model = "nope";
  r.fields = {{"x", Num(0.5)}};
  stats.Add(m.Apply(r, kNow));
  r.model = "m";
  r.fields = {{"x", Str("twelve")}, {"c", Str("a")}, {"new", Num(1)}, {"c", Str("b")}};
  stats.Add(m.Apply(r, kNow));
  r.fields = {{"x", Num(0.5)}};
  r.timestamp = kNow - 10000;  // older than the 600 s window
  stats.Add(m.Apply(r, kNow));
  r.timestamp = kNow + 3600;  // far in the future
  stats.Add(m.Apply(r, kNow));
  EXPECT_EQ(stats.errors[Reason::kUnknownModel], 1u);
  EXPECT_EQ(stats.errors[Reason::kTypeMismatch], 1u);
  EXPECT_EQ(stats.errors[Reason::kUnknownFeature], 1u);
  EXPECT_EQ(stats.errors[Reason::kLate], 1u);
  EXPECT_EQ(stats.errors[Reason::kFuture], 1u);
  EXPECT_EQ(stats.records, 1u);
  auto e = m.Evaluate(kNow);
  // The mismatched x counts as missing; the repeated c counts once, the first time.
  EXPECT_EQ(Feature(*e, "x").window_counts, (std::vector<uint64_t>{0, 0, 0, 0, 1}));
  EXPECT_EQ(Feature(*e, "c").window_counts, (std::vector<uint64_t>{1, 0, 0, 0}));
}

TEST(MonitorTest, NumbersForCategoricalFeaturesUseTheirText) {
  std::vector<std::string> errors;
  auto ref = ParseReference(R"({"model": "m", "version": "1", "features": {
      "zip": {"type": "categorical", "categories": {"10115": 5, "2.5": 5}}}})",
                            "m.json", &errors);
  ASSERT_TRUE(ref);
  Monitor m(Options(), {*ref}, kNow);
  ApplyStats stats;
  Record r;
  r.model = "m";
  r.fields = {{"zip", Num(10115)}};
  stats.Add(m.Apply(r, kNow));
  r.fields = {{"zip", Num(2.5)}};
  stats.Add(m.Apply(r, kNow));
  auto e = m.Evaluate(kNow);
  EXPECT_EQ(e->models[0].features[0].window_counts, (std::vector<uint64_t>{1, 1, 0, 0}));
}

// Every wire spelling of a category finds the category `driftd reference build` wrote for it
// (core/category.h): numbers by their canonical text, strings and tags as written or else by it.
TEST(MonitorTest, CategoriesAreMatchedByTheirCanonicalText) {
  std::vector<std::string> errors;
  auto ref = ParseReference(R"({"model": "m", "version": "1", "features": {
      "zip": {"type": "categorical",
              "categories": {"0": 1, "1.5": 1, "10115": 1, "1e-07": 1, "true": 1, "01234": 1}}}})",
                            "m.json", &errors);
  ASSERT_TRUE(ref);
  Monitor m(Options(), {*ref}, kNow);
  ApplyStats stats;
  Record r;
  r.model = "m";
  const Value kTrue{Value::Kind::kBool, 1, "true"};
  // In bin order: 0 01234 1.5 10115 1e-07 true other missing.
  const std::vector<std::pair<Value, size_t>> fields = {
      {Num(-0.0), 0}, {Str("-0.0"), 0},      {Str("01234"), 1}, {Num(1234), 6},
      {Num(1.5), 2},  {Str("1.50"), 2},      {Num(10115.0), 3}, {Str("1.0115e4"), 3},
      {Num(1e-7), 4}, {Str("0.0000001"), 4}, {kTrue, 5},        {Str("TRUE"), 5},
      {Str("t"), 6},  {Str("0x10"), 6},      {Num(NAN), 7},     {Str("NaN"), 7},
  };
  std::vector<uint64_t> want(8, 0);
  for (const auto& [value, bin] : fields) {
    r.fields = {{"zip", value}};
    stats.Add(m.Apply(r, kNow));
    ++want[bin];
  }
  r.fields.clear();
  for (const char* tag : {"10115.0", "+10115", "1.50", "true", "True"}) {
    r.tags = {{"zip", Str(tag)}};
    stats.Add(m.Apply(r, kNow));
  }
  want[3] += 2;
  want[2] += 1;
  want[5] += 2;
  auto e = m.Evaluate(kNow);
  EXPECT_EQ(e->models[0].features[0].window_counts, want);
}

// Apply() says what it did with each record; nobody has to compare counters to find out.
TEST(MonitorTest, ApplyReturnsWhatItDid) {
  Reference ref;
  ASSERT_NO_FATAL_FAILURE(MakeReference(&ref));
  Monitor m(Options(), {ref}, kNow);
  Record r;
  r.model = "m";
  r.fields = {{"x", Str("twelve")}, {"c", Str("a")}, {"new", Num(1)}, {"other", Num(2)}};
  ApplyOutcome o = m.Apply(r, kNow);
  EXPECT_TRUE(o.accepted());
  EXPECT_EQ(o.values, 1u);
  EXPECT_EQ(o.type_mismatches, 1u);
  EXPECT_EQ(o.unknown_features, 2u);
  r.fields = {{"x", Num(0.5)}};
  r.model = "nope";
  o = m.Apply(r, kNow);
  EXPECT_EQ(o.rejected, Reason::kUnknownModel);
  EXPECT_EQ(o.values, 0u);
  r.model = "m";
  r.timestamp = kNow - 10000;
  EXPECT_EQ(m.Apply(r, kNow).rejected, Reason::kLate);
  r.timestamp = kNow + 3600;
  EXPECT_EQ(m.Apply(r, kNow).rejected, Reason::kFuture);
  r.timestamp = kNow - 1;
  o = m.Apply(r, kNow);
  EXPECT_TRUE(o.accepted());
  EXPECT_EQ(o.values, 1u);
}

// Remembers what the Monitor reported.
struct RecordingObserver : MonitorObserver {
  struct Change {
    std::string feature, from, to;
    DriftLevel level;
    double value;
    uint64_t samples;
  };
  std::vector<Change> features;
  std::vector<RetrainChange> retrains;
  void FeatureStateChanged(const FeatureStateChange& c) override {
    EXPECT_EQ(c.model, "m");
    EXPECT_EQ(c.metric, DriftMetric::kKl);
    features.push_back({std::string(c.feature), std::string(c.from), std::string(c.to), c.level,
                        c.value, c.window_samples});
  }
  void RetrainChanged(const RetrainChange& c) override { retrains.push_back(c); }
};

TEST(MonitorTest, StateChangesGoToTheObserver) {
  Reference ref;
  ASSERT_NO_FATAL_FAILURE(MakeReference(&ref));
  RecordingObserver observer;
  Monitor m(Options(), {ref}, kNow, {}, &observer);
  Record r;
  r.model = "m";
  r.fields = {{"x", Num(0.5)}, {"c", Str("a")}};  // every value in one bin: drift
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(m.Apply(r, kNow).accepted());
  std::shared_ptr<Evaluation> e;
  for (int i = 0; i < 3; ++i) e = m.Evaluate(kNow);  // the policy's for_evaluations: 3
  ASSERT_FALSE(observer.features.empty());
  for (const char* name : {"c", "x"}) {
    std::vector<RecordingObserver::Change> seen;
    for (const auto& c : observer.features) {
      if (c.feature == name) seen.push_back(c);
    }
    ASSERT_GE(seen.size(), 2u) << name;
    EXPECT_EQ(seen.front().from, "insufficient_data") << name;
    EXPECT_EQ(seen.front().to, "ok") << name;
    EXPECT_EQ(seen.back().to, "critical") << name;
    EXPECT_EQ(seen.back().level, DriftLevel::kCritical) << name;
    EXPECT_EQ(seen.back().value, Feature(*e, name).alert_value) << name;
    EXPECT_EQ(seen.back().samples, 200u) << name;
  }
  ASSERT_EQ(observer.retrains.size(), 1u);
  EXPECT_TRUE(observer.retrains[0].retrain);
  EXPECT_EQ(observer.retrains[0].critical_features, 2u);
  EXPECT_EQ(observer.retrains[0].evaluable_features, 2u);
  // A fourth evaluation changes nothing: nothing is reported.
  const size_t before = observer.features.size();
  m.Evaluate(kNow);
  EXPECT_EQ(observer.features.size(), before);
  EXPECT_EQ(observer.retrains.size(), 1u);
}

TEST(MonitorTest, KlDirectionPicksTheReportedKl) {
  Reference ref;
  ASSERT_NO_FATAL_FAILURE(MakeReference(&ref));
  Record r;
  r.model = "m";
  r.fields = {{"x", Num(0.5)}, {"c", Str("a")}};
  for (KlDirection d : {KlDirection::kWindowToReference, KlDirection::kReferenceToWindow}) {
    MonitorOptions o = Options();
    o.kl_direction = d;
    Monitor m(o, {ref}, kNow);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(m.Apply(r, kNow).accepted());
    const std::shared_ptr<Evaluation> e = m.Evaluate(kNow);
    const FeatureEvaluation& x = Feature(*e, "x");
    const Divergences& dv = x.divergences;
    ASSERT_NE(dv.kl_window_to_reference, dv.kl_reference_to_window);  // asymmetric here
    if (d == KlDirection::kWindowToReference) {
      EXPECT_EQ(x.kl, dv.kl_window_to_reference);
      EXPECT_EQ(x.entropy, dv.entropy);
    } else {
      EXPECT_EQ(x.kl, dv.kl_reference_to_window);
      EXPECT_EQ(x.entropy, dv.reference_entropy);
    }
  }
}

TEST(MonitorTest, DivergencesNeedMinSamplesAndWindowsExpire) {
  MonitorOptions o = Options();
  o.min_samples = 3;
  Reference ref;
  ASSERT_NO_FATAL_FAILURE(MakeReference(&ref));
  Monitor m(o, {ref}, kNow);
  ApplyStats stats;
  Record r;
  r.model = "m";
  r.fields = {{"x", Num(0.5)}, {"c", Str("a")}};
  for (int i = 0; i < 2; ++i) stats.Add(m.Apply(r, kNow));
  EXPECT_FALSE(Feature(*m.Evaluate(kNow), "x").evaluable);
  stats.Add(m.Apply(r, kNow));
  auto full = m.Evaluate(kNow);
  EXPECT_TRUE(Feature(*full, "x").evaluable);
  EXPECT_EQ(Feature(*full, "x").samples, 3u);  // so that 0 below is the window expiring
  auto later = m.Evaluate(kNow + 601);
  EXPECT_EQ(Feature(*later, "x").samples, 0u);
  EXPECT_EQ(Feature(*later, "x").alert.Name(), std::string("insufficient_data"));
}

}  // namespace
}  // namespace driftd

namespace driftd {
namespace {

// SameKey against string_view's ==, for every length to 40 and a difference at every byte.
TEST(SameKeyTest, EqualsStringViewComparison) {
  for (size_t n = 0; n <= 40; ++n) {
    std::string a(n, 'k');
    for (size_t i = 0; i < n; ++i) a[i] = static_cast<char>('a' + i % 26);
    const std::string same = a;
    EXPECT_TRUE(SameKey(a, same)) << n;
    EXPECT_FALSE(SameKey(a, a + "x")) << n;
    if (n > 0) {
      EXPECT_FALSE(SameKey(a, std::string_view(a).substr(1))) << n;
    }
    for (size_t i = 0; i < n; ++i) {
      std::string other = a;
      other[i] = static_cast<char>(other[i] ^ 0x20);
      EXPECT_EQ(SameKey(a, other), std::string_view(a) == std::string_view(other)) << n << " " << i;
      EXPECT_FALSE(SameKey(a, other)) << n << " " << i;
    }
  }
}

TEST(MonitorMemoryTest, EstimateEqualsTheHandComputedSizes) {
  std::vector<std::string> errors;
  auto ref = ParseReference(R"({"model": "m", "version": "1", "features": {
      "amount": {"type": "numeric", "edges": [0, 10, 20, 30], "counts": [1, 2, 3]}}})",
                            "m.json", &errors);
  ASSERT_TRUE(ref) << testing::PrintToString(errors);
  MonitorOptions o;
  o.windows = {{"w", {3600, 60}}};
  const MemoryEstimate e = Monitor::EstimateMemory(o, {*ref, *ref});
  // Bins: 3 interior + underflow, overflow, missing = 6, and the records counter = 7, over 60
  // slices at 4 bytes; offsets: 3 uint32 (2 features + 1); in a set of one window (its object
  // and one slice ratio).
  const size_t window =
      sizeof(WindowSet) + sizeof(int64_t) + sizeof(SlidingWindow) + 7 * 60 * 4 + 3 * 4;
  EXPECT_EQ(e.windows, 2 * window);
  // The feature: its object, 4 edges (padded to a multiple of 4: 4) at 8 bytes, 6 counts at 8
  // bytes, the prepared reference and its 2 doubles per bin; the lookup table from 10 to 30,
  // whose doubles are 0x4024 and 0x403e << 48: 26 << 48 representations apart, so 209 buckets of
  // 2^45 (the fewest under 256), one byte each; the decimal limits, one per edge at 8 bytes.
  const size_t reference = sizeof(ReferenceFeature) + 4 * 8 + 6 * 8 + sizeof(PreparedReference) +
                           2 * 6 * 8 + 209 + 4 * 8;
  EXPECT_EQ(e.references, 2 * reference);
  EXPECT_EQ(e.total(), 2 * (window + reference) + e.ingest);
  // The window figure is what the Monitor's window really holds.
  WindowSet built({o.windows[0].options}, {6, 1}, kNow);
  EXPECT_EQ(built.MemoryBytes(), window);
  // No ingest threads: each model's key cache at its bound (256 entries of a string and an int;
  // "amount" is held inside the string) and a 4-byte stamp for its one feature.
  EXPECT_EQ(e.ingest, 2 * (256 * sizeof(std::pair<std::string, int>) + 4));
}

TEST(MonitorMemoryTest, ShardsGrowWithThreadsBinsAndTheLongestName) {
  auto parse = [](const std::string& name, const std::string& edges, const std::string& counts) {
    std::vector<std::string> errors;
    auto ref = ParseReference(R"({"model": "m", "version": "1", "features": {")" + name +
                                  R"(": {"type": "numeric", "edges": )" + edges +
                                  R"(, "counts": )" + counts + "}}}",
                              "m.json", &errors);
    EXPECT_TRUE(ref) << testing::PrintToString(errors);
    return *ref;
  };
  MonitorOptions o;
  o.windows = {{"w", {3600, 60}}};
  auto ingest = [&](const Reference& ref, uint32_t threads) {
    return Monitor::EstimateMemory(o, {ref}, threads).ingest;
  };
  const Reference small = parse("amount", "[0, 10, 20, 30]", "[1, 2, 3]");
  const size_t shard = ingest(small, 1) - ingest(small, 0);
  EXPECT_EQ(ingest(small, 3), ingest(small, 0) + 3 * shard);
  // A shard holds a key cache and stamps as the model does, and a slice of 6 + 1 counters.
  EXPECT_GE(shard, ingest(small, 0) + 7 * 4);
  // Two more edges: two more counters of 4 bytes in each shard's slice.
  EXPECT_EQ(ingest(parse("amount", "[0, 10, 20, 30, 40, 50]", "[1, 2, 3, 4, 5]"), 2),
            ingest(small, 2) + 2 * 2 * 4);
  // A 40-byte name: each of the 256 keys of each cache (the model's and 2 shards') may be 40
  // bytes plus its NUL outside the string ("amount" fits inside it).
  EXPECT_EQ(ingest(parse(std::string(40, 'a'), "[0, 10, 20, 30]", "[1, 2, 3]"), 2),
            ingest(small, 2) + 3 * 256 * 41);
}

TEST(MonitorTest, KeysLongerThanEveryFeatureNameAreNeitherMatchedNorRemembered) {
  Reference ref;
  ASSERT_NO_FATAL_FAILURE(MakeReference(&ref));
  Monitor m(Options(), {ref}, kNow);
  Record r;
  r.model = "m";
  const std::string long_key(60000, 'k');
  r.fields = {{long_key, Num(1)}, {"x", Num(0.5)}};
  ApplyOutcome o = m.Apply(r, kNow);
  EXPECT_EQ(o.unknown_features, 1u);
  EXPECT_EQ(o.values, 1u);
  // The same position with a real feature name afterwards still resolves.
  r.fields = {{"x", Num(0.5)}, {long_key, Num(1)}};
  o = m.Apply(r, kNow);
  EXPECT_EQ(o.unknown_features, 1u);
  EXPECT_EQ(o.values, 1u);
  auto e = m.Evaluate(kNow);
  EXPECT_EQ(Feature(*e, "x").window_counts[0], 2u);
}

TEST(MonitorTest, ShiftWindowsKeepsCountsAndArrivalTimeRecords) {
  Reference ref;
  ASSERT_NO_FATAL_FAILURE(MakeReference(&ref));
  Monitor m(Options(), {ref}, kNow);  // 600 s window
  Record r;
  r.model = "m";
  r.fields = {{"x", Num(0.5)}};
  Monitor::Batch batch;
  ASSERT_TRUE(m.Apply(r, kNow, &batch).accepted());
  // The wall clock jumps 2 h ahead; the shift is announced before the new time is used, while
  // this thread still holds the model's lock through `batch`.
  m.ShiftWindows(7200);
  ASSERT_TRUE(m.Apply(r, kNow + 7200, &batch).accepted());  // arrival time: not late
  batch.Release();
  auto e = m.Evaluate(kNow + 7200);
  EXPECT_EQ(e->models[0].records[0], 2u);  // the first record survived the jump
  EXPECT_EQ(e->models[0].late, 0u);
  // And back.
  m.ShiftWindows(-7200);
  ASSERT_TRUE(m.Apply(r, kNow + 1).accepted());
  e = m.Evaluate(kNow + 1);
  EXPECT_EQ(e->models[0].records[0], 3u);
  EXPECT_EQ(e->models[0].late, 0u);
  // A record stamped on the new clock lands too; one older than the window is late.
  r.timestamp = kNow - 500;
  EXPECT_TRUE(m.Apply(r, kNow + 1).accepted());
  r.timestamp = kNow - 700;
  EXPECT_EQ(m.Apply(r, kNow + 1).rejected, Reason::kLate);
}

TEST(MonitorTest, HugeTimestampIsFutureAndSaturationsAreReported) {
  Reference ref;
  ASSERT_NO_FATAL_FAILURE(MakeReference(&ref));
  Monitor m(Options(), {ref}, kNow);
  Record r;
  r.model = "m";
  r.fields = {{"x", Num(0.5)}};
  r.timestamp = 1e300;
  EXPECT_EQ(m.Apply(r, kNow).rejected, Reason::kFuture);
  r.timestamp = -1e300;
  EXPECT_EQ(m.Apply(r, kNow).rejected, Reason::kLate);
  auto e = m.Evaluate(kNow);
  EXPECT_EQ(e->models[0].future, 1u);
  EXPECT_EQ(e->models[0].late, 1u);
  EXPECT_EQ(e->models[0].saturations, 0u);
}

}  // namespace
}  // namespace driftd
