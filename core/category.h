// The one text of a value used as a category. The reference builder (CSV cells, NDJSON values)
// and the daemon (JSON numbers, line-protocol floats and integers, booleans, tags) both go through
// these functions, so that replaying the training data lands every value in its own category.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace driftd {

// Room for the longest canonical number ("-0.0000012345678901234567" is 25 bytes).
using CategoryBuffer = std::array<char, 32>;

// The canonical text of the number `v`:
//   * +0 and -0 are "0";
//   * 1e-6 <= |v| < 1e21: fixed notation with the fewest digits that read back as `v`, and no
//     fraction for an integral value: 10115.0 -> "10115", 1.50 -> "1.5", 0.1 -> "0.1",
//     2^60 -> "1152921504606846976" (the double's exact value);
//   * otherwise scientific notation, shortest digits: 1e-7 -> "1e-07", 1e21 -> "1e+21";
//   * +-infinity: "inf", "-inf"; NaN: "nan" (callers count NaN as missing before asking).
// The view points into *buf. Thread-safe (no state).
std::string_view CanonicalNumber(double v, CategoryBuffer* buf);

// The number a text spells, or nullopt: optional blanks (space, tab, CR) around it, at most one
// sign ('+' or '-'), then decimal digits with an optional fraction and exponent ("10115", "1.50",
// ".5", "1e3"), or inf / infinity / nan in any case. Hexadecimal ("0x10") and values out of
// double's range ("1e999") are not numbers. Thread-safe.
std::optional<double> ParseNumber(std::string_view text);

// The canonical category text of a value that carries no type of its own (a CSV cell, a
// line-protocol or Telegraf tag, a string the daemon looks up a second time):
//   * a number (ParseNumber) -> CanonicalNumber: "10115.0", "+10115" and "1.0115e4" are "10115";
//   * "true", "True", "TRUE" -> "true"; "false", "False", "FALSE" -> "false";
//   * any other text is itself, unchanged.
// Returns nullopt for a text that spells NaN: a missing value. The view points into `text` or
// into *buf.
std::optional<std::string_view> CanonicalText(std::string_view text, CategoryBuffer* buf);

}  // namespace driftd
