#include "config/config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/monitor.h"

namespace driftd {
namespace {

const std::string kTestdata = DRIFTD_CONFIG_TESTDATA;
const std::string kExamples = DRIFTD_CONFIG_EXAMPLES;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The names of the files in testdata ending in `suffix`.
std::set<std::string> TestdataFiles(const std::string& suffix) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kTestdata)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > suffix.size() && name.ends_with(suffix)) names.insert(name);
  }
  return names;
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

// Loads testdata/`name` (as LoadConfigFile does), failing the test with the messages if it fails.
Config LoadGood(const std::string& name) {
  std::vector<std::string> errors;
  std::optional<Config> c = LoadConfigFile(kTestdata + "/" + name, &errors);
  EXPECT_TRUE(c) << JoinLines(errors);
  EXPECT_TRUE(errors.empty()) << JoinLines(errors);
  return c.value_or(Config{});
}

// --- Good files -------------------------------------------------------------------------------

TEST(ConfigGoodTest, DurationsAtTheirUpperBounds) {
  const Config c = LoadGood("duration_limits.good.json");
  EXPECT_EQ(c.ingest.idle_timeout_seconds, 86400);
  EXPECT_EQ(c.windows[0].length_seconds, 34560000);
  EXPECT_EQ(c.evaluation.interval_seconds, 3600);
}

TEST(ConfigGoodTest, EveryGoodFileLoads) {
  const std::set<std::string> names = TestdataFiles(".good.json");
  EXPECT_GE(names.size(), 4u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    LoadGood(name);
  }
}

TEST(ConfigGoodTest, FullFileSetsEveryKey) {
  const Config c = LoadGood("full.good.json");
  EXPECT_EQ(c.source, kTestdata + "/full.good.json");
  ASSERT_TRUE(c.ingest.tcp);
  EXPECT_EQ(*c.ingest.tcp, (HostPort{"127.0.0.1", 7070}));
  ASSERT_TRUE(c.ingest.udp);
  EXPECT_EQ(*c.ingest.udp, (HostPort{"0.0.0.0", 7071}));
  EXPECT_EQ(c.ingest.unix_path, "/run/driftd/ingest.sock");
  EXPECT_EQ(c.ingest.max_line_bytes, 131072u);
  EXPECT_EQ(c.ingest.max_connections, 64u);
  EXPECT_EQ(c.ingest.max_unix_connections, 16u);
  EXPECT_EQ(c.ingest.line_timeout_seconds, 2.5);
  EXPECT_EQ(c.ingest.unix_mode, 0600u);
  EXPECT_EQ(c.http.listen, (HostPort{"::1", 9470}));
  EXPECT_EQ(c.windows[0].length_seconds, 900);
  EXPECT_EQ(c.windows[0].slices, 90u);
  EXPECT_EQ(c.evaluation.interval_seconds, 2.5);
  EXPECT_EQ(c.evaluation.min_samples, 1000u);
  EXPECT_EQ(c.evaluation.smoothing, 1);
  EXPECT_EQ(c.evaluation.log_base, LogBase::kTwo);
  EXPECT_EQ(c.evaluation.kl_direction, KlDirection::kReferenceToWindow);
  ASSERT_EQ(c.models.size(), 2u);
  EXPECT_EQ(c.models[0].name, "fraud");
  EXPECT_EQ(c.models[0].reference, kTestdata + "/references/fraud.json");
  EXPECT_EQ(c.models[0].reference_as_written, "references/fraud.json");
  EXPECT_EQ(c.models[1].name, "churn");
  EXPECT_EQ(c.models[1].reference, kTestdata + "/references/churn.json");
}

// The distances added after the first four are accepted the same way, with their own defaults.
TEST(ConfigGoodTest, TvdAndLinfAreAlertMetrics) {
  const struct {
    const char* name;
    DriftMetric metric;
    double warning, critical;
  } cases[] = {{"tvd", DriftMetric::kTvd, 0.056, 0.089},
               {"linf", DriftMetric::kLinf, 0.016, 0.028}};
  for (const auto& want : cases) {
    SCOPED_TRACE(want.name);
    const std::string text = std::string(R"({"models": [{"name": "m", "reference": "r.json",
                                                          "alerts": {"metric": ")") +
                             want.name + R"("}}]})";
    std::vector<std::string> errors;
    const std::optional<Config> c = ParseConfig(text, "inline.json", "", &errors);
    ASSERT_TRUE(c) << JoinLines(errors);
    const AlertPolicy& p = c->models[0].alerts.policy;
    EXPECT_EQ(p.metric, want.metric);
    EXPECT_EQ(p.warning, want.warning);
    EXPECT_EQ(p.critical, want.critical);
  }
}

