#include "daemon/ingest/decoder.h"

#include <gtest/gtest.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace driftd {
namespace {

using Kind = Value::Kind;

class DecoderTest : public ::testing::Test {
 protected:
  DecodeStatus Decode(std::string_view line) { return decoder_.Decode(line, &record_, &error_); }

  // Decodes a line that must be an error and returns its reason.
  std::string ErrorReason(std::string_view line) {
    EXPECT_EQ(Decode(line), DecodeStatus::kError) << line;
    EXPECT_FALSE(error_.message.empty()) << line;
    return std::string(ReasonLabel(error_.reason));
  }

  const Value* FieldValue(std::string_view key) const { return Find(record_.fields, key); }
  const Value* TagValue(std::string_view key) const { return Find(record_.tags, key); }

  static const Value* Find(const std::vector<Field>& fields, std::string_view key) {
    for (const Field& f : fields) {
      if (f.key == key) return &f.value;
    }
    return nullptr;
  }

  LineDecoder decoder_;
  Record record_;
  DecodeError error_;
};

// For a decimal (Value::Decimal), its digits and kind against its text's, worked out from the
// characters: the digits x 10^power it spells, at power -16, and whether any nonzero digit was cut.
void ExpectDecimalDigits(const Value& v) {
  if (!v.IsDecimal()) return;
  const std::string_view t = v.text;
  std::string digits;
  int power = 0;
  bool fraction = false;
  size_t i = 0;
  for (; i < t.size() && t[i] != 'e' && t[i] != 'E'; ++i) {
    if (t[i] == '.') {
      fraction = true;
      continue;
    }
    digits += t[i];
    power -= fraction;
  }
  if (i < t.size()) power += std::stoi(std::string(t.substr(i + 1)));
  if (power > -16) digits.append(static_cast<size_t>(power + 16), '0');  // "12.5": 125 and 15 zeros
  const size_t cut = power < -16 ? static_cast<size_t>(-16 - power) : 0;
  if (digits.size() <= cut) digits.insert(0, cut + 1 - digits.size(), '0');  // "3e-18": 0.03
  const std::string kept = digits.substr(0, digits.size() - cut);
  const std::string dropped = digits.substr(digits.size() - cut);
  EXPECT_EQ(v.digits, std::stoull(kept)) << t;
  EXPECT_EQ(v.kind == Kind::kDecimalAbove, dropped.find_first_not_of('0') != std::string::npos)
      << t;
}

void ExpectNumber(const Value* v, double expected) {
  ASSERT_NE(v, nullptr);
  EXPECT_TRUE(v->IsNumber());
  EXPECT_DOUBLE_EQ(v->Number(), expected);
  ExpectDecimalDigits(*v);
}

// A zero of the given sign (an underflow keeps the number's sign).
void ExpectZero(const Value* v, bool negative) {
  ASSERT_NE(v, nullptr);
  EXPECT_TRUE(v->IsNumber());
  EXPECT_EQ(v->Number(), 0.0);
  EXPECT_EQ(std::signbit(v->Number()), negative);
}

void ExpectString(const Value* v, std::string_view expected) {
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->kind, Kind::kString);
  EXPECT_EQ(v->text, expected);
}

void ExpectBool(const Value* v, bool expected) {
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->kind, Kind::kBool);
  EXPECT_EQ(v->number, expected ? 1 : 0);
  EXPECT_EQ(v->text, expected ? "true" : "false");
}

// ----- NDJSON ---------------------------------------------------------------------------------

TEST_F(DecoderTest, NdjsonHappyPath) {
  ASSERT_EQ(Decode(R"({"model": "fraud", "ts": 1732060000.25, "features": {"amount": 12.5, )"
                   R"("country": "US", "age": null, "vip": true, "new": false}})"),
            DecodeStatus::kRecord)
      << error_.message;
  EXPECT_EQ(record_.format, Format::kJson);
  EXPECT_EQ(record_.model, "fraud");
  EXPECT_EQ(record_.timestamp, 1732060000.25);
  ASSERT_EQ(record_.fields.size(), 5u);
  EXPECT_EQ(record_.fields[0].key, "amount");
  ExpectNumber(FieldValue("amount"), 12.5);
  ExpectString(FieldValue("country"), "US");
  ASSERT_NE(FieldValue("age"), nullptr);
  EXPECT_EQ(FieldValue("age")->kind, Kind::kNull);
  ExpectBool(FieldValue("vip"), true);
  ExpectBool(FieldValue("new"), false);
  EXPECT_TRUE(record_.tags.empty());
}

TEST_F(DecoderTest, NdjsonMissingTimestampIsNaN) {
  ASSERT_EQ(Decode(R"({"model":"m","features":{"x":1}})"), DecodeStatus::kRecord);
  EXPECT_TRUE(std::isnan(record_.timestamp));
}

TEST_F(DecoderTest, NdjsonUnescapesKeysAndStrings) {
  ASSERT_EQ(Decode(R"({"mod\u0065l":"fr\"aud","features":{"a\"b":"x\ny\u00e9","c\\d":"\/"}})"),
            DecodeStatus::kRecord)
      << error_.message;
  EXPECT_EQ(record_.model, "fr\"aud");
  ExpectString(FieldValue("a\"b"), "x\ny\xc3\xa9");
  ExpectString(FieldValue("c\\d"), "/");
}

TEST_F(DecoderTest, NdjsonNumbersOfAnySizeBecomeDoubles) {
  ASSERT_EQ(Decode(R"({"model":"m","features":{"big":123456789012345678901234567890,)"
                   R"("u64":18446744073709551615,"over":18446744073709551616,)"
                   R"("neg":-9223372036854775809,"exp":-1.5e-3,"int":42}})"),
            DecodeStatus::kRecord)
      << error_.message;
  ExpectNumber(FieldValue("big"), 1.2345678901234568e29);
  ExpectNumber(FieldValue("u64"), 18446744073709551615.0);
  ExpectNumber(FieldValue("over"), 18446744073709551616.0);
  ExpectNumber(FieldValue("neg"), -9223372036854775809.0);
  ExpectNumber(FieldValue("exp"), -1.5e-3);
  ExpectNumber(FieldValue("int"), 42);
}

// More than 19 digits after "0.": simdjson 3.0.1's get_double wraps their mantissa (0.0276628 for
// 0.95000000000000000000, simdjson issue 2093), and the fast path leaves such numbers to it.
TEST_F(DecoderTest, NdjsonLongFractionsAfterAZeroKeepTheirValue) {
  ASSERT_EQ(Decode(R"({"model":"m","ts":0.95000000000000000000,"features":{)"
                   R"("a":0.95000000000000000000,"b":-0.88906292377617025389,)"
                   R"("c":0.000000000000000000000000000001234567890123456789012e5}})"),
            DecodeStatus::kRecord)
      << error_.message;
  ExpectNumber(FieldValue("a"), 0.95);
  ExpectNumber(FieldValue("b"), -0.88906292377617025389);
  ExpectNumber(FieldValue("c"), 1.234567890123456789012e-25);
  EXPECT_EQ(record_.timestamp, 0.95);
}

// The same numbers beyond a double's range: simdjson 3.0.1 takes 0.18446744073709551617e309
// (its mantissa wrapped to 1) for 1e289; a number too large is an error, as a fixed simdjson
// says, and one too small is zero of its sign.
TEST_F(DecoderTest, NdjsonLongFractionsBeyondADoublesRange) {
  EXPECT_EQ(ErrorReason(R"({"model":"m","features":{"x":0.18446744073709551617e309}})"),
            "malformed_json");
  EXPECT_EQ(ErrorReason(R"({"model":"m","ts":0.18446744073709551617e309,"features":{"x":1}})"),
            "bad_timestamp");
  ASSERT_EQ(Decode(R"({"model":"m","features":{"a":0.18446744073709551617e308,)"
                   R"("b":-0.18446744073709551617e-400,"c":0.000000000000000000001e-310,)"
                   R"("d":0.00000000000000000000018446744073709551617e329}})"),
            DecodeStatus::kRecord)
      << error_.message;
  ExpectNumber(FieldValue("a"), 1.8446744073709551617e307);
  ExpectZero(FieldValue("b"), true);
  ExpectZero(FieldValue("c"), false);
  ExpectNumber(FieldValue("d"), 1.8446744073709551617e307);
  // Leading zeros count: 1.8e309 is too large, 1.8e-391 (a positive exponent) too small.
  EXPECT_EQ(ErrorReason(R"({"model":"m","features":{"x":0.00018446744073709551617e313}})"),
            "malformed_json");
  const std::string tiny =
      R"({"model":"m","features":{"x":0.)" + std::string(400, '0') + R"(18446744073709551617e10}})";
  ASSERT_EQ(Decode(tiny), DecodeStatus::kRecord) << error_.message;
  ExpectZero(FieldValue("x"), false);
}

// Whether a number out of a double's range is too large (an error) or too small (zero) is told by
// the power of its first nonzero digit and its exponent together, however long the number: not by
// the exponent's sign, nor with the exponent cut short (it was cut at 100,000, which 100,000 zeros
// before the first digit undid). Both formats, and JSON by both paths.
TEST_F(DecoderTest, NumbersOutOfRangeAreTooLargeOrZeroByTheirFirstDigit) {
  const std::string zeros_then_one = "0." + std::string(99999, '0') + "1e1000000";  // 1e900001
  const std::string one_then_zeros = "1" + std::string(100500, '0') + "e-101000";   // 1e-500
  const std::string big = "1" + std::string(400, '0') + "e-10";                     // 1e390
  for (const std::string& n : {zeros_then_one, big}) {
    EXPECT_EQ(ErrorReason(R"({"model":"m","features":{"x":)" + n + "}}"), "malformed_json");
    EXPECT_EQ(ErrorReason("m x=" + n), "malformed_line_protocol");
  }
  // (The lines outlive the record's views of them.)
  const std::string json = R"({"model":"m","features":{"x":)" + one_then_zeros + "}}";
  ASSERT_EQ(Decode(json), DecodeStatus::kRecord) << error_.message;
  ExpectZero(FieldValue("x"), false);
  const std::string line_protocol = "m x=-" + one_then_zeros;
  ASSERT_EQ(Decode(line_protocol), DecodeStatus::kRecord) << error_.message;
  ExpectZero(FieldValue("x"), true);
}

// An exponent of more than 19 digits is simdjson's NUMBER_ERROR; the fast path leaves it to it,
// so that a line's outcome does not depend on which path takes it.
TEST_F(DecoderTest, NdjsonExponentsOfMoreThan19DigitsAreSimdjsonsToDecide) {
  const uint64_t before = decoder_.FastJsonLines();
  ASSERT_EQ(Decode(R"({"model":"m","features":{"x":1e0000000000000000001}})"),
            DecodeStatus::kRecord);
  ExpectNumber(FieldValue("x"), 10);
  EXPECT_EQ(decoder_.FastJsonLines(), before + 1);
  EXPECT_EQ(ErrorReason(R"({"model":"m","features":{"x":1e00000000000000000000}})"),
            "malformed_json");
}

