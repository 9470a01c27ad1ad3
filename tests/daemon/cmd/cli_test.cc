#include "daemon/cmd/cli.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace driftd {
namespace {

// The flags of a typical command: one of each type.
struct Example {
  std::unique_ptr<CLI::App> app = NewCommandLine("test", "A test command.");
  std::string name, format = "ndjson", config;
  uint64_t records = 1000, bins = 20;
  double rate = 0, drift = 1, offset = 0;
  Example() {
    AddText(app.get(), "name", &name, "a string");
    AddUInt(app.get(), "records", &records, "records to send");
    AddUInt(app.get(), "bins", &bins, "bins", 1, 100000);
    AddNumber(app.get(), "rate", &rate, "records per second", 0);
    AddNumber(app.get(), "drift", &drift, "drift strength", 0, 1);
    AddNumber(app.get(), "offset", &offset, "any finite number");
    AddChoice(app.get(), "format", &format, {"ndjson", "influx"}, "record format");
  }
};

// Parses `args` with Example; returns the error ("" when parsing succeeded).
std::string ParseError(const std::vector<std::string>& args) {
  Example e;
  ParseOutcome outcome = ParseArgs(e.app.get(), args);
  EXPECT_NE(outcome.kind, ParseOutcome::Kind::kHelp);
  return outcome.kind == ParseOutcome::Kind::kUsageError ? outcome.text : "";
}

TEST(CliTest, DefaultsStay) {
  Example e;
  ASSERT_EQ(ParseArgs(e.app.get(), {}).kind, ParseOutcome::Kind::kRun);
  EXPECT_EQ(e.records, 1000u);
  EXPECT_EQ(e.bins, 20u);
  EXPECT_EQ(e.drift, 1);
  EXPECT_EQ(e.format, "ndjson");
}

TEST(CliTest, GoodValuesInBothSpellings) {
  Example e;
  const ParseOutcome outcome = ParseArgs(
      e.app.get(), {"--records", "18446744073709551615", "--bins=100000", "--rate", "2000.5",
                    "--drift=0", "--offset", "-1e3", "--format", "influx", "--name="});
  ASSERT_EQ(outcome.kind, ParseOutcome::Kind::kRun) << outcome.text;
  EXPECT_EQ(e.records, 18446744073709551615u);
  EXPECT_EQ(e.bins, 100000u);
  EXPECT_EQ(e.rate, 2000.5);
  EXPECT_EQ(e.drift, 0);
  EXPECT_EQ(e.offset, -1000);
  EXPECT_EQ(e.format, "influx");
  EXPECT_EQ(e.name, "");
}

TEST(CliTest, LastValueOfARepeatedFlagWins) {
  Example e;
  ASSERT_EQ(ParseArgs(e.app.get(), {"--records", "1", "--records", "2"}).kind,
            ParseOutcome::Kind::kRun);
  EXPECT_EQ(e.records, 2u);
}

// Every bad value is refused at parse time with one line naming the flag, what it takes and what
// it got.
TEST(CliTest, BadValuesNameTheFlagAndTheValue) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--records", "x"}, "--records: expected a non-negative integer, got \"x\""},
      {{"--records", ""}, "--records: expected a non-negative integer, got \"\""},
      {{"--records", "-1"}, "--records: expected a non-negative integer, got \"-1\""},
      {{"--records", "+1"}, "--records: expected a non-negative integer, got \"+1\""},
      {{"--records", " 1"}, "--records: expected a non-negative integer, got \" 1\""},
      {{"--records", "1.5"}, "--records: expected a non-negative integer, got \"1.5\""},
      {{"--records=1e6"}, "--records: expected a non-negative integer, got \"1e6\""},
      {{"--records", "18446744073709551616"},
       "--records: expected a non-negative integer, got \"18446744073709551616\""},
      {{"--bins=0"}, "--bins: expected an integer from 1 to 100000, got \"0\""},
      {{"--bins", "100001"}, "--bins: expected an integer from 1 to 100000, got \"100001\""},
      {{"--rate", "fast"}, "--rate: expected a number >= 0, got \"fast\""},
      {{"--rate", "-5"}, "--rate: expected a number >= 0, got \"-5\""},
      {{"--rate", "nan"}, "--rate: expected a number >= 0, got \"nan\""},
      {{"--rate", "inf"}, "--rate: expected a number >= 0, got \"inf\""},
      {{"--rate", "1e999"}, "--rate: expected a number >= 0, got \"1e999\""},
      {{"--drift", "1.5"}, "--drift: expected a number from 0 to 1, got \"1.5\""},
      {{"--offset", "infinity"}, "--offset: expected a finite number, got \"infinity\""},
      {{"--format", "xml"}, "--format: expected ndjson or influx, got \"xml\""},
      {{"--records"}, "--records: missing value"},
      {{"--nope", "1"}, "unknown flag --nope"},
      {{"stray"}, "unexpected argument \"stray\""},
  };
  for (const auto& [args, want] : cases) {
    EXPECT_EQ(ParseError(args), want) << args[0];
  }
}

TEST(CliTest, RequiredFlag) {
  auto app = NewCommandLine("test", "A test command.");
  std::string config;
  AddText(app.get(), "config", &config, "configuration file", "FILE")->required();
  ParseOutcome outcome = ParseArgs(app.get(), {});
  EXPECT_EQ(outcome.kind, ParseOutcome::Kind::kUsageError);
  EXPECT_EQ(outcome.text, "missing required flag --config");
}

TEST(CliTest, HelpNeedsNoRequiredFlagAndShowsDefaults) {
  Example e;
  std::string config;
  AddText(e.app.get(), "config", &config, "configuration file", "FILE")->required();
  const ParseOutcome outcome = ParseArgs(e.app.get(), {"--help"});
  ASSERT_EQ(outcome.kind, ParseOutcome::Kind::kHelp);
  EXPECT_NE(outcome.text.find("driftd test"), std::string::npos) << outcome.text;
  EXPECT_NE(outcome.text.find("--records N"), std::string::npos) << outcome.text;
  EXPECT_NE(outcome.text.find("(default: 1000)"), std::string::npos) << outcome.text;
  EXPECT_NE(outcome.text.find("--config FILE"), std::string::npos) << outcome.text;
}

}  // namespace
}  // namespace driftd
