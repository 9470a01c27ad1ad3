#include "daemon/http/query.h"

#include <gtest/gtest.h>

namespace driftd {
namespace {

QueryParams Parse(std::string_view query) {
  std::string error;
  std::optional<QueryParams> p = ParseQuery(query, &error);
  EXPECT_TRUE(p) << query << ": " << error;
  return p.value_or(QueryParams{});
}

TEST(QueryTest, PairsInOrderWithRepeats) {
  EXPECT_EQ(Parse("model=a&feature=x&feature=y&bins=true"),
            (QueryParams{{"model", "a"}, {"feature", "x"}, {"feature", "y"}, {"bins", "true"}}));
}

TEST(QueryTest, EmptyPartsAndBareKeys) {
  EXPECT_EQ(Parse(""), QueryParams{});
  EXPECT_EQ(Parse("&&bins&"), (QueryParams{{"bins", ""}}));
  EXPECT_EQ(Parse("a=&=b"), (QueryParams{{"a", ""}, {"", "b"}}));
  // Only the first '=' separates.
  EXPECT_EQ(Parse("a=b=c"), (QueryParams{{"a", "b=c"}}));
}

TEST(QueryTest, PercentAndPlusAreDecoded) {
  EXPECT_EQ(Parse("model=fraud%20v2&feature=a+b&x%3D=%26%2b%C3%A9"),
            (QueryParams{{"model", "fraud v2"}, {"feature", "a b"}, {"x=", "&+\xC3\xA9"}}));
  EXPECT_EQ(Parse("k=%00"), (QueryParams{{"k", std::string(1, '\0')}}));
}

TEST(QueryTest, ABadEscapeIsAnError) {
  for (std::string_view bad : {"model=%", "model=%2", "model=%zz", "%g1=x", "a=1&b=%2x"}) {
    std::string error;
    EXPECT_FALSE(ParseQuery(bad, &error)) << bad;
    EXPECT_EQ(error.rfind("bad %-escape in \"", 0), 0u) << error;
  }
  std::string error;
  ParseQuery("a=1&b=%2x", &error);
  EXPECT_EQ(error, "bad %-escape in \"b=%2x\"");
}

TEST(QueryTest, PercentEncodeIsParseQuerysInverse) {
  EXPECT_EQ(PercentEncode("fraud v2&x=1+\xC3\xA9~a_b-c.d"), "fraud%20v2%26x%3D1%2B%C3%A9~a_b-c.d");
  std::string every_byte;
  for (int c = 0; c < 256; ++c) every_byte += static_cast<char>(c);
  EXPECT_EQ(Parse("k=" + PercentEncode(every_byte)), (QueryParams{{"k", every_byte}}));
}

}  // namespace
}  // namespace driftd
