// The signals driftd acts on (SIGTERM, SIGINT, SIGHUP), read as data from a signalfd on an
// io_context rather than caught by a handler: nothing runs in signal context, and a signal sent
// at any moment after the reader exists waits in the descriptor until it is read.
#pragma once

#include <signal.h>

#include <array>
#include <functional>
#include <span>

#include "daemon/asio.h"

namespace driftd {

// The signals the daemon acts on: its SignalReader reads them on the main thread, and every other
// thread blocks them (StartLoopThread, daemon/event_loop.h).
inline constexpr std::array<int, 3> kDaemonSignals = {SIGINT, SIGTERM, SIGHUP};

// The set of `signals`.
sigset_t SignalSet(std::span<const int> signals);

class SignalReader {
 public:
  // Blocks `signals` on the calling thread and opens a signalfd for them on `io`. Every other
  // thread must block them too (StartLoopThread's threads do): a thread that does not would take
  // the signal with its default action. Throws std::system_error if signalfd fails.
  SignalReader(boost::asio::io_context* io, std::span<const int> signals);

  // Calls `handler(error, signal)` on `io`'s thread with the next signal (one call per
  // AsyncWait); with operation_aborted after Cancel().
  void AsyncWait(std::function<void(boost::system::error_code, int)> handler);
  void Cancel();

 private:
  boost::asio::posix::stream_descriptor fd_;
};

}  // namespace driftd