TEST(ConfigGoodTest, AlertsWithFeatureOverrides) {
  const Config c = LoadGood("alerts.good.json");
  ASSERT_EQ(c.models.size(), 2u);
  const ModelAlerts& a = c.models[0].alerts;
  EXPECT_EQ(a.policy.metric, DriftMetric::kKl);
  EXPECT_EQ(a.policy.warning, 0.02);
  EXPECT_EQ(a.policy.critical, 0.05);
  EXPECT_EQ(a.policy.max_p_value, 0.001);
  EXPECT_EQ(a.policy.for_evaluations, 5u);
  EXPECT_EQ(a.policy.resolve_ratio, 0.5);
  // A retrain object names the rules it wants: drifted_share left out is off.
  EXPECT_FALSE(a.retrain.drifted_share.has_value());
  EXPECT_EQ(a.retrain.critical_features, 2u);
  // "amount" switches to PSI, with PSI's default thresholds, keeping the model's other keys.
  const AlertPolicy& amount = a.For("amount");
  EXPECT_EQ(amount.metric, DriftMetric::kPsi);
  EXPECT_EQ(amount.warning, 0.1);
  EXPECT_EQ(amount.critical, 0.25);
  EXPECT_EQ(amount.for_evaluations, 5u);
  const AlertPolicy& country = a.For("country");
  EXPECT_EQ(country.warning, 0.02);
  EXPECT_EQ(country.critical, 0.1);
  EXPECT_FALSE(country.max_p_value.has_value());
  // The second model takes every default.
  const ModelAlerts& d = c.models[1].alerts;
  EXPECT_EQ(d.policy.metric, DriftMetric::kKl);
  EXPECT_EQ(d.policy.warning, 0.01);
  EXPECT_EQ(d.policy.critical, 0.025);
  EXPECT_EQ(d.policy.max_p_value, 0.01);
  EXPECT_EQ(d.policy.for_evaluations, 3u);
  EXPECT_EQ(d.retrain.drifted_share, 0.5);
  EXPECT_EQ(d.retrain.critical_features, 1u);
}

TEST(LoadReferencesTest, AlertOverrideForAnUnknownFeature) {
  std::vector<std::string> errors;
  auto c = ParseConfig(
      R"({"models": [{"name": "fraud", "reference": "references/fraud.json",
                      "alerts": {"features": {"amuont": {"warning": 0.001}}}}]})",
      "d.json", kTestdata, &errors);
  ASSERT_TRUE(c) << errors[0];
  std::vector<Reference> refs;
  EXPECT_FALSE(LoadReferences(*c, &refs, &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "d.json: models[0].alerts.features.amuont: no feature \"amuont\" in the reference");
}

TEST(ConfigGoodTest, MinimalFileTakesEveryDefault) {
  const Config c = LoadGood("minimal.good.json");
  const Config defaults;
  EXPECT_FALSE(c.ingest.tcp);
  EXPECT_FALSE(c.ingest.udp);
  EXPECT_FALSE(c.ingest.unix_path);
  EXPECT_EQ(c.ingest.max_line_bytes, 65536u);
  EXPECT_EQ(c.ingest.max_connections, 1024u);
  EXPECT_EQ(c.ingest.max_unix_connections, 1024u);
  EXPECT_EQ(c.ingest.idle_timeout_seconds, 300);
  EXPECT_EQ(c.ingest.line_timeout_seconds, 10);
  EXPECT_EQ(c.ingest.unix_mode, 0660u);
  EXPECT_EQ(c.http.listen, (HostPort{"127.0.0.1", 9470}));
  EXPECT_EQ(c.windows[0].length_seconds, 3600);
  EXPECT_EQ(c.windows[0].slices, 60u);
  EXPECT_EQ(c.evaluation.interval_seconds, 10);
  EXPECT_EQ(c.evaluation.min_samples, 200u);
  EXPECT_EQ(c.evaluation.smoothing, 0.5);
  EXPECT_EQ(c.evaluation.log_base, LogBase::kE);
  EXPECT_EQ(c.evaluation.kl_direction, KlDirection::kWindowToReference);
  EXPECT_EQ(c.http.listen, defaults.http.listen);
  ASSERT_EQ(c.models.size(), 1u);
  EXPECT_EQ(c.models[0].name, "fraud");
}

TEST(ConfigGoodTest, ThreeWindowsAndTheAlertPolicysWindows) {
  const Config c = LoadGood("windows_three.good.json");
  ASSERT_EQ(c.windows.size(), 3u);
  EXPECT_EQ(c.windows[0].name, "5m");
  EXPECT_EQ(c.windows[1].length_seconds, 3600);
  EXPECT_EQ(c.windows[2].slices, 96u);
  EXPECT_EQ(c.models[0].alerts.warning_window, "1d");
  EXPECT_EQ(c.models[0].alerts.critical_window, "5m");
  const MonitorOptions o = MonitorOptionsFrom(c);
  ASSERT_EQ(o.windows.size(), 3u);
  EXPECT_EQ(o.windows[2].name, "1d");
  EXPECT_EQ(o.windows[2].options.slice_seconds(), 900);
}

TEST(ConfigGoodTest, TheSingleWindowIsNamedAfterItsLength) {
  EXPECT_EQ(WindowName(3600), "1h");
  EXPECT_EQ(WindowName(86400 * 7), "7d");
  EXPECT_EQ(WindowName(600), "10m");
  EXPECT_EQ(WindowName(90), "90s");
  EXPECT_EQ(WindowName(5400), "90m");
  EXPECT_EQ(WindowName(0.5), "0.5s");
  std::vector<std::string> errors;
  auto c = ParseConfig(R"({"window": {"length_seconds": 600, "slices": 10},
                            "models": [{"name": "m", "reference": "m.json"}]})",
                       "t.json", "", &errors);
  ASSERT_TRUE(c) << JoinLines(errors);
  ASSERT_EQ(c->windows.size(), 1u);
  EXPECT_EQ(c->windows[0].name, "10m");
  c = ParseConfig(R"({"window": {"name": "recent", "length_seconds": 600, "slices": 10},
                      "models": [{"name": "m", "reference": "m.json"}]})",
                  "t.json", "", &errors);
  ASSERT_TRUE(c) << JoinLines(errors);
  EXPECT_EQ(c->windows[0].name, "recent");
  // No window key at all: the default hour.
  c = ParseConfig(R"({"models": [{"name": "m", "reference": "m.json"}]})", "t.json", "", &errors);
  ASSERT_TRUE(c) << JoinLines(errors);
  EXPECT_EQ(c->windows[0].name, "1h");
}

