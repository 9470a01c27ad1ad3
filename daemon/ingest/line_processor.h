// Turns lines into counted records for one connection or socket: decode, apply to the Monitor,
// count, and log a rate-limited sample of what was rejected. Not thread-safe: one per session.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "daemon/ingest/decoder.h"
#include "daemon/log.h"
#include "daemon/export/metrics.h"

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
  void Error(Reason reason, std::string_view message, std::string_view sample = {});
  // Adds the counts gathered since the last Flush() to the metrics.
  void Flush();

  uint64_t accepted() const { return accepted_; }
  uint64_t rejected() const { return rejected_; }
  const std::string& last_error() const { return last_error_; }

 private:
  bool Process(std::string_view line, double now, bool stream_ended);
  std::string RejectionMessage(Reason reason) const;

  Monitor* monitor_;
  TransportMetrics* metrics_;
  prometheus::Counter* values_;
  LogRateLimiter* log_limiter_;
  LineDecoder decoder_;
  Record record_;
  DecodeError error_;
  ApplyStats stats_;
  Monitor::Batch batch_;  // released by Flush()
  std::array<uint64_t, static_cast<size_t>(Format::kCount)> records_{};  // by Format
  uint64_t accepted_ = 0, rejected_ = 0;
  std::string last_error_;
};

}  // namespace driftd