TEST_F(DecoderTest, NdjsonIgnoresUnknownKeysWhateverTheirValue) {
  ASSERT_EQ(Decode(R"({"id":[1,{"a":[2]}],"model":"m","extra":{"deep":{"x":null}},)"
                   R"("features":{"x":1},"more":"y"})"),
            DecodeStatus::kRecord)
      << error_.message;
  EXPECT_EQ(record_.model, "m");
  ASSERT_EQ(record_.fields.size(), 1u);
}

TEST_F(DecoderTest, NdjsonDuplicateKeysLastOneWins) {
  ASSERT_EQ(Decode(R"({"model":"a","model":"b","features":{"x":1,"y":2,"x":3},"ts":1,"ts":2})"),
            DecodeStatus::kRecord)
      << error_.message;
  EXPECT_EQ(record_.model, "b");
  EXPECT_EQ(record_.timestamp, 2);
  ASSERT_EQ(record_.fields.size(), 2u);
  EXPECT_EQ(record_.fields[0].key, "x");  // first position, last value
  ExpectNumber(&record_.fields[0].value, 3);
  EXPECT_EQ(record_.fields[1].key, "y");
  // "features" and "fields" are aliases: the later object replaces the earlier one.
  ASSERT_EQ(Decode(R"({"model":"a","features":{"x":1},"fields":{"y":2}})"), DecodeStatus::kRecord);
  ASSERT_EQ(record_.fields.size(), 1u);
  EXPECT_EQ(record_.fields[0].key, "y");
}

TEST_F(DecoderTest, NdjsonDuplicateKeysMatchWhateverTheirSpelling) {
  // Escaped and plain spellings of one key, short and long (over 16 bytes) keys.
  ASSERT_EQ(Decode(R"({"model":"m","features":{"a":1,"b":2,"\u0061":3,)"
                   R"("a_rather_long_feature_name":4,"a_rather_long_feature_n\u0061me":5,)"
                   R"("exactly_16_bytes":6,"exactly_16_byte\u0073":7}})"),
            DecodeStatus::kRecord)
      << error_.message;
  ASSERT_EQ(record_.fields.size(), 4u);
  ExpectNumber(FieldValue("a"), 3);
  ExpectNumber(FieldValue("b"), 2);
  ExpectNumber(FieldValue("a_rather_long_feature_name"), 5);
  ExpectNumber(FieldValue("exactly_16_bytes"), 7);
  // Line protocol: a repeated escaped key (hashed from the decoder's scratch copy).
  ASSERT_EQ(Decode(R"(m a\ b=1,c=2,a\ b=3)"), DecodeStatus::kRecord) << error_.message;
  ASSERT_EQ(record_.fields.size(), 2u);
  ExpectNumber(FieldValue("a b"), 3);
}

TEST_F(DecoderTest, NdjsonLeadingBlanksAndCarriageReturn) {
  ASSERT_EQ(Decode(" \t{\"model\":\"m\",\"features\":{\"x\":1}} \r"), DecodeStatus::kRecord)
      << error_.message;
  EXPECT_EQ(record_.model, "m");
}

TEST_F(DecoderTest, NdjsonEmptyFeaturesIsARecord) {
  ASSERT_EQ(Decode(R"({"model":"m","features":{}})"), DecodeStatus::kRecord);
  EXPECT_TRUE(record_.fields.empty());
}

// ----- Telegraf JSON --------------------------------------------------------------------------

TEST_F(DecoderTest, TelegrafJsonWithTags) {
  ASSERT_EQ(Decode(R"({"fields":{"amount":12.5,"n":3,"ok":true,"s":"x"},"name":"fraud",)"
                   R"("tags":{"host":"a","country":"US"},"timestamp":1732060000})"),
            DecodeStatus::kRecord)
      << error_.message;
  EXPECT_EQ(record_.format, Format::kJson);
  EXPECT_EQ(record_.model, "fraud");
  EXPECT_EQ(record_.timestamp, 1732060000);
  ASSERT_EQ(record_.fields.size(), 4u);
  ExpectNumber(FieldValue("amount"), 12.5);
  ExpectNumber(FieldValue("n"), 3);
  ExpectBool(FieldValue("ok"), true);
  ExpectString(FieldValue("s"), "x");
  ASSERT_EQ(record_.tags.size(), 2u);
  EXPECT_EQ(record_.tags[0].key, "host");
  ExpectString(TagValue("host"), "a");
  ExpectString(TagValue("country"), "US");
}

TEST_F(DecoderTest, TelegrafJsonFractionalTimestamp) {
  ASSERT_EQ(Decode(R"({"name":"m","fields":{"x":1},"tags":{},"timestamp":1732060000.5})"),
            DecodeStatus::kRecord);
  EXPECT_EQ(record_.timestamp, 1732060000.5);
}

TEST_F(DecoderTest, TelegrafJsonNonStringTagIsMalformed) {
  EXPECT_EQ(ErrorReason(R"({"name":"m","fields":{"x":1},"tags":{"host":1}})"), "malformed_json");
  EXPECT_NE(error_.message.find("tag \"host\""), std::string::npos) << error_.message;
}

// ----- Line protocol --------------------------------------------------------------------------

TEST_F(DecoderTest, LineProtocolHappyPath) {
  ASSERT_EQ(Decode("fraud,host=a,country=US amount=12.5,country2=\"US\",n=3i,u=4u,ok=true "
                   "1732060000250000000"),
            DecodeStatus::kRecord)
      << error_.message;
  EXPECT_EQ(record_.format, Format::kLineProtocol);
  EXPECT_EQ(record_.model, "fraud");
  EXPECT_EQ(record_.timestamp, 1732060000.25);
  ASSERT_EQ(record_.tags.size(), 2u);
  EXPECT_EQ(record_.tags[0].key, "host");
  ExpectString(TagValue("host"), "a");
  ExpectString(TagValue("country"), "US");
  ASSERT_EQ(record_.fields.size(), 5u);
  EXPECT_EQ(record_.fields[0].key, "amount");
  ExpectNumber(FieldValue("amount"), 12.5);
  ExpectString(FieldValue("country2"), "US");
  ExpectNumber(FieldValue("n"), 3);
  ExpectNumber(FieldValue("u"), 4);
  ExpectBool(FieldValue("ok"), true);
}

TEST_F(DecoderTest, LineProtocolMissingTimestampIsNaN) {
  ASSERT_EQ(Decode("m f=1"), DecodeStatus::kRecord);
  EXPECT_TRUE(std::isnan(record_.timestamp));
  ASSERT_EQ(Decode("m f=1   "), DecodeStatus::kRecord);
  EXPECT_TRUE(std::isnan(record_.timestamp));
}

TEST_F(DecoderTest, LineProtocolTimestamps) {
  ASSERT_EQ(Decode("m f=1 1"), DecodeStatus::kRecord);
  EXPECT_EQ(record_.timestamp, 1e-9);
  ASSERT_EQ(Decode("m f=1 -1500000000"), DecodeStatus::kRecord);
  EXPECT_EQ(record_.timestamp, -1.5);
  ASSERT_EQ(Decode("m f=1 9223372036854775807"), DecodeStatus::kRecord);
  EXPECT_DOUBLE_EQ(record_.timestamp, 9223372036.854775807);
  ASSERT_EQ(Decode("m f=1 0\r"), DecodeStatus::kRecord);
  EXPECT_EQ(record_.timestamp, 0);
}

TEST_F(DecoderTest, LineProtocolReferenceEscapingExample) {
  ASSERT_EQ(
      Decode(R"(my\ measurement,tag\ key=tag\,value field\=key="string \"quoted\" \\ back" 1)"),
      DecodeStatus::kRecord)
      << error_.message;
  EXPECT_EQ(record_.model, "my measurement");
  ASSERT_EQ(record_.tags.size(), 1u);
  EXPECT_EQ(record_.tags[0].key, "tag key");
  ExpectString(&record_.tags[0].value, "tag,value");
  ASSERT_EQ(record_.fields.size(), 1u);
  EXPECT_EQ(record_.fields[0].key, "field=key");
  ExpectString(&record_.fields[0].value, R"(string "quoted" \ back)");
  EXPECT_EQ(record_.timestamp, 1e-9);
}

TEST_F(DecoderTest, LineProtocolMeasurementEscapes) {
  // Comma and space are escaped; '=' needs no escape and "\=" stays as written.
  ASSERT_EQ(Decode(R"(a\,b\ c f=1)"), DecodeStatus::kRecord) << error_.message;
  EXPECT_EQ(record_.model, "a,b c");
  ASSERT_EQ(Decode(R"(a=b f=1)"), DecodeStatus::kRecord) << error_.message;
  EXPECT_EQ(record_.model, "a=b");
  ASSERT_EQ(Decode(R"(a\=b f=1)"), DecodeStatus::kRecord) << error_.message;
  EXPECT_EQ(record_.model, R"(a\=b)");
  // A backslash before any other byte is literal; quotes are ordinary bytes.
  ASSERT_EQ(Decode(R"(C:\dir"x" f=1)"), DecodeStatus::kRecord) << error_.message;
  EXPECT_EQ(record_.model, R"(C:\dir"x")");
}

TEST_F(DecoderTest, LineProtocolTagEscapes) {
  ASSERT_EQ(Decode(R"(m,k\,1\=\ x=v\,1\=\ y f=1)"), DecodeStatus::kRecord) << error_.message;
  ASSERT_EQ(record_.tags.size(), 1u);
  EXPECT_EQ(record_.tags[0].key, "k,1= x");
  ExpectString(&record_.tags[0].value, "v,1= y");
  ASSERT_EQ(Decode(R"(m,path=C:\dir\n f=1)"), DecodeStatus::kRecord) << error_.message;
  ExpectString(TagValue("path"), R"(C:\dir\n)");
}

TEST_F(DecoderTest, LineProtocolBackslashBeforeAnEscapedByteRoundTripsTelegraf) {
  // Telegraf escapes ',', '=' and ' ' but never a backslash: the tag value `a\` + `,b` is sent as
  // `a\\,b`, and the measurement `m\` + ` x` as `m\\ x`.
  ASSERT_EQ(Decode(R"(m\\ x,t=a\\,u\=b f=1)"), DecodeStatus::kRecord) << error_.message;
  EXPECT_EQ(record_.model, R"(m\ x)");
  ASSERT_EQ(record_.tags.size(), 1u);
  ExpectString(TagValue("t"), R"(a\,u=b)");
}

TEST_F(DecoderTest, LineProtocolFieldKeyEscapes) {
  ASSERT_EQ(Decode(R"(m a\,b=1,c\=d=2,e\ f=3,g\h=4)"), DecodeStatus::kRecord) << error_.message;
  ASSERT_EQ(record_.fields.size(), 4u);
  EXPECT_EQ(record_.fields[0].key, "a,b");
  EXPECT_EQ(record_.fields[1].key, "c=d");
  EXPECT_EQ(record_.fields[2].key, "e f");
  EXPECT_EQ(record_.fields[3].key, R"(g\h)");
}

TEST_F(DecoderTest, LineProtocolStringFieldEscapes) {
  ASSERT_EQ(Decode(R"(m a="q\"q",b="b\\s",c="lit\n\t",d="",e="x, y=z \\\"",f="\\")"),
            DecodeStatus::kRecord)
      << error_.message;
  ExpectString(FieldValue("a"), R"(q"q)");
  ExpectString(FieldValue("b"), R"(b\s)");
  ExpectString(FieldValue("c"), R"(lit\n\t)");
  ExpectString(FieldValue("d"), "");
  ExpectString(FieldValue("e"), R"(x, y=z \")");
  ExpectString(FieldValue("f"), R"(\)");
}

