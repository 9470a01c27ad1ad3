#include "core/feature_metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/alert_policy.h"
#include "core/monitor.h"

namespace driftd {
namespace {

// Non-empty, and only [a-z0-9_]. (Hand-written: GCC 12 warns inside <regex> in the ASan build.)
bool IsSnakeCase(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// The `backquoted` words of `s`, in order.
std::vector<std::string> BackquotedWords(std::string_view s) {
  std::vector<std::string> out;
  for (size_t open = s.find('`'); open != std::string_view::npos; open = s.find('`', open)) {
    const size_t close = s.find('`', open + 1);
    if (close == std::string_view::npos) break;
    out.emplace_back(s.substr(open + 1, close - open - 1));
    open = close + 1;
  }
  return out;
}

TEST(FeatureMetricsTest, NamesAreUniqueAndWellFormed) {
  std::set<std::string_view> names, keys, alerts;
  constexpr std::string_view kPrefix = "driftd_feature_";
  for (const FeatureMetric& m : FeatureMetrics()) {
    EXPECT_TRUE(
        m.prometheus_name.substr(0, kPrefix.size()) == kPrefix &&
        IsSnakeCase(m.prometheus_name.substr(std::min(kPrefix.size(), m.prometheus_name.size()))))
        << m.prometheus_name;
    EXPECT_TRUE(IsSnakeCase(m.json_key)) << m.json_key;
    EXPECT_FALSE(m.help.empty()) << m.prometheus_name;
    EXPECT_NE(m.value, nullptr) << m.prometheus_name;
    EXPECT_TRUE(names.insert(m.prometheus_name).second) << m.prometheus_name;
    EXPECT_TRUE(keys.insert(m.json_key).second) << m.json_key;
    if (m.alertable()) {
      EXPECT_TRUE(alerts.insert(m.alert_name).second) << m.alert_name;
      EXPECT_GT(m.default_warning, 0) << m.alert_name;
      EXPECT_LE(m.default_warning, m.default_critical) << m.alert_name;
    } else {
      EXPECT_EQ(m.default_warning, 0) << m.prometheus_name;
      EXPECT_EQ(m.default_critical, 0) << m.prometheus_name;
    }
  }
}

// Each accessor reads its own field: every field gets a distinct value.
TEST(FeatureMetricsTest, AccessorsReadTheirField) {
  FeatureEvaluation f;
  f.kl = 1;
  f.entropy = 2;
  f.cross_entropy = 3;
  f.divergences.psi = 4;
  f.divergences.js = 5;
  f.divergences.hellinger = 6;
  f.divergences.tvd = 7;
  f.divergences.linf = 8;
  f.divergences.kl_window_to_reference = 100;  // the configured direction is f.kl, not these
  f.divergences.kl_reference_to_window = 101;
  f.divergences.entropy = 102;
  f.divergences.cross_entropy = 103;
  const std::map<FeatureMetricId, double> want = {
      {FeatureMetricId::kKl, 1},           {FeatureMetricId::kEntropy, 2},
      {FeatureMetricId::kCrossEntropy, 3}, {FeatureMetricId::kPsi, 4},
      {FeatureMetricId::kJs, 5},           {FeatureMetricId::kHellinger, 6},
      {FeatureMetricId::kTvd, 7},          {FeatureMetricId::kLinf, 8},
  };
  ASSERT_EQ(want.size(), kFeatureMetricCount);
  for (const FeatureMetric& m : FeatureMetrics()) {
    EXPECT_EQ(m.value(f), want.at(m.id)) << m.prometheus_name;
  }
}

TEST(FeatureMetricsTest, AlertPolicyComesFromTheTable) {
  for (const FeatureMetric& m : FeatureMetrics()) {
    EXPECT_EQ(&Describe(m.id), &m);
    EXPECT_EQ(std::string_view(DriftMetricName(m.id)), m.alert_name);
    double warning = -1, critical = -1;
    AlertPolicy::DefaultThresholds(m.id, &warning, &critical);
    EXPECT_EQ(warning, m.default_warning) << m.prometheus_name;
    EXPECT_EQ(critical, m.default_critical) << m.prometheus_name;
  }
  const AlertPolicy defaults;
  EXPECT_EQ(defaults.metric, DriftMetric::kKl);
  EXPECT_EQ(defaults.warning, 0.01);
  EXPECT_EQ(defaults.critical, 0.025);
}

// --- The documentation agrees with the table. ---

std::string ReadDoc(const std::string& name) {
  std::ifstream in(std::string(DRIFTD_DOCS_DIR) + "/" + name);
  EXPECT_TRUE(in) << "cannot read docs/" << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The cells of the rows of the first Markdown table after the line `heading` (header and
// separator rows skipped), backticks removed. Fails the test when the heading is missing.
std::vector<std::vector<std::string>> TableAfter(const std::string& doc,
                                                 const std::string& heading) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(doc);
  std::string line;
  bool found = false, in_table = false;
  int row = 0;
  while (std::getline(in, line)) {
    if (!found) {
      found = line == heading;
      continue;
    }
    if (line.rfind("|", 0) != 0) {
      if (in_table) break;
      if (line.rfind("#", 0) == 0) break;  // the next section: no table under the heading
      continue;
    }
    in_table = true;
    if (row++ < 2) continue;
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream cs(line.substr(1));
    while (std::getline(cs, cell, '|')) {
      std::string clean;
      for (char c : cell) {
        if (c != '`') clean += c;
      }
      const size_t b = clean.find_first_not_of(' '), e = clean.find_last_not_of(' ');
      cells.push_back(b == std::string::npos ? "" : clean.substr(b, e - b + 1));
    }
    rows.push_back(std::move(cells));
  }
  EXPECT_TRUE(found) << "no heading " << heading;
  return rows;
}

TEST(FeatureMetricsDocTest, MetricsMdDivergenceTableMatchesTheDescriptors) {
  const auto rows = TableAfter(ReadDoc("metrics.md"), "### Divergences");
  ASSERT_EQ(rows.size(), kFeatureMetricCount) << "rows in docs/metrics.md's divergence table";
  for (size_t i = 0; i < rows.size(); ++i) {
    const FeatureMetric& m = FeatureMetrics()[i];
    ASSERT_GE(rows[i].size(), 5u) << "row " << i;
    EXPECT_EQ(rows[i][0], m.prometheus_name) << "row " << i;
    EXPECT_EQ(rows[i][1], "gauge") << m.prometheus_name;
    EXPECT_EQ(rows[i][2], m.json_key) << m.prometheus_name;
    EXPECT_EQ(rows[i][3], m.alertable() ? std::string(m.alert_name) : "—") << m.prometheus_name;
  }
}

TEST(FeatureMetricsDocTest, AlertingMdThresholdsMatchTheDescriptors) {
  const std::string doc = ReadDoc("alerting.md");
  std::vector<const FeatureMetric*> alertable;
  for (const FeatureMetric& m : FeatureMetrics()) {
    if (m.alertable()) alertable.push_back(&m);
  }
  const auto rows = TableAfter(doc, "### Default thresholds, and why");
  ASSERT_EQ(rows.size(), alertable.size()) << "rows in docs/alerting.md's default thresholds";
  for (size_t i = 0; i < rows.size(); ++i) {
    const FeatureMetric& m = *alertable[i];
    ASSERT_GE(rows[i].size(), 3u) << "row " << i;
    // "kl (nats)": the name is the first word.
    EXPECT_EQ(rows[i][0].substr(0, rows[i][0].find(' ')), m.alert_name) << "row " << i;
    EXPECT_EQ(std::stod(rows[i][1]), m.default_warning) << m.alert_name;
    EXPECT_EQ(std::stod(rows[i][2]), m.default_critical) << m.alert_name;
  }
  // The policy table's `metric` row lists the accepted values.
  // "| `metric` | `kl` | ...: `kl`, `psi`, ... (...)": the values after the colon, before "(".
  const std::string row_start = "\n| `metric` | `kl` | ";
  const size_t row = doc.find(row_start);
  ASSERT_NE(row, std::string::npos) << "no `metric` row in docs/alerting.md";
  const size_t end = doc.find('\n', row + 1);
  const std::string_view line =
      std::string_view(doc).substr(row + row_start.size(), end - row - row_start.size());
  const size_t colon = line.find(':');
  ASSERT_NE(colon, std::string_view::npos) << line;
  const std::string_view listed = line.substr(colon + 1, line.find('(', colon) - colon - 1);
  const std::vector<std::string> names = BackquotedWords(listed);
  std::vector<std::string> want;
  for (const FeatureMetric* m : alertable) want.emplace_back(m->alert_name);
  EXPECT_EQ(names, want) << "the `metric` values listed in docs/alerting.md";
}

}  // namespace
}  // namespace driftd
