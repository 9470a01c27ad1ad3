// Ingest line decoders: one line of NDJSON, Telegraf JSON or InfluxDB line protocol in, one Record
// out. No sockets and no threads (like asio's request_parser): the session splits the byte stream
// into lines and hands each one to LineDecoder::Decode. Wire formats: docs/ and the comments below.
#pragma once

#include <cmath>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace driftd {

enum class Format { kJson, kLineProtocol };

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
  void Clear();
};

enum class DecodeStatus { kRecord, kSkip, kError };

// Reasons used as the Prometheus label `reason` on driftd_ingest_errors_total:
//   "malformed_json", "malformed_line_protocol", "missing_model", "bad_timestamp", "binary"
struct DecodeError {
  const char* reason = "";  // one of the reasons above (a string literal)
  std::string message;      // short human text naming the offending item and the byte offset
};

// Decodes single lines. The format is chosen per line: if the first byte that is not a space or
// tab is '{' the line is JSON, otherwise InfluxDB line protocol.
//
// JSON: one object with "model" (or Telegraf's "name"): a non-empty string; "features" (or
// Telegraf's "fields"): an object whose values are numbers, strings, booleans or null; optional
// "tags": an object of strings; optional "ts" (or Telegraf's "timestamp"): unix seconds as a JSON
// number, fractions allowed. Other keys are ignored. "model"/"name", "features"/"fields" and
// "ts"/"timestamp" are aliases of each other. JSON numbers of any size become doubles.
//
// Line protocol (InfluxDB / Telegraf data_format="influx"): measurement (the model), tag set,
// field set, optional integer timestamp in nanoseconds. A backslash escapes ',' and ' ' in the
// measurement and ',', '=' and ' ' in tag keys, tag values and field keys; before any other byte
// it is a literal backslash (so Telegraf's output, which never escapes backslashes, round-trips).
// In string field values it escapes '"' and '\'; before any other byte it is literal. Sections are
// separated by spaces or tabs (as Telegraf's parser accepts). Lines that are blank or whose first
// non-blank byte is '#' are skipped.
//
// Duplicate keys: the last one wins, in every format and for top-level JSON keys, features, fields
// and tags alike. A repeated feature/field/tag keeps the position of its first occurrence and
// takes the later value.
//
// Not thread-safe: use one decoder per session (or per thread).
class LineDecoder {
 public:
  LineDecoder();
  ~LineDecoder();
  LineDecoder(LineDecoder&&) noexcept;
  LineDecoder& operator=(LineDecoder&&) noexcept;

  // Decodes one line (without its '\n'; a trailing '\r' is ignored).
  //   kRecord: *record holds the record. Its string_views point into `line` or into this decoder's
  //            scratch space and stay valid until the next Decode call (and while `line`'s bytes
  //            stay put).
  //   kSkip:   blank or comment line; *record is cleared.
  //   kError:  *record is cleared (contents unspecified); *error gets the reason and a message
  //            whose byte offsets count from the start of `line`. `error` may be null.
  // Never throws except std::bad_alloc; never crashes on any bytes. A line holding a NUL or any
  // other control byte besides '\t' and '\r' (including DEL) or invalid UTF-8 is kError "binary".
  // Allocates only when a line needs more scratch space than any line before it.
  DecodeStatus Decode(std::string_view line, Record* record, DecodeError* error);

 private:
  struct State;  // the simdjson parser and the scratch buffers; keeps simdjson out of this header
  std::unique_ptr<State> state_;
};

}  // namespace driftd
