// Turns lines into counted records for one connection or socket: decode, apply to the Monitor,
// count, and log a rate-limited sample of what was rejected. Not thread-safe: one per session.
#pragma once

#include <string_view>

#include "daemon/ingest/decoder.h"
#include "daemon/log.h"
#include "daemon/export/metrics.h"
#include "daemon/monitor.h"

namespace driftd {

class LineProcessor {
 public:
  LineProcessor(Monitor* monitor, TransportMetrics* metrics, prometheus::Counter* values,
                LogRateLimiter* log_limiter);

  // Decodes and applies one line (without its newline) that arrived at `now` (unix seconds).
  // Returns false when the line was rejected.
  bool Line(std::string_view line, double now);
  // Like Line(), for the unterminated rest of a stream that just ended: if it does not decode,
  // it was cut off, and is counted as "truncated_line" rather than as malformed.
  bool LastLine(std::string_view line, double now);
  // Counts and logs a transport-level error.
  void Error(std::string_view reason, std::string_view message, std::string_view sample = {});
  // Adds the counts gathered since the last Flush() to the metrics.
  void Flush();

  uint64_t accepted() const { return accepted_; }
  uint64_t rejected() const { return rejected_; }
  const std::string& last_error() const { return last_error_; }

 private:
  bool Process(std::string_view line, double now, bool stream_ended);

  Monitor* monitor_;
  TransportMetrics* metrics_;
  prometheus::Counter* values_;
  LogRateLimiter* log_limiter_;
  LineDecoder decoder_;
  Record record_;
  DecodeError error_;
  ApplyStats stats_;
  Monitor::Batch batch_;  // released by Flush()
  uint64_t records_[2] = {0, 0};
  uint64_t accepted_ = 0, rejected_ = 0;
  std::string last_error_;
};

}  // namespace driftd
