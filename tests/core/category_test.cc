#include "core/category.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace driftd {
namespace {

std::string Number(double v) {
  CategoryBuffer buf;
  return std::string(CanonicalNumber(v, &buf));
}

// The canonical text of `text`, or "<missing>".
std::string Text(std::string_view text) {
  CategoryBuffer buf;
  const std::optional<std::string_view> c = CanonicalText(text, &buf);
  return c ? std::string(*c) : "<missing>";
}

TEST(CanonicalNumberTest, IntegralValuesHaveNoFraction) {
  EXPECT_EQ(Number(10115.0), "10115");
  EXPECT_EQ(Number(-3.0), "-3");
  EXPECT_EQ(Number(1e3), "1000");
  EXPECT_EQ(Number(9007199254740991.0), "9007199254740991");
  // Past 2^53 the digits are the double's exact value, up to 1e21.
  EXPECT_EQ(Number(1152921504606846976.0), "1152921504606846976");
  EXPECT_EQ(Number(18446744073709551615.0), "18446744073709551616");
  EXPECT_EQ(Number(1e20), "100000000000000000000");
}

TEST(CanonicalNumberTest, ZeroOfEitherSignIsZero) {
  EXPECT_EQ(Number(0.0), "0");
  EXPECT_EQ(Number(-0.0), "0");
}

TEST(CanonicalNumberTest, FractionsAreShortestRoundTrip) {
  EXPECT_EQ(Number(1.5), "1.5");
  EXPECT_EQ(Number(0.1), "0.1");
  EXPECT_EQ(Number(-2.25), "-2.25");
  EXPECT_EQ(Number(123456.789), "123456.789");
  EXPECT_EQ(Number(0.0001), "0.0001");
  EXPECT_EQ(Number(1e-6), "0.000001");
  EXPECT_EQ(Number(0.1 + 0.2), "0.30000000000000004");
}

TEST(CanonicalNumberTest, TinyAndHugeAreScientific) {
  EXPECT_EQ(Number(1e-7), "1e-07");
  EXPECT_EQ(Number(-1.5e-7), "-1.5e-07");
  EXPECT_EQ(Number(1e21), "1e+21");
  EXPECT_EQ(Number(std::numeric_limits<double>::denorm_min()), "5e-324");
  EXPECT_EQ(Number(-std::numeric_limits<double>::max()), "-1.7976931348623157e+308");
}

TEST(CanonicalNumberTest, InfinityAndNan) {
  EXPECT_EQ(Number(HUGE_VAL), "inf");
  EXPECT_EQ(Number(-HUGE_VAL), "-inf");
  EXPECT_EQ(Number(NAN), "nan");
}

TEST(CanonicalNumberTest, ReadsBackAsTheSameNumber) {
  // Every canonical text is a number that ParseNumber reads back exactly.
  for (double v : {10115.0, 1.5, 0.1, 1e-7, 1e21, 1.0 / 3, -2.5e-300, 4.35e15 + 0.5, 1e16 + 2}) {
    CategoryBuffer buf;
    const std::optional<double> back = ParseNumber(CanonicalNumber(v, &buf));
    ASSERT_TRUE(back.has_value()) << v;
    EXPECT_EQ(*back, v);
  }
}

TEST(CanonicalNumberTest, TheLongestFitsTheBuffer) {
  EXPECT_EQ(Number(-1.2345678901234567e-6), "-0.0000012345678901234567");
  EXPECT_EQ(Number(-1.2345678901234568e-300), "-1.2345678901234568e-300");
}

TEST(ParseNumberTest, AcceptsDecimalSpellings) {
  EXPECT_EQ(ParseNumber("10115"), 10115.0);
  EXPECT_EQ(ParseNumber("10115.0"), 10115.0);
  EXPECT_EQ(ParseNumber("1.0115e4"), 10115.0);
  EXPECT_EQ(ParseNumber("1E3"), 1000.0);
  EXPECT_EQ(ParseNumber("+1.50"), 1.5);
  EXPECT_EQ(ParseNumber("-.5"), -0.5);
  EXPECT_EQ(ParseNumber("5."), 5.0);
  EXPECT_EQ(ParseNumber(" 7\t\r"), 7.0);
  EXPECT_EQ(ParseNumber("Infinity"), HUGE_VAL);
  EXPECT_EQ(ParseNumber("-inf"), -HUGE_VAL);
  EXPECT_TRUE(std::isnan(ParseNumber("NaN").value()));
}

TEST(ParseNumberTest, RejectsEverythingElse) {
  for (const char* s : {"", " ", "+", "-", "0x10", "1e", "1.2.3", "10115a", "+-5", "++5", "1,5",
                        "1e999", "true", "US"}) {
    EXPECT_FALSE(ParseNumber(s).has_value()) << s;
  }
}

TEST(CanonicalTextTest, NumbersInAnySpellingAreOneCategory) {
  for (const char* s : {"10115", "10115.0", "10115.000", "+10115", "1.0115e4", " 10115"}) {
    EXPECT_EQ(Text(s), "10115") << s;
  }
  EXPECT_EQ(Text("1.50"), "1.5");
  EXPECT_EQ(Text("-0"), "0");
  EXPECT_EQ(Text("-0.0"), "0");
  EXPECT_EQ(Text("01234"), "1234");
  EXPECT_EQ(Text("inf"), "inf");
  EXPECT_EQ(Text("+Infinity"), "inf");
}

TEST(CanonicalTextTest, NanIsMissing) {
  EXPECT_EQ(Text("nan"), "<missing>");
  EXPECT_EQ(Text("NaN"), "<missing>");
}

TEST(CanonicalTextTest, BooleanSpellings) {
  for (const char* s : {"true", "True", "TRUE"}) EXPECT_EQ(Text(s), "true") << s;
  for (const char* s : {"false", "False", "FALSE"}) EXPECT_EQ(Text(s), "false") << s;
  // Single letters are ordinary categories (a "t" or "f" column is common).
  EXPECT_EQ(Text("t"), "t");
  EXPECT_EQ(Text("F"), "F");
  EXPECT_EQ(Text("tRUE"), "tRUE");
}

TEST(CanonicalTextTest, OtherTextIsUnchanged) {
  for (const char* s : {"", "US", "0x10", "1e", "12a", "nancy", "info", " US", "1,5", "-"}) {
    EXPECT_EQ(Text(s), s) << s;
  }
}

}  // namespace
}  // namespace driftd
