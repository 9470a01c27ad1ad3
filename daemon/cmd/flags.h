// A small strict command-line parser: `--name value`, `--name=value` and boolean `--name`.
// Unknown flags, missing values and values of the wrong type or range are errors found at parse
// time, so a command never converts a value itself (and never throws on one); every flag carries
// its help text.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace driftd {

// Exit status of a command given a bad flag or value (EX_USAGE in sysexits.h).
inline constexpr int kExitUsage = 64;

class Flags {
 public:
  // `usage` is the first help line ("driftd reference build [flags]"); `about` follows it.
  Flags(std::string usage, std::string about);

  // Declares a flag taking any string, with its default ("" for none) and help.
  void Value(const std::string& name, std::string default_value, std::string help,
             bool required = false);
  // Declares a boolean flag.
  void Bool(const std::string& name, std::string help);
  // Declares a flag taking a decimal integer in [min, max] (digits only: no sign, no spaces).
  void UInt(const std::string& name, uint64_t default_value, std::string help, uint64_t min = 0,
            uint64_t max = std::numeric_limits<uint64_t>::max());
  // Declares a flag taking a finite number in [min, max].
  void Number(const std::string& name, double default_value, std::string help,
              double min = -std::numeric_limits<double>::max(),
              double max = std::numeric_limits<double>::max());
  // Declares a flag taking one of `choices`; `default_value` should be one of them.
  void Choice(const std::string& name, std::string default_value, std::vector<std::string> choices,
              std::string help);

  // Parses `args`. Returns false with *error set to one line naming the flag on an unknown flag,
  // a missing value, a value of the wrong type or out of range, a missing required flag or a
  // positional argument:
  //   --records: expected a non-negative integer, got "x"
  // `--help` sets help_requested() and returns true.
  bool Parse(const std::vector<std::string>& args, std::string* error);

  bool help_requested() const { return help_; }
  std::string Help() const;
  // The value as given (or the default). Each getter requires a flag declared with that type.
  const std::string& Get(const std::string& name) const;
  uint64_t GetUInt(const std::string& name) const;
  double GetNumber(const std::string& name) const;
  bool IsSet(const std::string& name) const;

 private:
  enum class Type { kString, kBool, kUInt, kNumber, kChoice };
  struct Spec {
    Type type = Type::kString;
    bool required = false;
    std::string value;
    std::string help;
    bool set = false;
    uint64_t uint_value = 0, uint_min = 0, uint_max = 0;
    double number_value = 0, number_min = 0, number_max = 0;
    std::vector<std::string> choices;
  };
  void Declare(const std::string& name, Spec spec);
  // Checks and converts `text` for `spec`; on failure returns false with *error saying what was
  // expected (without the flag name).
  static bool Convert(Spec* spec, const std::string& text, std::string* error);

  std::string usage_, about_;
  std::map<std::string, Spec> specs_;
  std::vector<std::string> order_;
  bool help_ = false;
};

// Prints "driftd COMMAND: MESSAGE (see --help)" on stderr, one line, and returns kExitUsage.
int UsageError(std::string_view command, std::string_view message);

// Splits "a,b,c" into its non-empty parts.
std::vector<std::string> SplitList(const std::string& s);

}  // namespace driftd
