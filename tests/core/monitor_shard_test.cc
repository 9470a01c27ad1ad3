// Two ingest threads applying through shards (Monitor::Batch with a shard number) against one
// thread applying the same records with no shard: every evaluation must count exactly the same.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/monitor.h"

namespace driftd {
namespace {

constexpr double kNow = 1'732'060'800;

Reference MakeReference(std::string_view categories) {
  std::vector<std::string> errors;
  auto ref = ParseReference(R"({"model": "m", "version": "1", "features": {
      "x": {"type": "numeric", "edges": [0, 1, 2, 3], "counts": [5, 5, 5]},
      "c": {"type": "categorical", "categories": )" +
                                std::string(categories) + "}}}",
                            "m.json", &errors);
  if (!ref) throw std::runtime_error(testing::PrintToString(errors));
  return std::move(*ref);
}

MonitorOptions Options() {
  MonitorOptions o;
  o.windows = {{"5m", {300, 5}}, {"30m", {1800, 6}}};  // records hand on from 5m to 30m
  o.min_samples = 1;
  return o;
}

// The records of one phase, each with its own strings (a Record points into them).
struct Phase {
  double now = 0;
  std::vector<std::string> categories;
  std::vector<Record> records;
};

Phase MakePhase(std::mt19937_64* rng, double now, size_t n) {
  static const char* const kCategories[] = {"a", "b", "zz", "10"};
  Phase p;
  p.now = now;
  p.categories.reserve(n);
  std::uniform_real_distribution<double> x(-0.5, 3.5), u(0, 1);
  for (size_t i = 0; i < n; ++i) p.categories.emplace_back(kCategories[(*rng)() % 4]);
  for (size_t i = 0; i < n; ++i) {
    Record r;
    r.model = i % 50 == 7 ? "nobody" : "m";
    const double kind = u(*rng);
    if (kind < 0.55) {
      r.timestamp = NAN;  // arrival time
    } else if (kind < 0.7) {
      r.timestamp = now - u(*rng) * 10;  // most likely the newest slice
    } else if (kind < 0.9) {
      r.timestamp = now - u(*rng) * 2000;  // an older slice of either window, or late
    } else if (kind < 0.95) {
      r.timestamp = now - 5000;  // late
    } else {
      r.timestamp = now + 500;  // future
    }
    const Value c{Value::Kind::kString, 0, p.categories[i]};
    if (u(*rng) < 0.8) r.fields.push_back({"x", {Value::Kind::kNumber, x(*rng), {}}});
    if (u(*rng) < 0.3) r.fields.push_back({"x", {Value::Kind::kNumber, 9, {}}});  // repeated
    if (u(*rng) < 0.1) r.fields.push_back({"y", {Value::Kind::kNumber, 1, {}}});  // unknown
    const double where = u(*rng);
    if (where < 0.6) {
      r.fields.push_back({"c", c});
    } else if (where < 0.8) {
      r.tags.push_back({"c", c});
    }
    p.records.push_back(std::move(r));
  }
  return p;
}

void ExpectSameCounts(const Evaluation& want, const Evaluation& got, const std::string& when) {
  ASSERT_EQ(want.models.size(), got.models.size()) << when;
  for (size_t i = 0; i < want.models.size(); ++i) {
    const ModelEvaluation& a = want.models[i];
    const ModelEvaluation& b = got.models[i];
    EXPECT_EQ(a.records, b.records) << when;
    EXPECT_EQ(a.late, b.late) << when;
    EXPECT_EQ(a.future, b.future) << when;
    EXPECT_EQ(a.saturations, b.saturations) << when;
    ASSERT_EQ(a.features.size(), b.features.size()) << when;
    for (size_t f = 0; f < a.features.size(); ++f) {
      EXPECT_EQ(a.features[f].window_counts, b.features[f].window_counts)
          << when << ", feature " << a.features[f].name << " window " << a.features[f].window;
      EXPECT_EQ(a.features[f].kl, b.features[f].kl) << when;  // same counts: same bits
    }
  }
}

TEST(MonitorShardTest, TwoThreadsThroughShardsCountExactlyWhatOneThreadCounts) {
  const Reference ref = MakeReference(R"({"a": 5, "b": 5})");
  Monitor one(Options(), {ref}, kNow);
  Monitor two(Options(), {ref}, kNow, {}, nullptr, 2);
  std::mt19937_64 rng(20261204);
  uint64_t accepted_one = 0, accepted_two[2] = {0, 0};
  for (int p = 0; p < 60; ++p) {
    const Phase phase = MakePhase(&rng, kNow + 41.0 * p, 3000);
    Monitor::Batch batch;
    for (const Record& r : phase.records) {
      accepted_one += one.Apply(r, phase.now, &batch).accepted();
    }
    batch.Release();
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        Monitor::Batch b(t);
        for (size_t i = t; i < phase.records.size(); i += 2) {
          accepted_two[t] += two.Apply(phase.records[i], phase.now, &b).accepted();
          if (i % 512 == 0) b.Release();  // the end of a read
        }
      });
    }
    // Evaluations and checkpoints run while the threads apply (what they see is not compared:
    // it depends on the interleaving), and must not lose or double a count.
    if (p % 3 == 0) two.Evaluate(phase.now);
    if (p % 7 == 0) two.Checkpoint();
    for (std::thread& t : threads) t.join();
    if (p == 20) {  // the wall clock steps forward: both windows move with it
      one.ShiftWindows(90);
      two.ShiftWindows(90);
    }
    if (p == 35) {  // a retrained model: c's bins change, x keeps its counts
      const Reference next = MakeReference(R"({"a": 5, "b": 5, "zz": 1})");
      one.Reload(Options(), {next}, phase.now);
      two.Reload(Options(), {next}, phase.now);
    }
    const double at = phase.now + 1;
    ExpectSameCounts(*one.Evaluate(at), *two.Evaluate(at), "phase " + std::to_string(p));
  }
  EXPECT_EQ(accepted_one, accepted_two[0] + accepted_two[1]);
  EXPECT_GT(accepted_two[0], 10000u);
  EXPECT_GT(accepted_two[1], 10000u);
}

