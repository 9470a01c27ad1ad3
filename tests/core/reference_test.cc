#include "core/reference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "core/json_validation.h"
#include "core/sha256.h"

namespace driftd {
namespace {

constexpr char kGood[] = R"({
  "model": "fraud",
  "version": "2026-11-01",
  "created_at": "2026-11-01T10:00:00Z",
  "features": {
    "amount":  {"type": "numeric", "edges": [0, 10, 50, 200, 1000],
                "counts": [120, 340, 410, 130], "underflow": 0, "overflow": 12, "missing": 3},
    "country": {"type": "categorical", "categories": {"US": 610, "DE": 200, "FR": 190},
                "other": 0, "missing": 0}
  }
})";

TEST(ReferenceTest, ParsesTheDocumentedExample) {
  std::vector<std::string> errors;
  auto ref = ParseReference(kGood, "fraud.json", &errors);
  ASSERT_TRUE(ref) << (errors.empty() ? "" : errors[0]);
  EXPECT_EQ(ref->model, "fraud");
  EXPECT_EQ(ref->version, "2026-11-01");
  ASSERT_EQ(ref->features.size(), 2u);
  const ReferenceFeature& amount = ref->features[ref->FindFeature("amount")];
  EXPECT_EQ(amount.bins.kind(), FeatureKind::kNumeric);
  EXPECT_EQ(amount.counts, (std::vector<uint64_t>{120, 340, 410, 130, 0, 12, 3}));
  const ReferenceFeature& country = ref->features[ref->FindFeature("country")];
  EXPECT_EQ(country.bins.kind(), FeatureKind::kCategorical);
  EXPECT_EQ(country.counts[country.bins.CategoryBin("US")], 610u);
  EXPECT_EQ(country.counts[country.bins.CategoryBin("DE")], 200u);
  EXPECT_EQ(country.counts.size(), 5u);
  EXPECT_EQ(ref->FindFeature("nope"), -1);
}

TEST(ReferenceTest, RoundTripsThroughSerialize) {
  std::vector<std::string> errors;
  auto ref = ParseReference(kGood, "fraud.json", &errors);
  ASSERT_TRUE(ref);
  const std::string text = SerializeReference(*ref);
  auto again = ParseReference(text, "again.json", &errors);
  ASSERT_TRUE(again) << errors[0];
  EXPECT_EQ(again->model, ref->model);
  EXPECT_EQ(again->version, ref->version);
  EXPECT_EQ(again->created_at, ref->created_at);
  ASSERT_EQ(again->features.size(), ref->features.size());
  for (size_t i = 0; i < ref->features.size(); ++i) {
    EXPECT_EQ(again->features[i].name, ref->features[i].name);
    EXPECT_EQ(again->features[i].counts, ref->features[i].counts);
    EXPECT_TRUE(std::ranges::equal(again->features[i].bins.edges(), ref->features[i].bins.edges()));
    EXPECT_EQ(again->features[i].bins.categories(), ref->features[i].bins.categories());
  }
  EXPECT_EQ(SerializeReference(*again), text);
}

TEST(ReferenceTest, EdgesRoundTripBitForBit) {
  Reference ref{"m", "v", "", {}, {}};
  ref.features.push_back(
      {"x", FeatureBins::Numeric({0.1, 1.0 / 3, 2.718281828459045}), {1, 2, 0, 0, 0}});
  std::vector<std::string> errors;
  auto again = ParseReference(SerializeReference(ref), "x.json", &errors);
  ASSERT_TRUE(again);
  EXPECT_TRUE(std::ranges::equal(again->features[0].bins.edges(), ref.features[0].bins.edges()));
}

struct BadCase {
  const char* name;
  const char* json;
  const char* message;  // the whole expected error line
};