TEST(ConfigGoodTest, ExportBinsAndItsCap) {
  std::vector<std::string> errors;
  const std::string models =
      R"("models": [{"name": "fraud", "reference": "references/fraud.json", "export_bins": true}])";
  auto c = ParseConfig("{" + models + "}", "t.json", kTestdata, &errors);
  ASSERT_TRUE(c) << JoinLines(errors);
  EXPECT_TRUE(c->models[0].export_bins);
  std::vector<Reference> refs;
  ASSERT_TRUE(LoadReferences(*c, &refs, &errors)) << JoinLines(errors);
  uint64_t bins = 0;
  for (const ReferenceFeature& f : refs[0].features) bins += f.bins.size();
  EXPECT_EQ(BinSeries(*c, refs), 2 * bins);  // one window and the reference
  c->evaluation.max_bin_series = 2 * bins - 1;
  refs.clear();
  EXPECT_FALSE(LoadReferences(*c, &refs, &errors));
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors.back(), "t.json: models[0].export_bins: the models would export " +
                               std::to_string(2 * bins) +
                               " bin-count series (features x bins x (windows + 1)), over "
                               "evaluation.max_bin_series (" +
                               std::to_string(2 * bins - 1) + ")");
  errors.clear();
  EXPECT_FALSE(
      ParseConfig(R"({"models": [{"name": "m", "reference": "m.json", "export_bins": 1}]})",
                  "t.json", "", &errors));
  EXPECT_EQ(JoinLines(errors), "t.json: models[0].export_bins: must be true or false\n");
}

TEST(ConfigGoodTest, HttpDefaults) {
  const Config c = LoadGood("minimal.good.json");
  EXPECT_EQ(c.http.max_connections, 128u);
  EXPECT_EQ(c.http.header_timeout_seconds, 10);
  EXPECT_EQ(c.http.request_timeout_seconds, 60);
  EXPECT_EQ(c.http.max_body_bytes, 64u << 20);
  EXPECT_EQ(c.http.max_status_responses, 4u);
}

TEST(ConfigGoodTest, HttpKeysAtTheirBounds) {
  const Config c = LoadGood("http.good.json");
  EXPECT_EQ(c.http.listen, (HostPort{"127.0.0.1", 9471}));
  EXPECT_EQ(c.http.max_connections, 65536u);
  EXPECT_EQ(c.http.header_timeout_seconds, 2.5);
  EXPECT_EQ(c.http.request_timeout_seconds, 3600);
  EXPECT_EQ(c.http.max_body_bytes, 1024u);
  EXPECT_EQ(c.http.max_status_responses, 1u);
}

TEST(ConfigGoodTest, IngestOnAListenerOfItsOwn) {
  const Config c = LoadGood("http_ingest_listen.good.json");
  EXPECT_EQ(c.http.listen, (HostPort{"0.0.0.0", 9470}));
  EXPECT_TRUE(c.http.ingest);
  ASSERT_TRUE(c.http.ingest_listen);
  EXPECT_EQ(*c.http.ingest_listen, (HostPort{"127.0.0.1", 9471}));
  // By default ingest is on, on http.listen.
  const Config d = LoadGood("http.good.json");
  EXPECT_TRUE(d.http.ingest);
  EXPECT_FALSE(d.http.ingest_listen);
}

TEST(ConfigGoodTest, NullListenersAreDisabled) {
  const Config c = LoadGood("null_listeners.good.json");
  EXPECT_FALSE(c.ingest.tcp);
  EXPECT_FALSE(c.ingest.udp);
  EXPECT_FALSE(c.ingest.unix_path);
  EXPECT_EQ(c.ingest.max_line_bytes, 64u);
  EXPECT_EQ(c.ingest.max_connections, 1u);
  EXPECT_EQ(c.http.listen, (HostPort{"127.0.0.1", 9470}));
  EXPECT_EQ(c.windows[0].slices, 3600u);
}

TEST(ConfigGoodTest, AddressesAndBoundaries) {
  const Config c = LoadGood("addresses.good.json");
  EXPECT_EQ(c.ingest.tcp, (HostPort{"::", 0}));
  EXPECT_EQ(c.ingest.udp, (HostPort{"localhost", 65535}));
  EXPECT_EQ(c.ingest.unix_path, kTestdata + "/driftd.sock");
  EXPECT_EQ(c.ingest.max_line_bytes, 64u << 20);
  EXPECT_EQ(c.ingest.max_connections, 1048576u);
  EXPECT_EQ(c.http.listen, (HostPort{"0.0.0.0", 0}));
  EXPECT_EQ(c.windows[0].slices, 1000u);
  EXPECT_EQ(c.evaluation.min_samples, 500u);
  ASSERT_EQ(c.models.size(), 2u);
  EXPECT_EQ(c.models[0].reference, "/var/lib/driftd/fraud.json");
  EXPECT_EQ(c.models[1].name, "fraud-v2");
}

TEST(ConfigGoodTest, EmptyBaseDirLeavesPathsAsGiven) {
  std::vector<std::string> errors;
  auto c = ParseConfig(
      R"({"ingest": {"unix": "run/ingest.sock"},
          "models": [{"name": "m", "reference": "refs/m.json"}]})",
      "driftd.json", "", &errors);
  ASSERT_TRUE(c) << JoinLines(errors);
  EXPECT_EQ(c->ingest.unix_path, "run/ingest.sock");
  EXPECT_EQ(c->models[0].reference, "refs/m.json");
  EXPECT_EQ(c->source, "driftd.json");
}

