// A decoded ingest record: what every wire format turns one line into and what the Monitor counts.
// The views point into the line or the decoder's scratch space (see daemon/ingest/decoder.h).
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "core/decimal.h"

namespace driftd {

// The wire formats, and their `format` label on driftd_ingest_records_total.
enum class Format { kJson, kLineProtocol, kCount };
inline constexpr std::array<std::string_view, static_cast<size_t>(Format::kCount)> kFormatLabels = {
    "json", "line_protocol"};
inline std::string_view FormatLabel(Format f) { return kFormatLabels[static_cast<size_t>(f)]; }

struct Value {
  // number holds something for kNumber and kBool only, and digits for a decimal only: a decoder
  // may leave them as an earlier value had them. text is always written: empty for a kind that
  // has none, so that no view outlives the line it came from.
  //
  // kDecimal and kDecimalAbove are numbers too, left unconverted (core/decimal.h): a non-negative
  // number of at most 3 integer digits with a fraction, which is digits x 10^-16 (kDecimal) or
  // lies strictly between that and (digits + 1) x 10^-16 (kDecimalAbove). Number() gives the
  // double.
  enum class Kind { kNumber, kString, kBool, kNull, kDecimal, kDecimalAbove };  // in this order
  Kind kind = Kind::kNull;
  double number = 0;      // kNumber (i/u integers converted to double); kBool: 1 or 0
  std::string_view text;  // kString: the unescaped string; kBool: "true"/"false"; a decimal: as
                          // written (a JSON number)
  uint64_t digits = 0;    // a decimal's, below kDecimalDigitsEnd

  static Value Bool(bool b) { return {Kind::kBool, b ? 1.0 : 0.0, b ? "true" : "false"}; }
  static Value Decimal(uint64_t digits, bool above, std::string_view text) {
    Value v;
    v.kind = above ? Kind::kDecimalAbove : Kind::kDecimal;
    v.digits = digits;
    v.text = text;
    return v;
  }
  bool IsDecimal() const { return kind >= Kind::kDecimal; }
  bool IsNumber() const { return kind == Kind::kNumber || IsDecimal(); }
  // A number's double (and kBool's 1 or 0): for a decimal, the one nearest it.
  double Number() const { return IsDecimal() ? NearestDouble(text) : number; }
};

struct Field {
  std::string_view key;
  Value value;
};

// a == b, for the short keys records carry without a call to memcmp: up to 16 bytes compared as
// two overlapping loads of 8, 4 or 1 byte (never reading past either string's end).
[[gnu::always_inline]] inline bool SameKey(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  const char* x = a.data();
  const char* y = b.data();
  auto load8 = [](const char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  };
  auto load4 = [](const char* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  };
  if (n >= 8) {
    if (n > 16) return std::memcmp(x, y, n) == 0;
    return ((load8(x) ^ load8(y)) | (load8(x + n - 8) ^ load8(y + n - 8))) == 0;
  }
  if (n >= 4) return ((load4(x) ^ load4(y)) | (load4(x + n - 4) ^ load4(y + n - 4))) == 0;
  if (n == 0) return true;
  // 1 to 3 bytes: the first, the middle and the last.
  return x[0] == y[0] && x[n / 2] == y[n / 2] && x[n - 1] == y[n - 1];
}

struct Record {
  Format format = Format::kJson;
  std::string_view model;
  double timestamp = NAN;     // unix seconds; NaN when the line has none
  std::vector<Field> fields;  // NDJSON "features", Telegraf "fields", line-protocol fields
  std::vector<Field> tags;    // Telegraf "tags", line-protocol tags (kString values)
  // 0, or a number that says the fields' keys are distinct and that every record with the same
  // number has the same keys at the same positions, for as many fields as it has (a decoder
  // numbers the key sequences it sees repeat; see daemon/ingest/decoder.cc). The Monitor then
  // takes each field's feature from what it found for the first such record.
  uint64_t shape = 0;
  // Resets every member to its default; keeps the vectors' capacity.
  void Clear() {
    ClearAllButFields();
    fields.clear();
  }
  // Clear(), but for the fields, which a decoder's fast path writes over (see FieldWriter in
  // daemon/ingest/decoder.cc).
  void ClearAllButFields() {
    format = Format::kJson;
    model = {};
    timestamp = NAN;
    tags.clear();
    shape = 0;
  }
};

}  // namespace driftd
