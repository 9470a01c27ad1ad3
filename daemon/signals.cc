#include "daemon/signals.h"

#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace driftd {

sigset_t SignalSet(std::span<const int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : signals) sigaddset(&set, sig);
  return set;
}

SignalReader::SignalReader(boost::asio::io_context* io, std::span<const int> signals) : fd_(*io) {
  const sigset_t set = SignalSet(signals);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  const int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "signalfd");
  fd_.assign(fd);
}

void SignalReader::AsyncWait(std::function<void(boost::system::error_code, int)> handler) {
  fd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                 [this, handler = std::move(handler)](boost::system::error_code ec) mutable {
                   if (ec) {
                     handler(ec, 0);
                     return;
                   }
                   signalfd_siginfo info;
                   if (::read(fd_.native_handle(), &info, sizeof info) != sizeof info) {
                     AsyncWait(std::move(handler));  // nothing there after all (EAGAIN)
                     return;
                   }
                   handler({}, static_cast<int>(info.ssi_signo));
                 });
}

void SignalReader::Cancel() {
  boost::system::error_code ec;
  fd_.cancel(ec);
}

}  // namespace driftd
