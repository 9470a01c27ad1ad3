// The one conversion of a number of seconds (a configuration value) into a steady-clock duration
// for timers. A plain duration_cast of a double overflows the clock's 64-bit nanoseconds beyond
// ~292 years (1e10 s became a negative timeout that fired at once); this one cannot.
#pragma once

#include <chrono>
#include <cmath>

namespace driftd {

// The longest duration SecondsToDuration returns: 100 years, far beyond every config bound.
inline constexpr double kMaxTimerSeconds = 100.0 * 365 * 86400;

// `seconds` as a steady_clock duration: NaN and values <= 0 give zero, values above
// kMaxTimerSeconds (and +inf) give kMaxTimerSeconds. Thread-safe.
inline std::chrono::steady_clock::duration SecondsToDuration(double seconds) {
  if (!(seconds > 0)) return std::chrono::steady_clock::duration::zero();
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(std::fmin(seconds, kMaxTimerSeconds)));
}

}  // namespace driftd
