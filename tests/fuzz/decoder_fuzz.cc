// libFuzzer entry point for LineDecoder: any bytes must decode to a valid status without crashing,
// reading out of bounds or leaving dangling views. Not built by CMake (GCC has no libFuzzer); from
// the repository root:
//   clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -I. daemon/decoder.cc
//       tests/fuzz/decoder_fuzz.cc -lsimdjson -o decoder_fuzz
//   ./decoder_fuzz -max_len=512 corpus/
// The input is split at '\n' and each piece decoded as a line, so one input exercises the reuse
// of the decoder's buffers across lines of different sizes and formats.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include "daemon/decoder.h"

namespace {

void Touch(std::string_view s, unsigned* sum) {
  for (char c : s) *sum += static_cast<unsigned char>(c);
}

void Check(bool ok) {
  if (!ok) std::abort();
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
    const std::unique_ptr<char[]> line(new char[piece.size() + 1]);
    std::memcpy(line.get(), piece.data(), piece.size());
    const driftd::DecodeStatus status =
        decoder.Decode(std::string_view(line.get(), piece.size()), &record, &error);
    switch (status) {
      case driftd::DecodeStatus::kRecord:
        Check(!record.model.empty());
        Touch(record.model, &sum);
        for (const driftd::Field& f : record.fields) {
          Touch(f.key, &sum);
          Touch(f.value.text, &sum);
          if (f.value.kind == driftd::Value::Kind::kNumber) Check(std::isfinite(f.value.number));
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
        Check(error.reason != nullptr && *error.reason != '\0' && !error.message.empty());
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
