#include "daemon/flags.h"

#include <sstream>

namespace driftd {

Flags::Flags(std::string usage, std::string about)
    : usage_(std::move(usage)), about_(std::move(about)) {}

void Flags::Value(const std::string& name, std::string default_value, std::string help,
                  bool required) {
  specs_[name] = Spec{false, required, std::move(default_value), std::move(help), false};
  order_.push_back(name);
}

void Flags::Bool(const std::string& name, std::string help) {
  specs_[name] = Spec{true, false, "false", std::move(help), false};
  order_.push_back(name);
}

bool Flags::Parse(const std::vector<std::string>& args, std::string* error) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      return true;
    }
    if (arg.rfind("--", 0) != 0) {
      *error = "unexpected argument \"" + arg + "\"";
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
    if (spec.boolean) {
      spec.value = has_value ? value : "true";
      if (spec.value != "true" && spec.value != "false") {
        *error = "--" + name + " takes true or false";
        return false;
      }
    } else if (has_value) {
      spec.value = value;
    } else if (i + 1 < args.size()) {
      spec.value = args[++i];
    } else {
      *error = "--" + name + " needs a value";
      return false;
    }
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
    out << "  --" << name << (s.boolean ? "" : " VALUE") << "\n      " << s.help;
    if (s.required) {
      out << " (required)";
    } else if (!s.boolean && !s.value.empty()) {
      out << " (default: " << s.value << ")";
    }
    out << "\n";
  }
  out << "  --help\n      show this help\n";
  return out.str();
}

const std::string& Flags::Get(const std::string& name) const { return specs_.at(name).value; }

bool Flags::IsSet(const std::string& name) const { return specs_.at(name).set; }

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