TEST(ConfigGoodTest, RelativePathsJoinTheBaseDir) {
  std::vector<std::string> errors;
  auto c = ParseConfig(
      R"({"ingest": {"unix": "run/ingest.sock"},
          "models": [{"name": "a", "reference": "refs/a.json"},
                     {"name": "b", "reference": "/abs/b.json"}]})",
      "driftd.json", "/etc/driftd", &errors);
  ASSERT_TRUE(c) << JoinLines(errors);
  EXPECT_EQ(c->ingest.unix_path, "/etc/driftd/run/ingest.sock");
  EXPECT_EQ(c->models[0].reference, "/etc/driftd/refs/a.json");
  EXPECT_EQ(c->models[1].reference, "/abs/b.json");
}

TEST(ConfigGoodTest, FileInTheWorkingDirectoryKeepsRelativePaths) {
  // LoadConfigFile("driftd.json") has no folder part: the paths stay relative to the working
  // directory, which is that file's folder.
  const std::filesystem::path previous = std::filesystem::current_path();
  std::filesystem::current_path(kTestdata);
  std::vector<std::string> errors;
  auto c = LoadConfigFile("minimal.good.json", &errors);
  std::filesystem::current_path(previous);
  ASSERT_TRUE(c) << JoinLines(errors);
  EXPECT_EQ(c->source, "minimal.good.json");
  EXPECT_EQ(c->models[0].reference, "references/fraud.json");
}

// --- Bad files --------------------------------------------------------------------------------

