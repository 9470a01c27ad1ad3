// A decoded ingest record: what every wire format turns one line into and what the Monitor counts.
// The views point into the line or the decoder's scratch space (see daemon/ingest/decoder.h).
#pragma once

#include <array>
#include <cmath>
#include <string_view>
#include <vector>

namespace driftd {

// The wire formats, and their `format` label on driftd_ingest_records_total.
enum class Format { kJson, kLineProtocol, kCount };
inline constexpr std::array<std::string_view, static_cast<size_t>(Format::kCount)> kFormatLabels = {
    "json", "line_protocol"};
inline std::string_view FormatLabel(Format f) { return kFormatLabels[static_cast<size_t>(f)]; }

struct Value {
  enum class Kind { kNumber, kString, kBool, kNull };
  Kind kind = Kind::kNull;
  double number = 0;      // kNumber (i/u integers converted to double); kBool: 1 or 0
  std::string_view text;  // kString: the unescaped string; kBool: "true"/"false"
};

struct Field {
  std::string_view key;
  Value value;
};

struct Record {
  Format format = Format::kJson;
  std::string_view model;
  double timestamp = NAN;     // unix seconds; NaN when the line has none
  std::vector<Field> fields;  // NDJSON "features", Telegraf "fields", line-protocol fields
  std::vector<Field> tags;    // Telegraf "tags", line-protocol tags (kString values)
  // Resets every member to its default; keeps the vectors' capacity.
  void Clear() {
    format = Format::kJson;
    model = {};
    timestamp = NAN;
    fields.clear();
    tags.clear();
  }
};

}  // namespace driftd
