#include "core/window.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace driftd {
namespace {

// A fake clock: tests move time by hand and never sleep.
struct FakeClock {
  double now = 1'732'060'800;  // a slice boundary for 60 s slices
  void Advance(double s) { now += s; }
};

uint64_t Sum(const std::vector<uint64_t>& v) {
  uint64_t s = 0;
  for (auto x : v) s += x;
  return s;
}

TEST(SlidingWindowTest, LayoutAndTotals) {
  FakeClock clock;
  SlidingWindow w({3600, 60}, {4, 3}, clock.now);
  EXPECT_EQ(w.total_bins(), 7u);
  EXPECT_EQ(w.offset(1), 4u);
  uint32_t slot;
  ASSERT_EQ(w.Admit(clock.now, &slot), Admission::kAccepted);
  w.Add(slot, 0, 2);
  w.Add(slot, 1, 0);
  w.Add(slot, 1, 0);
  std::vector<uint64_t> t;
  w.Totals(&t);
  EXPECT_EQ(t, (std::vector<uint64_t>{0, 0, 1, 0, 2, 0, 0}));
}

TEST(SlidingWindowTest, SlicesExpireAsTimeAdvances) {
  FakeClock clock;
  SlidingWindow w({600, 10}, {1}, clock.now);  // 60 s slices
  uint32_t slot;
  // One observation per minute for 10 minutes: all in the window.
  for (int i = 0; i < 10; ++i) {
    w.AdvanceTo(clock.now);
    ASSERT_EQ(w.Admit(clock.now, &slot), Admission::kAccepted);
    w.Add(slot, 0, 0);
    clock.Advance(60);
  }
  std::vector<uint64_t> t;
  w.AdvanceTo(clock.now - 1);  // still in the 10th slice
  w.Totals(&t);
  EXPECT_EQ(t[0], 10u);
  w.AdvanceTo(clock.now);  // the first slice expires
  w.Totals(&t);
  EXPECT_EQ(t[0], 9u);
  clock.Advance(4 * 60);
  w.AdvanceTo(clock.now);
  w.Totals(&t);
  EXPECT_EQ(t[0], 5u);
  clock.Advance(3600);  // far ahead: everything expires
  w.AdvanceTo(clock.now);
  w.Totals(&t);
  EXPECT_EQ(t[0], 0u);
}

TEST(SlidingWindowTest, LateAndFutureObservations) {
  FakeClock clock;
  SlidingWindow w({600, 10}, {1}, clock.now + 30);
  uint32_t slot;
  // Inside the window, including its oldest slice.
  EXPECT_EQ(w.Admit(clock.now - 540, &slot), Admission::kAccepted);
  // Older than the window.
  EXPECT_EQ(w.Admit(clock.now - 541, &slot), Admission::kLate);
  EXPECT_EQ(w.Admit(0, &slot), Admission::kLate);
  EXPECT_EQ(w.Admit(std::nan(""), &slot), Admission::kLate);
  // Up to one slice ahead of the window's end: counted in the newest slice.
  uint32_t newest;
  ASSERT_EQ(w.Admit(clock.now + 30, &newest), Admission::kAccepted);
  ASSERT_EQ(w.Admit(clock.now + 89, &slot), Admission::kAccepted);
  EXPECT_EQ(slot, newest);
  // Further ahead is rejected.
  EXPECT_EQ(w.Admit(clock.now + 91, &slot), Admission::kFuture);
}

TEST(SlidingWindowTest, TimeNeverMovesBackwards) {
  FakeClock clock;
  SlidingWindow w({600, 10}, {1}, clock.now);
  uint32_t slot;
  ASSERT_EQ(w.Admit(clock.now, &slot), Admission::kAccepted);
  w.Add(slot, 0, 0);
  w.AdvanceTo(clock.now - 10000);
  EXPECT_EQ(w.end(), clock.now);
  std::vector<uint64_t> t;
  w.Totals(&t);
  EXPECT_EQ(t[0], 1u);
}

// Feeds `obs` (time, feature, bin) into `w` in time order, advancing time to each observation.
void Feed(SlidingWindow* w, const std::vector<std::tuple<double, uint32_t, uint32_t>>& obs) {
  for (const auto& [t, f, b] : obs) {
    w->AdvanceTo(t);
    uint32_t slot;
    if (w->Admit(t, &slot) == Admission::kAccepted) w->Add(slot, f, b);
  }
}

TEST(SlidingWindowTest, MergeEqualsWindowOfTheUnion) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    const double start = 1'700'000'000;
    std::vector<std::tuple<double, uint32_t, uint32_t>> all, a, b;
    std::uniform_real_distribution<double> dt(0, 40);
    double t = start;
    for (int i = 0; i < 2000; ++i) {
      t += dt(rng);
      const uint32_t f = rng() % 2;
      const uint32_t bin = rng() % (f == 0 ? 5 : 3);
      all.emplace_back(t, f, bin);
      ((rng() % 2) ? a : b).emplace_back(t, f, bin);
    }
    // Stop one of the two early, so the ends differ.
    if (trial % 2 && !b.empty()) b.resize(b.size() / 2);
    SlidingWindow wa({3600, 60}, {5, 3}, start), wb({3600, 60}, {5, 3}, start);
    SlidingWindow wu({3600, 60}, {5, 3}, start);
    Feed(&wa, a);
    Feed(&wb, b);
    std::vector<std::tuple<double, uint32_t, uint32_t>> u = a;
    u.insert(u.end(), b.begin(), b.end());
    std::sort(u.begin(), u.end());
    Feed(&wu, u);
    wu.AdvanceTo(std::max(wa.end(), wb.end()));
    ASSERT_TRUE(wa.Merge(wb));
    std::vector<uint64_t> merged, unioned;
    wa.Totals(&merged);
    wu.Totals(&unioned);
    ASSERT_EQ(merged, unioned) << "trial " << trial;
    EXPECT_GT(Sum(merged), 0u);
    EXPECT_EQ(wa.end(), wu.end());
  }
}