// Every bad file with the exact messages it produces, as when loaded from testdata/ itself.
const std::map<std::string, std::vector<std::string>> kBadFiles = {
    {"invalid_json.bad.json",
     {"invalid_json.bad.json: invalid JSON: parse error at line 2, column 70: syntax error while "
      "parsing value - unexpected ']'; expected '[', '{', or a literal"}},
    {"not_an_object.bad.json", {"not_an_object.bad.json: must be a JSON object"}},
    {"unknown_top_key.bad.json", {"unknown_top_key.bad.json: listen: unknown key"}},
    {"unknown_window_key.bad.json", {"unknown_window_key.bad.json: window.extra: unknown key"}},
    {"unknown_model_key.bad.json", {"unknown_model_key.bad.json: models[0].path: unknown key"}},
    {"duplicate_key.bad.json", {"duplicate_key.bad.json: window.slices: duplicate key"}},
    {"missing_models.bad.json", {"missing_models.bad.json: models: missing required key"}},
    {"empty_models.bad.json", {"empty_models.bad.json: models: must hold at least one model"}},
    {"models_not_array.bad.json", {"models_not_array.bad.json: models: must be an array"}},
    {"model_not_object.bad.json", {"model_not_object.bad.json: models[0]: must be an object"}},
    {"model_missing_keys.bad.json",
     {"model_missing_keys.bad.json: models[0].name: missing required key",
      "model_missing_keys.bad.json: models[0].reference: missing required key"}},
    {"model_empty_name.bad.json", {"model_empty_name.bad.json: models[0].name: must not be empty"}},
    {"model_reference_not_string.bad.json",
     {"model_reference_not_string.bad.json: models[0].reference: must be a string"}},
    {"duplicate_model.bad.json",
     {"duplicate_model.bad.json: models[1].name: duplicate model \"fraud\""}},
    {"sections_not_objects.bad.json",
     {"sections_not_objects.bad.json: ingest: must be an object",
      "sections_not_objects.bad.json: window: must be an object"}},
    {"tcp_without_port.bad.json",
     {"tcp_without_port.bad.json: ingest.tcp: invalid address \"localhost\": expected host:port"}},
    {"tcp_not_string.bad.json", {"tcp_not_string.bad.json: ingest.tcp: must be a string or null"}},
    {"tcp_ipv6_without_brackets.bad.json",
     {"tcp_ipv6_without_brackets.bad.json: ingest.tcp: invalid address \"::1:7070\": an IPv6 "
      "host must be in brackets: [host]:port"}},
    {"udp_port_out_of_range.bad.json",
     {"udp_port_out_of_range.bad.json: ingest.udp: invalid address \"127.0.0.1:65536\": port "
      "must be between 0 and 65535"}},
    {"udp_port_not_number.bad.json",
     {"udp_port_not_number.bad.json: ingest.udp: invalid address \"127.0.0.1:statsd\": port must "
      "be a number"}},
    {"udp_empty_host.bad.json",
     {"udp_empty_host.bad.json: ingest.udp: invalid address \":7070\": host must not be empty"}},
    {"unix_empty.bad.json", {"unix_empty.bad.json: ingest.unix: must not be empty"}},
    {"unix_too_long.bad.json",
     {"unix_too_long.bad.json: ingest.unix: path too long for a unix socket: 112 bytes, at most "
      "107"}},
    {"max_line_bytes_too_small.bad.json",
     {"max_line_bytes_too_small.bad.json: ingest.max_line_bytes: must be between 64 and "
      "67108864"}},
    {"max_line_bytes_too_large.bad.json",
     {"max_line_bytes_too_large.bad.json: ingest.max_line_bytes: must be between 64 and "
      "67108864"}},
    {"max_line_bytes_fractional.bad.json",
     {"max_line_bytes_fractional.bad.json: ingest.max_line_bytes: must be an integer"}},
    {"max_connections_zero.bad.json",
     {"max_connections_zero.bad.json: ingest.max_connections: must be between 1 and 1048576"}},
    {"max_connections_too_large.bad.json",
     {"max_connections_too_large.bad.json: ingest.max_connections: must be between 1 and "
      "1048576"}},
    {"unix_mode_invalid.bad.json",
     {"unix_mode_invalid.bad.json: ingest.unix_mode: must be an octal mode string such as "
      "\"0660\", got \"660\""}},
    {"unix_mode_not_string.bad.json",
     {"unix_mode_not_string.bad.json: ingest.unix_mode: must be an octal mode string such as "
      "\"0660\", got 432"}},
    {"line_timeout_too_large.bad.json",
     {"line_timeout_too_large.bad.json: ingest.line_timeout_seconds: must be <= 3600 (seconds)"}},
    {"http_listen_not_string.bad.json",
     {"http_listen_not_string.bad.json: http.listen: must be a string"}},
    {"http_listen_invalid.bad.json",
     {"http_listen_invalid.bad.json: http.listen: invalid address \"[::1]9470\": expected "
      "[host]:port"}},
    {"http_unknown_key.bad.json", {"http_unknown_key.bad.json: http.port: unknown key"}},
    {"http_ingest_listen.bad.json",
     {"http_ingest_listen.bad.json: http.ingest: must be true or false",
      "http_ingest_listen.bad.json: http.ingest_listen: same address as http.listen "
      "(127.0.0.1:9470)"}},
    {"http_ingest_off_with_listener.bad.json",
     {"http_ingest_off_with_listener.bad.json: http.ingest_listen: set while http.ingest is false "
      "(no ingest endpoint to serve)"}},
    {"http_ingest_listen_same_as_tcp.bad.json",
     {"http_ingest_listen_same_as_tcp.bad.json: http.ingest_listen: same address as ingest.tcp "
      "(127.0.0.1:7070)"}},
    {"http_same_as_tcp.bad.json",
     {"http_same_as_tcp.bad.json: http.listen: same address as ingest.tcp (127.0.0.1:9470)"}},
    {"http_limits.bad.json",
     {"http_limits.bad.json: http.max_connections: must be between 1 and 65536",
      "http_limits.bad.json: http.header_timeout_seconds: must be <= 300",
      "http_limits.bad.json: http.request_timeout_seconds: must be > 0 and <= 3600",
      "http_limits.bad.json: http.max_body_bytes: must be between 1024 and 1073741824",
      "http_limits.bad.json: http.max_status_responses: must be an integer"}},
    {"http_header_timeout_above_request.bad.json",
     {"http_header_timeout_above_request.bad.json: http.header_timeout_seconds: must be <= "
      "http.request_timeout_seconds (20)"}},
    {"http_timeout_not_number.bad.json",
     {"http_timeout_not_number.bad.json: http.header_timeout_seconds: must be a finite number",
      "http_timeout_not_number.bad.json: http.max_body_bytes: must be between 1024 and "
      "1073741824"}},
    {"window_length_zero.bad.json",
     {"window_length_zero.bad.json: window.length_seconds: must be > 0"}},
    {"window_length_string.bad.json",
     {"window_length_string.bad.json: window.length_seconds: must be a number"}},
    {"windows_and_window.bad.json",
     {"windows_and_window.bad.json: windows: give either window (one) or windows (a list), not "
      "both"}},
    {"windows_slice_not_a_multiple.bad.json",
     {"windows_slice_not_a_multiple.bad.json: windows: window 1: its slice (25 s) must be a whole "
      "multiple of the slice of the window before it (10 s)"}},
    {"windows_not_longer.bad.json",
     {"windows_not_longer.bad.json: windows: window 1: its length (300 s) must exceed the length "
      "of the window before it (3600 s) by at least one of its slices (60 s)"}},
    {"windows_duplicate_name.bad.json",
     {"windows_duplicate_name.bad.json: windows[1].name: repeats the name of windows[0]"}},
    {"windows_missing_name.bad.json",
     {"windows_missing_name.bad.json: windows[0].name: is required"}},
    {"windows_bad_name.bad.json",
     {"windows_bad_name.bad.json: windows[0].name: must be 1 to 32 letters, digits or '_'"}},
    {"windows_empty.bad.json",
     {"windows_empty.bad.json: windows: must be a list of 1 to 8 windows"}},
    {"alerts_unknown_window.bad.json",
     {"alerts_unknown_window.bad.json: models[0].alerts.critical_window: no window named \"1d\" "
      "(windows: 5m, 1h)"}},
    {"window_slices_zero.bad.json",
     {"window_slices_zero.bad.json: window.slices: must be between 1 and 3600"}},
    {"window_slices_too_many.bad.json",
     {"window_slices_too_many.bad.json: window.slices: must be between 1 and 3600"}},
    {"window_slices_too_short.bad.json",
     {"window_slices_too_short.bad.json: window: length_seconds / slices must be at least 0.001 "
      "s, got 0.000277778"}},
    {"interval_zero.bad.json",
     {"interval_zero.bad.json: evaluation.interval_seconds: must be > 0"}},
    {"interval_too_large.bad.json",
     {"interval_too_large.bad.json: evaluation.interval_seconds: must be <= 3600 (seconds)"}},
    {"idle_timeout_zero.bad.json",
     {"idle_timeout_zero.bad.json: ingest.idle_timeout_seconds: must be > 0"}},
    {"idle_timeout_too_large.bad.json",
     {"idle_timeout_too_large.bad.json: ingest.idle_timeout_seconds: must be <= 86400 "
      "(seconds)"}},
    {"window_length_too_large.bad.json",
     {"window_length_too_large.bad.json: window.length_seconds: must be <= 34560000 (seconds)"}},
    {"nested_too_deep.bad.json",
     {"nested_too_deep.bad.json: invalid JSON: nested deeper than 64 levels at byte 142"}},
    {"smoothing_zero.bad.json", {"smoothing_zero.bad.json: evaluation.smoothing: must be > 0"}},
    {"smoothing_negative.bad.json",
     {"smoothing_negative.bad.json: evaluation.smoothing: must be > 0"}},
    {"min_samples_zero.bad.json",
     {"min_samples_zero.bad.json: evaluation.min_samples: must be >= 1"}},
    {"min_samples_negative.bad.json",
     {"min_samples_negative.bad.json: evaluation.min_samples: must be >= 1"}},
    {"min_samples_string.bad.json",
     {"min_samples_string.bad.json: evaluation.min_samples: must be an integer"}},
    {"log_base_unknown.bad.json",
     {"log_base_unknown.bad.json: evaluation.log_base: unknown value \"10\" (e or 2)"}},
    {"log_base_number.bad.json",
     {"log_base_number.bad.json: evaluation.log_base: must be a string"}},
    {"kl_direction_unknown.bad.json",
     {"kl_direction_unknown.bad.json: evaluation.kl_direction: unknown value \"both\" "
      "(window_to_reference or reference_to_window)"}},
    {"alerts_invalid.bad.json",
     {
         "alerts_invalid.bad.json: models[0].alerts.page: unknown key",
         "alerts_invalid.bad.json: models[0].alerts.metric: unknown value \"auc\" (kl or psi or js "
         "or hellinger or tvd or linf)",
         "alerts_invalid.bad.json: models[0].alerts: warning threshold 0.5 is above critical 0.1",
         "alerts_invalid.bad.json: models[0].alerts.max_p_value: must be <= 1",
         "alerts_invalid.bad.json: models[0].alerts.for_evaluations: must be between 1 and 1000000",
         "alerts_invalid.bad.json: models[0].alerts.resolve_ratio: must be > 0 and <= 1",
         "alerts_invalid.bad.json: models[0].alerts.retrain.always: unknown key",
         "alerts_invalid.bad.json: models[0].alerts.retrain.drifted_share: must be > 0 and <= 1",
         "alerts_invalid.bad.json: models[0].alerts.retrain.critical_features: must be >= 1",
         "alerts_invalid.bad.json: models[0].alerts.features.amount.retrain: unknown key",
         // An override inherits the model's thresholds, so it is reported there too.
         "alerts_invalid.bad.json: models[0].alerts.features.amount: warning threshold 0.5 is "
         "above critical 0.1",
         "alerts_invalid.bad.json: models[0].alerts.features.country: must be an object",
     }},
    {"many_problems.bad.json",
     {
         "many_problems.bad.json: alerts: unknown key",
         "many_problems.bad.json: ingest.backlog: unknown key",
         "many_problems.bad.json: ingest.tcp: invalid address \"localhost\": expected host:port",
         "many_problems.bad.json: ingest.udp: must be a string or null",
         "many_problems.bad.json: ingest.max_line_bytes: must be between 64 and 67108864",
         "many_problems.bad.json: http.listen: invalid address \"127.0.0.1:99999\": port must be "
         "between 0 and 65535",
         "many_problems.bad.json: window.length_seconds: must be > 0",
         "many_problems.bad.json: window.slices: must be an integer",
         "many_problems.bad.json: evaluation.smoothing: must be > 0",
         "many_problems.bad.json: evaluation.log_base: unknown value \"10\" (e or 2)",
         "many_problems.bad.json: models[1].name: duplicate model \"fraud\"",
         "many_problems.bad.json: models[1].reference: missing required key",
         "many_problems.bad.json: models[2].name: must be a string",
     }},
};

class ConfigBadTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ConfigBadTest, FailsWithTheExpectedMessages) {
  const std::string& name = GetParam();
  const std::vector<std::string>& expected = kBadFiles.at(name);
  std::vector<std::string> errors;
  EXPECT_FALSE(ParseConfig(ReadFile(kTestdata + "/" + name), name, "", &errors));
  EXPECT_EQ(JoinLines(errors), JoinLines(expected));

  // LoadConfigFile names the file by the path it was given.
  const std::string path = kTestdata + "/" + name;
  std::vector<std::string> want;
  for (const std::string& line : expected) want.push_back(path + line.substr(name.size()));
  errors.clear();
  EXPECT_FALSE(LoadConfigFile(path, &errors));
  EXPECT_EQ(JoinLines(errors), JoinLines(want));
}

std::vector<std::string> BadFileNames() {
  std::vector<std::string> names;
  for (const auto& [name, _] : kBadFiles) names.push_back(name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Testdata, ConfigBadTest, ::testing::ValuesIn(BadFileNames()),
                         [](const auto& info) {
                           std::string name = info.param.substr(0, info.param.find('.'));
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(ConfigBadFilesTest, TableAndTestdataMatch) {
  std::set<std::string> in_table;
  for (const auto& [name, _] : kBadFiles) in_table.insert(name);
  EXPECT_EQ(TestdataFiles(".bad.json"), in_table);
}

TEST(ConfigBadFilesTest, MissingFileNamesThePath) {
  std::vector<std::string> errors;
  EXPECT_FALSE(LoadConfigFile(kTestdata + "/no-such-file.json", &errors));
  EXPECT_EQ(JoinLines(errors), kTestdata + "/no-such-file.json: cannot open file\n");
}

TEST(ConfigBadFilesTest, DirectoryCannotBeOpened) {
  std::vector<std::string> errors;
  EXPECT_FALSE(LoadConfigFile(kTestdata, &errors));
  EXPECT_EQ(JoinLines(errors), kTestdata + ": cannot open file\n");
}

TEST(ConfigBadFilesTest, AppendsToExistingErrors) {
  std::vector<std::string> errors = {"earlier"};
  EXPECT_FALSE(ParseConfig(R"({"models": []})", "d.json", "", &errors));
  EXPECT_EQ(JoinLines(errors), "earlier\nd.json: models: must hold at least one model\n");
}

TEST(ConfigBadFilesTest, DuplicateKeysInsideArraysNameTheElement) {
  std::vector<std::string> errors;
  EXPECT_FALSE(ParseConfig(
      R"({"models": [{"name": "a", "reference": "a.json"},
                     {"name": "b", "reference": "b.json", "name": "c"}]})",
      "d.json", "", &errors));
  EXPECT_EQ(JoinLines(errors), "d.json: models[1].name: duplicate key\n");
}

