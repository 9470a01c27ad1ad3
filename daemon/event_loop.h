// Runs one thread's io_context so that an exception escaping a handler costs that handler only:
// it is logged, counted in driftd_internal_errors_total{thread}, and the loop goes on.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <string>
#include <thread>

#include "daemon/asio.h"

namespace driftd {

// Registers driftd_internal_errors_total in `registry` and returns its counter for `thread`
// (the same counter for the same thread). Thread-safe.
prometheus::Counter* InternalErrors(prometheus::Registry* registry, const std::string& thread);

// Names the calling thread `name` (its first 15 bytes) where `top -H`, `ps -L` and
// /proc/PID/task/TID/comm show it.
void NameThisThread(const std::string& name);

// Runs `io` until it runs out of work or is stopped. What a handler throws is caught, logged
// ("internal error", with the thread and the exception's message), counted in `errors`, and the
// loop is resumed: the remaining handlers still run. Returns the number of exceptions caught.
uint64_t RunEventLoop(boost::asio::io_context* io, const std::string& thread,
                      prometheus::Counter* errors);

// Starts a thread named `name` that runs `io` with RunEventLoop. The thread starts with
// kDaemonSignals (SIGINT, SIGTERM, SIGHUP) blocked, as SignalReader (daemon/signals.h) needs of
// every thread: the daemon's main thread reads them from a signalfd, and no other thread takes
// them.
std::thread StartLoopThread(boost::asio::io_context* io, std::string name,
                            prometheus::Counter* errors);

}  // namespace driftd