// Every validation error the file format has, with the message a user sees.
const BadCase kBad[] = {
    {"edges_not_increasing",
     R"({"model":"fraud","version":"1","features":{"amount":{"type":"numeric","edges":[0,10,10,20],"counts":[1,2,3]}}})",
     "fraud.json: features.amount.edges: must be strictly increasing"},
    {"edges_decreasing",
     R"({"model":"fraud","version":"1","features":{"amount":{"type":"numeric","edges":[5,1],"counts":[1]}}})",
     "fraud.json: features.amount.edges: must be strictly increasing"},
    {"edge_not_finite",
     R"({"model":"fraud","version":"1","features":{"amount":{"type":"numeric","edges":[0,1e999],"counts":[1]}}})",
     "fraud.json: invalid JSON: number overflow parsing '1e999'"},
    {"edge_not_number",
     R"({"model":"fraud","version":"1","features":{"amount":{"type":"numeric","edges":[0,"1"],"counts":[1]}}})",
     "fraud.json: features.amount.edges[1]: must be a finite number"},
    {"too_few_edges",
     R"({"model":"fraud","version":"1","features":{"amount":{"type":"numeric","edges":[0],"counts":[]}}})",
     "fraud.json: features.amount.edges: must hold at least 2 edges"},
    {"counts_length",
     R"({"model":"fraud","version":"1","features":{"amount":{"type":"numeric","edges":[0,1,2],"counts":[1,2,3]}}})",
     "fraud.json: features.amount.counts: must hold len(edges) - 1 = 2 counts, got 3"},
    {"negative_count",
     R"({"model":"fraud","version":"1","features":{"amount":{"type":"numeric","edges":[0,1,2],"counts":[1,-2]}}})",
     "fraud.json: features.amount.counts[1]: must be non-negative, got -2"},
    {"fractional_count",
     R"({"model":"fraud","version":"1","features":{"amount":{"type":"numeric","edges":[0,1,2],"counts":[1,2.5]}}})",
     "fraud.json: features.amount.counts[1]: must be an integer count, got 2.5"},
    {"string_count",
     R"({"model":"fraud","version":"1","features":{"amount":{"type":"numeric","edges":[0,1],"counts":["1"]}}})",
     "fraud.json: features.amount.counts[0]: must be a non-negative integer, got string"},
    {"negative_special_count",
     R"({"model":"fraud","version":"1","features":{"amount":{"type":"numeric","edges":[0,1],"counts":[1],"missing":-1}}})",
     "fraud.json: features.amount.missing: must be non-negative, got -1"},
    {"category_negative",
     R"({"model":"fraud","version":"1","features":{"country":{"type":"categorical","categories":{"US":-1}}}})",
     "fraud.json: features.country.categories.US: must be non-negative, got -1"},
    {"zero_total_numeric",
     R"({"model":"fraud","version":"1","features":{"amount":{"type":"numeric","edges":[0,1],"counts":[0]}}})",
     "fraud.json: features.amount: total count is zero: a reference needs at least one "
     "observation"},
    {"zero_total_categorical",
     R"({"model":"fraud","version":"1","features":{"c":{"type":"categorical","categories":{"a":0},"other":0}}})",
     "fraud.json: features.c: total count is zero: a reference needs at least one observation"},
    {"unknown_type",
     R"({"model":"fraud","version":"1","features":{"amount":{"type":"ordinal","edges":[0,1],"counts":[1]}}})",
     "fraud.json: features.amount.type: unknown type \"ordinal\" (numeric or categorical)"},
    {"missing_type",
     R"({"model":"fraud","version":"1","features":{"amount":{"edges":[0,1],"counts":[1]}}})",
     "fraud.json: features.amount.type: missing required key"},
    {"missing_edges",
     R"({"model":"fraud","version":"1","features":{"amount":{"type":"numeric","counts":[1]}}})",
     "fraud.json: features.amount.edges: missing required key"},
    {"missing_counts",
     R"({"model":"fraud","version":"1","features":{"amount":{"type":"numeric","edges":[0,1]}}})",
     "fraud.json: features.amount.counts: missing required key"},
    {"missing_categories",
     R"({"model":"fraud","version":"1","features":{"c":{"type":"categorical"}}})",
     "fraud.json: features.c.categories: missing required key"},
    {"missing_model",
     R"({"version":"1","features":{"amount":{"type":"numeric","edges":[0,1],"counts":[1]}}})",
     "fraud.json: model: missing required key"},
    {"missing_version",
     R"({"model":"fraud","features":{"amount":{"type":"numeric","edges":[0,1],"counts":[1]}}})",
     "fraud.json: version: missing required key"},
    {"missing_features", R"({"model":"fraud","version":"1"})",
     "fraud.json: features: missing required key"},
    {"unknown_top_key",
     R"({"model":"fraud","version":"1","owner":"me","features":{"amount":{"type":"numeric","edges":[0,1],"counts":[1]}}})",
     "fraud.json: owner: unknown key"},
    {"unknown_feature_key",
     R"({"model":"fraud","version":"1","features":{"amount":{"type":"numeric","edges":[0,1],"counts":[1],"bins":3}}})",
     "fraud.json: features.amount.bins: unknown key"},
    {"numeric_key_on_categorical",
     R"({"model":"fraud","version":"1","features":{"c":{"type":"categorical","categories":{"a":1},"edges":[0,1]}}})",
     "fraud.json: features.c.edges: unknown key"},
    {"not_an_object", R"([1,2,3])", "fraud.json: must be a JSON object"},
    {"model_not_string",
     R"({"model":7,"version":"1","features":{"amount":{"type":"numeric","edges":[0,1],"counts":[1]}}})",
     "fraud.json: model: must be a string"},
    {"duplicate_top_key",
     R"({"model":"fraud","version":"1","version":"2","features":{"amount":{"type":"numeric","edges":[0,1],"counts":[1]}}})",
     "fraud.json: version: duplicate key"},
    {"duplicate_feature",
     R"({"model":"fraud","version":"1","features":{"amount":{"type":"numeric","edges":[0,1],"counts":[1]},"amount":{"type":"numeric","edges":[0,1],"counts":[1]}}})",
     "fraud.json: features.amount: duplicate key"},
    {"duplicate_category",
     R"({"model":"fraud","version":"1","features":{"c":{"type":"categorical","categories":{"a":1,"b":2,"a":3}}}})",
     "fraud.json: features.c.categories.a: duplicate key"},
    {"duplicate_special_count",
     R"({"model":"fraud","version":"1","features":{"amount":{"type":"numeric","edges":[0,1],"counts":[1],"missing":1,"missing":2}}})",
     "fraud.json: features.amount.missing: duplicate key"},
    {"nested_type",
     R"({"model":"fraud","version":"1","features":{"amount":{"type":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}})",
     "fraud.json: invalid JSON: nested deeper than 64 levels at byte 121"},
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class ReferenceBadTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ReferenceBadTest, FailsWithAMessageNamingFileAndPath) {
  std::vector<std::string> errors;
  EXPECT_FALSE(ParseReference(GetParam().json, "fraud.json", &errors));
  ASSERT_EQ(errors.size(), 1u) << (errors.size() > 1 ? errors[1] : "");
  EXPECT_EQ(errors[0], GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(AllErrors, ReferenceBadTest, ::testing::ValuesIn(kBad),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ReferenceTest, ReportsEveryProblemNotJustTheFirst) {
  std::vector<std::string> errors;
  EXPECT_FALSE(ParseReference(
      R"({"model":"m","version":"1","extra":1,"features":{"a":{"type":"numeric","edges":[1,0],"counts":[-1]},"b":{"type":"x"}}})",
      "m.json", &errors));
  EXPECT_EQ(errors.size(), 4u);
}

TEST(ReferenceTest, InvalidJsonNamesTheFile) {
  std::vector<std::string> errors;
  EXPECT_FALSE(ParseReference("{\"model\": ", "broken.json", &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("broken.json: invalid JSON: ", 0), 0u) << errors[0];
}

// driftd_reference_info{sha256} names the bytes that were parsed: not a second read of the file,
// not a re-serialisation (two spellings of one histogram hash differently).
TEST(ReferenceTest, Sha256IsOfTheBytesParsed) {
  std::vector<std::string> errors;
  auto ref = ParseReference(kGood, "fraud.json", &errors);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->sha256, Sha256Hex(kGood));
  const std::string respaced = std::string(kGood) + "\n";
  auto again = ParseReference(respaced, "fraud.json", &errors);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->sha256, Sha256Hex(respaced));
  EXPECT_NE(again->sha256, ref->sha256);

  const std::string path = ::testing::TempDir() + "/sha256_reference.json";
  std::ofstream(path, std::ios::binary) << respaced;
  auto loaded = LoadReferenceFile(path, &errors);
  std::remove(path.c_str());
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->sha256, Sha256Hex(respaced));
}

