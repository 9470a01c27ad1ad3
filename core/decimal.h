// Decimal numbers that the ingest decoders hand over unconverted (Value::Kind::kDecimal): the
// Monitor bins most of them by their digits alone (FeatureBins::DecimalBin), so the correctly
// rounded double is computed only where something needs it.
#pragma once

#include <cstdint>
#include <string_view>

namespace driftd {

// A decimal's digits: the value x 10^16, truncated, which is below this (19 digits at most).
inline constexpr uint64_t kDecimalDigitsEnd = 10'000'000'000'000'000'000u;

// The double nearest digits x 10^power (ties to even), as strtod gives it, for a power that keeps
// it finite and normal (a slow path: it formats and parses the number).
double NearestDouble(uint64_t digits, int power);

// The double nearest `number`, a JSON number (ties to even), as strtod gives it.
double NearestDouble(std::string_view number);

}  // namespace driftd
