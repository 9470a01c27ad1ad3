#include "core/decimal.h"

#include <charconv>
#include <cinttypes>
#include <cstdio>

namespace driftd {

double NearestDouble(uint64_t digits, int power) {
  char text[48];
  const int n = std::snprintf(text, sizeof text, "%" PRIu64 "e%d", digits, power);
  return NearestDouble(std::string_view(text, static_cast<size_t>(n)));
}

double NearestDouble(std::string_view number) {
  double value = 0;
  std::from_chars(number.data(), number.data() + number.size(), value);  // correctly rounded
  return value;
}

}  // namespace driftd
