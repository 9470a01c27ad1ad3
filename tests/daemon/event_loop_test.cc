#include "daemon/event_loop.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <pthread.h>
#include <signal.h>

#include <stdexcept>
#include <string>

namespace driftd {
namespace {

TEST(EventLoopTest, AHandlerThatThrowsIsCountedAndTheLoopGoesOn) {
  prometheus::Registry registry;
  prometheus::Counter* errors = InternalErrors(&registry, "test");
  boost::asio::io_context io;
  int ran = 0;
  boost::asio::post(io, [&] { ++ran; });
  boost::asio::post(io, [] { throw std::runtime_error("boom"); });
  boost::asio::post(io, [&] { ++ran; });
  boost::asio::post(io, [] { throw 42; });  // not a std::exception
  boost::asio::post(io, [&] { ++ran; });
  EXPECT_EQ(RunEventLoop(&io, "test", errors), 2u);
  EXPECT_EQ(ran, 3);
  EXPECT_EQ(errors->Value(), 2);
  // One counter per thread, the same one when asked again.
  EXPECT_EQ(InternalErrors(&registry, "test"), errors);
  EXPECT_NE(InternalErrors(&registry, "other"), errors);
}

TEST(EventLoopTest, ReturnsWhenTheWorkIsDone) {
  prometheus::Registry registry;
  prometheus::Counter* errors = InternalErrors(&registry, "test");
  boost::asio::io_context io;
  EXPECT_EQ(RunEventLoop(&io, "test", errors), 0u);
  EXPECT_EQ(errors->Value(), 0);
}

// The signals a daemon waits for on its main thread never go to a loop thread, whatever the
// caller's mask; the caller's own mask is left as it was.
TEST(EventLoopTest, ALoopThreadTakesNoTerminationSignals) {
  prometheus::Registry registry;
  sigset_t before;
  ASSERT_EQ(pthread_sigmask(SIG_SETMASK, nullptr, &before), 0);
  ASSERT_FALSE(sigismember(&before, SIGTERM));  // gtest's main thread takes them

  boost::asio::io_context io;
  sigset_t in_thread;
  char name[16] = {};
  boost::asio::post(io, [&] {
    pthread_sigmask(SIG_SETMASK, nullptr, &in_thread);
    pthread_getname_np(pthread_self(), name, sizeof name);
  });
  std::thread t = StartLoopThread(&io, "event-loop-under-test", InternalErrors(&registry, "test"));
  t.join();  // the loop ran the one handler and ran out of work
  EXPECT_TRUE(sigismember(&in_thread, SIGTERM));
  EXPECT_TRUE(sigismember(&in_thread, SIGINT));
  EXPECT_TRUE(sigismember(&in_thread, SIGHUP));
  EXPECT_FALSE(sigismember(&in_thread, SIGUSR1));   // only those three
  EXPECT_EQ(std::string(name), "event-loop-unde");  // the kernel keeps 15 bytes

  sigset_t after;
  ASSERT_EQ(pthread_sigmask(SIG_SETMASK, nullptr, &after), 0);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) EXPECT_FALSE(sigismember(&after, sig)) << sig;
}

}  // namespace
}  // namespace driftd