TEST_F(DecoderTest, LineProtocolNumbers) {
  ASSERT_EQ(Decode("m a=1,b=-1.5,c=.5,d=1.,e=1e3,f=-1.5E-3,g=6.02e+23,h=0,i=-0.0"),
            DecodeStatus::kRecord)
      << error_.message;
  ExpectNumber(FieldValue("a"), 1);
  ExpectNumber(FieldValue("b"), -1.5);
  ExpectNumber(FieldValue("c"), 0.5);
  ExpectNumber(FieldValue("d"), 1);
  ExpectNumber(FieldValue("e"), 1000);
  ExpectNumber(FieldValue("f"), -1.5e-3);
  ExpectNumber(FieldValue("g"), 6.02e23);
  ExpectNumber(FieldValue("h"), 0);
  ExpectNumber(FieldValue("i"), 0);
  ASSERT_EQ(Decode("m a=3i,b=-3i,c=9223372036854775807i,d=-9223372036854775808i,e=0u,"
                   "f=18446744073709551615u"),
            DecodeStatus::kRecord)
      << error_.message;
  ExpectNumber(FieldValue("a"), 3);
  ExpectNumber(FieldValue("b"), -3);
  ExpectNumber(FieldValue("c"), 9223372036854775807.0);
  ExpectNumber(FieldValue("d"), -9223372036854775808.0);
  ExpectNumber(FieldValue("e"), 0);
  ExpectNumber(FieldValue("f"), 18446744073709551615.0);
}

TEST_F(DecoderTest, LineProtocolIntegersOfEveryLength) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    // Magnitudes spread over every digit count, including the int64 and uint64 extremes.
    const int shift = static_cast<int>(rng() % 64);
    const uint64_t u = i == 0 ? UINT64_MAX : rng() >> shift;
    const int64_t v = i == 1 ? INT64_MIN : static_cast<int64_t>(rng()) >> shift;
    const std::string line = "m u=" + std::to_string(u) + "u,i=" + std::to_string(v) + "i,z=00" +
                             std::to_string(u % 1000) + "i " + std::to_string(v);
    ASSERT_EQ(Decode(line), DecodeStatus::kRecord) << line << ": " << error_.message;
    EXPECT_EQ(record_.fields[0].value.Number(), static_cast<double>(u)) << line;
    EXPECT_EQ(record_.fields[1].value.Number(), static_cast<double>(v)) << line;
    EXPECT_EQ(record_.fields[2].value.Number(), static_cast<double>(u % 1000)) << line;
    const double seconds =
        static_cast<double>(v / 1000000000) + static_cast<double>(v % 1000000000) * 1e-9;
    EXPECT_EQ(record_.timestamp, seconds) << line;
  }
  // A non-digit anywhere in a long run of digits.
  for (size_t at = 0; at < 19; ++at) {
    std::string digits = "1234567890123456789";
    digits[at] = 'x';
    EXPECT_EQ(ErrorReason("m a=" + digits + "i"), "malformed_line_protocol") << digits;
    EXPECT_EQ(ErrorReason("m a=1 " + digits), "bad_timestamp") << digits;
  }
}

TEST_F(DecoderTest, LineProtocolFloatsRoundLikeStrtod) {
  std::mt19937_64 rng(8);
  char text[64];
  for (int i = 0; i < 50000; ++i) {
    const double magnitude =
        std::ldexp(static_cast<double>(rng() >> 11), -52 + static_cast<int>(rng() % 120) - 60);
    switch (i % 4) {
      case 0:
        std::snprintf(text, sizeof text, "%.17g", magnitude);
        break;
      case 1:
        std::snprintf(text, sizeof text, "%.2f", std::fmod(magnitude, 1e6));
        break;
      case 2:
        std::snprintf(text, sizeof text, "-%.6e", magnitude);
        break;
      default:
        std::snprintf(text, sizeof text, "%.*f", static_cast<int>(rng() % 12),
                      std::fmod(magnitude, 1e9));
        break;
    }
    // At the end of the line (digits read up to a bound), then followed by a field (read up to
    // the separator).
    for (const std::string& line :
         {std::string("m f=") + text, std::string("m f=") + text + ",g=1"}) {
      ASSERT_EQ(Decode(line), DecodeStatus::kRecord) << line << ": " << error_.message;
      EXPECT_EQ(record_.fields[0].value.Number(), std::strtod(text, nullptr)) << line;
    }
  }
  // Mantissas of 1 to 40 digits with the point anywhere (or none, or leading/trailing), leading
  // zeros, exponents up to the limits: the eight-digit path, the exact conversion and the slow
  // path each against strtod.
  for (int i = 0; i < 50000; ++i) {
    std::string t = rng() % 4 == 0 ? "-" : "";
    if (rng() % 5 == 0) t.append(static_cast<size_t>(rng() % 25), '0');
    const size_t digits = 1 + rng() % 40;
    const size_t point = rng() % (digits + 2);  // digits + 1: no point
    for (size_t d = 0; d < digits; ++d) {
      if (d == point) t.push_back('.');
      t.push_back(static_cast<char>('0' + rng() % 10));
    }
    if (point == digits) t.push_back('.');
    if (rng() % 3 == 0) {
      t.push_back(rng() % 2 ? 'e' : 'E');
      t.append(std::to_string(static_cast<int>(rng() % 640) - 330));
    }
    const double expected = std::strtod(t.c_str(), nullptr);
    if (!std::isfinite(expected)) continue;
    const std::string line = "m f=" + t + ",g=" + t + " 1";  // not last, and last before a space
    ASSERT_EQ(Decode(line), DecodeStatus::kRecord) << line << ": " << error_.message;
    EXPECT_EQ(record_.fields[0].value.Number(), expected) << t;
    EXPECT_EQ(record_.fields[1].value.Number(), expected) << t;
    ASSERT_EQ(Decode("m f=" + t), DecodeStatus::kRecord) << t;  // at the very end of the line
    EXPECT_EQ(record_.fields[0].value.Number(), expected) << t;
  }
  ASSERT_EQ(Decode("m a=1.7976931348623157e308,b=4.9e-324,c=2.2250738585072011e-308,d=.5,e=5."),
            DecodeStatus::kRecord);
  ExpectNumber(FieldValue("a"), 1.7976931348623157e308);
  ExpectNumber(FieldValue("b"), 4.9e-324);
  ExpectNumber(FieldValue("c"), 2.2250738585072011e-308);
  ExpectNumber(FieldValue("d"), 0.5);
  ExpectNumber(FieldValue("e"), 5);
  EXPECT_EQ(ErrorReason("m a=1.8e308"), "malformed_line_protocol");
  ASSERT_EQ(Decode("m a=1e-400,b=-1e-400,c=0.000000000000000000000000000001"),
            DecodeStatus::kRecord);
  ExpectNumber(FieldValue("a"), 0);
  ExpectNumber(FieldValue("b"), 0);
  ExpectNumber(FieldValue("c"), 1e-30);
}

TEST_F(DecoderTest, LineProtocolBadNumbers) {
  for (const char* line : {"m a=9223372036854775808i",
                           "m a=-9223372036854775809i",
                           "m a=18446744073709551616u",
                           "m a=-1u",
                           "m a=1.5i",
                           "m a=1e5i",
                           "m a=+1",
                           "m a=1e",
                           "m a=1e+",
                           "m a=-",
                           "m a=.",
                           "m a=nan",
                           "m a=inf",
                           "m a=0x10",
                           "m a=1.2.3",
                           "m a=1e999",
                           "m a=i",
                           "m a=u",
                           "m a=--1",
                           "m a=1a",
                           "m a=-i"}) {
    EXPECT_EQ(ErrorReason(line), "malformed_line_protocol") << line;
  }
}

TEST_F(DecoderTest, LineProtocolBooleans) {
  ASSERT_EQ(Decode("m a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE"),
            DecodeStatus::kRecord)
      << error_.message;
  for (const char* key : {"a", "b", "c", "d", "e"}) ExpectBool(FieldValue(key), true);
  for (const char* key : {"f", "g", "h", "i", "j"}) ExpectBool(FieldValue(key), false);
  for (const char* line : {"m a=tRue", "m a=yes", "m a=truee", "m a=Fals", "m a=TRUE1"}) {
    EXPECT_EQ(ErrorReason(line), "malformed_line_protocol") << line;
  }
}

TEST_F(DecoderTest, CommentsAndBlankLinesAreSkipped) {
  for (const char* line : {"", " ", "\t \t", "\r", "  \r", "# a comment", "#", "  # indented",
                           "#{\"model\":1}", "\t#x=1 y"}) {
    EXPECT_EQ(Decode(line), DecodeStatus::kSkip) << line;
    EXPECT_TRUE(record_.fields.empty());
  }
}

TEST_F(DecoderTest, LineProtocolBlanksAndTabs) {
  // Telegraf's parser accepts tabs and repeated blanks between sections and around the line.
  ASSERT_EQ(Decode("  m,t=v \t f=1,g=2\t  123  \r"), DecodeStatus::kRecord) << error_.message;
  EXPECT_EQ(record_.model, "m");
  EXPECT_EQ(record_.fields.size(), 2u);
  EXPECT_EQ(record_.timestamp, 123e-9);
}

TEST_F(DecoderTest, LineProtocolDuplicateKeysLastOneWins) {
  ASSERT_EQ(Decode("m,t=1,u=2,t=3 a=1,b=2,a=3"), DecodeStatus::kRecord);
  ASSERT_EQ(record_.tags.size(), 2u);
  EXPECT_EQ(record_.tags[0].key, "t");
  ExpectString(&record_.tags[0].value, "3");
  ASSERT_EQ(record_.fields.size(), 2u);
  EXPECT_EQ(record_.fields[0].key, "a");
  ExpectNumber(&record_.fields[0].value, 3);
}

TEST_F(DecoderTest, ManyFieldsWithDuplicates) {
  std::string line = "m ";
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 1000; ++i) {
      line += "feature_with_a_long_name_" + std::to_string(i) + "=" +
              std::to_string(i + round * 10000) + ",";
    }
  }
  line.pop_back();
  ASSERT_EQ(Decode(line), DecodeStatus::kRecord) << error_.message;
  ASSERT_EQ(record_.fields.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(record_.fields[i].key, "feature_with_a_long_name_" + std::to_string(i));
    EXPECT_EQ(record_.fields[i].value.Number(), i + 10000);
  }
}

TEST_F(DecoderTest, Utf8NamesAndValues) {
  ASSERT_EQ(Decode("mod\xc3\xa8le,pays=C\xc3\xb4te f\xc3\xa9=\"\xe2\x82\xac\""),
            DecodeStatus::kRecord)
      << error_.message;
  EXPECT_EQ(record_.model, "mod\xc3\xa8le");
  ExpectString(TagValue("pays"), "C\xc3\xb4te");
  ExpectString(FieldValue("f\xc3\xa9"), "\xe2\x82\xac");
}

