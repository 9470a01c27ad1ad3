// libFuzzer entry point for LineDecoder and the log line of what it rejects: any bytes must decode
// to a valid status without crashing, reading out of bounds or leaving dangling views, and the
// "ingest error" line driftd would log for them, in both formats, must be valid UTF-8 with no
// control character (and, in JSON, parse back to the escaped sample).
// Every build runs it through fuzz_driver.cc (CTest fuzz.decoder); with DRIFTD_FUZZ=ON it is also
// a libFuzzer target (fuzz.libfuzzer.decoder; scripts/fuzz for long runs).
// The input is split at '\n' and each piece decoded as a line, so one input exercises the reuse
// of the decoder's buffers across lines of different sizes and formats.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>

#include "daemon/ingest/decoder.h"
#include "daemon/log.h"

namespace {

void Touch(std::string_view s, unsigned* sum) {
  for (char c : s) *sum += static_cast<unsigned char>(c);
}

void CheckAt(bool ok, int line) {
  if (!ok) {
    std::fprintf(stderr, "decoder_fuzz.cc:%d: check failed\n", line);
    std::abort();
  }
}
#define Check(ok) CheckAt((ok), __LINE__)

// Valid UTF-8 (no overlong form, surrogate or code point past U+10FFFF) with no C0 control, DEL
// or C1 control.
bool IsCleanUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    const size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (n == 0 || c > 0xf4 || i + n > s.size()) return false;
    uint32_t cp = c & (0x7f >> n);
    for (size_t k = 1; k < n; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    const uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
      return false;
    i += n;
  }
  return true;
}

// The line LineProcessor::Error logs for a rejected `line`, in both formats.
void CheckLogLines(std::string_view reason, std::string_view message, std::string_view line) {
  const std::string_view sample = driftd::Utf8Prefix(line, driftd::kLogSampleBytes);
  Check(sample.size() <= driftd::kLogSampleBytes && line.substr(0, sample.size()) == sample);
  for (driftd::LogFormat format : {driftd::LogFormat::kText, driftd::LogFormat::kJson}) {
    const std::string out = driftd::FormatLogLine(
        spdlog::level::warn, "ingest error",
        {{"reason", reason}, {"error", message}, {"sample", sample}, {"suppressed", uint64_t{0}}},
        format);
    Check(IsCleanUtf8(out));
    if (format == driftd::LogFormat::kJson) {
      const auto j = nlohmann::json::parse(out, nullptr, false);
      Check(!j.is_discarded() && j["sample"] == driftd::SanitizeUtf8(sample));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static driftd::LineDecoder decoder;
  driftd::Record record;
  driftd::DecodeError error;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  unsigned sum = 0;
  while (true) {
    const size_t newline = input.find('\n');
    const std::string_view piece = input.substr(0, newline);
    // An exact-size copy, so that ASan catches any read past the line.
    const std::unique_ptr<char[]> line(new char[piece.size()]);
    std::memcpy(line.get(), piece.data(), piece.size());
    const driftd::DecodeStatus status =
        decoder.Decode(std::string_view(line.get(), piece.size()), &record, &error);
    switch (status) {
      case driftd::DecodeStatus::kRecord:
        Check(!record.model.empty());
        Touch(record.model, &sum);
        // A record can still be rejected later (unknown model, late): logged the same way.
        CheckLogLines("unknown_model", "unknown model \"" + std::string(record.model) + "\"",
                      piece);
        for (const driftd::Field& f : record.fields) {
          Touch(f.key, &sum);
          Touch(f.value.text, &sum);
          if (f.value.IsNumber()) Check(std::isfinite(f.value.Number()));
        }
        for (const driftd::Field& f : record.tags) {
          Touch(f.key, &sum);
          Touch(f.value.text, &sum);
          Check(f.value.kind == driftd::Value::Kind::kString);
        }
        break;
      case driftd::DecodeStatus::kSkip:
        break;
      case driftd::DecodeStatus::kError:
        Check(error.reason < driftd::Reason::kLineTooLong && !error.message.empty());
        CheckLogLines(driftd::ReasonLabel(error.reason), error.message, piece);
        break;
      default:
        Check(false);
    }
    if (newline == std::string_view::npos) break;
    input.remove_prefix(newline + 1);
  }
  static volatile unsigned sink = 0;
  sink = sink + sum;  // keeps the reads from being optimized away
  return 0;
}
