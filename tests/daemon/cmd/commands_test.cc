// Each subcommand's command line: its flags, their defaults and the checks across flags.
#include "daemon/cmd/commands.h"

#include <gtest/gtest.h>

#include "config/config.h"
#include "core/monitor.h"
#include "core/reference.h"

namespace driftd {
namespace {

using Kind = ParseOutcome::Kind;

TEST(RunArgsTest, ConfigAndLogFlags) {
  RunArgs run;
  ParseOutcome outcome =
      ParseRunArgs({"--config", "d.json", "--log.level", "debug", "--log.format=json"}, &run);
  ASSERT_EQ(outcome.kind, Kind::kRun) << outcome.text;
  EXPECT_EQ(run.config, "d.json");
  EXPECT_EQ(run.log_level, "debug");
  EXPECT_EQ(run.log_format, "json");

  RunArgs defaults;
  ASSERT_EQ(ParseRunArgs({"--config", "d.json"}, &defaults).kind, Kind::kRun);
  EXPECT_EQ(defaults.log_level, "info");
  EXPECT_EQ(defaults.log_format, "text");
}

TEST(RunArgsTest, Errors) {
  RunArgs run;
  EXPECT_EQ(ParseRunArgs({}, &run).text, "missing required flag --config");
  EXPECT_EQ(ParseRunArgs({"--config", "d.json", "--log.level", "loud"}, &run).text,
            "--log.level: expected trace, debug, info, warn, error or off, got \"loud\"");
  EXPECT_EQ(ParseRunArgs({"--config", "d.json", "--log.format", "xml"}, &run).text,
            "--log.format: expected text or json, got \"xml\"");
  EXPECT_EQ(ParseRunArgs({"--help"}, &run).kind, Kind::kHelp);
}

TEST(CheckConfigArgsTest, Config) {
  CheckConfigArgs check;
  ASSERT_EQ(ParseCheckConfigArgs({"--config=x.json"}, &check).kind, Kind::kRun);
  EXPECT_EQ(check.config, "x.json");
  EXPECT_EQ(ParseCheckConfigArgs({"--config", "x", "--verbose"}, &check).text,
            "unknown flag --verbose");
}

TEST(CheckConfigTest, FormatBytes) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(76755763), "73.2 MiB");  // 73.2 * 2^20
  EXPECT_EQ(FormatBytes(size_t{3} << 30), "3.0 GiB");
}

TEST(CheckConfigTest, MemoryReportFromAKnownReference) {
  std::vector<std::string> errors;
  auto ref = ParseReference(R"({"model": "fraud", "version": "1", "features": {
      "amount": {"type": "numeric", "edges": [0, 10, 20, 30], "counts": [1, 2, 3]}}})",
                            "fraud.json", &errors);
  ASSERT_TRUE(ref) << testing::PrintToString(errors);
  Config config;
  config.windows[0].slices = 3600;
  config.ingest.threads = 2;
  // (6 bins + the records counter) * 3600 slices * 4 bytes = 100,800 bytes, plus the window
  // object and 3 offsets, in a set of one window (its object and one slice ratio): about 98.5 KiB.
  const size_t window =
      sizeof(WindowSet) + sizeof(int64_t) + sizeof(SlidingWindow) + 7 * 3600 * 4 + 3 * 4;
  // The feature, its edges, counts and prepared reference, its lookup table of 209 buckets and
  // its 4 decimal limits (worked out in MonitorMemoryTest).
  const size_t reference = sizeof(ReferenceFeature) + 4 * 8 + 6 * 8 + sizeof(PreparedReference) +
                           2 * 6 * 8 + 209 + 4 * 8;
  // The key caches and two ingest threads' shards (their size is checked in MonitorMemoryTest).
  const size_t ingest = Monitor::EstimateMemory(MonitorOptionsFrom(config), {*ref}, 2).ingest;
  ASSERT_GT(ingest, 2 * 7 * 4);
  EXPECT_EQ(MemoryReport(config, {*ref}),
            "memory: model \"fraud\": windows " + FormatBytes(window) + ", reference " +
                FormatBytes(reference) + ", ingest at most " + FormatBytes(ingest) +
                "\nmemory: windows " + FormatBytes(window) + ", references " +
                FormatBytes(reference) + ", ingest (key caches; 2 threads' shards) " +
                FormatBytes(ingest) + ", total " + FormatBytes(window + reference + ingest) +
                " (estimate)\n");
}