TEST_F(DecoderTest, TelegrafInfluxSerializerOutput) {
  // As Telegraf's influx serializer writes it: sorted tags, escaped names, `\t`-style escapes for
  // whitespace (decoded literally), uint as i (influx_uint_support=false).
  ASSERT_EQ(Decode(R"(cpu\ load,cpu=cpu-total,host=web\ 01,path=C:\Windows usage_idle=98.5,)"
                   R"(note="a \"b\" \\c",count=12i,up=true,tab\tkey=1 1732060000000000000)"),
            DecodeStatus::kRecord)
      << error_.message;
  EXPECT_EQ(record_.model, "cpu load");
  ExpectString(TagValue("host"), "web 01");
  ExpectString(TagValue("path"), R"(C:\Windows)");
  ExpectString(FieldValue("note"), R"(a "b" \c)");
  ExpectNumber(FieldValue("count"), 12);
  ExpectNumber(FieldValue(R"(tab\tkey)"), 1);
  EXPECT_EQ(record_.timestamp, 1732060000);
}

TEST_F(DecoderTest, ViewsStayValidUntilTheNextDecode) {
  std::string line = R"(a\ b,t\ k=v\ w s="x\"y" 5)";
  ASSERT_EQ(Decode(line), DecodeStatus::kRecord);
  line.assign(line.size(), '#');  // unescaped text lives in the decoder, not in `line`
  EXPECT_EQ(record_.model, "a b");
  EXPECT_EQ(record_.tags[0].key, "t k");
  ExpectString(&record_.tags[0].value, "v w");
  ExpectString(&record_.fields[0].value, R"(x"y)");
  std::string json = R"({"model":"m","features":{"k":"v"}})";
  ASSERT_EQ(Decode(json), DecodeStatus::kRecord);
  json.assign(json.size(), ' ');  // every JSON string is copied
  EXPECT_EQ(record_.model, "m");
  EXPECT_EQ(record_.fields[0].key, "k");
  ExpectString(&record_.fields[0].value, "v");
}

// A fast path writes a record's fields over the last record's, and a number or a null keeps no
// text of an earlier line: a view into a line that is gone (ASan reports a read of one).
TEST_F(DecoderTest, AFieldWrittenOverAnEarlierOneKeepsNoViewOfItsLine) {
  ASSERT_EQ(Decode(R"(m a="s",b="s")"), DecodeStatus::kRecord);  // fast: the shape a, b
  {
    const std::string general = R"(m,t=x\ y a="t",b="t")";  // an escaped tag: the general parser
    ASSERT_EQ(Decode(general), DecodeStatus::kRecord);
  }
  ASSERT_EQ(Decode("m a=1,b=2i"), DecodeStatus::kRecord);
  ASSERT_EQ(record_.fields.size(), 2u);
  for (const Field& f : record_.fields) {
    EXPECT_EQ(f.value.kind, Value::Kind::kNumber) << f.key;
    EXPECT_EQ(f.value.text, "") << f.key;
  }
  ASSERT_EQ(Decode(R"({"model":"m","features":{"a":"s"}})"), DecodeStatus::kRecord);
  ASSERT_EQ(Decode(R"({"model":"m","features":{"a":null}})"), DecodeStatus::kRecord);
  ASSERT_EQ(record_.fields.size(), 1u);
  EXPECT_EQ(record_.fields[0].value.kind, Value::Kind::kNull);
  EXPECT_EQ(record_.fields[0].value.text, "");
}

TEST_F(DecoderTest, RecordIsClearedBetweenLines) {
  ASSERT_EQ(Decode("m,t=1 f=1 5"), DecodeStatus::kRecord);
  ASSERT_EQ(Decode(R"({"model":"j","features":{"x":1}})"), DecodeStatus::kRecord);
  EXPECT_TRUE(record_.tags.empty());
  EXPECT_TRUE(std::isnan(record_.timestamp));
  EXPECT_EQ(record_.fields.size(), 1u);
}

// ----- Errors ---------------------------------------------------------------------------------

TEST_F(DecoderTest, MalformedJson) {
  for (const char* line : {
           R"({"model":"m"})",                                 // no features
           R"({"model":"m","features":[1,2]})",                // not an object
           R"({"model":"m","features":"x"})",                  //
           R"({"model":"m","features":{"a":1})",               // truncated
           R"({"model":"m","features":{"a":1}} x)",            // trailing text
           R"({"model":"m","features":{"a":1}}{})",            //
           R"({"model":"m","features":{"a":01}})",             // bad number
           R"({"model":"m","features":{"a":tru}})",            //
           R"({"model":"m","features":{"a":nul}})",            //
           R"({"model":"m","features":{"a":"\x"}})",           // bad escape
           R"({"model":"m","features":{"a" 1}})",              //
           R"({"model":"m","features":{"a":1,}})",             //
           R"({"model":7,"features":{"a":1}})",                // model not a string
           R"({"model":"m","features":{"a":"x)",               // unterminated string
           R"({)",                                             //
           R"({"model":"m","features":{"a":1e999}})",          // out of range
           R"({"model":"m","tags":{"t":[1]},"features":{}})",  //
       }) {
    EXPECT_EQ(ErrorReason(line), "malformed_json") << line;
  }
}

TEST_F(DecoderTest, NestedFeatureValueNamesTheFeature) {
  EXPECT_EQ(ErrorReason(R"({"model":"m","features":{"ok":1,"amount":{"v":1}}})"), "malformed_json");
  EXPECT_NE(error_.message.find("feature \"amount\""), std::string::npos) << error_.message;
  EXPECT_NE(error_.message.find("at byte 32"), std::string::npos) << error_.message;
  EXPECT_EQ(ErrorReason(R"({"model":"m","features":{"list":[1,2]}})"), "malformed_json");
  EXPECT_NE(error_.message.find("feature \"list\""), std::string::npos) << error_.message;
}

TEST_F(DecoderTest, MissingModel) {
  EXPECT_EQ(ErrorReason(R"({"features":{"a":1}})"), "missing_model");
  EXPECT_EQ(ErrorReason(R"({"model":"","features":{"a":1}})"), "missing_model");
  EXPECT_EQ(ErrorReason(R"({})"), "missing_model");
}

TEST_F(DecoderTest, BadTimestamp) {
  for (const char* line : {
           R"({"model":"m","ts":"2024-11-20T00:00:00Z","features":{"a":1}})",
           R"({"model":"m","ts":null,"features":{"a":1}})",
           R"({"model":"m","ts":true,"features":{"a":1}})",
           R"({"name":"m","timestamp":[1],"fields":{"a":1}})",
           R"({"model":"m","ts":1e999,"features":{"a":1}})",
           "m f=1 1.5",
           "m f=1 1e9",
           "m f=1 abc",
           "m f=1 99999999999999999999",
           "m f=1 -",
           "m f=1 12i",
       }) {
    EXPECT_EQ(ErrorReason(line), "bad_timestamp") << line;
  }
}

TEST_F(DecoderTest, MalformedLineProtocol) {
  for (const char* line : {
           "fraud",                // no field set
           "fraud ",               //
           "fraud,host=a",         //
           "fraud amount",         // no '='
           "fraud amount=",        // no value
           "fraud amount=,b=1",    //
           "fraud,host amount=1",  // tag without '='
           "fraud,=a f=1",         // empty tag key
           "fraud,host= f=1",      // empty tag value
           "fraud,host=a=b f=1",   // unescaped '=' in tag value
           "fraud, f=1",           //
           ",t=1 f=1",             // no measurement
           " ,t=1 f=1",            //
           "m f=1,",               // trailing comma
           "m f=1,,g=2",           //
           "m =1",                 // empty field key
           "m f=\"abc",            // unterminated string
           "m f=\"ab\\\"",         //
           "m f=\"a\"x",           // junk after string
           "m f=abc",              // not a value
           "m f=1 2 3",            // text after timestamp
           "m f=1 2 x",            //
           "m f=1=2",              //
       }) {
    EXPECT_EQ(ErrorReason(line), "malformed_line_protocol") << line;
  }
}

TEST_F(DecoderTest, LineProtocolErrorMessageNamesKeyAndByte) {
  EXPECT_EQ(ErrorReason("fraud,host=a amount 12"), "malformed_line_protocol");
  EXPECT_EQ(error_.message, "line protocol: expected '=' after field key \"amount\" at byte 19");
  EXPECT_EQ(ErrorReason("fraud a=1,b=x"), "malformed_line_protocol");
  EXPECT_EQ(error_.message, "line protocol: invalid value \"x\" of field \"b\" at byte 12");
  EXPECT_EQ(ErrorReason("m f=1 12:00"), "bad_timestamp");
  EXPECT_EQ(error_.message,
            "line protocol: timestamp \"12:00\" is not an integer number of nanoseconds at byte 6");
}

TEST_F(DecoderTest, Binary) {
  using namespace std::string_literals;
  for (const std::string& line :
       {"\0"s, "m f=1\0"s, "m f=\"a\x01\""s, "\x1b[31m"s, "m f=1\n"s, "{\"model\":\"\x7f\"}"s,
        "m\x0b f=1"s, "\xff\xfe"s, "m f=\"\xc3\x28\""s, "{\"model\":\"\xe2\x82\"}"s,
        "# comment \x02"s}) {
    EXPECT_EQ(ErrorReason(line), "binary") << testing::PrintToString(line);
  }
  EXPECT_EQ(ErrorReason(std::string_view("ab\0", 3)), "binary");
  EXPECT_EQ(error_.message, "control byte 0x00 at byte 2");
}

TEST_F(DecoderTest, NullErrorPointerIsAllowed) {
  EXPECT_EQ(decoder_.Decode("m", &record_, nullptr), DecodeStatus::kError);
}

TEST_F(DecoderTest, LongLinesGrowTheBuffers) {
  std::string json = R"({"model":"m","features":{)";
  std::string lp = "m ";
  for (int i = 0; i < 20000; ++i) {
    json += "\"k" + std::to_string(i) + "\":\"v\\\"" + std::to_string(i) + "\",";
    lp += "k\\ " + std::to_string(i) + "=\"v\\\"" + std::to_string(i) + "\",";
  }
  json.back() = '}';
  json += "}";
  lp.pop_back();
  for (int repeat = 0; repeat < 2; ++repeat) {
    ASSERT_EQ(Decode(json), DecodeStatus::kRecord) << error_.message;
    ASSERT_EQ(record_.fields.size(), 20000u);
    ExpectString(FieldValue("k19999"), "v\"19999");
    ASSERT_EQ(Decode(lp), DecodeStatus::kRecord) << error_.message;
    ASSERT_EQ(record_.fields.size(), 20000u);
    ExpectString(FieldValue("k 19999"), "v\"19999");
    ASSERT_EQ(Decode("m f=1"), DecodeStatus::kRecord);
  }
}

// ----- Robustness -----------------------------------------------------------------------------

// The reasons the decoder may give (the others belong to the transports and the monitor).
bool IsDecoderReason(Reason reason) {
  return reason == Reason::kMalformedJson || reason == Reason::kMalformedLineProtocol ||
         reason == Reason::kMissingModel || reason == Reason::kBadTimestamp ||
         reason == Reason::kBinary;
}

// Whether a value's kind uses its number (a decimal's is Number()'s): a decoder may leave the
// number of a string or a null as an earlier value had it (core/record.h).
bool HoldsNumber(const Value& v) { return v.IsNumber() || v.kind == Value::Kind::kBool; }

