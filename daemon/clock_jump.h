// Wall-clock jumps (NTP stepping the clock, an operator, a restored snapshot): detected by
// comparing how far the wall clock moved with how far a clock that is never stepped moved
// between two readings. The daemon moves its windows by each jump (Monitor::ShiftWindows), so a
// jump neither empties them nor makes every arrival-time record late.
#pragma once

#include <functional>
#include <mutex>
#include <optional>

namespace driftd {

// The pure detector: fed readings of both clocks, says when the wall clock jumped. Not
// thread-safe (JumpDetectingClock adds the lock).
class ClockJumpDetector {
 public:
  // A difference between the two clocks' movements larger than `threshold_seconds` is a jump.
  explicit ClockJumpDetector(double threshold_seconds) : threshold_(threshold_seconds) {}

  // Feeds one reading of the wall clock and of the steady clock (seconds, any origin). Returns
  // the jump in seconds, positive when the wall clock jumped forward, when the wall clock moved
  // more than the threshold further (or less far) than the steady clock since the previous
  // reading; nullopt otherwise, and for the first reading.
  std::optional<double> Observe(double wall, double steady);

  double threshold_seconds() const { return threshold_; }

 private:
  double threshold_;
  bool primed_ = false;
  double wall_ = 0, steady_ = 0;  // the previous reading
};

// The threshold the daemon uses: one slice of the window or 1 s, whichever is longer. A smaller
// step cannot move a record out of its slice by more than one slice, which the window's
// one-slice tolerance for future timestamps already absorbs.
double ClockJumpThreshold(double slice_seconds);

// A wall clock that notices its own jumps. Every reading also reads `steady`; a jump is handed to
// `on_jump` (seconds, positive forward) before that reading, or any later one, is returned to
// anyone, so a caller never sees the new time before the jump was acted on. `on_jump` runs under
// the clock's lock and must not read this clock. Thread-safe.
class JumpDetectingClock {
 public:
  JumpDetectingClock(std::function<double()> wall, std::function<double()> steady,
                     double threshold_seconds, std::function<void(double)> on_jump);

  // Unix seconds from `wall`.
  double Now();

 private:
  std::mutex mu_;
  const std::function<double()> wall_, steady_;
  ClockJumpDetector detector_;  // guarded by mu_
  const std::function<void(double)> on_jump_;
};

// Seconds on CLOCK_BOOTTIME: never stepped, and unlike CLOCK_MONOTONIC it counts time suspended,
// so a resumed machine's real elapsed time is not mistaken for a jump.
double BootClockSeconds();

}  // namespace driftd
