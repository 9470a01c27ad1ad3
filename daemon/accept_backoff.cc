#include "daemon/accept_backoff.h"

#include "daemon/log.h"

namespace driftd {

void LogAcceptError(LogRateLimiter* limiter, std::string_view listener, std::string_view error,
                    AcceptBackoff::Duration retry_in) {
  uint64_t suppressed = 0;
  if (!limiter->Allow(&suppressed)) return;
  Log(spdlog::level::warn, "accept error",
      {{"listener", listener},
       {"error", error},
       {"retry_ms", static_cast<uint64_t>(retry_in.count())},
       {"suppressed", suppressed}});
}

}  // namespace driftd
