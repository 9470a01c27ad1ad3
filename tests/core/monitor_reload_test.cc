// Monitor::Reload, Snapshot, Checkpoint and Restore, and the checkpoint file format: counts
// worked out by hand, records applied from another thread while reloading, and damaged files.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/checkpoint.h"
#include "core/monitor.h"

namespace driftd {
namespace {

constexpr double kNow = 1'732'060'800;

// A reference for model "m" with x's edges and c's categories as given; fatal failure if invalid.
void MakeReference(const std::string& x_edges, const std::string& x_counts, Reference* out,
                   const std::string& version = "1") {
  std::vector<std::string> errors;
  auto ref = ParseReference(R"({"model": "m", "version": ")" + version + R"(", "features": {
      "x": {"type": "numeric", "edges": )" +
                                x_edges + R"(, "counts": )" + x_counts + R"(},
      "c": {"type": "categorical", "categories": {"a": 5, "b": 5}}}})",
                            "m.json", &errors);
  ASSERT_TRUE(ref) << testing::PrintToString(errors);
  ref->sha256 = version + x_edges + x_counts;  // stands in for the file's hash
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

Record Rec(double x, std::string_view c) {
  Record r;
  r.model = "m";
  r.fields = {{"x", Num(x)}, {"c", Str(c)}};
  return r;
}

const FeatureEvaluation& Feature(const Evaluation& e, const std::string& name) {
  for (const auto& f : e.models.at(0).features) {
    if (f.name == name) return f;
  }
  throw std::runtime_error("no feature " + name);
}

TEST(MonitorReloadTest, SameReferenceKeepsWindowAndAlertStates) {
  Reference ref;
  ASSERT_NO_FATAL_FAILURE(MakeReference("[0, 1, 2]", "[5, 5]", &ref));
  Monitor m(Options(), {ref}, kNow);
  for (int i = 0; i < 30; ++i) m.Apply(Rec(1.5, "b"), kNow);  // far from the reference: drift
  for (int i = 0; i < 5; ++i) m.Evaluate(kNow);
  const DriftLevel level = Feature(*m.Evaluate(kNow), "x").alert.level();
  ASSERT_NE(level, DriftLevel::kOk);
  const ReloadReport report = m.Reload(Options(), {ref}, kNow);
  EXPECT_EQ(report.unchanged, std::vector<std::string>{"m"});
  const auto e = m.Evaluate(kNow);
  EXPECT_EQ(Feature(*e, "x").window_counts, (std::vector<uint64_t>{0, 30, 0, 0, 0}));
  EXPECT_EQ(Feature(*e, "x").alert.level(), level);
}

TEST(MonitorReloadTest, NewReferenceKeepsFeaturesWithTheSameBins) {
  Reference before, after;
  ASSERT_NO_FATAL_FAILURE(MakeReference("[0, 1, 2]", "[5, 5]", &before));
  ASSERT_NO_FATAL_FAILURE(MakeReference("[0, 1, 2, 3]", "[5, 5, 5]", &after, "2"));
  Monitor m(Options(), {before}, kNow);
  for (int i = 0; i < 10; ++i) m.Apply(Rec(0.5, "a"), kNow);
  const ReloadReport report = m.Reload(Options(), {after}, kNow + 1);
  EXPECT_EQ(report.swapped, std::vector<std::string>{"m"});
  ASSERT_EQ(report.reset_features.size(), 1u);
  EXPECT_EQ(report.reset_features[0].second, "x");
  // c keeps its 10; x starts empty: the 10 records before the reload are not missing x.
  auto e = m.Evaluate(kNow + 1);
  EXPECT_EQ(Feature(*e, "c").samples, 10u);
  EXPECT_EQ(Feature(*e, "x").samples, 0u);
  // 3 records with x, 2 without: x holds 5, 2 of them missing (counted as they came).
  for (int i = 0; i < 3; ++i) m.Apply(Rec(2.5, "b"), kNow + 2);
  Record no_x;
  no_x.model = "m";
  no_x.fields = {{"c", Str("a")}};
  m.Apply(no_x, kNow + 2);
  m.Apply(no_x, kNow + 2);
  e = m.Evaluate(kNow + 2);
  // x: 3 interior bins, underflow, overflow, missing.
  EXPECT_EQ(Feature(*e, "x").window_counts, (std::vector<uint64_t>{0, 0, 3, 0, 0, 2}));
  EXPECT_EQ(Feature(*e, "c").window_counts, (std::vector<uint64_t>{12, 3, 0, 0}));
  // Once every slice from before the reload has left (600 s + a slice), absent values are
  // inferred again, and the counts stay right.
  const double later = kNow + 2 + 600 + 61;
  m.Apply(no_x, later);
  e = m.Evaluate(later);
  EXPECT_EQ(Feature(*e, "x").window_counts, (std::vector<uint64_t>{0, 0, 0, 0, 0, 1}));
  m.Apply(no_x, later);
  e = m.Evaluate(later);
  EXPECT_EQ(Feature(*e, "x").window_counts, (std::vector<uint64_t>{0, 0, 0, 0, 0, 2}));
}