// A reference over every limit of core/reference.h by one, each alone.
std::string NumericFeature(size_t edges) {
  std::string e = "[", c = "[";
  for (size_t i = 0; i < edges; ++i) {
    e += (i ? "," : "") + std::to_string(i);
    if (i + 1 < edges) c += i ? ",1" : "1";
  }
  return R"({"type":"numeric","edges":)" + e + "]," + R"("counts":)" + c + "]}";
}

std::string Doc(const std::string& features) {
  return R"({"model":"fraud","version":"1","features":{)" + features + "}}";
}

std::vector<std::string> Errors(const std::string& json) {
  std::vector<std::string> errors;
  EXPECT_FALSE(ParseReference(json, "fraud.json", &errors));
  return errors;
}

TEST(ReferenceLimitsTest, EdgesCategoriesAndNames) {
  // At the limit: accepted.
  std::vector<std::string> errors;
  EXPECT_TRUE(ParseReference(Doc(R"("x":)" + NumericFeature(10001)), "fraud.json", &errors))
      << testing::PrintToString(errors);
  EXPECT_EQ(
      Errors(Doc(R"("x":)" + NumericFeature(10002))),
      (std::vector<std::string>{"fraud.json: features.x.edges: 10002 edges, at most 10001",
                                "fraud.json: features.x.counts: 10001 counts, at most 10000"}));

  std::string categories;
  for (int i = 0; i < 10001; ++i) categories += (i ? ",\"c" : "\"c") + std::to_string(i) + "\":1";
  EXPECT_EQ(Errors(Doc(R"("c":{"type":"categorical","categories":{)" + categories + "}}")),
            (std::vector<std::string>{
                "fraud.json: features.c.categories: 10001 categories, at most 10000"}));

  const std::string long_category(1025, 'k');
  EXPECT_EQ(Errors(Doc(R"("c":{"type":"categorical","categories":{"a":1,")" + long_category +
                       R"(":1}})")),
            (std::vector<std::string>{
                "fraud.json: features.c.categories: category "
                "\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\"... is 1025 bytes, at most 1024"}));
  EXPECT_TRUE(ParseReference(
      Doc(R"("c":{"type":"categorical","categories":{")" + std::string(1024, 'k') + R"(":1}})"),
      "fraud.json", &errors));

  const std::string long_name(257, 'n');
  EXPECT_EQ(Errors(Doc("\"" + long_name + "\":" + NumericFeature(2))),
            (std::vector<std::string>{
                "fraud.json: features: feature name "
                "\"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn\"... is 257 bytes, at most 256"}));
  EXPECT_TRUE(ParseReference(Doc("\"" + std::string(256, 'n') + "\":" + NumericFeature(2)),
                             "fraud.json", &errors));
}

