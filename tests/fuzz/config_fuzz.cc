// libFuzzer entry point for the configuration loader (ParseConfig) and the reference loader
// (ParseReference): whatever the bytes, parsing returns a value or errors, never both and never
// neither, every error names the source, and nothing crashes, recurses without bound or reads out
// of bounds. A reference that parses serialises to a document that parses back to the same
// reference (SerializeReference is ParseReference's inverse).
// Built twice: DRIFTD_FUZZ_REFERENCE selects the reference loader.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/reference.h"

namespace {

void CheckAt(bool ok, int line) {
  if (!ok) {
    std::fprintf(stderr, "config_fuzz.cc:%d: check failed\n", line);
    std::abort();
  }
}
#define Check(ok) CheckAt((ok), __LINE__)

bool AllNamed(const std::vector<std::string>& errors, std::string_view source) {
  for (const std::string& e : errors) {
    if (e.compare(0, source.size(), source) != 0) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> errors;
#ifdef DRIFTD_FUZZ_REFERENCE
  const auto ref = driftd::ParseReference(text, "fuzz.json", &errors);
  Check(ref.has_value() == errors.empty());
  Check(AllNamed(errors, "fuzz.json: "));
  if (ref) {
    const std::string once = driftd::SerializeReference(*ref);
    std::vector<std::string> again_errors;
    const auto again = driftd::ParseReference(once, "again.json", &again_errors);
    Check(again.has_value());
    Check(driftd::SerializeReference(*again) == once);
  }
#else
  const auto config = driftd::ParseConfig(text, "fuzz.json", "/base", &errors);
  Check(config.has_value() == errors.empty());
  Check(AllNamed(errors, "fuzz.json: "));
  if (config) Check(!config->models.empty());
#endif
  return 0;
}
