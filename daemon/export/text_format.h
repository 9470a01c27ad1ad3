// Appends metric families to a string in Prometheus' text exposition format, sample by sample.
// Written by hand because the evaluation's families hold 10,000s of samples: building them as
// prometheus-cpp ClientMetrics first costs about as much memory again as the text itself.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace driftd {

// One family, written byte for byte as prometheus::TextSerializer writes it: "# HELP" and
// "# TYPE" lines before the first sample (a family without samples writes nothing), label values
// with \\, \" and \n escaped, values as "%.16g" with Nan, +Inf and -Inf. `name`, `help`, `type`
// and label names are written as given. Not thread-safe; `out` must outlive the writer.
class FamilyWriter {
 public:
  using Label = std::pair<std::string_view, std::string_view>;
  FamilyWriter(std::string* out, std::string_view name, std::string_view help,
               std::string_view type = "gauge")
      : out_(out), name_(name), help_(help), type_(type) {}

  void Sample(std::initializer_list<Label> labels, double value);
  size_t samples() const { return samples_; }

 private:
  std::string* out_;
  std::string_view name_, help_, type_;
  size_t samples_ = 0;
};

}  // namespace driftd
