#include "daemon/export/text_format.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace driftd {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// The writer's text must be what prometheus-cpp's own serializer makes of the same samples: the
// exporter's page did not change when it stopped building ClientMetrics.
TEST(FamilyWriterTest, WritesWhatTextSerializerWritesForRandomSamples) {
  std::mt19937_64 rng(20261206);
  const std::vector<double> specials = {0.0,
                                        -0.0,
                                        1.0,
                                        0.1,
                                        1.0 / 3,
                                        1e15,
                                        1e16,
                                        1e21,
                                        4294967295.0,
                                        5e-324,
                                        std::numeric_limits<double>::max(),
                                        std::numeric_limits<double>::infinity(),
                                        -std::numeric_limits<double>::infinity(),
                                        std::numeric_limits<double>::quiet_NaN()};
  const std::string alphabet = "abz09_-.\\\"\n\t {}=,\xc3\xa9";
  auto text = [&] {
    std::string s(rng() % 12, ' ');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    return s;
  };
  auto value = [&]() -> double {
    switch (rng() % 4) {
      case 0:
        return specials[rng() % specials.size()];
      case 1:
        return std::bit_cast<double>(rng());  // any bit pattern, NaNs included
      case 2:
        return static_cast<double>(rng() % 100000);
      default:
        return std::uniform_real_distribution<double>(0, 3)(rng);
    }
  };
  const char* const names[] = {"feature", "model", "window", "bin"};
  for (int round = 0; round < 200; ++round) {
    const bool counter = round % 5 == 0;
    MetricFamily family{"driftd_x",
                        "Help, with \"quotes\" and a \\.",
                        counter ? MetricType::Counter : MetricType::Gauge,
                        {}};
    std::string written;
    FamilyWriter writer(&written, family.name, family.help, counter ? "counter" : "gauge");
    const int n = static_cast<int>(rng() % 50);
    for (int i = 0; i < n; ++i) {
      std::vector<std::string> values(rng() % 5);
      for (std::string& v : values) v = text();
      ClientMetric m;
      for (size_t l = 0; l < values.size(); ++l) m.label.push_back({names[l], values[l]});
      const double v = value();
      (counter ? m.counter.value : m.gauge.value) = v;
      family.metric.push_back(m);
      switch (values.size()) {
        case 0:
          writer.Sample({}, v);
          break;
        case 1:
          writer.Sample({{names[0], values[0]}}, v);
          break;
        case 2:
          writer.Sample({{names[0], values[0]}, {names[1], values[1]}}, v);
          break;
        case 3:
          writer.Sample({{names[0], values[0]}, {names[1], values[1]}, {names[2], values[2]}}, v);
          break;
        default:
          writer.Sample({{names[0], values[0]},
                         {names[1], values[1]},
                         {names[2], values[2]},
                         {names[3], values[3]}},
                        v);
      }
    }
    // prometheus-cpp writes the head of an empty family; the writer writes nothing for it.
    const std::string expected = n == 0 ? "" : prometheus::TextSerializer().Serialize({family});
    ASSERT_EQ(written, expected) << "round " << round;
    EXPECT_EQ(writer.samples(), static_cast<size_t>(n));
  }
}

TEST(FamilyWriterTest, EscapesLabelValuesAndSpellsSpecialValues) {
  std::string out;
  FamilyWriter w(&out, "m", "Some help.");
  w.Sample({{"a", "x\\y\"z\nw"}}, std::numeric_limits<double>::quiet_NaN());
  w.Sample({}, -std::numeric_limits<double>::infinity());
  w.Sample({{"a", ""}, {"b", "c"}}, 0.25);
  EXPECT_EQ(out,
            "# HELP m Some help.\n"
            "# TYPE m gauge\n"
            "m{a=\"x\\\\y\\\"z\\nw\"} Nan\n"
            "m -Inf\n"
            "m{a=\"\",b=\"c\"} 0.25\n");
}

}  // namespace
}  // namespace driftd
