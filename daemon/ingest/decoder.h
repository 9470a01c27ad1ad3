// Ingest line decoders: one line of NDJSON, Telegraf JSON or InfluxDB line protocol in, one Record
// out. No sockets and no threads (like asio's request_parser): the session splits the byte stream
// into lines and hands each one to LineDecoder::Decode. Wire formats: docs/ and the comments below.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/ingest_reason.h"
#include "core/record.h"

namespace driftd {

enum class DecodeStatus { kRecord, kSkip, kError };

// The unit of a line-protocol timestamp: nanoseconds on every transport, or what an InfluxDB
// write request's `precision` names.
enum class TimestampPrecision {
  kNanoseconds,
  kMicroseconds,
  kMilliseconds,
  kSeconds,
  kMinutes,
  kHours
};

// The precision a `precision` query parameter names: InfluxDB 2.x's ns, us, ms and s, and with
// `v1_forms` also 1.x's n, u, µ, m and h. Nullopt for anything else.
std::optional<TimestampPrecision> ParsePrecision(std::string_view text, bool v1_forms);

struct DecodeError {
  // kMalformedJson, kMalformedLineProtocol, kMissingModel, kBadTimestamp or kBinary.
  Reason reason = Reason::kCount;
  std::string message;  // short human text naming the offending item and the byte offset
};

// Decodes single lines. The format is chosen per line: if the first byte that is not a space or
// tab is '{' the line is JSON, otherwise InfluxDB line protocol.
//
// JSON: one object, nothing after it. "model" (Telegraf: "name"): a string; absent or empty is
// "missing_model". "features" (Telegraf: "fields"): a required object whose values are numbers,
// strings, booleans or null (an object or array is "malformed_json" naming the feature). "tags":
// an optional object of strings. "ts" (Telegraf: "timestamp"): optional unix seconds, a JSON
// number, fractions allowed; anything else (null included) is "bad_timestamp". Other keys are
// ignored. Numbers of any size become doubles.
//
// Line protocol (InfluxDB / Telegraf data_format="influx"): measurement (the model), tag set,
// field set, optional integer timestamp in nanoseconds (or the unit set_precision names). A
// backslash escapes ',' and ' ' in the measurement and ',', '=' and ' ' in tag keys, tag values and
// field keys; before any other byte it is a literal backslash (so Telegraf's output, which never
// escapes backslashes, round-trips). In string field values it escapes '"' and '\'; before any
// other byte it is literal. Sections are separated by spaces or tabs (as Telegraf's parser
// accepts). Field values: floats (exponents allowed; overflow is an error, underflow is 0),
// integers with 'i' (int64) or 'u' (uint64), t/T/true/True/TRUE/f/F/false/False/FALSE, and
// double-quoted strings. Lines that are blank or whose first non-blank byte is '#' are skipped.
//
// Duplicate keys: the last one wins, in every format and for top-level JSON keys, features, fields
// and tags alike. A repeated feature/field/tag keeps the position of its first occurrence and
// takes the later value.
//
// Not thread-safe: one decoder per session (or per thread). A moved-from decoder may only be
// destroyed or assigned to.
class LineDecoder {
 public:
  LineDecoder();
  ~LineDecoder();
  LineDecoder(LineDecoder&&) noexcept;
  LineDecoder& operator=(LineDecoder&&) noexcept;

  // Decodes one line (without its '\n'; one trailing '\r' is ignored). *record is cleared first.
  //   kRecord: *record holds the record. Its string_views point into `line` or into this decoder's
  //            scratch space; they stay valid until the next Decode call on this decoder (and,
  //            for those into `line`, while the caller keeps `line`'s bytes in place).
  //   kSkip:   a blank line or a comment ('#' after optional blanks).
  //   kError:  *record's contents are unspecified; *error (when not null) gets the reason and a
  //            message naming the offending key or value, with byte offsets into `line`.
  // "binary": a NUL or any other control byte except '\t' and '\r' (DEL included), or bytes that
  // are not valid UTF-8 (names end up in Prometheus labels, which must be UTF-8).
  // Never throws (other than std::bad_alloc) and never crashes, whatever the bytes. Allocates only
  // while a line needs more scratch space than every line before it.
  DecodeStatus Decode(std::string_view line, Record* record, DecodeError* error);

  // The unit of line-protocol timestamps from now on (nanoseconds until set). JSON "ts" is
  // always seconds.
  void set_precision(TimestampPrecision precision);

  // Slots the duplicate-key tables stepped over, over every Decode so far: linear in the keys
  // decoded, whatever the keys (the key hash is seeded per process).
  uint64_t KeyProbes() const;
  // Keys the fast paths took as the same as the previous record's at the same position (one
  // compare each: see KeyIndex in decoder.cc), over every Decode so far.
  uint64_t ShapedKeys() const;
  // JSON lines decoded by the one-pass path for flat records rather than by simdjson's On-Demand
  // API (both give the same record; tests check that the fast path was taken).
  uint64_t FastJsonLines() const;
  // JSON lines the fast path began at their features, since they started with the same bytes as
  // the JSON record before them (see JsonHead in decoder.cc), whether or not it then decoded them.
  uint64_t JsonHeads() const;
  // Line-protocol lines decoded by the one-pass path for plain lines rather than the general one
  // (again the same record).
  uint64_t FastLineProtocolLines() const;

 private:
  struct State;  // the simdjson parser and the scratch buffers; keeps simdjson out of this header
  std::unique_ptr<State> state_;
};

// Tests only: replaces the per-process key hash seed (random at startup). Seed (0, 0) is the
// unseeded hash of earlier versions, whose collisions a sender could compute. Not thread-safe:
// call it while no decoder runs.
void SetKeyHashSeedForTesting(uint64_t a, uint64_t b);

// Tests only: whether lines try the one-pass paths (JSON records, plain line-protocol lines)
// before the general decoders (on by default), so that a test can decode the same line both ways
// and compare. Not thread-safe: call it while no decoder runs.
void SetFastPathsForTesting(bool enabled);

}  // namespace driftd
