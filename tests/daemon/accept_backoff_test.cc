#include "daemon/accept_backoff.h"

#include <gtest/gtest.h>

#include <vector>

namespace driftd {
namespace {

using Ms = std::chrono::milliseconds;

std::vector<int64_t> Failures(AcceptBackoff* b, int n) {
  std::vector<int64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(b->Failure().count());
  return out;
}

TEST(AcceptBackoffTest, DoublesFromTenMillisecondsToOneSecond) {
  AcceptBackoff b;
  EXPECT_EQ(Failures(&b, 10),
            (std::vector<int64_t>{10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000}));
}

TEST(AcceptBackoffTest, ASuccessStartsOver) {
  AcceptBackoff b;
  Failures(&b, 4);
  b.Success();
  EXPECT_EQ(Failures(&b, 3), (std::vector<int64_t>{10, 20, 40}));
  b.Success();
  b.Success();
  EXPECT_EQ(b.Failure(), Ms(10));
}

TEST(AcceptBackoffTest, AMaximumThatIsNotAPowerOfTwoOfTheStart) {
  AcceptBackoff b(Ms(3), Ms(10));
  EXPECT_EQ(Failures(&b, 4), (std::vector<int64_t>{3, 6, 10, 10}));
  AcceptBackoff same(Ms(5), Ms(5));
  EXPECT_EQ(Failures(&same, 2), (std::vector<int64_t>{5, 5}));
}

}  // namespace
}  // namespace driftd
