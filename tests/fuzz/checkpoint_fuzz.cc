// libFuzzer entry point for the checkpoint reader (DecodeCheckpoint) and Monitor::Restore. The
// input is a checkpoint's payload: the harness puts a valid header (and checksum) in front, so
// that mutations reach the payload parser instead of stopping at the checksum. Whatever the
// bytes: decoding returns a checkpoint or an error, never crashes or reads out of bounds; a
// checkpoint that decodes encodes back to the same bytes; and restoring any of its models into
// a Monitor either succeeds with the window's records or refuses with a reason.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/checkpoint.h"
#include "core/monitor.h"
#include "core/sha256.h"

namespace {

void CheckAt(bool ok, int line) {
  if (!ok) {
    std::fprintf(stderr, "checkpoint_fuzz.cc:%d: check failed\n", line);
    std::abort();
  }
}
#define Check(ok) CheckAt((ok), __LINE__)

// Model "m" as the seed corpus's checkpoints were taken for (sha256 "seed").
const driftd::Reference& SeedReference() {
  static const driftd::Reference* ref = [] {
    std::vector<std::string> errors;
    auto parsed = driftd::ParseReference(R"({"model": "m", "version": "1", "features": {
        "x": {"type": "numeric", "edges": [0, 1, 2], "counts": [5, 5]},
        "c": {"type": "categorical", "categories": {"a": 5, "b": 5}}}})",
                                         "m.json", &errors);
    Check(parsed.has_value());
    parsed->sha256 = "seed";
    return new driftd::Reference(std::move(*parsed));
  }();
  return *ref;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string payload(reinterpret_cast<const char*>(data), size);
  std::string file(driftd::kCheckpointMagic);
  const uint32_t version = driftd::kCheckpointVersion;
  const uint64_t length = payload.size();
  file.append(reinterpret_cast<const char*>(&version), sizeof version);
  file.append(reinterpret_cast<const char*>(&length), sizeof length);
  file += driftd::Sha256Hex(payload);
  file += payload;

  // Decoded from a heap block of exactly the file's size: a std::string's spare capacity (and
  // its terminating NUL) would hide a read one byte past the end from AddressSanitizer.
  const std::unique_ptr<char[]> exact(new char[file.size()]);
  std::memcpy(exact.get(), file.data(), file.size());
  std::string error;
  const auto decoded = driftd::DecodeCheckpoint(std::string_view(exact.get(), file.size()), &error);
  Check(decoded.has_value() == error.empty());
  if (!decoded) return 0;
  Check(driftd::EncodeCheckpoint(*decoded) == file);
  driftd::MonitorOptions options;
  options.windows = {{"w", {600, 10}}};
  for (const driftd::ModelCheckpoint& m : decoded->models) {
    driftd::Monitor monitor(options, {SeedReference()}, 1'732'060'800);
    uint64_t records = 0;
    std::string why;
    if (monitor.Restore(m, 1'732'060'800, &records, &why)) {
      Check(why.empty());
      const auto eval = monitor.Evaluate(1'732'060'800);
      Check(eval->models.size() == 1);
      Check(eval->models[0].records[0] == records);
    } else {
      Check(!why.empty());
    }
  }
  return 0;
}
