#include "daemon/log.h"

#include <gtest/gtest.h>

#include <string>

namespace driftd {
namespace {

TEST(Utf8PrefixTest, CutsOnACharacterBoundary) {
  const std::string s =
      "ab\xc3\xa9"
      "c";  // a b é c: é is bytes 2-3
  EXPECT_EQ(Utf8Prefix(s, 10), s);
  EXPECT_EQ(Utf8Prefix(s, 4), "ab\xc3\xa9");
  EXPECT_EQ(Utf8Prefix(s, 3), "ab");  // byte 3 is inside é: é is left out whole
  EXPECT_EQ(Utf8Prefix(s, 2), "ab");
  EXPECT_EQ(Utf8Prefix(s, 0), "");
  const std::string emoji = "x\xf0\x9f\x98\x80y";  // x 😀 y: 😀 is bytes 1-4
  for (size_t n = 1; n <= 4; ++n) EXPECT_EQ(Utf8Prefix(emoji, n), "x") << n;
  EXPECT_EQ(Utf8Prefix(emoji, 5), "x\xf0\x9f\x98\x80");
}

TEST(Utf8PrefixTest, InvalidBytesAreCutAsBytes) {
  // Stray continuation bytes begin no character: the cut stays where it was asked.
  EXPECT_EQ(Utf8Prefix("a\x80\x80\x80\x80", 3), "a\x80\x80");
  EXPECT_EQ(Utf8Prefix("ab\xff\xff", 3), "ab\xff");
}

TEST(QuoteLogValueTest, PlainValuesStayBare) {
  EXPECT_EQ(QuoteLogValue("malformed_json"), "malformed_json");
  EXPECT_EQ(QuoteLogValue("tcp:127.0.0.1:7070"), "tcp:127.0.0.1:7070");
}

TEST(QuoteLogValueTest, QuotesAndEscapes) {
  EXPECT_EQ(QuoteLogValue(""), "\"\"");
  EXPECT_EQ(QuoteLogValue("a b"), "\"a b\"");
  EXPECT_EQ(QuoteLogValue("k=v"), "\"k=v\"");
  EXPECT_EQ(QuoteLogValue("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(QuoteLogValue("back\\slash"), "\"back\\\\slash\"");
  EXPECT_EQ(QuoteLogValue("a\nb\rc\td"), "\"a\\nb\\rc\\td\"");
  EXPECT_EQ(QuoteLogValue(std::string("nul\0x", 5)), "\"nul\\x00x\"");
  EXPECT_EQ(QuoteLogValue("\x1b[2J\x7f"), "\"\\x1b[2J\\x7f\"");
}

TEST(QuoteLogValueTest, InvalidUtf8IsEscapedValidUtf8Kept) {
  EXPECT_EQ(QuoteLogValue("x \xff y"), "\"x \\xff y\"");
  EXPECT_EQ(QuoteLogValue("caf\xc3\xa9"), "\"caf\xc3\xa9\"");                // é kept
  EXPECT_EQ(QuoteLogValue("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");      // 😀 kept
  EXPECT_EQ(QuoteLogValue("\xc3"), "\"\\xc3\"");                             // cut sequence
  EXPECT_EQ(QuoteLogValue("\xc0\xaf"), "\"\\xc0\\xaf\"");                    // overlong '/'
  EXPECT_EQ(QuoteLogValue("\xed\xa0\x80"), "\"\\xed\\xa0\\x80\"");           // a surrogate
  EXPECT_EQ(QuoteLogValue("\xf4\x90\x80\x80"), "\"\\xf4\\x90\\x80\\x80\"");  // > U+10FFFF
  EXPECT_EQ(QuoteLogValue("\xc2\x85\xc2\x9b"), "\"\\u0085\\u009b\"");        // C1 controls
  EXPECT_EQ(QuoteLogValue("\xc2\xa0"), "\"\xc2\xa0\"");                      // U+00A0 is printable
}

TEST(SanitizeUtf8Test, OnlyInvalidBytesChange) {
  // Quotes and controls are left to the JSON line.
  EXPECT_EQ(SanitizeUtf8("a \"b\"\n\x1b\x7f\xc2\x85"), "a \"b\"\n\x1b\x7f\xc2\x85");
  EXPECT_EQ(SanitizeUtf8("x \xff y \xc3\xa9"), "x \\xff y \xc3\xa9");
}

TEST(FormatLogLineTest, JsonEscapesEveryControlCharacter) {
  const std::string line =
      FormatLogLine(spdlog::level::warn, "ingest error",
                    {{"sample", "a\x1b\x7f\xc2\x85\xc2\xa0\xff\"q\""}}, LogFormat::kJson);
  EXPECT_NE(line.find(R"("sample":"a\u001b\u007f\u0085)"
                      "\xc2\xa0"
                      R"(\\xff\"q\"")"),
            std::string::npos)
      << line;
}

TEST(FormatLogLineTest, TextQuotesValuesAndKeepsNumbersBare) {
  const std::string line =
      FormatLogLine(spdlog::level::info, "ingest error",
                    {{"reason", "binary"}, {"sample", "a b\r"}, {"n", 3}}, LogFormat::kText);
  EXPECT_NE(line.find(R"( info ingest error reason=binary sample="a b\r" n=3)"), std::string::npos)
      << line;
}

// Every single byte, and every pair, gives printable ASCII or valid UTF-8 with no control.
TEST(QuoteLogValueTest, NoByteSequenceLeaksAControlCharacter) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const char in[2] = {static_cast<char>(a), static_cast<char>(b)};
      const std::string out = QuoteLogValue(std::string_view(in, 2));
      for (size_t i = 0; i < out.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(out[i]);
        ASSERT_FALSE(c < 0x20 || c == 0x7f) << a << " " << b;
        ASSERT_FALSE(c == 0xc2 && i + 1 < out.size() &&
                     static_cast<unsigned char>(out[i + 1]) < 0xa0)
            << a << " " << b;
      }
    }
  }
}

}  // namespace
}  // namespace driftd