TEST(ReferenceBuildArgsTest, FlagsAndLists) {
  ReferenceBuildArgs build;
  ParseOutcome outcome =
      ParseReferenceBuildArgs({"--input", "t.csv", "--output", "r.json", "--model", "fraud",
                               "--bins", "32", "--strategy", "uniform", "--features", "a,,b",
                               "--categorical", "c", "--max-categories", "7", "--format", "csv"},
                              &build);
  ASSERT_EQ(outcome.kind, Kind::kRun) << outcome.text;
  EXPECT_EQ(build.input, "t.csv");
  EXPECT_EQ(build.output, "r.json");
  EXPECT_EQ(build.model, "fraud");
  EXPECT_EQ(build.bins, 32u);
  EXPECT_EQ(build.strategy, "uniform");
  EXPECT_EQ(build.features, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(build.categorical, (std::vector<std::string>{"c"}));
  EXPECT_EQ(build.max_categories, 7u);
  EXPECT_EQ(build.format, "csv");
  EXPECT_FALSE(build.reference_version_set);
}

TEST(ReferenceBuildArgsTest, AnEmptyReferenceVersionIsStillSet) {
  ReferenceBuildArgs build;
  ASSERT_EQ(ParseReferenceBuildArgs(
                {"--input", "t", "--output", "o", "--model", "m", "--reference-version="}, &build)
                .kind,
            Kind::kRun);
  EXPECT_TRUE(build.reference_version_set);
  EXPECT_EQ(build.reference_version, "");
}

TEST(ReferenceBuildArgsTest, Errors) {
  ReferenceBuildArgs build;
  EXPECT_EQ(ParseReferenceBuildArgs({"--input", "t"}, &build).text,
            "missing required flag --output");
  EXPECT_EQ(ParseReferenceBuildArgs(
                {"--input", "t", "--output", "o", "--model", "m", "--max-categories", "0"}, &build)
                .text,
            "--max-categories: expected an integer from 1 to 10000, got \"0\"");
}

TEST(LoadgenArgsTest, FlagsAndDefaults) {
  LoadgenArgs loadgen;
  ParseOutcome outcome =
      ParseLoadgenArgs({"--target", "udp://[::1]:7071", "--reference", "r.json", "--rate", "500",
                        "--drift-after", "-1", "--metrics-url", "http://127.0.0.1:9470/metrics"},
                       &loadgen);
  ASSERT_EQ(outcome.kind, Kind::kRun) << outcome.text;
  EXPECT_EQ(loadgen.target, "udp://[::1]:7071");
  EXPECT_EQ(loadgen.rate, 500);
  EXPECT_EQ(loadgen.drift_after, -1);
  EXPECT_EQ(loadgen.records, 1000000u);
  EXPECT_EQ(loadgen.format, "ndjson");
  EXPECT_EQ(loadgen.seed, 1u);
}

// The usage error of `args` ("" when they parse).
std::string LoadgenError(const std::vector<std::string>& args) {
  LoadgenArgs loadgen;
  const ParseOutcome outcome = ParseLoadgenArgs(args, &loadgen);
  return outcome.kind == Kind::kUsageError ? outcome.text : "";
}

TEST(LoadgenArgsTest, ChecksAcrossFlags) {
  EXPECT_EQ(LoadgenError({"--target", "tcp://h:1"}), "give either --reference or --input");
  EXPECT_EQ(LoadgenError({"--target", "tcp://h:1", "--reference", "r", "--input", "i"}),
            "give either --reference or --input");
  EXPECT_EQ(LoadgenError({"--target", "tcp://nohostport", "--reference", "r"}),
            "--target: expected tcp://host:port, udp://host:port or unix:///path, got "
            "\"tcp://nohostport\"");
  EXPECT_EQ(LoadgenError({"--target", "unix:///tmp/s", "--input", "i", "--metrics-url", "x"}),
            "--metrics-url: expected http://host:port/metrics, got \"x\"");
  EXPECT_EQ(LoadgenError({"--target", "unix:///tmp/s", "--input", "i"}), "");
  // --help wins over the checks across flags.
  LoadgenArgs loadgen;
  EXPECT_EQ(ParseLoadgenArgs({"--help"}, &loadgen).kind, Kind::kHelp);
}

}  // namespace
}  // namespace driftd