// Renders every member of a decoded record, which reads every byte of every view (ASan reports a
// dangling one), and checks the record's invariants.
std::string CheckRecord(const Record& record) {
  std::string out;
  auto number = [&out](double v) {
    char buf[32];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
    out += ' ';
  };
  auto text = [&out](std::string_view s) {
    out += std::to_string(s.size()) + ':';
    out += s;
    out += ' ';
  };
  auto field = [&](const Field& f) {
    text(f.key);
    // A number by its double, whichever way it was held (a string's or a null's has none).
    out += f.value.IsNumber() ? "number " : std::to_string(static_cast<int>(f.value.kind)) + ' ';
    if (HoldsNumber(f.value)) number(f.value.Number());
    if (!f.value.IsNumber()) text(f.value.text);
    ExpectDecimalDigits(f.value);
  };
  EXPECT_FALSE(record.model.empty());
  out += record.format == Format::kJson ? "json " : "lp ";
  text(record.model);
  number(record.timestamp);
  out += "fields ";
  for (const Field& f : record.fields) {
    field(f);
    if (record.format == Format::kLineProtocol) {
      EXPECT_FALSE(f.key.empty());
    }
    if (f.value.IsNumber()) {
      EXPECT_TRUE(std::isfinite(f.value.Number()));
    }
  }
  out += "tags ";
  for (const Field& f : record.tags) {
    field(f);
    EXPECT_EQ(f.value.kind, Kind::kString);
  }
  if (record.format == Format::kLineProtocol) {
    EXPECT_FALSE(record.fields.empty());
  }
  return out;
}

TEST(DecoderFuzzTest, RandomBytesAndMutationsNeverCrash) {
  const std::vector<std::string> seeds = {
      R"({"model": "fraud", "ts": 1732060000.25, "features": {"amount": 12.5, "country": "US", )"
      R"("age": null, "vip": true}})",
      R"({"fields":{"amount":12.5,"n":3},"name":"fraud","tags":{"host":"a","country":"US"},)"
      R"("timestamp":1732060000})",
      R"({"model":"m","features":{"a\"b":"x\u00e9\ud83d\ude00","n":-1.5e-300,"big":1e308}})",
      "fraud,host=a,country=US amount=12.5,country2=\"US\",n=3i,u=4u,ok=true 1732060000250000000",
      R"(my\ measurement,tag\ key=tag\,value field\=key="string \"quoted\" \\ back" 1)",
      "m a=t,b=F,c=-1.5E-3,d=.5,e=18446744073709551615u,f=-9223372036854775808i -1",
      "# comment",
      "  m,t=v \t f=1,g=2\t  123  \r",
  };
  static constexpr char kAlphabet[] =
      "\\ ,=\"{}[]:.-+eEiutfTF#\t\r0123456789abcxyz\xc3\xa9\x00\x7f\xff";
  const std::string alphabet(kAlphabet, sizeof kAlphabet - 1);
  std::mt19937_64 rng(20241120);
  auto random_byte = [&]() -> char {
    if (rng() % 2) return alphabet[rng() % alphabet.size()];
    return static_cast<char>(rng() % 256);
  };

  LineDecoder decoder;
  Record record;
  DecodeError error;
  size_t records = 0;
  size_t errors = 0;
  std::string line;
  constexpr int kIterations = 300000;
  for (int iteration = 0; iteration < kIterations; ++iteration) {
    if (iteration % 3 == 0) {
      line.clear();
      const size_t length = rng() % 96;
      if (rng() % 2) line.push_back(rng() % 2 ? '{' : 'm');
      for (size_t i = 0; i < length; ++i) line.push_back(random_byte());
    } else {
      line = seeds[rng() % seeds.size()];
      const int mutations = 1 + static_cast<int>(rng() % 4);
      for (int m = 0; m < mutations && !line.empty(); ++m) {
        const size_t at = rng() % line.size();
        switch (rng() % 5) {
          case 0:
            line[at] = random_byte();
            break;
          case 1:
            line.insert(line.begin() + static_cast<std::ptrdiff_t>(at), random_byte());
            break;
          case 2:
            line.erase(at, 1 + rng() % 3);
            break;
          case 3:
            line.resize(at);
            break;
          default:
            line.insert(at, line.substr(rng() % line.size(), rng() % 8));
            break;
        }
      }
    }
    // Decode from an exact-size heap copy so that ASan sees any read past the line's end.
    const std::unique_ptr<char[]> copy(new char[line.size() + 1]);
    std::memcpy(copy.get(), line.data(), line.size());
    const std::string_view bytes(copy.get(), line.size());
    error.reason = Reason::kCount;
    const DecodeStatus status = decoder.Decode(bytes, &record, &error);
    // The same bytes through a decoder and a record with no history decode the same: nothing the
    // reused ones kept from earlier lines (scratch space, key indexes) leaks into this one.
    LineDecoder fresh_decoder;
    Record fresh;
    DecodeError fresh_error;
    ASSERT_EQ(fresh_decoder.Decode(bytes, &fresh, &fresh_error), status)
        << testing::PrintToString(line);
    switch (status) {
      case DecodeStatus::kRecord:
        ++records;
        ASSERT_EQ(CheckRecord(record), CheckRecord(fresh)) << testing::PrintToString(line);
        break;
      case DecodeStatus::kSkip:
        break;
      case DecodeStatus::kError:
        ++errors;
        ASSERT_TRUE(IsDecoderReason(error.reason)) << static_cast<int>(error.reason);
        ASSERT_FALSE(error.message.empty());
        ASSERT_EQ(error.reason, fresh_error.reason);
        ASSERT_EQ(error.message, fresh_error.message);
        break;
      default:
        FAIL() << "invalid status for " << testing::PrintToString(line);
    }
  }
  // The mutations keep a good share of lines valid, so both paths are exercised.
  EXPECT_GT(records, kIterations / 20u);
  EXPECT_GT(errors, kIterations / 5u);
}

}  // namespace
}  // namespace driftd

namespace driftd {
namespace {

// The key hash of earlier versions (no seed), for keys of up to 16 bytes, written out here so
// that the test can search for keys that collide under it.
uint64_t UnseededHash(std::string_view key) {
  char padded[16] = {};
  std::memcpy(padded, key.data(), key.size());
  uint64_t lo, hi;
  std::memcpy(&lo, padded, 8);
  std::memcpy(&hi, padded + 8, 8);
  const unsigned __int128 r =
      static_cast<unsigned __int128>(lo ^ 0x1d8e4e27c47d124fULL ^ 0xa0761d6478bd642fULL) *
      (hi ^ 0x8ebc6af09c88c6e3ULL ^ key.size() ^ 0xe7037ed1a0b428dbULL);
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

// ----- The JSON fast path against simdjson ------------------------------------------------------

// A decode's whole outcome, comparable across decoders: the status, the error, and the record with
// every double by its bits (so that -0.0, NaN and the last ulp count).
std::string Outcome(DecodeStatus status, const Record& r, const DecodeError& e) {
  auto bits = [](double d) {
    uint64_t b;
    std::memcpy(&b, &d, sizeof b);
    return std::to_string(b);
  };
  std::string out = std::to_string(static_cast<int>(status));
  if (status == DecodeStatus::kError) {
    return out + " " + std::string(ReasonLabel(e.reason)) + " " + e.message;
  }
  if (status != DecodeStatus::kRecord) return out;
  out += " format=" + std::to_string(static_cast<int>(r.format)) +
         " model=" + std::string(r.model) + " ts=" + bits(r.timestamp);
  for (const auto* list : {&r.fields, &r.tags}) {
    out += " |";
    for (const Field& f : *list) {
      // A number by its double, whichever way it was held (a string's or a null's has none).
      const bool number = f.value.IsNumber();
      out += " [" + std::string(f.key) + "]" +
             (number ? "number" : std::to_string(static_cast<int>(f.value.kind))) + ":" +
             (HoldsNumber(f.value) ? bits(f.value.Number()) : "") + ":" +
             std::string(number ? "" : f.value.text);
      ExpectDecimalDigits(f.value);
    }
  }
  return out;
}

// One decoder of a comparison and its output, kept from line to line as in driftd.
struct DecodeSide {
  LineDecoder decoder;
  Record record;
  DecodeError error;
  DecodeStatus status = DecodeStatus::kSkip;
  std::string Decode(const std::string& line) {
    status = decoder.Decode(line, &record, &error);
    return Outcome(status, record, error);
  }
};

// The outcomes of `line` decoded by `fast` with the one-pass paths and by `slow` without them.
std::pair<std::string, std::string> DecodeBothWays(DecodeSide* fast, DecodeSide* slow,
                                                   const std::string& line) {
  SetFastPathsForTesting(true);
  std::string fast_outcome = fast->Decode(line);
  SetFastPathsForTesting(false);
  std::string slow_outcome = slow->Decode(line);
  SetFastPathsForTesting(true);
  return {std::move(fast_outcome), std::move(slow_outcome)};
}

// A mutation of *line: a byte of `alphabet` replacing a byte or inserted before it, a byte removed,
// or the line cut there.
void Mutate(std::mt19937_64& rng, std::string_view alphabet, std::string* line) {
  const size_t at = rng() % line->size();
  const char c = alphabet[rng() % alphabet.size()];
  switch (rng() % 4) {
    case 0:
      (*line)[at] = c;
      break;
    case 1:
      line->insert(line->begin() + static_cast<std::ptrdiff_t>(at), c);
      break;
    case 2:
      line->erase(at, 1);
      break;
    default:
      line->resize(at);
  }
}

// A JSON number of one of the shapes senders write, valid or (rarely) not.
std::string RandomNumber(std::mt19937_64& rng) {
  char buffer[64];
  switch (rng() % 16) {
    case 0: {  // a double as Python's repr writes it, small ones with leading zeros (0.00...)
      std::uniform_real_distribution<double> u(-1e3, 1e3);
      std::snprintf(buffer, sizeof buffer, "%.17g", u(rng) / std::pow(10.0, rng() % 8));
      return buffer;
    }
    case 1: {  // fewer digits
      std::uniform_real_distribution<double> u(0, 100);
      std::snprintf(buffer, sizeof buffer, "%.*f", static_cast<int>(rng() % 12), u(rng));
      return buffer;
    }
    case 2: {  // any finite double, by its bits
      double d;
      uint64_t b = rng();
      std::memcpy(&d, &b, sizeof d);
      if (!std::isfinite(d)) d = 1.5;
      std::snprintf(buffer, sizeof buffer, "%.*g", 1 + static_cast<int>(rng() % 17), d);
      return buffer;
    }
    case 3:  // integers, up to past 2^64
      return std::to_string(rng() >> (rng() % 64)) + (rng() % 4 == 0 ? "123" : "");
    case 4:
    case 5: {  // digits, a point and an exponent, put together at random (often not JSON)
      std::string s = rng() % 3 == 0 ? "-" : "";
      const int integer = static_cast<int>(rng() % 22);
      for (int i = 0; i < integer; ++i) s.push_back(static_cast<char>('0' + rng() % 10));
      if (integer == 0 || rng() % 2) {
        s.push_back('.');
        const int fraction = static_cast<int>(rng() % 24);
        for (int i = 0; i < fraction; ++i) s.push_back(static_cast<char>('0' + rng() % 10));
      }
      if (rng() % 3 == 0) {
        s.push_back("eE"[rng() % 2]);
        if (rng() % 2) s.push_back("+-"[rng() % 2]);
        s += std::to_string(rng() % (rng() % 2 ? 30 : 400));
      }
      return s;
    }
    default: {  // a double as Python's repr writes it, with the spread of the benchmark's values
      std::lognormal_distribution<double> u(0, 2);
      std::snprintf(buffer, sizeof buffer, "%.17g", rng() % 4 ? u(rng) : -u(rng));
      return buffer;
    }
  }
}

// A JSON record of the shapes driftd's fast path takes and of many it leaves to simdjson.
std::string RandomRecord(std::mt19937_64& rng) {
  auto blank = [&]() -> std::string {
    if (rng() % 6) return "";
    static constexpr const char* kBlanks[] = {" ", "  ", "\t", " \r ", "\r"};
    return kBlanks[rng() % 5];
  };
  auto string = [&]() -> std::string {
    static constexpr const char* kStrings[] = {"US",
                                               "",
                                               "a b",
                                               "x\\\"y",
                                               "\xc3\xa9t\xc3\xa9",
                                               "tab\there",
                                               "back\\\\slash",
                                               "\\u00e9",
                                               "long string value past sixteen bytes",
                                               "f3",
                                               "q\\n"};
    return std::string("\"") + kStrings[rng() % 11] + "\"";
  };
  auto value = [&]() -> std::string {
    switch (rng() % 40) {
      case 0:
      case 1:
        return string();
      case 2:
        return rng() % 2 ? "true" : "false";
      case 3:
        return "null";
      case 4:
        return rng() % 2 ? "[1,2]" : "{\"x\":1}";
      default:
        return RandomNumber(rng);
    }
  };
  auto key = [&](const char* const* keys, size_t count) {
    return std::string("\"") + keys[rng() % count] + "\"";
  };
  static constexpr const char* kFeatureKeys[] = {
      "f0", "f1", "amount", "f0", "a_feature_name_over_16", "\xc3\xa9", "k\\\"", "f2"};
  auto object = [&](bool strings) {
    std::string s = "{" + blank();
    const int n = static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) {
      if (i) s += blank() + "," + blank();
      s += key(kFeatureKeys, 8) + blank() + ":" + blank() + (strings ? string() : value());
    }
    return s + blank() + "}";
  };
  static constexpr const char* kTopKeys[] = {"model", "name",      "features", "fields", "tags",
                                             "ts",    "timestamp", "other",    "model"};
  // Mostly a model and features, in either order, and up to three other members anywhere.
  std::vector<std::string> keys;
  if (rng() % 8)
    keys = {rng() % 4 ? "\"model\"" : "\"name\"", rng() % 4 ? "\"features\"" : "\"fields\""};
  for (int i = static_cast<int>(rng() % 4); i > 0; --i) {
    keys.insert(keys.begin() + static_cast<std::ptrdiff_t>(rng() % (keys.size() + 1)),
                key(kTopKeys, 9));
  }
  if (keys.empty()) keys.push_back(key(kTopKeys, 9));
  std::string line = blank() + "{" + blank();
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i) line += blank() + "," + blank();
    const std::string& k = keys[i];
    std::string v;
    if (k == "\"features\"" || k == "\"fields\"") {
      v = rng() % 10 ? object(false) : value();
    } else if (k == "\"tags\"") {
      v = rng() % 10 ? object(true) : value();
    } else if (k == "\"model\"" || k == "\"name\"") {
      v = rng() % 10 ? "\"m" + std::to_string(rng() % 3) + "\"" : value();
    } else if (k == "\"ts\"" || k == "\"timestamp\"") {
      v = rng() % 10 ? RandomNumber(rng) : value();
    } else {
      v = value();
    }
    line += k + blank() + ":" + blank() + v;
  }
  return line + blank() + "}" + blank();
}

