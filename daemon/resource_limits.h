// Process resource limits driftd adjusts at startup.
#pragma once

#include <cstdint>
#include <string>

namespace driftd {

struct OpenFileLimit {
  uint64_t soft_before = 0;  // RLIMIT_NOFILE's soft limit as the process started
  uint64_t soft = 0;         // as it is now
  uint64_t hard = 0;
  std::string error;  // why it could not be read or raised; empty on success
};

// Raises the soft RLIMIT_NOFILE to the hard limit (as the Go runtime does at startup): every
// connection costs a descriptor, and the soft default (often 1024) is far below what the kernel
// allows. Returns what it found and did. Call once, before threads start.
OpenFileLimit RaiseOpenFileLimit();

}  // namespace driftd
