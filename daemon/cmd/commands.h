// driftd's subcommands, one file each in daemon/cmd/. Each has its arguments as a struct, a
// Parse function (the command line through CLI11, checks across flags included; testable without
// running anything) and the command itself, which takes the arguments after its name and returns
// the exit status; errors are printed on stderr as one line each.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/cmd/cli.h"

namespace driftd {

// `driftd run` (run.cc).
struct RunArgs {
  std::string config;
  std::string log_level = "info";
  std::string log_format = "text";
  bool enable_lifecycle = false;
  std::string web_config;  // --web.config.file
};
ParseOutcome ParseRunArgs(const std::vector<std::string>& args, RunArgs* out);
int RunCommand(const std::vector<std::string>& args, const std::string& version,
               const std::string& revision);

// `driftd check-config` (check_config.cc).
struct CheckConfigArgs {
  std::string config;
  std::string web_config;  // --web.config.file, checked too when given
};
ParseOutcome ParseCheckConfigArgs(const std::vector<std::string>& args, CheckConfigArgs* out);
int CheckConfigCommand(const std::vector<std::string>& args);

// `driftd reference build` (reference_build.cc).
struct ReferenceBuildArgs {
  std::string input, output, model;
  std::string reference_version;  // empty: the creation time
  bool reference_version_set = false;
  uint64_t bins = 20;
  std::string strategy = "quantile";
  std::vector<std::string> features, categorical;
  uint64_t max_categories = 1000;
  std::string format = "auto";
};
ParseOutcome ParseReferenceBuildArgs(const std::vector<std::string>& args, ReferenceBuildArgs* out);
int ReferenceBuildCommand(const std::vector<std::string>& args);

// `driftd reference snapshot` (reference_snapshot.cc).
struct ReferenceSnapshotArgs {
  std::string url, model, output;
  std::string reference_version;  // empty: "snapshot-" and the time
  std::string window;             // empty: the longest window
};
ParseOutcome ParseReferenceSnapshotArgs(const std::vector<std::string>& args,
                                        ReferenceSnapshotArgs* out);
int ReferenceSnapshotCommand(const std::vector<std::string>& args);

// `driftd loadgen` (loadgen.cc).
struct LoadgenArgs {
  std::string target, reference, input;
  std::string format = "ndjson";
  uint64_t records = 1000000;
  double duration = 0;
  double rate = 0;
  double drift_after = -1;
  double drift = 1;
  std::string metrics_url, write;
  uint64_t seed = 1;
};
ParseOutcome ParseLoadgenArgs(const std::vector<std::string>& args, LoadgenArgs* out);
int LoadgenCommand(const std::vector<std::string>& args);

// `driftd version` (version.cc).
int VersionCommand(const std::vector<std::string>& args, const std::string& version,
                   const std::string& revision);

// Loads the configuration at `path` and every reference it names, printing every problem on
// stderr; true when all are valid (check_config.cc, shared with run).
struct Config;
struct Reference;
bool LoadConfigAndReferences(const std::string& path, Config* config,
                             std::vector<Reference>* references);

// `bytes` in binary units with one decimal: "512 B", "1.5 KiB", "73.2 MiB", "1.1 GiB".
std::string FormatBytes(size_t bytes);
// What check-config prints about memory (check_config.cc): one line per model, then
// "memory: windows 73.2 MiB, references 4.1 MiB, total 77.3 MiB (estimate)".
// `references` are the config's models' references, in model order.
std::string MemoryReport(const Config& config, const std::vector<Reference>& references);

}  // namespace driftd
