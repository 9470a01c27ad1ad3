#include "core/window_set.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace driftd {
namespace {

constexpr double kStart = 1'700'000'000;

// 5 minutes in 10 s slices, an hour in 1 min slices, a day in 15 min slices.
const std::vector<WindowOptions> kTiers = {{300, 30}, {3600, 60}, {86400, 96}};

TEST(WindowSetTest, TheRuleTheTiersFollow) {
  EXPECT_EQ(WindowSet::CheckTiers(kTiers), "");
  EXPECT_EQ(WindowSet::CheckTiers({{600, 10}}), "");
  EXPECT_EQ(WindowSet::CheckTiers({}), "at least one window is needed");
  EXPECT_EQ(WindowSet::CheckTiers({{300, 30}, {3600, 144}}),
            "window 1: its slice (25 s) must be a whole multiple of the slice of the window "
            "before it (10 s)");
  EXPECT_EQ(WindowSet::CheckTiers({{300, 30}, {300, 5}}),
            "window 1: its length (300 s) must exceed the length of the window before it (300 s) "
            "by at least one of its slices (60 s)");
  EXPECT_EQ(WindowSet::CheckTiers({{300, 30}, {360, 6}}), "");  // exactly one slice longer
}

// Every window of the set holds exactly what a SlidingWindow of its options alone would hold,
// fed the same stamped observations and advanced to the same times, over two days of traffic
// with ages from now to beyond the longest window.
TEST(WindowSetTest, EachWindowEqualsItsOwnSlidingWindow) {
  const std::vector<uint32_t> bins = {4, 3};
  WindowSet set(kTiers, bins, kStart);
  std::vector<SlidingWindow> alone;
  for (const WindowOptions& o : kTiers) alone.emplace_back(o, bins, kStart);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> age(0, 90000), step(0, 40);
  std::uniform_int_distribution<uint32_t> feature(0, 1), bin(0, 2);
  std::vector<std::vector<uint64_t>> totals;
  std::vector<uint64_t> expected;
  double now = kStart;
  uint64_t accepted = 0, late = 0;
  for (int i = 0; i < 200000; ++i) {
    now += step(rng);
    set.AdvanceTo(now);
    for (SlidingWindow& w : alone) w.AdvanceTo(now);
    // Most traffic is recent; one observation in eight is up to a day and an hour old.
    const double t = now - (i % 8 == 0 ? age(rng) : age(rng) / 300);
    const uint32_t f = feature(rng), b = bin(rng);
    WindowPlace place;
    const Admission a = set.Admit(t, &place);
    ASSERT_NE(a, Admission::kFuture);
    if (a == Admission::kAccepted) {
      set.Add(place, f, b);
      ++accepted;
    } else {
      ++late;
    }
    for (SlidingWindow& w : alone) {
      uint32_t slot = 0;
      if (w.Admit(t, &slot) == Admission::kAccepted) w.Add(slot, f, b);
    }
    if (i % 5000 == 4999) {
      set.Totals(&totals);
      for (size_t k = 0; k < kTiers.size(); ++k) {
        alone[k].Totals(&expected);
        ASSERT_EQ(totals[k], expected) << "window " << k << " after " << i + 1;
      }
    }
  }
  EXPECT_GT(accepted, 0u);
  EXPECT_GT(late, 0u);  // some were older than the day
  EXPECT_EQ(set.saturations(), 0u);
}

// A value is counted once: it is in one tier at a time, and moves on whole.
TEST(WindowSetTest, AValueIsInOneTierAtATime) {
  WindowSet set(kTiers, {2}, kStart);
  WindowPlace place;
  ASSERT_EQ(set.Admit(kStart, &place), Admission::kAccepted);
  EXPECT_EQ(place.tier, 0u);
  set.Add(place, 0, 1);
  auto in_tiers = [&] {
    std::vector<uint64_t> t, per;
    for (size_t k = 0; k < set.windows(); ++k) {
      set.tier(k).Totals(&t);
      per.push_back(t[1]);
    }
    return per;
  };
  EXPECT_EQ(in_tiers(), (std::vector<uint64_t>{1, 0, 0}));
  set.AdvanceTo(kStart + 400);  // out of the 5 minutes
  EXPECT_EQ(in_tiers(), (std::vector<uint64_t>{0, 1, 0}));
  set.AdvanceTo(kStart + 7200);  // out of the hour
  EXPECT_EQ(in_tiers(), (std::vector<uint64_t>{0, 0, 1}));
  set.AdvanceTo(kStart + 2 * 86400);  // out of the day: gone
  EXPECT_EQ(in_tiers(), (std::vector<uint64_t>{0, 0, 0}));
  // Older than the 5 minutes but inside the hour: straight into the hour's tier.
  ASSERT_EQ(set.Admit(set.end() - 1000, &place), Admission::kAccepted);
  EXPECT_EQ(place.tier, 1u);
  ASSERT_EQ(set.Admit(set.end() - 80000, &place), Admission::kAccepted);
  EXPECT_EQ(place.tier, 2u);
  EXPECT_EQ(set.Admit(set.end() - 90000, &place), Admission::kLate);
}

// A slice added whole (an ingest thread's shard drained, a checkpoint restored) and a slice handed
// on to the next tier saturate at kCounterMax like single adds, and count what did not fit.
TEST(WindowSetTest, AddedAndHandedOnSlicesSaturate) {
  constexpr uint64_t kMax = SlidingWindow::kCounterMax;
  const double now = 1'732'060'800;  // a whole minute: tier 0's slice is inside tier 1's newest
  WindowSet set({{60, 6}, {600, 10}}, {1, 1}, now);  // 10 s slices, then 1 min slices
  uint32_t tier = 9;
  int64_t index = 0;
  ASSERT_EQ(set.Locate(now, &tier, &index), Admission::kAccepted);
  ASSERT_EQ(tier, 0u);
  const SlidingWindow::Counter near_full[] = {SlidingWindow::kCounterMax - 1, 1};
  set.AddSlice(0, index, near_full);
  set.AddSlice(0, index, near_full);  // (max - 1) twice: max - 2 past the top
  std::vector<std::vector<uint64_t>> t;
  set.Totals(&t);
  EXPECT_EQ(t[0], (std::vector<uint64_t>{kMax, 2}));
  EXPECT_EQ(set.saturations(), kMax - 2);

  // Tier 1's newest slice near full too; when tier 0's slice leaves it (a minute later) it is
  // handed on into that slice: max + (max - 1) saturates at max, max - 1 more counted.
  set.AddSlice(1, index / 6, near_full);  // positive: / is the floor
  set.AdvanceTo(now + 61);
  set.Totals(&t);
  EXPECT_EQ(t[0], (std::vector<uint64_t>{0, 0}));
  EXPECT_EQ(t[1], (std::vector<uint64_t>{kMax, 3}));
  EXPECT_EQ(set.saturations(), (kMax - 2) + (kMax - 1));
}

TEST(WindowSetTest, MemoryIsTheTiersMemory) {
  const WindowSet set(kTiers, {32, 1}, kStart);
  EXPECT_EQ(set.MemoryBytes(), WindowSet::MemoryBytesFor(kTiers, 33, 2));
  // 186 slices of 33 counters of 4 bytes, plus bookkeeping.
  EXPECT_GE(set.MemoryBytes(), 186u * 33 * 4);
  EXPECT_LT(set.MemoryBytes(), 186u * 33 * 4 + 1024);
}

}  // namespace
}  // namespace driftd