// Every JSON line decodes to the same record, or the same error, whether the one-pass path takes
// it or simdjson's On-Demand API does: random records of every shape, valid and mutated.
TEST(DecoderJsonFastPathTest, SameOutcomeAsSimdjsonOnRandomAndMutatedLines) {
  std::mt19937_64 rng(20261206);
  DecodeSide fast, slow;
  static constexpr std::string_view kAlphabet =
      "\\ ,\"{}[]:.-+eE0123456789\t\rtfn\xc3\xa9\x01\x7f\xff\xc3";
  size_t lines = 0, records = 0;
  std::string previous;
  for (int iteration = 0; iteration < 200000; ++iteration) {
    std::string line = RandomRecord(rng);
    // Half the time, the previous line's start up to its features and this line's rest: the
    // same head (JsonHead) with another rest, when the previous line had one.
    static constexpr std::string_view kFeatures = "\"features\":{";
    const size_t head = previous.find(kFeatures), rest = line.find(kFeatures);
    if (rng() % 2 && head != std::string::npos && rest != std::string::npos) {
      line = previous.substr(0, head + kFeatures.size()) + line.substr(rest + kFeatures.size());
    }
    if (iteration % 4 == 3) Mutate(rng, kAlphabet, &line);
    previous = line;
    const auto [fast_outcome, slow_outcome] = DecodeBothWays(&fast, &slow, line);
    ASSERT_EQ(fast_outcome, slow_outcome) << line;
    ++lines;
    records += fast.status == DecodeStatus::kRecord;
  }
  EXPECT_EQ(slow.decoder.FastJsonLines(), 0u);
  EXPECT_GT(fast.decoder.JsonHeads(), lines / 200);  // the same start as the record before
  // The comparison means something only if both paths took many lines: most records go the fast
  // way, and every error and escaped or nested record the simdjson way.
  EXPECT_GT(fast.decoder.FastJsonLines(), lines / 10) << records << " records of " << lines;
  EXPECT_GT(records - fast.decoder.FastJsonLines(), lines / 10)
      << records << " records of " << lines;
}

// Numbers the fast path converts are the double nearest their decimal, as strtod gives it: an
// independent check on the same numbers, beside the comparison with simdjson above.
TEST(DecoderJsonFastPathTest, NumbersMatchStrtod) {
  std::mt19937_64 rng(7);
  LineDecoder decoder;
  Record record;
  size_t checked = 0;
  for (int i = 0; i < 100000; ++i) {
    const std::string number = RandomNumber(rng);
    const std::string line = R"({"model":"m","features":{"x":)" + number + "}}";
    const uint64_t before = decoder.FastJsonLines();
    if (decoder.Decode(line, &record, nullptr) != DecodeStatus::kRecord) continue;
    if (decoder.FastJsonLines() == before) continue;  // simdjson's: checked elsewhere
    ASSERT_EQ(record.fields.size(), 1u);
    const double expected = std::strtod(number.c_str(), nullptr);
    const double got = record.fields[0].value.Number();
    ASSERT_EQ(std::memcmp(&got, &expected, sizeof expected), 0) << number << " gave " << got;
    ExpectDecimalDigits(record.fields[0].value);
    ++checked;
  }
  EXPECT_GT(checked, 50000u);
}

// Fractions of every length from 0 (no point) to 22 digits, after integer parts of 0 to 17 digits:
// the fast paths read up to 16 fraction digits in one vector, padded with zeros, when the integer
// part has at most 3 digits, and the rest a word at a time; each length either side of 16 (and of
// 3 integer digits) against strtod, in both formats, with and without an exponent, at a line's
// end and before a separator.
TEST(DecoderFastPathTest, FractionsOfEveryLengthMatchStrtod) {
  std::mt19937_64 rng(16);
  LineDecoder decoder;
  Record record;
  const auto digits = [&](size_t n, int pattern) {
    std::string s;
    for (size_t i = 0; i < n; ++i) {
      const int d = pattern == 0 ? static_cast<int>(rng() % 10) : pattern == 1 ? 9 : 0;
      s.push_back(static_cast<char>('0' + (pattern == 2 && i + 1 == n ? 1 : d)));
    }
    return s;
  };
  size_t fast = 0;
  for (const size_t integer : {0, 1, 2, 3, 4, 6, 14, 15, 16, 17}) {
    for (size_t fraction = 0; fraction <= 22; ++fraction) {
      for (int i = 0; i < 60; ++i) {
        std::string number = rng() % 4 == 0 ? "-" : "";
        number += integer == 0 ? "0" : std::to_string(1 + rng() % 9) + digits(integer - 1, 0);
        if (fraction > 0) number += "." + digits(fraction, i % 10 == 8 ? 1 : i % 10 == 9 ? 2 : 0);
        if (i % 3 == 2) number += (rng() % 2 ? "e" : "E-") + std::to_string(rng() % 40);
        const double expected = std::strtod(number.c_str(), nullptr);
        for (const std::string& line :
             {R"({"model":"m","features":{"x":)" + number + R"(,"y":)" + number + "}}",
              "m x=" + number + ",y=" + number}) {
          const uint64_t before = decoder.FastJsonLines() + decoder.FastLineProtocolLines();
          ASSERT_EQ(decoder.Decode(line, &record, nullptr), DecodeStatus::kRecord) << line;
          fast += decoder.FastJsonLines() + decoder.FastLineProtocolLines() - before;
          ASSERT_EQ(record.fields.size(), 2u) << line;
          for (const Field& field : record.fields) {
            const double got = field.value.Number();
            ASSERT_EQ(std::memcmp(&got, &expected, sizeof expected), 0) << line << " gave " << got;
            ExpectDecimalDigits(field.value);
          }
        }
      }
    }
  }
  // Up to 19 significant digits the fast paths take the line; longer ones go the slow way.
  EXPECT_GT(fast, 6u * 23 * 60);
}

// Integer parts of up to 3 digits are read as one word (SmallInteger), longer ones a word at a
// time: each length either side of 4, and leading zeros, which JSON forbids ("01") and line
// protocol's floats allow. Valid JSON numbers take the fast path and give strtod's double; every
// line's outcome, valid or not, is the one the general decoders give.
TEST(DecoderFastPathTest, ShortIntegerPartsAndLeadingZeros) {
  DecodeSide fast, slow;
  size_t fast_json = 0, fast_line_protocol = 0;
  for (const std::string integer :
       {"0", "7", "42", "999", "1000", "98765", "00", "01", "012", "0123", "00012", "", "x1"}) {
    for (const std::string sign : {"", "-"}) {
      for (const std::string rest : {"", ".5", ".0625", ".25e1", "e2", "5.", "x"}) {
        const std::string number = sign + integer + rest;
        const bool valid_json = !integer.empty() && integer != "x1" && rest != "5." &&
                                rest != "x" && (integer == "0" || integer[0] != '0');
        const double expected = std::strtod(number.c_str(), nullptr);
        for (const std::string& line : {R"({"model":"m","features":{"x":)" + number + R"(,"y":1}})",
                                        "m x=" + number + ",y=1"}) {
          const bool json = line[0] == '{';
          const uint64_t before = fast.decoder.FastJsonLines();
          const uint64_t before_lp = fast.decoder.FastLineProtocolLines();
          const auto [fast_outcome, slow_outcome] = DecodeBothWays(&fast, &slow, line);
          ASSERT_EQ(fast_outcome, slow_outcome) << line;
          fast_json += fast.decoder.FastJsonLines() - before;
          fast_line_protocol += fast.decoder.FastLineProtocolLines() - before_lp;
          if (!json) continue;
          if (!valid_json) {
            EXPECT_NE(fast.status, DecodeStatus::kRecord) << line;
            continue;
          }
          ASSERT_EQ(fast.status, DecodeStatus::kRecord) << line;
          EXPECT_EQ(fast.decoder.FastJsonLines(), before + 1) << line;
          ASSERT_EQ(fast.record.fields.size(), 2u);
          const double got = fast.record.fields[0].value.Number();
          EXPECT_EQ(std::memcmp(&got, &expected, sizeof expected), 0) << line << " gave " << got;
          ExpectDecimalDigits(fast.record.fields[0].value);
        }
      }
    }
  }
  // 6 valid integer parts x 2 signs x 5 valid rests; line protocol's fast path takes at least as
  // many (it also takes a few forms JSON does not).
  EXPECT_EQ(fast_json, 6u * 2 * 5);
  EXPECT_GE(fast_line_protocol, 6u * 2 * 5);
}