TEST(SlidingWindowTest, MergeIsCommutative) {
  const double start = 1'700'000'000;
  SlidingWindow a({600, 10}, {2}, start), b({600, 10}, {2}, start + 300);
  uint32_t slot;
  ASSERT_EQ(a.Admit(start, &slot), Admission::kAccepted);
  a.Add(slot, 0, 0);  // expires once merged with b's later end? No: 300 s < 600 s.
  ASSERT_EQ(b.Admit(start + 300, &slot), Admission::kAccepted);
  b.Add(slot, 0, 1);
  SlidingWindow ab = a, ba = b;
  ASSERT_TRUE(ab.Merge(b));
  ASSERT_TRUE(ba.Merge(a));
  std::vector<uint64_t> x, y;
  ab.Totals(&x);
  ba.Totals(&y);
  EXPECT_EQ(x, y);
  EXPECT_EQ(x, (std::vector<uint64_t>{1, 1}));
}

TEST(SlidingWindowTest, MergeRefusesDifferentShapes) {
  SlidingWindow a({600, 10}, {2}, 0), b({600, 10}, {3}, 0), c({600, 20}, {2}, 0);
  EXPECT_FALSE(a.Merge(b));
  EXPECT_FALSE(a.Merge(c));
}

TEST(SlidingWindowTest, FourBytesPerCounter) {
  EXPECT_EQ(sizeof(SlidingWindow::Counter), 4u);
  SlidingWindow w({3600, 60}, std::vector<uint32_t>(100, 32), 0);
  const size_t counters = size_t{100} * 32 * 60;
  // MemoryBytes counts every counter at the width of the type the window stores...
  EXPECT_GE(w.MemoryBytes(), counters * sizeof(SlidingWindow::Counter));
  // ...and little else: the bookkeeping is per feature, not per counter.
  EXPECT_LE(static_cast<double>(w.MemoryBytes()) / static_cast<double>(counters), 4.02);
}

}  // namespace
}  // namespace driftd

