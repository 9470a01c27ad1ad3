#include "daemon/cmd/flags.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace driftd {
namespace {

// The flags of a typical command: one of each type.
Flags Example() {
  Flags f("driftd test [flags]", "A test command.");
  f.Value("name", "", "a string");
  f.Bool("verbose", "a boolean");
  f.UInt("records", 1000, "records to send");
  f.UInt("bins", 20, "bins", 1, 100000);
  f.Number("rate", 0, "records per second", 0);
  f.Number("drift", 1, "drift strength", 0, 1);
  f.Number("offset", 0, "any finite number");
  f.Choice("format", "ndjson", {"ndjson", "influx"}, "record format");
  return f;
}

// Parses `args` with Example(); returns the error ("" when parsing succeeded).
std::string ParseError(const std::vector<std::string>& args) {
  Flags f = Example();
  std::string error;
  return f.Parse(args, &error) ? "" : error;
}

TEST(FlagsTest, DefaultsAreTyped) {
  Flags f = Example();
  std::string error;
  ASSERT_TRUE(f.Parse({}, &error)) << error;
  EXPECT_EQ(f.GetUInt("records"), 1000u);
  EXPECT_EQ(f.GetUInt("bins"), 20u);
  EXPECT_EQ(f.GetNumber("rate"), 0);
  EXPECT_EQ(f.GetNumber("drift"), 1);
  EXPECT_EQ(f.Get("format"), "ndjson");
  EXPECT_EQ(f.Get("verbose"), "false");
  EXPECT_FALSE(f.IsSet("records"));
}

TEST(FlagsTest, GoodValuesInBothSpellings) {
  Flags f = Example();
  std::string error;
  ASSERT_TRUE(
      f.Parse({"--records", "18446744073709551615", "--bins=100000", "--rate", "2000.5",
               "--drift=0", "--offset", "-1e3", "--format", "influx", "--verbose", "--name="},
              &error))
      << error;
  EXPECT_EQ(f.GetUInt("records"), 18446744073709551615u);
  EXPECT_EQ(f.GetUInt("bins"), 100000u);
  EXPECT_EQ(f.GetNumber("rate"), 2000.5);
  EXPECT_EQ(f.GetNumber("drift"), 0);
  EXPECT_EQ(f.GetNumber("offset"), -1000);
  EXPECT_EQ(f.Get("format"), "influx");
  EXPECT_EQ(f.Get("verbose"), "true");
  EXPECT_EQ(f.Get("name"), "");
  EXPECT_TRUE(f.IsSet("records"));
}

// Every bad value is refused at parse time with one line naming the flag, what it takes and what
// it got.
TEST(FlagsTest, BadValuesNameTheFlagAndTheValue) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--records", "x"}, "--records: expected a non-negative integer, got \"x\""},
      {{"--records", ""}, "--records: expected a non-negative integer, got \"\""},
      {{"--records", "-1"}, "--records: expected a non-negative integer, got \"-1\""},
      {{"--records", "+1"}, "--records: expected a non-negative integer, got \"+1\""},
      {{"--records", " 1"}, "--records: expected a non-negative integer, got \" 1\""},
      {{"--records", "1.5"}, "--records: expected a non-negative integer, got \"1.5\""},
      {{"--records", "12abc"}, "--records: expected a non-negative integer, got \"12abc\""},
      {{"--records", "18446744073709551616"},
       "--records: expected a non-negative integer, got \"18446744073709551616\""},
      {{"--bins=0"}, "--bins: expected an integer from 1 to 100000, got \"0\""},
      {{"--bins", "100001"}, "--bins: expected an integer from 1 to 100000, got \"100001\""},
      {{"--rate", "fast"}, "--rate: expected a number >= 0, got \"fast\""},
      {{"--rate", "-5"}, "--rate: expected a number >= 0, got \"-5\""},
      {{"--rate", "nan"}, "--rate: expected a number >= 0, got \"nan\""},
      {{"--rate", "inf"}, "--rate: expected a number >= 0, got \"inf\""},
      {{"--rate", "1e999"}, "--rate: expected a number >= 0, got \"1e999\""},
      {{"--rate", "5x"}, "--rate: expected a number >= 0, got \"5x\""},
      {{"--drift", "1.5"}, "--drift: expected a number from 0 to 1, got \"1.5\""},
      {{"--offset", "infinity"}, "--offset: expected a finite number, got \"infinity\""},
      {{"--format", "xml"}, "--format: expected ndjson or influx, got \"xml\""},
      {{"--verbose=yes"}, "--verbose: expected true or false, got \"yes\""},
      {{"--records"}, "--records: missing value"},
      {{"--nope", "1"}, "unknown flag --nope"},
      {{"stray"}, "unexpected argument \"stray\""},
  };
  for (const auto& [args, want] : cases) {
    EXPECT_EQ(ParseError(args), want) << args[0];
  }
}

TEST(FlagsTest, RequiredFlag) {
  Flags f("driftd test --config FILE", "A test command.");
  f.Value("config", "", "configuration file", true);
  std::string error;
  EXPECT_FALSE(f.Parse({}, &error));
  EXPECT_EQ(error, "missing required flag --config");
  EXPECT_TRUE(f.Parse({"--config", "x.json"}, &error));
  EXPECT_EQ(f.Get("config"), "x.json");
}

TEST(FlagsTest, HelpStopsParsing) {
  Flags f = Example();
  std::string error;
  EXPECT_TRUE(f.Parse({"--help", "--records", "x"}, &error));
  EXPECT_TRUE(f.help_requested());
  EXPECT_NE(f.Help().find("--records VALUE"), std::string::npos);
  EXPECT_NE(f.Help().find("(default: 1000)"), std::string::npos);
}

// A programming error, not a user error: caught the first time the command runs.
TEST(FlagsTest, BadDefaultOrTypeMismatchIsALogicError) {
  Flags f("driftd test", "");
  EXPECT_THROW(f.UInt("n", 0, "n", 1, 10), std::logic_error);
  EXPECT_THROW(f.Choice("c", "z", {"a", "b"}, "c"), std::logic_error);
  f.UInt("m", 5, "m");
  EXPECT_THROW(f.GetNumber("m"), std::logic_error);
  EXPECT_THROW(f.Value("m", "", "again"), std::logic_error);
}

}  // namespace
}  // namespace driftd
