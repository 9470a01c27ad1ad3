#include "core/category.h"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace driftd {

std::string_view CanonicalNumber(double v, CategoryBuffer* buf) {
  char* const first = buf->data();
  char* const last = first + buf->size();
  char* end;
  const double magnitude = std::fabs(v);
  if (magnitude < 9007199254740992.0 && v == std::trunc(v)) {
    // An integer below 2^53 (either zero included): the common case, and the fastest way to the
    // digits the fixed notation below would give.
    end = std::to_chars(first, last, static_cast<int64_t>(v)).ptr;
  } else if (magnitude >= 1e-6 && magnitude < 1e21) {
    end = std::to_chars(first, last, v, std::chars_format::fixed).ptr;
  } else if (std::isnan(v)) {
    return "nan";
  } else {
    // Scientific notation, and "inf" / "-inf".
    end = std::to_chars(first, last, v, std::chars_format::scientific).ptr;
  }
  return std::string_view(first, static_cast<size_t>(end - first));
}

std::optional<double> ParseNumber(std::string_view s) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  // from_chars takes a '-' but not a '+'; after a '+' no second sign may follow.
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
    if (!s.empty() && s.front() == '-') return std::nullopt;
  }
  if (s.empty()) return std::nullopt;
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  // Out of double's range ("1e999") is not a number either.
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::string_view> CanonicalText(std::string_view text, CategoryBuffer* buf) {
  if (text.empty()) return text;
  const char c = text.front();
  // Every number starts with one of these (blanks, a sign, a digit, '.', inf or nan).
  if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == ' ' || c == '\t' ||
      c == '\r' || c == 'i' || c == 'I' || c == 'n' || c == 'N') {
    if (const std::optional<double> v = ParseNumber(text)) {
      if (std::isnan(*v)) return std::nullopt;
      return CanonicalNumber(*v, buf);
    }
    return text;
  }
  if (text == "true" || text == "True" || text == "TRUE") return std::string_view("true");
  if (text == "false" || text == "False" || text == "FALSE") return std::string_view("false");
  return text;
}

}  // namespace driftd
