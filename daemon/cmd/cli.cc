#include "daemon/cmd/cli.h"

#include <charconv>
#include <cmath>
#include <iostream>

namespace driftd {
namespace {

// Shortest text that reads back as `x` ("0.5", "100000").
std::string NumberText(double x) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

// A check whose failure message CLI11 reports as "--NAME: MESSAGE"; `expected` says what the flag
// takes. The description is empty so the help shows only the type name.
CLI::Validator Expect(std::function<bool(const std::string&)> ok, std::string expected) {
  return CLI::Validator(
      [ok = std::move(ok), expected = std::move(expected)](std::string& text) {
        return ok(text) ? std::string() : expected + ", got " + Quote(text);
      },
      "");
}

// Defaults shown as "(default: 20)" at the end of the help line, like the flag's own words.
CLI::Option* Describe(CLI::Option* option, const std::string& help, const std::string& type,
                      const std::string& default_text) {
  option->description(default_text.empty() ? help : help + " (default: " + default_text + ")");
  option->type_name(type);
  // A flag given twice takes its last value, as before CLI11.
  option->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  return option;
}

// driftd's help layout: the usage line, what the command does, then its flags.
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_help(const CLI::App* app, std::string name,
                        CLI::AppFormatMode mode) const override {
    return make_usage(app, std::move(name)) + "\n" + make_description(app) + make_groups(app, mode);
  }
};

}  // namespace

CLI::Option* AddUInt(CLI::App* app, const std::string& name, uint64_t* value,
                     const std::string& help, uint64_t min, uint64_t max) {
  std::string expected;
  if (min == 0 && max == std::numeric_limits<uint64_t>::max()) {
    expected = "expected a non-negative integer";
  } else if (max == std::numeric_limits<uint64_t>::max()) {
    expected = "expected an integer >= " + std::to_string(min);
  } else {
    expected = "expected an integer from " + std::to_string(min) + " to " + std::to_string(max);
  }
  auto ok = [min, max](const std::string& text) {
    uint64_t v = 0;
    // from_chars takes no sign and no spaces, and reports overflow.
    const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    return !text.empty() && r.ec == std::errc() && r.ptr == text.data() + text.size() && v >= min &&
           v <= max;
  };
  return Describe(app->add_option("--" + name, *value)->check(Expect(ok, expected)), help, "N",
                  std::to_string(*value));
}

CLI::Option* AddNumber(CLI::App* app, const std::string& name, double* value,
                       const std::string& help, double min, double max) {
  const bool has_min = min > -std::numeric_limits<double>::max();
  const bool has_max = max < std::numeric_limits<double>::max();
  std::string expected;
  if (has_min && has_max) {
    expected = "expected a number from " + NumberText(min) + " to " + NumberText(max);
  } else if (has_min) {
    expected = "expected a number >= " + NumberText(min);
  } else if (has_max) {
    expected = "expected a number <= " + NumberText(max);
  } else {
    expected = "expected a finite number";
  }
  auto ok = [min, max](const std::string& text) {
    double v = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    return !text.empty() && r.ec == std::errc() && r.ptr == text.data() + text.size() &&
           std::isfinite(v) && v >= min && v <= max;
  };
  return Describe(app->add_option("--" + name, *value)->check(Expect(ok, expected)), help, "NUMBER",
                  NumberText(*value));
}

CLI::Option* AddChoice(CLI::App* app, const std::string& name, std::string* value,
                       const std::vector<std::string>& choices, const std::string& help) {
  std::string list, type;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i) list += i + 1 == choices.size() ? " or " : ", ";
    list += choices[i];
    type += (i ? "|" : "") + choices[i];
  }
  auto ok = [choices](const std::string& text) {
    return std::find(choices.begin(), choices.end(), text) != choices.end();
  };
  return Describe(app->add_option("--" + name, *value)->check(Expect(ok, "expected " + list)), help,
                  type, *value);
}

CLI::Option* AddText(CLI::App* app, const std::string& name, std::string* value,
                     const std::string& help, const std::string& placeholder) {
  return Describe(app->add_option("--" + name, *value), help, placeholder, "");
}

std::unique_ptr<CLI::App> NewCommandLine(const std::string& command, const std::string& about) {
  auto app = std::make_unique<CLI::App>(about, "driftd " + command);
  auto formatter = std::make_shared<HelpFormatter>();
  formatter->column_width(34);
  formatter->label("Usage", "usage");
  formatter->label("OPTIONS", "flags");
  formatter->label("REQUIRED", "(required)");
  app->formatter(formatter);
  app->option_defaults()->group("flags");
  app->set_help_flag("-h,--help", "show this help");
  return app;
}

ParseOutcome ParseArgs(CLI::App* app, const std::vector<std::string>& args) {
  // CLI11 takes the arguments last first. It reads "--name=" as a flag without its value, where
  // driftd always took it as the empty value: pass that as "--name" "".
  std::vector<std::string> reversed;
  for (auto it = args.rbegin(); it != args.rend(); ++it) {
    if (it->size() > 3 && it->rfind("--", 0) == 0 && it->back() == '=') {
      reversed.push_back("");
      reversed.push_back(it->substr(0, it->size() - 1));
    } else {
      reversed.push_back(*it);
    }
  }
  try {
    app->parse(reversed);
    return {};
  } catch (const CLI::CallForHelp&) {
    return {ParseOutcome::Kind::kHelp, app->help()};
  } catch (const CLI::RequiredError& e) {
    for (const CLI::Option* o : app->get_options()) {
      if (o->get_required() && o->count() == 0) {
        return UsageErrorOutcome("missing required flag " + o->get_name());
      }
    }
    return UsageErrorOutcome(e.what());
  } catch (const CLI::ArgumentMismatch& e) {
    // "--config: 1 required TEXT missing": the last flag has no value.
    const std::string what = e.what();
    return UsageErrorOutcome(what.substr(0, what.find(':')) + ": missing value");
  } catch (const CLI::ExtrasError& e) {
    const std::vector<std::string> extras = app->remaining();
    if (extras.empty()) return UsageErrorOutcome(e.what());
    const std::string& first = extras.front();
    return UsageErrorOutcome(first.rfind("-", 0) == 0 ? "unknown flag " + first
                                                      : "unexpected argument " + Quote(first));
  } catch (const CLI::ParseError& e) {
    // ValidationError: "--rate: expected a number >= 0, got \"fast\"" (see Expect).
    return UsageErrorOutcome(e.what());
  }
}

ParseOutcome UsageErrorOutcome(std::string message) {
  return {ParseOutcome::Kind::kUsageError, std::move(message)};
}

std::optional<int> ExitStatus(const ParseOutcome& outcome, std::string_view command) {
  switch (outcome.kind) {
    case ParseOutcome::Kind::kRun:
      return std::nullopt;
    case ParseOutcome::Kind::kHelp:
      std::cout << outcome.text;
      return 0;
    case ParseOutcome::Kind::kUsageError:
      break;
  }
  std::cerr << "driftd " << command << ": " << outcome.text << " (see --help)\n";
  return kExitUsage;
}

}  // namespace driftd