// --- ParseHostPort ----------------------------------------------------------------------------

TEST(ParseHostPortTest, AcceptsHostsPortsAndBracketedIpv6) {
  struct Case {
    const char* text;
    HostPort want;
  };
  const Case cases[] = {
      {"127.0.0.1:7070", {"127.0.0.1", 7070}},
      {"localhost:0", {"localhost", 0}},
      {"0.0.0.0:65535", {"0.0.0.0", 65535}},
      {"metrics.example.com:9470", {"metrics.example.com", 9470}},
      {"[::1]:80", {"::1", 80}},
      {"[::]:0", {"::", 0}},
      {"[fe80::1%eth0]:7070", {"fe80::1%eth0", 7070}},
      {"host:007", {"host", 7}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    HostPort hp;
    std::string error;
    ASSERT_TRUE(ParseHostPort(c.text, &hp, &error)) << error;
    EXPECT_EQ(hp, c.want);
  }
}

TEST(ParseHostPortTest, RejectsWithAReason) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "expected host:port"},
      {"localhost", "expected host:port"},
      {":7070", "host must not be empty"},
      {"localhost:", "missing port"},
      {"localhost:http", "port must be a number"},
      {"localhost:-1", "port must be a number"},
      {"localhost:+80", "port must be a number"},
      {"localhost: 80", "port must be a number"},
      {"localhost:65536", "port must be between 0 and 65535"},
      {"localhost:99999999999999999999", "port must be between 0 and 65535"},
      {"::1:80", "an IPv6 host must be in brackets: [host]:port"},
      {"[::1]", "expected [host]:port"},
      {"[::1]80", "expected [host]:port"},
      {"[::1:80", "missing ']' after the IPv6 address"},
      {"[]:80", "host must not be empty"},
      {"local host:80", "invalid character in host"},
      {"a]:80", "invalid character in host"},
  };
  for (const auto& [text, reason] : cases) {
    SCOPED_TRACE(text);
    HostPort hp{"unchanged", 1};
    std::string error;
    EXPECT_FALSE(ParseHostPort(text, &hp, &error));
    EXPECT_EQ(error, reason);
    EXPECT_EQ(hp, (HostPort{"unchanged", 1}));
  }
  HostPort hp;
  EXPECT_FALSE(ParseHostPort("nope", &hp, nullptr));  // the reason is optional
}

TEST(ParseHostPortTest, FormatHostPortRoundTrips) {
  EXPECT_EQ(FormatHostPort({"127.0.0.1", 7070}), "127.0.0.1:7070");
  EXPECT_EQ(FormatHostPort({"::1", 80}), "[::1]:80");
  EXPECT_EQ(FormatHostPort({"localhost", 0}), "localhost:0");
  for (const char* text : {"127.0.0.1:7070", "[::1]:80", "[::]:0", "example.com:65535"}) {
    HostPort hp;
    ASSERT_TRUE(ParseHostPort(text, &hp, nullptr));
    EXPECT_EQ(FormatHostPort(hp), text);
  }
}

// --- LoadReferences ---------------------------------------------------------------------------

Config ParseWithTestdata(const std::string& text) {
  std::vector<std::string> errors;
  std::optional<Config> c = ParseConfig(text, "driftd.json", kTestdata, &errors);
  EXPECT_TRUE(c) << JoinLines(errors);
  return c.value_or(Config{});
}

TEST(LoadReferencesTest, LoadsEveryModelInModelOrder) {
  const Config c = LoadGood("full.good.json");
  std::vector<Reference> refs;
  std::vector<std::string> errors;
  ASSERT_TRUE(LoadReferences(c, &refs, &errors)) << JoinLines(errors);
  EXPECT_TRUE(errors.empty());
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(refs[0].model, "fraud");
  EXPECT_EQ(refs[1].model, "churn");
  EXPECT_NE(refs[0].FindFeature("amount"), -1);
  EXPECT_NE(refs[1].FindFeature("plan"), -1);
}

TEST(LoadReferencesTest, ReplacesTheOutputOnSuccess) {
  const Config c = LoadGood("minimal.good.json");
  std::vector<Reference> refs(3);
  std::vector<std::string> errors;
  ASSERT_TRUE(LoadReferences(c, &refs, &errors)) << JoinLines(errors);
  ASSERT_EQ(refs.size(), 1u);
  EXPECT_EQ(refs[0].model, "fraud");
}

TEST(LoadReferencesTest, MissingFileNamesThePathAsWritten) {
  const Config c = ParseWithTestdata(R"({"models": [
      {"name": "fraud", "reference": "references/fraud.json"},
      {"name": "churn", "reference": "churn.json"}]})");
  std::vector<Reference> refs;
  std::vector<std::string> errors;
  EXPECT_FALSE(LoadReferences(c, &refs, &errors));
  EXPECT_EQ(JoinLines(errors), "driftd.json: models[1].reference: no such file: churn.json\n");
  EXPECT_TRUE(refs.empty());
}

