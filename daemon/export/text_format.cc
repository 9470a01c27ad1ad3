#include "daemon/export/text_format.h"

#include <cmath>
#include <cstdio>

namespace driftd {

void FamilyWriter::Sample(std::initializer_list<Label> labels, double value) {
  std::string& out = *out_;
  if (samples_++ == 0) {
    out.append("# HELP ").append(name_).append(" ").append(help_).append("\n");
    out.append("# TYPE ").append(name_).append(" ").append(type_).append("\n");
  }
  out.append(name_);
  if (labels.size() != 0) {
    char sep = '{';
    for (const auto& [label, text] : labels) {
      out.push_back(sep);
      sep = ',';
      out.append(label).append("=\"");
      for (char c : text) {
        if (c == '\\' || c == '"') {
          out.push_back('\\');
          out.push_back(c);
        } else if (c == '\n') {
          out.append("\\n");
        } else {
          out.push_back(c);
        }
      }
      out.push_back('"');
    }
    out.push_back('}');
  }
  out.push_back(' ');
  if (std::isnan(value)) {
    out.append("Nan");
  } else if (std::isinf(value)) {
    out.append(value < 0 ? "-Inf" : "+Inf");
  } else {
    char buf[32];
    const int n = std::snprintf(buf, sizeof buf, "%.16g", value);
    out.append(buf, static_cast<size_t>(n));
  }
  out.push_back('\n');
}

}  // namespace driftd
