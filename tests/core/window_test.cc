#include "core/window.h"

#include <gtest/gtest.h>

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