TEST(MonitorShardTest, SnapshotSeesWhatTheShardsHold) {
  const Reference ref = MakeReference(R"({"a": 5, "b": 5})");
  Monitor m(Options(), {ref}, kNow, {}, nullptr, 1);
  Monitor::Batch batch(0);
  Record r;
  r.model = "m";
  r.fields = {{"x", {Value::Kind::kNumber, 0.5, {}}}};
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(m.Apply(r, kNow, &batch).accepted());
  batch.Release();  // the shard holds the three records, the window none yet
  std::string error;
  const auto snapshot = m.Snapshot("m", 0, kNow, &error);
  ASSERT_TRUE(snapshot) << error;
  const int x = snapshot->FindFeature("x");
  ASSERT_GE(x, 0);
  EXPECT_EQ(snapshot->features[x].counts[0], 3u);  // x in [0, 1)
}

// Record::shape lets the Monitor take each field's feature from the first record of that shape.
// Records numbered as a decoder numbers them (the same number for the same keys in the same
// order, or for a prefix of them; 0 when a key repeats), count exactly what the same records
// count with no number, through a shard and without one: keys that change, keys of no feature,
// keys longer than any feature name, a value of the wrong type, records without a number between.
TEST(MonitorShardTest, RecordsWithAShapeCountWhatTheSameRecordsCountWithout) {
  const Reference ref = MakeReference(R"({"a": 5, "b": 5})");
  const std::vector<std::string> kKeys = {"x", "c", "y", "a_key_longer_than_any_feature", "x"};
  std::mt19937_64 rng(20261207);
  std::uniform_real_distribution<double> u(0, 1), x(-0.5, 3.5);
  for (const int shards : {0, 1}) {
    Monitor plain(Options(), {ref}, kNow, {}, nullptr, shards);
    Monitor shaped(Options(), {ref}, kNow, {}, nullptr, shards);
    std::vector<std::string> keys = {"x", "c"}, shape_keys;
    uint64_t shape = 0, shapes = 0;
    for (int p = 0; p < 20; ++p) {
      const double now = kNow + 41.0 * p;
      Monitor::Batch plain_batch(shards - 1), shaped_batch(shards - 1);
      for (int i = 0; i < 2000; ++i) {
        if (u(rng) < 0.05) {  // another key list: mostly the same keys
          keys.clear();
          for (size_t k = 1 + rng() % 4; k > 0; --k) keys.push_back(kKeys[rng() % kKeys.size()]);
        }
        std::vector<std::string> these = keys;
        if (u(rng) < 0.1) these.resize(rng() % (these.size() + 1));  // a prefix
        if (p == 0 && i < 3) {
          // A key no cache entry holds, where an entry holds another feature's key: the shape
          // is known only up to it.
          these = i == 0 ? std::vector<std::string>{"c", "x"}
                         : std::vector<std::string>{"x", "a_key_longer_than_any_feature"};
        }
        Record r;
        r.model = "m";
        for (const std::string& k : these) {
          Value v{Value::Kind::kNumber, x(rng), {}};
          if (k == "c" || u(rng) < 0.02) v = {Value::Kind::kString, 0, u(rng) < 0.5 ? "a" : "zz"};
          r.fields.push_back({k, v});
        }
        ASSERT_TRUE(plain.Apply(r, now, &plain_batch).accepted());
        const bool repeats =
            std::set<std::string>(these.begin(), these.end()).size() != these.size();
        if (!repeats && u(rng) < 0.9) {  // now and then a record the decoder did not number
          if (!std::equal(these.begin(), these.end(), shape_keys.begin(),
                          shape_keys.begin() + std::min(these.size(), shape_keys.size())) ||
              these.size() > shape_keys.size()) {
            shape_keys = these;
            shape = ++shapes;
          }
          r.shape = shape;
        }
        ASSERT_TRUE(shaped.Apply(r, now, &shaped_batch).accepted());
      }
      plain_batch.Release();
      shaped_batch.Release();
      ExpectSameCounts(*plain.Evaluate(now + 1), *shaped.Evaluate(now + 1),
                       std::to_string(shards) + " shards, phase " + std::to_string(p));
    }
    EXPECT_GT(shapes, 50u);
  }
}

