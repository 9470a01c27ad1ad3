#include <gtest/gtest.h>

#include "tests/daemon/http/http_fixture.h"

namespace driftd {
namespace {

using HealthEndpointTest = HttpFixture;

TEST_F(HealthEndpointTest, HealthzIsAlwaysOk) {
  for (bool ready : {false, true}) {
    ready_ = ready;
    HttpResponse r = Handle("GET", "/healthz");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
    EXPECT_EQ(r.body, "ok\n");
  }
}

TEST_F(HealthEndpointTest, ReadyzFollowsTheReadyFlag) {
  HttpResponse r = Handle("GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(r.body, "not ready\n");

  ready_ = true;
  r = Handle("GET", "/readyz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(r.body, "ready\n");

  ready_ = false;  // draining at shutdown
  EXPECT_EQ(Handle("GET", "/readyz").status, 503);
}

}  // namespace
}  // namespace driftd