TEST(MonitorReloadTest, ChangedWindowOptionsStartEmpty) {
  Reference ref;
  ASSERT_NO_FATAL_FAILURE(MakeReference("[0, 1, 2]", "[5, 5]", &ref));
  Monitor m(Options(), {ref}, kNow);
  m.Apply(Rec(0.5, "a"), kNow);
  MonitorOptions o = Options();
  o.windows[0].options.slices = 20;
  EXPECT_TRUE(m.Reload(o, {ref}, kNow).windows_reset);
  EXPECT_EQ(Feature(*m.Evaluate(kNow), "x").samples, 0u);
}

TEST(MonitorReloadTest, RecordsAppliedDuringReloadsAreCountedOnce) {
  Reference a, b;
  ASSERT_NO_FATAL_FAILURE(MakeReference("[0, 1, 2]", "[5, 5]", &a));
  ASSERT_NO_FATAL_FAILURE(MakeReference("[0, 1, 2]", "[7, 3]", &b, "2"));  // same bins
  Monitor m(Options(), {a}, kNow);
  constexpr int kRecords = 200'000;
  std::atomic<bool> done{false};
  std::thread ingest([&] {
    Monitor::Batch batch;
    for (int i = 0; i < kRecords; ++i) {
      m.Apply(Rec(0.5, "a"), kNow, &batch);
      if (i % 64 == 0) batch.Release();  // as a session does at the end of each read
    }
    done = true;
  });
  int reloads = 0;
  while (!done) {
    m.Reload(Options(), {reloads % 2 ? a : b}, kNow);
    ++reloads;
  }
  ingest.join();
  const auto e = m.Evaluate(kNow);
  EXPECT_EQ(Feature(*e, "x").samples, static_cast<uint64_t>(kRecords)) << reloads << " reloads";
  EXPECT_EQ(Feature(*e, "c").samples, static_cast<uint64_t>(kRecords));
  EXPECT_GT(reloads, 1);
}

TEST(MonitorReloadTest, SnapshotIsTheWindowAsCompared) {
  Reference ref;
  ASSERT_NO_FATAL_FAILURE(MakeReference("[0, 1, 2]", "[5, 5]", &ref));
  Monitor m(Options(), {ref}, kNow);
  std::string error;
  EXPECT_FALSE(m.Snapshot("m", 0, kNow, &error));
  EXPECT_EQ(error, "the window w of model \"m\" holds no record yet");
  EXPECT_FALSE(m.Snapshot("n", 0, kNow, &error));
  EXPECT_EQ(error, "no model named \"n\"");
  m.Apply(Rec(0.5, "a"), kNow);
  m.Apply(Rec(9, "zz"), kNow);
  Record no_c;
  no_c.model = "m";
  no_c.fields = {{"x", Num(1.5)}};
  m.Apply(no_c, kNow);
  const auto snap = m.Snapshot("m", 0, kNow, &error);
  ASSERT_TRUE(snap) << error;
  ASSERT_EQ(snap->features.size(), 2u);
  EXPECT_EQ(snap->features[0].name, "c");
  EXPECT_EQ(snap->features[0].counts, (std::vector<uint64_t>{1, 0, 1, 1}));  // a, b, other, missing
  EXPECT_EQ(snap->features[1].counts, (std::vector<uint64_t>{1, 1, 0, 1, 0}));
}

