#include "daemon/clock_jump.h"

#include <gtest/gtest.h>

#include <vector>

namespace driftd {
namespace {

TEST(ClockJumpDetectorTest, StepsBeyondTheThresholdAreJumps) {
  ClockJumpDetector d(1.0);
  EXPECT_FALSE(d.Observe(1000, 5));     // the first reading: nothing to compare with
  EXPECT_FALSE(d.Observe(1010, 15));    // both moved 10 s
  EXPECT_FALSE(d.Observe(1020.9, 25));  // 0.9 s apart: NTP slew, not a jump
  // The wall clock moved 7210 s while the steady clock moved 10: a 2 h forward jump.
  std::optional<double> j = d.Observe(8230.9, 35);
  ASSERT_TRUE(j);
  EXPECT_DOUBLE_EQ(*j, 7200);
  EXPECT_FALSE(d.Observe(8240.9, 45));  // measured from the new clock: no second jump
  // Back by 2 h.
  j = d.Observe(1050.9, 55);
  ASSERT_TRUE(j);
  EXPECT_DOUBLE_EQ(*j, -7200);
  // The wall clock standing still while 5 s pass is a backward jump of 5 s.
  j = d.Observe(1050.9, 60);
  ASSERT_TRUE(j);
  EXPECT_DOUBLE_EQ(*j, -5);
  EXPECT_FALSE(d.Observe(1051.9, 61.5));  // -0.5 s: under the threshold
}

TEST(ClockJumpDetectorTest, ThresholdIsOneSliceOrOneSecond) {
  EXPECT_EQ(ClockJumpThreshold(60), 60);
  EXPECT_EQ(ClockJumpThreshold(0.25), 1);
  ClockJumpDetector d(ClockJumpThreshold(60));
  d.Observe(0, 0);
  EXPECT_FALSE(d.Observe(59, 0));  // within one slice: the window's tolerance absorbs it
  EXPECT_TRUE(d.Observe(120, 0));  // 61 s
}

TEST(JumpDetectingClockTest, JumpIsHandledBeforeTheNewTimeIsReturned) {
  double wall = 1000, steady = 0;
  std::vector<double> jumps;
  std::vector<double> wall_when_handled;
  JumpDetectingClock clock([&] { return wall; }, [&] { return steady; }, 1.0,
                           [&](double jump) {
                             jumps.push_back(jump);
                             wall_when_handled.push_back(wall);
                           });
  EXPECT_EQ(clock.Now(), 1000);
  wall += 3;
  steady += 3;
  EXPECT_EQ(clock.Now(), 1003);
  EXPECT_TRUE(jumps.empty());
  wall += 7200;
  EXPECT_EQ(clock.Now(), 8203);
  EXPECT_EQ(jumps, (std::vector<double>{7200}));
  EXPECT_EQ(wall_when_handled, (std::vector<double>{8203}));
  EXPECT_EQ(clock.Now(), 8203);  // once only
  wall -= 7200;
  steady += 1;
  EXPECT_EQ(clock.Now(), 1003);
  EXPECT_EQ(jumps, (std::vector<double>{7200, -7201}));
}

TEST(JumpDetectingClockTest, BootClockAdvances) {
  const double a = BootClockSeconds();
  const double b = BootClockSeconds();
  EXPECT_GT(a, 0);
  EXPECT_GE(b, a);
}

}  // namespace
}  // namespace driftd