TEST_F(DecoderTest, JsonFastPathTakesTheCommonRecord) {
  const uint64_t before = decoder_.FastJsonLines();
  ASSERT_EQ(Decode(R"( {"model":"ten", "ts": 1732060000.5, "features":{"f0":0.5387986178545338,)"
                   R"("f1":-2,"f2":"US","f3":true,"f4":null,"f0":7e-3},"tags":{"h":"a"}} )"),
            DecodeStatus::kRecord);
  EXPECT_EQ(decoder_.FastJsonLines(), before + 1);
  EXPECT_EQ(record_.model, "ten");
  EXPECT_EQ(record_.timestamp, 1732060000.5);
  ASSERT_EQ(record_.fields.size(), 5u);
  EXPECT_EQ(record_.fields[0].key, "f0");  // the repeat keeps the first position, the last value
  ExpectNumber(FieldValue("f0"), 0.007);
  ExpectNumber(FieldValue("f1"), -2);
  ExpectString(FieldValue("f2"), "US");
  ExpectBool(FieldValue("f3"), true);
  EXPECT_EQ(FieldValue("f4")->kind, Kind::kNull);
  ExpectString(TagValue("h"), "a");
  // Python's repr of a small double: 20 digits, 17 of them significant.
  ASSERT_EQ(Decode(R"({"model":"m","features":{"x":0.0076995392475645895}})"),
            DecodeStatus::kRecord);
  EXPECT_EQ(decoder_.FastJsonLines(), before + 2);
  ExpectNumber(FieldValue("x"), 0.0076995392475645895);
  // An escape is simdjson's to decode; a raw tab in a string is an error there.
  ASSERT_EQ(Decode(R"({"model":"t\u0065n","features":{}})"), DecodeStatus::kRecord);
  EXPECT_EQ(record_.model, "ten");
  EXPECT_EQ(decoder_.FastJsonLines(), before + 2);
  EXPECT_EQ(ErrorReason("{\"model\":\"a\tb\",\"features\":{}}"), "malformed_json");
}

// ----- The line-protocol fast path against the general decoder ---------------------------------

// A line-protocol line of the shapes the fast path takes and of many it leaves to the general
// decoder: tags, every kind of field value, escapes, blanks, timestamps, UTF-8.
std::string RandomLineProtocol(std::mt19937_64& rng) {
  // Half the lines are plain (the fast path's, unless a number is not JSON-shaped): every name
  // and value from the first, plain, choices of each list below.
  const bool plain = rng() % 2;
  auto blank = [&]() -> std::string {
    if (plain || rng() % 8) return " ";
    static constexpr const char* kBlanks[] = {"  ", "\t", " \t"};
    return kBlanks[rng() % 3];
  };
  // The first `plain_choices` of each list are plain.
  auto pick = [&](const auto& list, size_t plain_choices = 3) {
    return std::string(list[rng() % (plain ? plain_choices : std::size(list))]);
  };
  static constexpr const char* kMeasurements[] = {"ten",   "m",       "cpu",
                                                  "m\\ x", "m=\"q\"", "\xc3\xa9"};
  // One-byte names too, which a mutation can erase.
  static constexpr const char* kTagKeys[] = {"host", "h", "f0", "region", "k\\,x", "k\"q"};
  static constexpr const char* kTagValues[] = {"web01", "a", "eu-west", "x\\ y", "\xc3\xa9"};
  static constexpr const char* kFieldKeys[] = {
      "f0", "x", "amount", "f1", "f0", "f2", "a_feature_name_over_16", "k\\=x", "\xc3\xa9"};
  auto value = [&]() -> std::string {
    switch (rng() % 24) {
      case 0:
        return pick(std::array{"t", "T", "true", "True", "TRUE", "f", "F", "false", "False",
                               "FALSE", "tru", "yes"},
                    10);
      case 1:
      case 2:
        return "\"" +
               pick(std::array{"US", "DE", "a b,c=d", "", "q\\\"q", "s\\\\", "\xc3\xa9"}, 4) + "\"";
      case 3:
        return std::to_string(static_cast<int64_t>(rng()) >> (rng() % 64)) + "i";
      case 4:
        return pick(std::array{"9223372036854775807i", "-9223372036854775808i", "5u", "007i",
                               "18446744073709551615u", "9223372036854775808i",
                               "18446744073709551616u", "-5u", "-i", "1.5i"},
                    5);
      default: {
        if (!plain) return RandomNumber(rng);
        char buffer[64];  // as Python's repr writes a double
        std::lognormal_distribution<double> u(0, 2);
        std::snprintf(buffer, sizeof buffer, "%.17g", rng() % 4 ? u(rng) : -u(rng));
        return buffer;
      }
    }
  };
  std::string line = (rng() % 10 ? "" : blank()) + pick(kMeasurements);
  for (int i = static_cast<int>(rng() % 4); i > 0; --i) {
    line += "," + pick(kTagKeys) + "=" + pick(kTagValues);
  }
  line += blank();
  const int fields = 1 + static_cast<int>(rng() % 10);
  for (int i = 0; i < fields; ++i) {
    if (i) line += ",";
    line += pick(kFieldKeys) + "=" + value();
  }
  switch (rng() % 4) {
    case 0:
      break;
    case 1:
      line += blank() + std::to_string(1732060000250000000 + rng() % 1000000000);
      break;
    case 2:
      line += blank() + pick(std::array{"-1", "0", "1732060000", "12a", "9223372036854775808",
                                        "1732060000 ", "1.5"});  // the first three plain
      break;
    default:
      line += blank() + std::to_string(rng() % 2000000000);
  }
  return line;
}

// Every line-protocol line decodes to the same record, or the same error, whether the one-pass
// path takes it or the general decoder does, at every timestamp precision: random lines, valid and
// mutated.
TEST(DecoderLineProtocolFastPathTest, SameOutcomeAsTheGeneralDecoderOnRandomAndMutatedLines) {
  std::mt19937_64 rng(20261207);
  DecodeSide fast, slow;
  static constexpr std::string_view kAlphabet =
      "\\ ,\"=.-+eE0123456789\tiutfTF\xc3\xa9\x01\x7f\xff\xc3#";
  size_t lines = 0, records = 0;
  for (int iteration = 0; iteration < 200000; ++iteration) {
    const auto precision = static_cast<TimestampPrecision>(iteration % 6);
    fast.decoder.set_precision(precision);
    slow.decoder.set_precision(precision);
    std::string line = RandomLineProtocol(rng);
    if (iteration % 4 == 3) Mutate(rng, kAlphabet, &line);
    const auto [fast_outcome, slow_outcome] = DecodeBothWays(&fast, &slow, line);
    ASSERT_EQ(fast_outcome, slow_outcome) << line;
    ++lines;
    records += fast.status == DecodeStatus::kRecord;
  }
  EXPECT_EQ(slow.decoder.FastLineProtocolLines(), 0u);
  // Both paths must have taken many lines for the comparison to mean something.
  EXPECT_GT(fast.decoder.FastLineProtocolLines(), lines / 10) << records << " records of " << lines;
  EXPECT_GT(records - fast.decoder.FastLineProtocolLines(), lines / 10)
      << records << " records of " << lines;
  EXPECT_GT(lines - records, lines / 10) << records << " records of " << lines;
}

TEST_F(DecoderTest, LineProtocolFastPathTakesTheCommonLine) {
  const uint64_t before = decoder_.FastLineProtocolLines();
  decoder_.set_precision(TimestampPrecision::kMilliseconds);
  ASSERT_EQ(Decode("fraud,host=web01,region=eu amount=12.5,age=34i,n=7u,country=\"US\","
                   "is_new=true,score=-0.0076995392475645895,amount=7e-3 1732060000250"),
            DecodeStatus::kRecord);
  EXPECT_EQ(decoder_.FastLineProtocolLines(), before + 1);
  EXPECT_EQ(record_.model, "fraud");
  EXPECT_EQ(record_.timestamp, 1732060000.25);
  ASSERT_EQ(record_.fields.size(), 6u);
  EXPECT_EQ(record_.fields[0].key,
            "amount");  // the repeat keeps the first position, the last value
  ExpectNumber(FieldValue("amount"), 0.007);
  ExpectNumber(FieldValue("age"), 34);
  ExpectNumber(FieldValue("n"), 7);
  ExpectString(FieldValue("country"), "US");
  ExpectBool(FieldValue("is_new"), true);
  ExpectNumber(FieldValue("score"), -0.0076995392475645895);
  ExpectString(TagValue("host"), "web01");
  ExpectString(TagValue("region"), "eu");
  // An escape, a tab or an out-of-range integer is the general decoder's, with its messages.
  ASSERT_EQ(Decode("m\\ x f=1"), DecodeStatus::kRecord);
  EXPECT_EQ(record_.model, "m x");
  ASSERT_EQ(Decode("m\tf=1"), DecodeStatus::kRecord);
  EXPECT_EQ(decoder_.FastLineProtocolLines(), before + 1);
  EXPECT_EQ(ErrorReason("m f=9223372036854775808i"), "malformed_line_protocol");
  EXPECT_EQ(decoder_.FastLineProtocolLines(), before + 1);
}

// ----- The key shape: the previous record's keys, compared in one step
// -----------------------------