// A shard counts without checking each counter against the maximum while its slice's records
// counter is below it (no feature's counter can pass the records'); at the maximum every add
// saturates and is counted, as the window's own counters do.
TEST(MonitorShardTest, ShardCountersSaturateAtTheMaximumAndCountWhatDidNotFit) {
  constexpr uint32_t kMax = 4294967295u;
  Monitor monitor(Options(), {MakeReference(R"({"a": 5, "b": 5})")}, kNow, {}, nullptr, 1);
  Record r;
  r.model = "m";
  r.fields = {{"x", {Value::Kind::kNumber, 0.5, {}}}, {"c", {Value::Kind::kString, 0, "a"}}};
  Monitor::Batch batch(0);
  ASSERT_TRUE(monitor.Apply(r, kNow, &batch).accepted());
  batch.Release();
  ASSERT_TRUE(monitor.SetShardCountersForTesting("m", 0, kMax - 2));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(monitor.Apply(r, kNow, &batch).accepted());
  batch.Release();

  const auto e = monitor.Evaluate(kNow);
  const ModelEvaluation& me = e->models[0];
  EXPECT_EQ(me.records[0], kMax);  // 2 of the 5 records fit
  // The 3 others: their records counter, x's bin [0, 1) and c's "a" each saturated.
  EXPECT_EQ(me.saturations, 3u * 3u);
  const auto x = std::ranges::find_if(
      me.features, [](const FeatureEvaluation& f) { return f.name == "x" && f.window == 0; });
  ASSERT_NE(x, me.features.end());
  const uint32_t bin = x->bins->NumericBin(0.5);
  EXPECT_EQ(x->window_counts[bin], kMax);
  EXPECT_EQ(x->window_counts[bin + 1], kMax - 2);  // [1, 2): as set, nothing added
}

}  // namespace
}  // namespace driftd