TEST(LoadReferencesTest, ReportsTheReferenceFilesOwnErrors) {
  const Config c = ParseWithTestdata(R"({"models": [
      {"name": "broken", "reference": "references/broken.json"}]})");
  std::vector<Reference> refs;
  std::vector<std::string> errors;
  EXPECT_FALSE(LoadReferences(c, &refs, &errors));
  EXPECT_EQ(JoinLines(errors), kTestdata +
                                   "/references/broken.json: features.amount.edges: must be "
                                   "strictly increasing\n");
}

TEST(LoadReferencesTest, ModelNameMustMatchTheFile) {
  const Config c = ParseWithTestdata(R"({"models": [
      {"name": "churn", "reference": "references/fraud.json"}]})");
  std::vector<Reference> refs;
  std::vector<std::string> errors;
  EXPECT_FALSE(LoadReferences(c, &refs, &errors));
  EXPECT_EQ(JoinLines(errors),
            "driftd.json: models[0].reference: file is for model \"fraud\", expected \"churn\"\n");
}

TEST(LoadReferencesTest, DirectoryIsNotAReference) {
  const Config c = ParseWithTestdata(R"({"models": [{"name": "x", "reference": "references"}]})");
  std::vector<Reference> refs;
  std::vector<std::string> errors;
  EXPECT_FALSE(LoadReferences(c, &refs, &errors));
  EXPECT_EQ(JoinLines(errors), "driftd.json: models[0].reference: is a directory: references\n");
}

TEST(LoadReferencesTest, ReportsEveryProblemAndLeavesTheOutputAlone) {
  const Config c = ParseWithTestdata(R"({"models": [
      {"name": "gone", "reference": "references/gone.json"},
      {"name": "fraud", "reference": "references/fraud.json"},
      {"name": "broken", "reference": "references/broken.json"},
      {"name": "churn", "reference": "references/fraud.json"}]})");
  std::vector<Reference> refs(1);
  refs[0].model = "previous";
  std::vector<std::string> errors;
  EXPECT_FALSE(LoadReferences(c, &refs, &errors));
  EXPECT_EQ(JoinLines(errors),
            "driftd.json: models[0].reference: no such file: references/gone.json\n" + kTestdata +
                "/references/broken.json: features.amount.edges: must be strictly increasing\n"
                "driftd.json: models[3].reference: file is for model \"fraud\", expected "
                "\"churn\"\n");
  ASSERT_EQ(refs.size(), 1u);
  EXPECT_EQ(refs[0].model, "previous");
}

TEST(LoadReferencesTest, HandBuiltConfigUsesTheResolvedPathInMessages) {
  Config c;
  c.source = "built";
  c.models.push_back({"m", "/nonexistent/m.json", "", {}});
  std::vector<Reference> refs;
  std::vector<std::string> errors;
  EXPECT_FALSE(LoadReferences(c, &refs, &errors));
  EXPECT_EQ(JoinLines(errors), "built: models[0].reference: no such file: /nonexistent/m.json\n");
}

// --- The shipped example ----------------------------------------------------------------------

TEST(ConfigExampleTest, ExampleConfigAndItsReferenceLoad) {
  std::vector<std::string> errors;
  std::optional<Config> c = LoadConfigFile(kExamples + "/driftd.json", &errors);
  ASSERT_TRUE(c) << JoinLines(errors);
  EXPECT_EQ(c->ingest.tcp, (HostPort{"127.0.0.1", 7070}));
  EXPECT_EQ(c->ingest.udp, (HostPort{"127.0.0.1", 7070}));
  EXPECT_FALSE(c->ingest.unix_path);
  EXPECT_EQ(c->http.listen, (HostPort{"127.0.0.1", 9470}));
  ASSERT_EQ(c->windows.size(), 2u);
  EXPECT_EQ(c->windows[0].name, "1m");
  EXPECT_EQ(c->windows[0].length_seconds, 60);
  EXPECT_EQ(c->windows[0].slices, 30u);
  EXPECT_EQ(c->windows[1].name, "10m");
  EXPECT_EQ(c->windows[1].length_seconds, 600);
  EXPECT_EQ(c->windows[1].slices, 60u);
  EXPECT_EQ(c->evaluation.interval_seconds, 5);
  EXPECT_EQ(c->evaluation.min_samples, 200u);
  ASSERT_EQ(c->models.size(), 1u);
  EXPECT_EQ(c->models[0].name, "fraud");
  EXPECT_EQ(c->models[0].reference_as_written, "references/fraud.json");

  std::vector<Reference> refs;
  ASSERT_TRUE(LoadReferences(*c, &refs, &errors)) << JoinLines(errors);
  ASSERT_EQ(refs.size(), 1u);
  const Reference& fraud = refs[0];
  EXPECT_EQ(fraud.model, "fraud");
  ASSERT_EQ(fraud.features.size(), 4u);
  for (const char* name : {"amount", "age", "country", "device"}) {
    SCOPED_TRACE(name);
    const int f = fraud.FindFeature(name);
    ASSERT_NE(f, -1);
    uint64_t total = 0;
    for (uint64_t count : fraud.features[f].counts) total += count;
    EXPECT_EQ(total, 100000u);
  }
  EXPECT_EQ(fraud.features[fraud.FindFeature("amount")].bins.kind(), FeatureKind::kNumeric);
  EXPECT_EQ(fraud.features[fraud.FindFeature("age")].bins.kind(), FeatureKind::kNumeric);
  EXPECT_EQ(fraud.features[fraud.FindFeature("country")].bins.kind(), FeatureKind::kCategorical);
  EXPECT_EQ(fraud.features[fraud.FindFeature("device")].bins.kind(), FeatureKind::kCategorical);
}

}  // namespace
}  // namespace driftd
