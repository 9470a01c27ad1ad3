// What a listener does when accept() fails (EMFILE, ENFILE, ENOBUFS, ...): wait before trying
// again, 10 ms doubling to 1 s and back to 10 ms after a success, and log the error rate-limited.
// Re-arming the accept at once instead turns a lasting error into a loop that burns a CPU.
#pragma once

#include <chrono>
#include <string_view>

namespace driftd {

class LogRateLimiter;  // daemon/log.h

// The delay sequence of one listener. Not thread-safe: keep one per acceptor, on its thread.
class AcceptBackoff {
 public:
  using Duration = std::chrono::milliseconds;
  static constexpr Duration kInitial{10};
  static constexpr Duration kMax{1000};

  // `initial` > 0 and `initial` <= `max`.
  explicit AcceptBackoff(Duration initial = kInitial, Duration max = kMax)
      : initial_(initial), max_(max), next_(initial) {}

  // Call after a failed accept: the delay before the next attempt, `initial` the first time and
  // doubling on each consecutive failure up to `max`.
  Duration Failure() {
    const Duration delay = next_;
    next_ = next_ >= max_ / 2 ? max_ : next_ * 2;
    return delay;
  }

  // Call after a successful accept: the next failure waits `initial` again.
  void Success() { next_ = initial_; }

 private:
  Duration initial_, max_, next_;
};

// Logs "accept error" at warn with the listener ("http 127.0.0.1:9470"), the error's message and
// the delay before the next attempt, when `limiter` allows (with the count it suppressed).
// Counting the error (reason="accept_error") is the caller's. Thread-safe; never throws.
void LogAcceptError(LogRateLimiter* limiter, std::string_view listener, std::string_view error,
                    AcceptBackoff::Duration retry_in);

}  // namespace driftd
