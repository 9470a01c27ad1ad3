// A small strict command-line parser: `--name value`, `--name=value` and boolean `--name`.
// Unknown flags and missing values are errors; every flag carries its help text.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace driftd {

class Flags {
 public:
  // `usage` is the first help line ("driftd reference build [flags]"); `about` follows it.
  Flags(std::string usage, std::string about);

  // Declares a flag taking a value, with its default ("" for none) and help.
  void Value(const std::string& name, std::string default_value, std::string help,
             bool required = false);
  // Declares a boolean flag.
  void Bool(const std::string& name, std::string help);

  // Parses `args`. Returns false with *error set on an unknown flag, a missing value, a missing
  // required flag or a positional argument. `--help` sets help_requested() and returns true.
  bool Parse(const std::vector<std::string>& args, std::string* error);

  bool help_requested() const { return help_; }
  std::string Help() const;
  const std::string& Get(const std::string& name) const;
  bool IsSet(const std::string& name) const;

 private:
  struct Spec {
    bool boolean = false;
    bool required = false;
    std::string value;
    std::string help;
    bool set = false;
  };
  std::string usage_, about_;
  std::map<std::string, Spec> specs_;
  std::vector<std::string> order_;
  bool help_ = false;
};

// Splits "a,b,c" into its non-empty parts.
std::vector<std::string> SplitList(const std::string& s);

}  // namespace driftd
