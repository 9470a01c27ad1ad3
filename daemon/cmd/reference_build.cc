// `driftd reference build`: training data in, reference file out.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/reference_builder.h"
#include "daemon/cmd/commands.h"

namespace driftd {
namespace {

// Splits "a,b,c" into its non-empty parts.
std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, ',')) {
    if (!cur.empty()) out.push_back(cur);
  }
  return out;
}

}  // namespace

ParseOutcome ParseReferenceBuildArgs(const std::vector<std::string>& args,
                                     ReferenceBuildArgs* out) {
  auto app = NewCommandLine(
      "reference build",
      "Builds a reference distribution from training data: a CSV file with a header row,\n"
      "or NDJSON (one object of feature -> value per line, or {\"features\": {...}}).\n"
      "A number used as a category is stored in the canonical text the daemon derives\n"
      "from it on the wire: 10115.0, 1.0115e4 and +10115 are 10115, 1.50 is 1.5, -0 is 0,\n"
      "True and TRUE are true (docs/reference-format.md).");
  CLI::App* a = app.get();
  AddText(a, "input", &out->input, "training data file (CSV or NDJSON; - for standard input)",
          "FILE")
      ->required();
  AddText(a, "output", &out->output, "reference file to write (- for standard output)", "FILE")
      ->required();
  AddText(a, "model", &out->model, "model name recorded in the reference", "NAME")->required();
  CLI::Option* version =
      AddText(a, "reference-version", &out->reference_version,
              "version recorded in the reference (default: the creation time)", "VERSION");
  AddUInt(a, "bins", &out->bins, "bins per numeric feature (quantile bins may merge to fewer)", 1,
          kMaxNumericEdges - 1);
  AddChoice(a, "strategy", &out->strategy, {"quantile", "uniform"}, "numeric bin edges");
  std::string features, categorical;
  AddText(a, "features", &features, "comma-separated columns to include (default: all)", "LIST");
  AddText(a, "categorical", &categorical,
          "comma-separated columns to treat as categorical (numbers in canonical text: "
          "10115.0 -> 10115)",
          "LIST");
  AddUInt(a, "max-categories", &out->max_categories,
          "categories kept per categorical feature (most frequent); the rest count as other", 1,
          kMaxCategories);
  AddChoice(a, "format", &out->format, {"auto", "csv", "ndjson"}, "input format");
  ParseOutcome outcome = ParseArgs(a, args);
  out->reference_version_set = version->count() > 0;
  out->features = SplitList(features);
  out->categorical = SplitList(categorical);
  return outcome;
}

int ReferenceBuildCommand(const std::vector<std::string>& args) {
  ReferenceBuildArgs build;
  if (auto status = ExitStatus(ParseReferenceBuildArgs(args, &build), "reference build")) {
    return *status;
  }
  BuildOptions options;
  options.model = build.model;
  options.created_at = Rfc3339(
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  options.version = build.reference_version_set ? build.reference_version : options.created_at;
  options.features = build.features;
  options.categorical = build.categorical;
  // The ranges were checked by the parse.
  options.bins = static_cast<uint32_t>(build.bins);
  options.max_categories = static_cast<uint32_t>(build.max_categories);
  options.strategy = build.strategy == "uniform" ? BinStrategy::kUniform : BinStrategy::kQuantile;
  InputFormat format = InputFormat::kAuto;
  if (build.format == "csv") {
    format = InputFormat::kCsv;
  } else if (build.format == "ndjson") {
    format = InputFormat::kNdjson;
  }

  std::string error;
  const std::string& input = build.input;
  std::ifstream file;
  if (input != "-") {
    file.open(input, std::ios::binary);
    if (!file) {
      std::cerr << "driftd reference build: " << input << ": cannot open file\n";
      return 1;
    }
  }
  std::istream& in = input == "-" ? std::cin : file;
  auto ref = BuildReference(in, input == "-" ? "<stdin>" : input, format, options, &error);
  if (!ref) {
    std::cerr << "driftd reference build: " << error << "\n";
    return 1;
  }
  const std::string text = SerializeReference(*ref);
  // Written through the loader once more, so driftd never writes a file it would refuse to read.
  std::vector<std::string> problems;
  if (!ParseReference(text, build.output, &problems)) {
    for (const auto& p : problems) std::cerr << "driftd reference build: " << p << "\n";
    return 1;
  }
  const std::string& output = build.output;
  if (output == "-") {
    std::cout << text;
  } else {
    const std::string tmp = output + ".tmp";
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out || std::rename(tmp.c_str(), output.c_str()) != 0) {
      std::cerr << "driftd reference build: " << output << ": cannot write file\n";
      std::remove(tmp.c_str());
      return 1;
    }
  }
  std::cerr << "wrote " << (output == "-" ? "<stdout>" : output) << ": model " << ref->model << ", "
            << ref->features.size() << " features\n";
  return 0;
}

}  // namespace driftd
