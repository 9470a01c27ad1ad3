// `driftd reference build`: training data in, reference file out.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>

#include "core/reference_builder.h"
#include "daemon/cmd/commands.h"
#include "daemon/cmd/flags.h"

namespace driftd {
namespace {

std::string UtcNow() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

int ReferenceBuildCommand(const std::vector<std::string>& args) {
  Flags flags("driftd reference build --input FILE --output FILE --model NAME [flags]",
              "Builds a reference distribution from training data: a CSV file with a header row,\n"
              "or NDJSON (one object of feature -> value per line, or {\"features\": {...}}).\n"
              "A number used as a category is stored in the canonical text the daemon derives\n"
              "from it on the wire: 10115.0, 1.0115e4 and +10115 are 10115, 1.50 is 1.5, -0 is 0,\n"
              "True and TRUE are true (docs/reference-format.md).");
  flags.Value("input", "", "training data file (CSV or NDJSON; - for standard input)", true);
  flags.Value("output", "", "reference file to write (- for standard output)", true);
  flags.Value("model", "", "model name recorded in the reference", true);
  flags.Value("reference-version", "",
              "version recorded in the reference (default: the creation time)");
  flags.UInt("bins", 20, "bins per numeric feature (quantile bins may merge to fewer)", 1, 100000);
  flags.Choice("strategy", "quantile", {"quantile", "uniform"},
               "numeric bin edges: quantile or uniform");
  flags.Value("features", "", "comma-separated columns to include (default: all)");
  flags.Value("categorical", "",
              "comma-separated columns to treat as categorical (numbers in canonical text: "
              "10115.0 -> 10115)");
  flags.UInt("max-categories", 1000,
             "categories kept per categorical feature (most frequent); the rest count as other", 1,
             UINT32_MAX);
  flags.Choice("format", "auto", {"auto", "csv", "ndjson"}, "input format: auto, csv or ndjson");
  std::string error;
  if (!flags.Parse(args, &error)) {
    return UsageError("reference build", error);
  }
  if (flags.help_requested()) {
    std::cout << flags.Help();
    return 0;
  }
  BuildOptions options;
  options.model = flags.Get("model");
  options.created_at = UtcNow();
  options.version =
      flags.IsSet("reference-version") ? flags.Get("reference-version") : options.created_at;
  options.features = SplitList(flags.Get("features"));
  options.categorical = SplitList(flags.Get("categorical"));
  // The ranges were checked by Parse.
  options.bins = static_cast<uint32_t>(flags.GetUInt("bins"));
  options.max_categories = static_cast<uint32_t>(flags.GetUInt("max-categories"));
  options.strategy =
      flags.Get("strategy") == "uniform" ? BinStrategy::kUniform : BinStrategy::kQuantile;
  InputFormat format = InputFormat::kAuto;
  if (flags.Get("format") == "csv") {
    format = InputFormat::kCsv;
  } else if (flags.Get("format") == "ndjson") {
    format = InputFormat::kNdjson;
  }

  const std::string& input = flags.Get("input");
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
  if (!ParseReference(text, flags.Get("output"), &problems)) {
    for (const auto& p : problems) std::cerr << "driftd reference build: " << p << "\n";
    return 1;
  }
  const std::string& output = flags.Get("output");
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
