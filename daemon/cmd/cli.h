// What every subcommand's command line shares, on CLI11: typed flags whose bad values are caught
// at parse time with one line naming the flag, what it takes and what it got, and ParseArgs,
// which turns CLI11's exceptions into driftd's usage contract (README "Exit status").
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace driftd {

// Exit status of a command given a bad flag or value (EX_USAGE in sysexits.h).
inline constexpr int kExitUsage = 64;

// A flag taking a decimal integer in [min, max]: digits only, no sign, no spaces. A bad value is
// reported as `--bins: expected an integer from 1 to 100000, got "x"`.
CLI::Option* AddUInt(CLI::App* app, const std::string& name, uint64_t* value,
                     const std::string& help, uint64_t min = 0,
                     uint64_t max = std::numeric_limits<uint64_t>::max());
// A flag taking a finite number in [min, max] (`--rate: expected a number >= 0, got "fast"`).
CLI::Option* AddNumber(CLI::App* app, const std::string& name, double* value,
                       const std::string& help, double min = -std::numeric_limits<double>::max(),
                       double max = std::numeric_limits<double>::max());
// A flag taking one of `choices` (`--format: expected ndjson or influx, got "csv"`); *value
// holds the default, which should be one of them.
CLI::Option* AddChoice(CLI::App* app, const std::string& name, std::string* value,
                       const std::vector<std::string>& choices, const std::string& help);
// A flag taking any text, e.g. a file name; `placeholder` names the value in the help.
CLI::Option* AddText(CLI::App* app, const std::string& name, std::string* value,
                     const std::string& help, const std::string& placeholder = "TEXT");

// A new CLI::App for `driftd COMMAND` (`command` as "reference build") with driftd's help layout.
std::unique_ptr<CLI::App> NewCommandLine(const std::string& command, const std::string& about);

// What a command line came to.
struct ParseOutcome {
  enum class Kind { kRun, kHelp, kUsageError };
  Kind kind = Kind::kRun;
  // kHelp: the help text. kUsageError: the message without the command ("--records: expected a
  // non-negative integer, got \"x\"", "unknown flag --nope", "missing required flag --config",
  // "--config: missing value", "unexpected argument \"x\"").
  std::string text;
};

// Parses `args` (the arguments after the command's name) into the flags declared on `app`. An
// unknown flag, a missing or bad value, a missing required flag or a positional argument is a
// kUsageError; `--help` or `-h` is kHelp. Never throws a CLI11 error.
ParseOutcome ParseArgs(CLI::App* app, const std::vector<std::string>& args);

// The usage error `message` of a checked command line, for checks across flags.
ParseOutcome UsageErrorOutcome(std::string message);

// Ends a command after parsing when it should not go on: prints the help on stdout and returns
// 0, or prints "driftd COMMAND: MESSAGE (see --help)" as one line on stderr and returns
// kExitUsage; returns nullopt for kRun.
std::optional<int> ExitStatus(const ParseOutcome& outcome, std::string_view command);

}  // namespace driftd
