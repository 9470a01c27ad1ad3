#include "daemon/event_loop.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <stdexcept>

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

}  // namespace
}  // namespace driftd