// Lines whose keys mostly repeat the line before's, as senders write them: the same key list with
// new values, and now and then a key added, dropped, replaced, repeated or two swapped; JSON and
// line protocol on the same decoder; a quarter of the lines mutated. Every line decodes as it does
// without the fast paths (and so without the shape), and most keys were taken by the shape.
TEST(DecoderShapeTest, SameOutcomeAsTheGeneralPathsWhenKeysRepeatAndChange) {
  std::mt19937_64 rng(20261207);
  DecodeSide fast, slow;
  // Short keys the shape takes; keys of 14 to 17 bytes (the shape compares 16 bytes at a time, a
  // key's terminator included), and of 30 to 32 (the longest JSON's shape takes, the longest line
  // protocol's, and one past); keys a format's fast path leaves to its general one (escapes,
  // non-ASCII, a blank).
  std::vector<std::string> pool = {"a",
                                   "amount",
                                   "country",
                                   "fourteen_bytes",
                                   "fifteen_bytes_k",
                                   "sixteen_bytes_ke",
                                   "seventeen_bytes_k",
                                   std::string(30, 'p'),
                                   std::string(31, 'q'),
                                   std::string(32, 'r'),
                                   "a_feature_name_over_16",
                                   "\xc3\xa9",
                                   "sp ace",
                                   "k\\\"q",
                                   "k\\=x",
                                   "f,g"};
  for (int i = 0; i < 40; ++i) pool.push_back("k" + std::to_string(i));
  auto any_key = [&] { return pool[rng() % 4 ? 16 + rng() % 40 : rng() % pool.size()]; };
  std::vector<std::string> keys = {"f0", "f1", "f2", "f3"};
  static constexpr std::string_view kJsonAlphabet = "\\ ,\"{}:.-0123456789fk\xc3\xa9\x01";
  static constexpr std::string_view kLineAlphabet = "\\ ,\"=.-0123456789ifk\xc3\xa9\x01";
  size_t lines = 0, records = 0;
  for (int iteration = 0; iteration < 100000; ++iteration) {
    switch (rng() % 16) {  // the next line's keys: mostly the same
      case 0:
        keys.insert(keys.begin() + static_cast<std::ptrdiff_t>(rng() % (keys.size() + 1)),
                    any_key());
        break;
      case 1:
        if (keys.size() > 1)
          keys.erase(keys.begin() + static_cast<std::ptrdiff_t>(rng() % keys.size()));
        break;
      case 2:
        keys[rng() % keys.size()] = any_key();
        break;
      case 3:
        keys.push_back(keys[rng() % keys.size()]);  // a repeat: the last value counts
        break;
      case 4:
        std::swap(keys[rng() % keys.size()], keys[rng() % keys.size()]);
        break;
      case 5:
        if (rng() % 4 == 0) keys.resize(std::min<size_t>(keys.size(), 1 + rng() % 40));
        break;
      default:
        break;
    }
    const bool json = rng() % 8 != 0;  // now and then a line-protocol line between JSON ones
    std::string line = json ? R"({"model":"m","features":{)" : "m ";
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i != 0) line += ",";
      std::string number;
      switch (rng() % 16) {
        case 0:
          number = "\"US\"";
          break;
        case 1:
          number = RandomNumber(rng);  // not always valid
          break;
        default: {
          char buffer[32];  // as Python's repr writes a double
          std::snprintf(buffer, sizeof buffer, "%.17g", std::ldexp(double(rng() % 4096), -9));
          number = buffer;
        }
      }
      line += json ? "\"" + keys[i] + "\":" + number : keys[i] + "=" + number;
    }
    if (json) line += "}}";
    if (iteration % 4 == 3) Mutate(rng, json ? kJsonAlphabet : kLineAlphabet, &line);
    const auto [fast_outcome, slow_outcome] = DecodeBothWays(&fast, &slow, line);
    ASSERT_EQ(fast_outcome, slow_outcome) << line;
    ++lines;
    records += fast.status == DecodeStatus::kRecord;
  }
  EXPECT_EQ(slow.decoder.ShapedKeys(), 0u);
  // The comparison means something only if the shape took most keys, of both formats.
  EXPECT_GT(fast.decoder.ShapedKeys(), lines * 2) << records << " records of " << lines;
  EXPECT_GT(fast.decoder.FastJsonLines(), lines / 2);
  EXPECT_GT(fast.decoder.JsonHeads(), lines / 4);
  EXPECT_GT(fast.decoder.FastLineProtocolLines(), lines / 20);
}

TEST_F(DecoderTest, ShapeTakesTheKeysOfThePreviousRecordAndLeavesItOnAChange) {
  ASSERT_EQ(Decode(R"({"model":"m","features":{"f0":1,"f1":2,"f2":3}})"), DecodeStatus::kRecord);
  const uint64_t before = decoder_.ShapedKeys();
  // The first two are the shape's; "f0" again is a repeat of a shaped key: the last value counts.
  ASSERT_EQ(Decode(R"({"model":"m","features":{"f0":4,"f1":5,"f0":6}})"), DecodeStatus::kRecord);
  EXPECT_EQ(decoder_.ShapedKeys(), before + 2);
  ASSERT_EQ(record_.fields.size(), 2u);
  EXPECT_EQ(record_.fields[0].key, "f0");
  ExpectNumber(FieldValue("f0"), 6);
  ExpectNumber(FieldValue("f1"), 5);
  // That record is the shape now: {f0, f1}. A key that only starts like the shape's is another.
  ASSERT_EQ(Decode(R"({"model":"m","features":{"f0":7,"f10":8}})"), DecodeStatus::kRecord);
  EXPECT_EQ(decoder_.ShapedKeys(), before + 3);
  ExpectNumber(FieldValue("f10"), 8);
  EXPECT_EQ(FieldValue("f1"), nullptr);
  // Python's json.dumps writes a blank after each colon and comma: the shape takes those keys
  // too. A blank before a colon is JSON as well, but not the shape's.
  ASSERT_EQ(Decode(R"({"model": "m", "features": {"f0": 9, "f10": 10}})"), DecodeStatus::kRecord);
  EXPECT_EQ(decoder_.ShapedKeys(), before + 5);
  ExpectNumber(FieldValue("f10"), 10);
  ASSERT_EQ(Decode(R"({"model":"m","features":{"f0" :11,"f10":12}})"), DecodeStatus::kRecord);
  EXPECT_EQ(decoder_.ShapedKeys(), before + 5);
  ExpectNumber(FieldValue("f0"), 11);
  ExpectNumber(FieldValue("f10"), 12);
  // A key past 16 bytes takes a second compare: one that differs only there is another key.
  const std::string long_key(25, 'l'), other = std::string(20, 'l') + "x" + std::string(4, 'l');
  const std::string start = R"({"model":"m","features":{")";
  ASSERT_EQ(Decode(start + long_key + R"(":1}})"), DecodeStatus::kRecord);
  ASSERT_EQ(Decode(start + long_key + R"(":2}})"), DecodeStatus::kRecord);
  EXPECT_EQ(decoder_.ShapedKeys(), before + 6);
  ASSERT_EQ(Decode(start + other + R"(":3}})"), DecodeStatus::kRecord);
  EXPECT_EQ(decoder_.ShapedKeys(), before + 6);
  ExpectNumber(FieldValue(other), 3);
  EXPECT_EQ(FieldValue(long_key), nullptr);
  // A line-protocol record does not take JSON's shape (its keys end with '='), then has its own.
  ASSERT_EQ(Decode("m f0=1,f10=2"), DecodeStatus::kRecord);
  EXPECT_EQ(decoder_.ShapedKeys(), before + 6);
  ASSERT_EQ(Decode("m f0=3,f10=4,x=5"), DecodeStatus::kRecord);
  EXPECT_EQ(decoder_.ShapedKeys(), before + 8);
  ExpectNumber(FieldValue("f10"), 4);
  ExpectNumber(FieldValue("x"), 5);
}

TEST_F(DecoderTest, JsonHeadTakesTheModelOfALineThatStartsAsThePreviousOne) {
  ASSERT_EQ(Decode(R"({"model":"fraud","features":{"a":1}})"), DecodeStatus::kRecord);
  const uint64_t before = decoder_.JsonHeads();
  // The same start: members after the features are read as ever, a second model included.
  ASSERT_EQ(Decode(R"({"model":"fraud","features":{"a":2},"ts":5,"tags":{"h":"x"}})"),
            DecodeStatus::kRecord);
  EXPECT_EQ(decoder_.JsonHeads(), before + 1);
  EXPECT_EQ(record_.model, "fraud");
  EXPECT_EQ(record_.timestamp, 5);
  ExpectNumber(FieldValue("a"), 2);
  ExpectString(TagValue("h"), "x");
  ASSERT_EQ(Decode(R"({"model":"fraud","features":{"a":3},"model":"other"})"),
            DecodeStatus::kRecord);
  EXPECT_EQ(decoder_.JsonHeads(), before + 2);
  EXPECT_EQ(record_.model, "other");
  // Another model: no head; then a line with tags before its features teaches none.
  ASSERT_EQ(Decode(R"({"model":"fraue","features":{"a":4}})"), DecodeStatus::kRecord);
  EXPECT_EQ(decoder_.JsonHeads(), before + 2);
  EXPECT_EQ(record_.model, "fraue");
  ASSERT_EQ(Decode(R"({"model":"m","tags":{"h":"y"},"features":{"a":5}})"), DecodeStatus::kRecord);
  ASSERT_EQ(Decode(R"({"model":"m","tags":{"h":"y"},"features":{"a":6}})"), DecodeStatus::kRecord);
  EXPECT_EQ(decoder_.JsonHeads(), before + 2);
  ExpectString(TagValue("h"), "y");
  // A line no longer than the head is not taken by it (nor is a broken one decoded).
  ASSERT_EQ(Decode(R"({"model":"fraue","features":{"a":7}})"), DecodeStatus::kRecord);
  EXPECT_EQ(ErrorReason(R"({"model":"fraue","features":{)"), "malformed_json");
  EXPECT_EQ(decoder_.JsonHeads(), before + 2);
}

TEST(DecoderHashTest, CraftedCollidingKeysStayLinear) {
  // 20,000 keys whose unseeded hashes fall in the first 4,096 slots of every table size up to
  // 2^17 (the table a 20,000-key line ends in): one cluster that every insert walks.
  constexpr size_t kKeys = 20000;
  std::string line = "m ";
  size_t found = 0;
  for (uint64_t i = 0; found < kKeys; ++i) {
    const std::string key = "f" + std::to_string(i);
    if ((UnseededHash(key) & 0x1ffff) >= 4096) continue;
    line += key + "=1,";
    ++found;
  }
  line.pop_back();
  Record record;
  DecodeError error;

  // Unseeded (as before): quadratic, about kKeys^2 / 2 probes.
  SetKeyHashSeedForTesting(0, 0);
  LineDecoder unseeded;
  ASSERT_EQ(unseeded.Decode(line, &record, &error), DecodeStatus::kRecord) << error.message;
  ASSERT_EQ(record.fields.size(), kKeys);
  EXPECT_GT(unseeded.KeyProbes(), uint64_t{kKeys} * kKeys / 4);

  // Seeded, as every process is: a few probes per key.
  std::random_device rd;
  SetKeyHashSeedForTesting((uint64_t{rd()} << 32) ^ rd(), (uint64_t{rd()} << 32) ^ rd());
  LineDecoder seeded;
  ASSERT_EQ(seeded.Decode(line, &record, &error), DecodeStatus::kRecord) << error.message;
  ASSERT_EQ(record.fields.size(), kKeys);
  EXPECT_LT(seeded.KeyProbes(), uint64_t{4} * kKeys);
  // The same line as JSON takes the same table.
  std::string json = R"({"model":"m","features":{)";
  for (const Field& f : record.fields) json += "\"" + std::string(f.key) + "\":1,";
  json.back() = '}';
  json += "}";
  LineDecoder seeded_json;
  ASSERT_EQ(seeded_json.Decode(json, &record, &error), DecodeStatus::kRecord) << error.message;
  EXPECT_LT(seeded_json.KeyProbes(), uint64_t{4} * kKeys);
}

}  // namespace
}  // namespace driftd