TEST(CheckpointTest, RoundTripRestoresTheSameEvaluation) {
  Reference ref;
  ASSERT_NO_FATAL_FAILURE(MakeReference("[0, 1, 2]", "[5, 5]", &ref));
  Monitor m(Options(), {ref}, kNow);
  for (int i = 0; i < 50; ++i) m.Apply(Rec(i % 2 ? 0.5 : 1.5, i % 3 ? "a" : "b"), kNow + i * 7);
  for (int i = 0; i < 4; ++i) m.Evaluate(kNow + 350);
  CheckpointFile file{kNow + 350, m.Checkpoint()};
  std::string error;
  const auto decoded = DecodeCheckpoint(EncodeCheckpoint(file), &error);
  ASSERT_TRUE(decoded) << error;
  ASSERT_EQ(decoded->models.size(), 1u);
  EXPECT_EQ(decoded->written_at, kNow + 350);

  Monitor restored(Options(), {ref}, kNow + 400);
  uint64_t records = 0;
  ASSERT_TRUE(restored.Restore(decoded->models[0], kNow + 400, &records, &error)) << error;
  EXPECT_EQ(records, 50u);
  const auto a = m.Evaluate(kNow + 400), b = restored.Evaluate(kNow + 400);
  for (const char* f : {"x", "c"}) {
    EXPECT_EQ(Feature(*a, f).window_counts, Feature(*b, f).window_counts) << f;
    EXPECT_EQ(Feature(*a, f).kl, Feature(*b, f).kl) << f;
    EXPECT_STREQ(Feature(*a, f).alert.Name(), Feature(*b, f).alert.Name()) << f;
  }
  // Restored at kNow + 700: the slices that left the 600 s window are dropped. Its ten 60 s
  // slices then start at kNow + 120 (kNow is a multiple of 60), so the records stamped
  // kNow + 7i keep for i >= 18: 32 of them.
  Monitor later(Options(), {ref}, kNow + 700);
  ASSERT_TRUE(later.Restore(decoded->models[0], kNow + 700, &records, &error)) << error;
  EXPECT_EQ(records, 32u);
  EXPECT_EQ(Feature(*later.Evaluate(kNow + 700), "x").samples, 32u);
  EXPECT_EQ(Feature(*m.Evaluate(kNow + 700), "x").samples, 32u);
}

TEST(CheckpointTest, MismatchesAreRefused) {
  Reference ref, other;
  ASSERT_NO_FATAL_FAILURE(MakeReference("[0, 1, 2]", "[5, 5]", &ref));
  ASSERT_NO_FATAL_FAILURE(MakeReference("[0, 1, 2]", "[6, 4]", &other, "2"));
  Monitor m(Options(), {ref}, kNow);
  m.Apply(Rec(0.5, "a"), kNow);
  const std::vector<ModelCheckpoint> saved = m.Checkpoint();
  uint64_t records = 0;
  std::string why;
  Monitor changed(Options(), {other}, kNow);
  EXPECT_FALSE(changed.Restore(saved[0], kNow, &records, &why));
  EXPECT_NE(why.find("reference changed"), std::string::npos) << why;
  MonitorOptions o = Options();
  o.windows[0].options.length_seconds = 1200;
  Monitor longer(o, {ref}, kNow);
  EXPECT_FALSE(longer.Restore(saved[0], kNow, &records, &why));
  EXPECT_EQ(why, "the windows changed since the checkpoint");
  // Taken with a clock an hour ahead of this one: refused, or every record would be late.
  Monitor earlier(Options(), {ref}, kNow - 3600);
  EXPECT_FALSE(earlier.Restore(saved[0], kNow - 3600, &records, &why));
  EXPECT_EQ(why, "the checkpoint's window ends in the future (clock stepped back since?)");
  EXPECT_EQ(Feature(*longer.Evaluate(kNow), "x").samples, 0u);
}

TEST(CheckpointTest, DamagedFilesAreRecognisedWhole) {
  Reference ref;
  ASSERT_NO_FATAL_FAILURE(MakeReference("[0, 1, 2]", "[5, 5]", &ref));
  Monitor m(Options(), {ref}, kNow);
  m.Apply(Rec(0.5, "a"), kNow);
  const std::string good = EncodeCheckpoint({kNow, m.Checkpoint()});
  std::string error;
  EXPECT_FALSE(DecodeCheckpoint("", &error));
  EXPECT_EQ(error, "not a driftd checkpoint");
  EXPECT_FALSE(DecodeCheckpoint("{\"json\": true}", &error));
  EXPECT_EQ(error, "not a driftd checkpoint");
  for (size_t cut = 8; cut < good.size(); cut += 7) {
    EXPECT_FALSE(DecodeCheckpoint(good.substr(0, cut), &error)) << cut;
    EXPECT_EQ(error.rfind("truncated", 0), 0u) << error;
  }
  for (size_t i = 84; i < good.size(); ++i) {  // every byte of the payload
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_FALSE(DecodeCheckpoint(bad, &error)) << i;
    EXPECT_EQ(error, "checksum mismatch: the file is corrupt");
  }
  std::string newer = good;
  newer[8] = 3;
  EXPECT_FALSE(DecodeCheckpoint(newer, &error));
  EXPECT_EQ(error,
            "checkpoint format version 3 is not supported (this driftd reads versions 1 to 2)");
  EXPECT_TRUE(DecodeCheckpoint(good, &error));
}

}  // namespace
}  // namespace driftd