namespace driftd {

// Reaches a counter directly: filling one to kCounterMax by Add() would take 4 billion calls.
struct SlidingWindowPeer {
  static SlidingWindow::Counter& At(SlidingWindow* w, uint32_t slot, uint32_t feature,
                                    uint32_t bin) {
    return w->counts_[static_cast<size_t>(slot) * w->stride_ + w->offsets_[feature] + bin];
  }
};

namespace {

TEST(SlidingWindowTest, HugeAndInfiniteTimestampsAreClassifiedWithoutOverflow) {
  const double now = 1'732'060'800;
  SlidingWindow w({600, 10}, {1}, now);
  uint32_t slot = 99;
  // Far ahead: future, however large (floor(t / 60) does not fit an int64 for most of these).
  for (double t : {1e300, 9.3e18, 9.3e18 * 60, 1e20, std::numeric_limits<double>::max(),
                   std::numeric_limits<double>::infinity()}) {
    EXPECT_EQ(w.Admit(t, &slot), Admission::kFuture) << t;
  }
  // Far behind: late.
  for (double t : {-1e300, -9.3e18, -9.3e18 * 60, -std::numeric_limits<double>::max(),
                   -std::numeric_limits<double>::infinity(), std::nan("")}) {
    EXPECT_EQ(w.Admit(t, &slot), Admission::kLate) << t;
  }
  EXPECT_EQ(slot, 99u);  // untouched by a rejection
  // The window's own range still works after those.
  EXPECT_EQ(w.Admit(now, &slot), Admission::kAccepted);
  // Advancing to an absurd time expires everything and leaves the window usable.
  w.Add(slot, 0, 0);
  w.AdvanceTo(1e300);
  std::vector<uint64_t> t;
  w.Totals(&t);
  EXPECT_EQ(t[0], 0u);
  EXPECT_EQ(w.Admit(1e300, &slot), Admission::kAccepted);
  EXPECT_EQ(w.Admit(now, &slot), Admission::kLate);
}

TEST(SlidingWindowTest, CounterSaturatesInsteadOfWrapping) {
  const double now = 1'732'060'800;
  SlidingWindow w({600, 10}, {2, 1}, now);
  uint32_t slot;
  ASSERT_EQ(w.Admit(now, &slot), Admission::kAccepted);
  SlidingWindowPeer::At(&w, slot, 0, 1) = SlidingWindow::kCounterMax - 2;
  for (int i = 0; i < 5; ++i) w.Add(slot, 0, 1);
  w.Add(slot, 1, 0);  // other counters are unaffected
  std::vector<uint64_t> t;
  w.Totals(&t);
  EXPECT_EQ(t, (std::vector<uint64_t>{0, 4294967295u, 1}));
  EXPECT_EQ(w.saturations(), 3u);  // 5 adds, 2 fit

  // Merging saturates the sum too, and carries the other window's saturations.
  SlidingWindow other({600, 10}, {2, 1}, now);
  SlidingWindowPeer::At(&other, slot, 0, 1) = 10;
  other.Add(slot, 1, 0);
  ASSERT_TRUE(w.Merge(other));
  w.Totals(&t);
  EXPECT_EQ(t, (std::vector<uint64_t>{0, 4294967295u, 2}));
  EXPECT_EQ(w.saturations(), 13u);
}

TEST(SlidingWindowTest, ShiftKeepsCountsAndTheNewestSlice) {
  const double now = 1'732'060'800 + 30;  // mid-slice, 60 s slices
  SlidingWindow w({600, 10}, {2}, now);
  uint32_t slot, newest;
  // One observation in each of the last 3 slices.
  for (double t : {now - 120, now - 60, now}) {
    ASSERT_EQ(w.Admit(t, &slot), Admission::kAccepted);
    w.Add(slot, 0, 0);
  }
  ASSERT_EQ(w.Admit(now, &newest), Admission::kAccepted);
  w.Shift(7200);  // the wall clock jumped 2 h ahead
  EXPECT_EQ(w.end(), now + 7200);
  std::vector<uint64_t> t;
  w.Totals(&t);
  EXPECT_EQ(t, (std::vector<uint64_t>{3, 0}));
  // An arrival-time record on the new clock lands in the slice the old clock filled.
  ASSERT_EQ(w.Admit(now + 7200, &slot), Admission::kAccepted);
  EXPECT_EQ(slot, newest);
  // The window's range moved with it: 540 s back is the oldest live slice, more is late.
  EXPECT_EQ(w.Admit(now + 7200 - 570, &slot), Admission::kAccepted);
  EXPECT_EQ(w.Admit(now + 7200 - 571, &slot), Admission::kLate);
  EXPECT_EQ(w.Admit(now, &slot), Admission::kLate);
  // Expiry continues from the shifted end: 9 slices on, the 2 oldest observations expire
  // (slices now-120 and now-60, shifted), 1 is left.
  w.AdvanceTo(now + 7200 + 9 * 60);
  w.Totals(&t);
  EXPECT_EQ(t, (std::vector<uint64_t>{1, 0}));
  // Back again (the clock was stepped back): still kept, and arrival time is the newest slice.
  ASSERT_EQ(w.Admit(now + 7200 + 9 * 60, &newest), Admission::kAccepted);
  w.Shift(-7200);
  w.Totals(&t);
  EXPECT_EQ(t, (std::vector<uint64_t>{1, 0}));
  ASSERT_EQ(w.Admit(now + 9 * 60, &slot), Admission::kAccepted);
  EXPECT_EQ(slot, newest);
  w.Shift(std::numeric_limits<double>::infinity());  // ignored
  EXPECT_EQ(w.end(), now + 9 * 60);
}

TEST(SlidingWindowTest, ShiftedWindowMatchesOneThatNeverJumped) {
  // A jump of whole slices, forward or back, leaves a window that holds exactly what a window on
  // a clock that never jumped holds (other jumps move the slice boundaries within a slice).
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 40; ++trial) {
    const double start = 1'700'000'000;
    const double jump = 60.0 * (static_cast<int>(rng() % 4001) - 2000);
    SlidingWindow steady({600, 10}, {3}, start), jumped({600, 10}, {3}, start);
    double t = start;
    for (int i = 0; i < 300; ++i) {
      t += std::uniform_real_distribution<double>(0, 20)(rng);
      const bool after = i >= 150;
      if (i == 150) jumped.Shift(jump);
      const uint32_t bin = rng() % 3;
      uint32_t slot;
      steady.AdvanceTo(t);
      ASSERT_EQ(steady.Admit(t, &slot), Admission::kAccepted);
      steady.Add(slot, 0, bin);
      const double jt = after ? t + jump : t;
      jumped.AdvanceTo(jt);
      ASSERT_EQ(jumped.Admit(jt, &slot), Admission::kAccepted);
      jumped.Add(slot, 0, bin);
    }
    std::vector<uint64_t> a, b;
    steady.Totals(&a);
    jumped.Totals(&b);
    EXPECT_EQ(a, b) << "trial " << trial << ", jump " << jump;
    EXPECT_GT(Sum(b), 0u);
  }
}

TEST(SlidingWindowTest, MemoryBytesForMatchesABuiltWindow) {
  for (uint32_t slices : {1u, 60u, 3600u}) {
    const std::vector<uint32_t> bins = {13, 5, 1};
    SlidingWindow w({3600, slices}, bins, 0);
    EXPECT_EQ(SlidingWindow::MemoryBytesFor(slices, 19, 3), w.MemoryBytes()) << slices;
  }
  // The counters: 4 bytes per (bin, slice).
  EXPECT_EQ(SlidingWindow::MemoryBytesFor(60, 1000, 10) - SlidingWindow::MemoryBytesFor(60, 0, 10),
            60u * 1000 * 4);
}

}  // namespace
}  // namespace driftd
