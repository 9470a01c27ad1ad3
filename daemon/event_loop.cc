#include "daemon/event_loop.h"

#include <pthread.h>

#include <exception>

#include "daemon/log.h"
#include "daemon/signals.h"

namespace driftd {

prometheus::Counter* InternalErrors(prometheus::Registry* registry, const std::string& thread) {
  return &prometheus::BuildCounter()
              .Name("driftd_internal_errors_total")
              .Help(
                  "Exceptions that escaped a handler and were caught by the thread's event "
                  "loop, by thread. Any increase is a driftd bug: please report it.")
              .Register(*registry)
              .Add({{"thread", thread}});
}

void NameThisThread(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());  // the kernel's limit
}

uint64_t RunEventLoop(boost::asio::io_context* io, const std::string& thread,
                      prometheus::Counter* errors) {
  uint64_t caught = 0;
  for (;;) {
    std::string what;
    try {
      io->run();  // Asio lets run() resume after a handler threw, without restart()
      return caught;
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
      what = "unknown exception";
    }
    ++caught;
    errors->Increment();
    Log(spdlog::level::err, "internal error", {{"thread", thread}, {"error", what}});
  }
}

std::thread StartLoopThread(boost::asio::io_context* io, std::string name,
                            prometheus::Counter* errors) {
  // A new thread inherits its creator's signal mask: block them around its creation only.
  const sigset_t block = SignalSet(kDaemonSignals);
  struct RestoreMask {
    sigset_t before;
    ~RestoreMask() { pthread_sigmask(SIG_SETMASK, &before, nullptr); }
  } restore;
  pthread_sigmask(SIG_BLOCK, &block, &restore.before);
  return std::thread([io, name = std::move(name), errors] {
    NameThisThread(name);
    RunEventLoop(io, name, errors);
  });
}

}  // namespace driftd
