// Hand-worked cases; the comparison with numpy on random data is check_reference_build.py.
#include "core/reference_builder.h"

#include <gtest/gtest.h>

#include <sstream>
#include <vector>

namespace driftd {
namespace {

std::vector<double> Edges(const FeatureBins& bins) {
  return {bins.edges().begin(), bins.edges().end()};
}

std::optional<Reference> Build(const std::string& text, BuildOptions o, std::string* error,
                               InputFormat format = InputFormat::kAuto) {
  if (o.model.empty()) o.model = "m";
  std::istringstream in(text);
  return BuildReference(in, "train.csv", format, o, error);
}

const ReferenceFeature& Feature(const Reference& r, const std::string& name) {
  const int i = r.FindFeature(name);
  EXPECT_GE(i, 0) << name;
  return r.features.at(i);
}

TEST(ComputeEdgesTest, QuantilesByHand) {
  // numpy.quantile([1..5], [0, .25, .5, .75, 1]) = 1, 2, 3, 4, 5.
  EXPECT_EQ(ComputeEdges({1, 2, 3, 4, 5}, 4, BinStrategy::kQuantile),
            (std::vector<double>{1, 2, 3, 4, 5}));
  // Four values, two bins: the median interpolates, (n-1) * 0.5 = 1.5 -> 2 + 0.5 * (3 - 2).
  EXPECT_EQ(ComputeEdges({1, 2, 3, 10}, 2, BinStrategy::kQuantile),
            (std::vector<double>{1, 2.5, 10}));
  // Few distinct values give fewer bins (unique quantiles).
  EXPECT_EQ(ComputeEdges({0, 0, 0, 0, 0, 0, 1, 1}, 4, BinStrategy::kQuantile),
            (std::vector<double>{0, 0.25, 1}));
  // A constant feature gets one bin around the value.
  EXPECT_EQ(ComputeEdges({3, 3, 3}, 20, BinStrategy::kQuantile), (std::vector<double>{2.5, 3.5}));
}

TEST(ComputeEdgesTest, UniformByHand) {
  EXPECT_EQ(ComputeEdges({0, 1, 7, 10}, 5, BinStrategy::kUniform),
            (std::vector<double>{0, 2, 4, 6, 8, 10}));
}

TEST(ReferenceBuilderTest, CsvWithNumericCategoricalAndMissing) {
  std::string error;
  BuildOptions o;
  o.bins = 2;
  auto ref = Build(
      "amount,country,age\n"
      "1,US,30\n"
      "2,\"D,E\",\n"
      "3,US,40\n"
      "4,,NaN\n"
      "inf,FR,50\n",
      o, &error);
  ASSERT_TRUE(ref) << error;
  ASSERT_EQ(ref->features.size(), 3u);

  const ReferenceFeature& amount = Feature(*ref, "amount");
  ASSERT_EQ(amount.bins.kind(), FeatureKind::kNumeric);
  // Finite values 1..4: quantiles 1, 2.5, 4. inf is overflow.
  EXPECT_EQ(Edges(amount.bins), (std::vector<double>{1, 2.5, 4}));
  EXPECT_EQ(amount.counts, (std::vector<uint64_t>{2, 2, 0, 1, 0}));

  const ReferenceFeature& country = Feature(*ref, "country");
  ASSERT_EQ(country.bins.kind(), FeatureKind::kCategorical);
  EXPECT_EQ(country.bins.categories(), (std::vector<std::string>{"D,E", "FR", "US"}));
  EXPECT_EQ(country.counts, (std::vector<uint64_t>{1, 1, 2, 0, 1}));

  const ReferenceFeature& age = Feature(*ref, "age");
  ASSERT_EQ(age.bins.kind(), FeatureKind::kNumeric);
  EXPECT_EQ(age.counts[age.bins.missing_bin()], 2u);  // empty cell and NaN
}

TEST(ReferenceBuilderTest, NdjsonBothShapes) {
  std::string error;
  BuildOptions o;
  o.bins = 1;
  auto ref = Build(
      "{\"x\": 1, \"c\": \"a\"}\n"
      "{\"features\": {\"x\": 2, \"c\": null}}\n"
      "\n"
      "{\"x\": null, \"c\": true}\n"
      "{\"c\": \"a\"}\n",
      o, &error);
  ASSERT_TRUE(ref) << error;
  const ReferenceFeature& x = Feature(*ref, "x");
  EXPECT_EQ(Edges(x.bins), (std::vector<double>{1, 2}));
  EXPECT_EQ(x.counts, (std::vector<uint64_t>{2, 0, 0, 2}));  // null and absent are missing
  const ReferenceFeature& c = Feature(*ref, "c");
  EXPECT_EQ(c.bins.categories(), (std::vector<std::string>{"a", "true"}));
  EXPECT_EQ(c.counts, (std::vector<uint64_t>{2, 1, 0, 1}));
}

TEST(ReferenceBuilderTest, FeatureSelectionAndForcedCategorical) {
  std::string error;
  BuildOptions o;
  o.features = {"zip"};
  o.categorical = {"zip"};
  auto ref = Build("zip,x\n10115,1\n10115,2\n80331,3\n", o, &error);
  ASSERT_TRUE(ref) << error;
  ASSERT_EQ(ref->features.size(), 1u);
  EXPECT_EQ(ref->features[0].bins.categories(), (std::vector<std::string>{"10115", "80331"}));
}

// Every spelling of a number or boolean is one category, in the canonical text the daemon derives
// from the same value on the wire (core/category.h); other text stays as written.
TEST(ReferenceBuilderTest, CategoriesAreCanonicalInCsvAndNdjson) {
  BuildOptions o;
  o.categorical = {"zip", "rate"};
  std::string error;
  auto csv = Build(
      "zip,rate,flag\n"
      "10115.0,1.50,True\n"
      "10115,1.5,true\n"
      "1.0115e4,0.10,FALSE\n"
      "+10115,-0,t\n"
      "0x10,-0.0,\n"
      "nan, 2 ,TRUE\n",
      o, &error);
  ASSERT_TRUE(csv) << error;
  EXPECT_EQ(Feature(*csv, "zip").bins.categories(), (std::vector<std::string>{"0x10", "10115"}));
  EXPECT_EQ(Feature(*csv, "zip").counts, (std::vector<uint64_t>{1, 4, 0, 1}));
  EXPECT_EQ(Feature(*csv, "rate").bins.categories(),
            (std::vector<std::string>{"0", "0.1", "1.5", "2"}));
  EXPECT_EQ(Feature(*csv, "rate").counts, (std::vector<uint64_t>{2, 1, 2, 1, 0, 0}));
  EXPECT_EQ(Feature(*csv, "flag").bins.categories(),
            (std::vector<std::string>{"false", "t", "true"}));
  EXPECT_EQ(Feature(*csv, "flag").counts, (std::vector<uint64_t>{1, 1, 3, 0, 1}));

  auto ndjson = Build(
      "{\"zip\": 10115.0, \"rate\": 1.50, \"flag\": true}\n"
      "{\"zip\": 10115, \"rate\": 15e-1, \"flag\": false}\n"
      "{\"zip\": \"10115.0\", \"rate\": -0.0, \"flag\": \"True\"}\n",
      o, &error);
  ASSERT_TRUE(ndjson) << error;
  // A JSON string is a category as written.
  EXPECT_EQ(Feature(*ndjson, "zip").bins.categories(),
            (std::vector<std::string>{"10115", "10115.0"}));
  EXPECT_EQ(Feature(*ndjson, "zip").counts, (std::vector<uint64_t>{2, 1, 0, 0}));
  EXPECT_EQ(Feature(*ndjson, "rate").bins.categories(), (std::vector<std::string>{"0", "1.5"}));
  EXPECT_EQ(Feature(*ndjson, "rate").counts, (std::vector<uint64_t>{1, 2, 0, 0}));
  EXPECT_EQ(Feature(*ndjson, "flag").bins.categories(),
            (std::vector<std::string>{"True", "false", "true"}));
}

TEST(ReferenceBuilderTest, MaxCategoriesKeepsTheMostFrequent) {
  std::string error;
  BuildOptions o;
  o.max_categories = 2;
  auto ref = Build("c\na\nb\nb\nc\nc\nc\nd\n", o, &error);
  ASSERT_TRUE(ref) << error;
  EXPECT_EQ(ref->features[0].bins.categories(), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(ref->features[0].counts, (std::vector<uint64_t>{2, 3, 2, 0}));
}

TEST(ReferenceBuilderTest, ErrorsNameTheLine) {
  std::string error;
  EXPECT_FALSE(Build("a,b\n1,2\n3\n", {}, &error));
  EXPECT_EQ(error, "train.csv:3: expected 2 fields, got 1");
  EXPECT_FALSE(Build("a,b\n1,\"2\n", {}, &error));
  EXPECT_EQ(error, "train.csv:2: unterminated quoted field");
  EXPECT_FALSE(Build("{\"a\": 1}\n{\"a\": [1]}\n", {}, &error));
  EXPECT_EQ(error, "train.csv:2: a: expected a number, string, boolean or null");
  EXPECT_FALSE(Build("{\"a\": 1}\n{\"a\": \n", {}, &error));
  EXPECT_EQ(error.rfind("train.csv:2: invalid JSON", 0), 0u) << error;
  EXPECT_FALSE(Build("a,a\n1,2\n", {}, &error));
  EXPECT_EQ(error, "train.csv:1: header has an empty or repeated column name \"a\"");
  EXPECT_FALSE(Build("", {}, &error));
  EXPECT_EQ(error, "train.csv: empty input: expected a header row");
  EXPECT_FALSE(Build("a,b\n,1\n", {}, &error));
  EXPECT_EQ(error,
            "train.csv: column \"a\" has no finite numeric value to bin (force it with "
            "--categorical, or leave it out with --features)");
  BuildOptions o;
  o.features = {"zz"};
  EXPECT_FALSE(Build("a\n1\n", o, &error));
  EXPECT_EQ(error, "train.csv: no column named \"zz\"");
}

TEST(ReferenceBuilderTest, CsvOutputLoadsBackWithItsEdgesAndCounts) {
  std::string error;
  BuildOptions o;
  o.version = "v1";
  o.bins = 2;
  auto built = Build("a,b\n1,x\n2,y\n3,y\n7,\n-inf,y\n,x\n", o, &error);
  ASSERT_TRUE(built) << error;
  std::vector<std::string> errors;
  auto ref = ParseReference(SerializeReference(*built), "out.json", &errors);
  ASSERT_TRUE(ref) << testing::PrintToString(errors);
  EXPECT_EQ(ref->model, "m");
  EXPECT_EQ(ref->version, "v1");
  ASSERT_EQ(ref->features.size(), 2u);

  const ReferenceFeature& a = Feature(*ref, "a");
  ASSERT_EQ(a.bins.kind(), FeatureKind::kNumeric);
  // Finite values 1, 2, 3, 7: the median interpolates at (n-1) * 0.5 = 1.5 -> 2 + 0.5 * (3 - 2).
  EXPECT_EQ(Edges(a.bins), (std::vector<double>{1, 2.5, 7}));
  // [1, 2.5): 1, 2; [2.5, 7]: 3, 7; underflow: -inf; overflow: none; missing: the empty cell.
  EXPECT_EQ(a.counts, (std::vector<uint64_t>{2, 2, 1, 0, 1}));

  const ReferenceFeature& b = Feature(*ref, "b");
  ASSERT_EQ(b.bins.kind(), FeatureKind::kCategorical);
  EXPECT_EQ(b.bins.categories(), (std::vector<std::string>{"x", "y"}));
  // x, y, other, missing (the empty cell).
  EXPECT_EQ(b.counts, (std::vector<uint64_t>{2, 3, 0, 1}));
}

}  // namespace
}  // namespace driftd