TEST(ReferenceLimitsTest, FeaturesAndBinsInAll) {
  // 100,001 one-bin features: too many.
  std::string features;
  for (int i = 0; i < 100001; ++i) {
    features += (i ? ",\"f" : "\"f") + std::to_string(i) + "\":" + NumericFeature(2);
  }
  EXPECT_EQ(Errors(Doc(features)),
            (std::vector<std::string>{"fraud.json: features: 100001 features, at most 100000"}));
  // 200 features of 10,000 interior bins (+3 specials each): 2,000,600 bins, over 2,000,000.
  const std::string big = NumericFeature(10001);
  features.clear();
  for (int i = 0; i < 200; ++i) features += (i ? ",\"f" : "\"f") + std::to_string(i) + "\":" + big;
  EXPECT_EQ(
      Errors(Doc(features)),
      (std::vector<std::string>{"fraud.json: features: 2000600 bins in all, at most 2000000"}));
}

TEST(ReferenceLimitsTest, DeepNestingIsRejectedWithoutRecursion) {
  // A megabyte of '[' as a feature's type: rejected before parsing (this crashed by recursion).
  const std::string deep(1 << 20, '[');
  const std::string json = R"({"model":"fraud","version":"1","features":{"a":{"type":)" + deep;
  EXPECT_EQ(
      Errors(json),
      (std::vector<std::string>{"fraud.json: invalid JSON: nested deeper than 64 levels at byte " +
                                std::to_string(json.find('[') + 61)}));
  // Brackets inside strings do not count; 64 levels do.
  const std::string in_string =
      Doc(R"("c":{"type":"categorical","categories":{")" + std::string(200, '[') + R"(\"":1}})");
  std::vector<std::string> errors;
  EXPECT_TRUE(ParseReference(in_string, "fraud.json", &errors)) << testing::PrintToString(errors);
  EXPECT_EQ(JsonTooDeepAt(std::string(64, '[') + std::string(64, ']'), 64), std::string::npos);
  EXPECT_EQ(JsonTooDeepAt(std::string(65, '['), 64), 64u);
  EXPECT_EQ(JsonTooDeepAt(R"(["\"[[["])", 1), std::string::npos);
}

TEST(ReferenceLimitsTest, FileSizeIsCheckedBeforeReading) {
  const std::string path = ::testing::TempDir() + "/huge_reference.json";
  {
    std::ofstream out(path, std::ios::binary);
    out.seekp(static_cast<std::streamoff>(kMaxReferenceFileBytes));  // sparse: 256 MiB + 1
    out.put(' ');
  }
  std::vector<std::string> errors;
  EXPECT_FALSE(LoadReferenceFile(path, &errors));
  std::remove(path.c_str());
  EXPECT_EQ(errors,
            (std::vector<std::string>{path + ": file is 268435457 bytes, at most 268435456"}));
}

TEST(ReferenceTest, MissingFileNamesThePath) {
  std::vector<std::string> errors;
  EXPECT_FALSE(LoadReferenceFile("/nonexistent/fraud.json", &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "/nonexistent/fraud.json: cannot open file");
}

}  // namespace
}  // namespace driftd
