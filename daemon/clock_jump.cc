#include "daemon/clock_jump.h"

#include <time.h>

#include <algorithm>
#include <cmath>

namespace driftd {

std::optional<double> ClockJumpDetector::Observe(double wall, double steady) {
  const double wall_delta = wall - wall_, steady_delta = steady - steady_;
  const bool primed = primed_;
  primed_ = true;
  wall_ = wall;
  steady_ = steady;
  if (!primed) return std::nullopt;
  const double jump = wall_delta - steady_delta;
  if (!(std::fabs(jump) > threshold_)) return std::nullopt;
  return jump;
}

double ClockJumpThreshold(double slice_seconds) { return std::max(1.0, slice_seconds); }

JumpDetectingClock::JumpDetectingClock(std::function<double()> wall, std::function<double()> steady,
                                       double threshold_seconds,
                                       std::function<void(double)> on_jump)
    : wall_(std::move(wall)),
      steady_(std::move(steady)),
      detector_(threshold_seconds),
      on_jump_(std::move(on_jump)) {}

double JumpDetectingClock::Now() {
  std::lock_guard<std::mutex> lock(mu_);
  const double wall = wall_();
  if (const std::optional<double> jump = detector_.Observe(wall, steady_())) on_jump_(*jump);
  return wall;
}

double BootClockSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace driftd
