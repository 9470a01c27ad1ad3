#include "daemon/cmd/flags.h"

#include <charconv>
#include <cmath>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace driftd {
namespace {

// Shortest text that reads back as `x` ("0.5", "100000").
std::string NumberText(double x) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

Flags::Flags(std::string usage, std::string about)
    : usage_(std::move(usage)), about_(std::move(about)) {}

void Flags::Declare(const std::string& name, Spec spec) {
  if (!specs_.emplace(name, std::move(spec)).second) {
    throw std::logic_error("flag --" + name + " declared twice");
  }
  order_.push_back(name);
  std::string error;
  Spec& declared = specs_.at(name);
  if (!declared.required && !Convert(&declared, declared.value, &error)) {
    throw std::logic_error("flag --" + name + ": bad default: " + error);
  }
}

void Flags::Value(const std::string& name, std::string default_value, std::string help,
                  bool required) {
  Spec spec;
  spec.required = required;
  spec.value = std::move(default_value);
  spec.help = std::move(help);
  Declare(name, std::move(spec));
}

void Flags::Bool(const std::string& name, std::string help) {
  Spec spec;
  spec.type = Type::kBool;
  spec.value = "false";
  spec.help = std::move(help);
  Declare(name, std::move(spec));
}

void Flags::UInt(const std::string& name, uint64_t default_value, std::string help, uint64_t min,
                 uint64_t max) {
  Spec spec;
  spec.type = Type::kUInt;
  spec.value = std::to_string(default_value);
  spec.help = std::move(help);
  spec.uint_min = min;
  spec.uint_max = max;
  Declare(name, std::move(spec));
}

void Flags::Number(const std::string& name, double default_value, std::string help, double min,
                   double max) {
  Spec spec;
  spec.type = Type::kNumber;
  spec.value = NumberText(default_value);
  spec.help = std::move(help);
  spec.number_min = min;
  spec.number_max = max;
  Declare(name, std::move(spec));
}

void Flags::Choice(const std::string& name, std::string default_value,
                   std::vector<std::string> choices, std::string help) {
  Spec spec;
  spec.type = Type::kChoice;
  spec.value = std::move(default_value);
  spec.help = std::move(help);
  spec.choices = std::move(choices);
  Declare(name, std::move(spec));
}

bool Flags::Convert(Spec* spec, const std::string& text, std::string* error) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  switch (spec->type) {
    case Type::kString:
      return true;
    case Type::kBool:
      if (text == "true" || text == "false") return true;
      *error = "expected true or false";
      return false;
    case Type::kUInt: {
      uint64_t v = 0;
      // from_chars takes no sign and no spaces, and reports overflow.
      const auto r = std::from_chars(begin, end, v);
      const bool ok = !text.empty() && r.ec == std::errc() && r.ptr == end;
      if (ok && v >= spec->uint_min && v <= spec->uint_max) {
        spec->uint_value = v;
        return true;
      }
      if (spec->uint_min == 0 && spec->uint_max == std::numeric_limits<uint64_t>::max()) {
        *error = "expected a non-negative integer";
      } else if (spec->uint_max == std::numeric_limits<uint64_t>::max()) {
        *error = "expected an integer >= " + std::to_string(spec->uint_min);
      } else {
        *error = "expected an integer from " + std::to_string(spec->uint_min) + " to " +
                 std::to_string(spec->uint_max);
      }
      return false;
    }
    case Type::kNumber: {
      double v = 0;
      const auto r = std::from_chars(begin, end, v);
      const bool ok = !text.empty() && r.ec == std::errc() && r.ptr == end && std::isfinite(v);
      if (ok && v >= spec->number_min && v <= spec->number_max) {
        spec->number_value = v;
        return true;
      }
      const bool has_min = spec->number_min > -std::numeric_limits<double>::max();
      const bool has_max = spec->number_max < std::numeric_limits<double>::max();
      if (has_min && has_max) {
        *error = "expected a number from " + NumberText(spec->number_min) + " to " +
                 NumberText(spec->number_max);
      } else if (has_min) {
        *error = "expected a number >= " + NumberText(spec->number_min);
      } else if (has_max) {
        *error = "expected a number <= " + NumberText(spec->number_max);
      } else {
        *error = "expected a finite number";
      }
      return false;
    }
    case Type::kChoice: {
      for (const std::string& c : spec->choices) {
        if (c == text) return true;
      }
      std::string list;
      for (size_t i = 0; i < spec->choices.size(); ++i) {
        if (i) list += i + 1 == spec->choices.size() ? " or " : ", ";
        list += spec->choices[i];
      }
      *error = "expected " + list;
      return false;
    }
  }
  return false;
}

bool Flags::Parse(const std::vector<std::string>& args, std::string* error) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      return true;
    }
    if (arg.rfind("--", 0) != 0) {
      *error = "unexpected argument " + Quote(arg);
      return false;
    }
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    auto it = specs_.find(name);
    if (it == specs_.end()) {
      *error = "unknown flag --" + name;
      return false;
    }
    Spec& spec = it->second;
    if (spec.type == Type::kBool && !has_value) {
      value = "true";
    } else if (!has_value) {
      if (i + 1 >= args.size()) {
        *error = "--" + name + ": missing value";
        return false;
      }
      value = args[++i];
    }
    std::string expected;
    if (!Convert(&spec, value, &expected)) {
      *error = "--" + name + ": " + expected + ", got " + Quote(value);
      return false;
    }
    spec.value = std::move(value);
    spec.set = true;
  }
  for (const std::string& name : order_) {
    if (specs_[name].required && !specs_[name].set) {
      *error = "missing required flag --" + name;
      return false;
    }
  }
  return true;
}

std::string Flags::Help() const {
  std::ostringstream out;
  out << "usage: " << usage_ << "\n\n" << about_ << "\n\nflags:\n";
  for (const std::string& name : order_) {
    const Spec& s = specs_.at(name);
    out << "  --" << name << (s.type == Type::kBool ? "" : " VALUE") << "\n      " << s.help;
    if (s.required) {
      out << " (required)";
    } else if (s.type != Type::kBool && !s.value.empty()) {
      out << " (default: " << s.value << ")";
    }
    out << "\n";
  }
  out << "  --help\n      show this help\n";
  return out.str();
}

const std::string& Flags::Get(const std::string& name) const { return specs_.at(name).value; }

uint64_t Flags::GetUInt(const std::string& name) const {
  const Spec& spec = specs_.at(name);
  if (spec.type != Type::kUInt) throw std::logic_error("flag --" + name + " is not an integer");
  return spec.uint_value;
}

double Flags::GetNumber(const std::string& name) const {
  const Spec& spec = specs_.at(name);
  if (spec.type != Type::kNumber) throw std::logic_error("flag --" + name + " is not a number");
  return spec.number_value;
}

bool Flags::IsSet(const std::string& name) const { return specs_.at(name).set; }

int UsageError(std::string_view command, std::string_view message) {
  std::cerr << "driftd " << command << ": " << message << " (see --help)\n";
  return kExitUsage;
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, ',')) {
    if (!cur.empty()) out.push_back(cur);
  }
  return out;
}

}  // namespace driftd
