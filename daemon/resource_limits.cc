#include "daemon/resource_limits.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>

namespace driftd {

OpenFileLimit RaiseOpenFileLimit() {
  OpenFileLimit out;
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    out.error = std::strerror(errno);
    return out;
  }
  out.soft_before = out.soft = rl.rlim_cur;
  out.hard = rl.rlim_max;
  if (rl.rlim_cur >= rl.rlim_max) return out;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
    out.error = std::strerror(errno);
    return out;
  }
  out.soft = rl.rlim_cur;
  return out;
}

}  // namespace driftd
