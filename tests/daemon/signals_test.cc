#include "daemon/signals.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <functional>
#include <vector>

namespace driftd {
namespace {

// SIGUSR1 and SIGUSR2 stand for SIGTERM and SIGHUP: raised at this process, which has one thread
// here, they reach the reader instead of their default action (which would end the test).
class SignalReaderTest : public testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(pthread_sigmask(SIG_SETMASK, nullptr, &before_), 0); }
  void TearDown() override {
    // Nothing raised is left pending, then the mask is as it was.
    sigset_t pending;
    sigpending(&pending);
    EXPECT_FALSE(sigismember(&pending, SIGUSR1));
    EXPECT_FALSE(sigismember(&pending, SIGUSR2));
    pthread_sigmask(SIG_SETMASK, &before_, nullptr);
  }
  sigset_t before_;
};

TEST_F(SignalReaderTest, ASignalSentBeforeTheWaitIsReadAfterIt) {
  boost::asio::io_context io;
  constexpr int kSignals[] = {SIGUSR1, SIGUSR2};
  SignalReader reader(&io, kSignals);
  sigset_t mask;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  EXPECT_TRUE(sigismember(&mask, SIGUSR1));  // blocked on the calling thread
  EXPECT_TRUE(sigismember(&mask, SIGUSR2));

  ASSERT_EQ(kill(getpid(), SIGUSR2), 0);  // before anyone waits
  std::vector<int> got;
  std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code ec,
                                                                      int sig) {
    ASSERT_FALSE(ec) << ec.message();
    got.push_back(sig);
    if (sig == SIGUSR2) {
      ASSERT_EQ(kill(getpid(), SIGUSR1), 0);  // while the loop runs
      reader.AsyncWait(on_signal);
    }
  };
  reader.AsyncWait(on_signal);
  io.run();  // returns once the second signal is handled: nothing waits after it
  EXPECT_EQ(got, (std::vector<int>{SIGUSR2, SIGUSR1}));
}

TEST_F(SignalReaderTest, CancelEndsTheWaitWithOperationAborted) {
  boost::asio::io_context io;
  constexpr int kSignals[] = {SIGUSR1};
  SignalReader reader(&io, kSignals);
  boost::system::error_code got;
  int calls = 0;
  reader.AsyncWait([&](boost::system::error_code ec, int) {
    got = ec;
    ++calls;
  });
  boost::asio::post(io, [&] { reader.Cancel(); });
  io.run();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got, boost::asio::error::operation_aborted);
}

}  // namespace
}  // namespace driftd
