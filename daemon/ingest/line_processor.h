// The one ingest pipeline every transport feeds: frames bytes into lines (LineSplitter), decodes
// each, applies it to the Monitor, counts, and logs a rate-limited sample of what was rejected.
// A stream, a datagram and an HTTP body differ only in how they end (EndStream, EndMessage).
// Not thread-safe: one per connection, socket or request.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/export/metrics.h"
#include "daemon/ingest/decoder.h"
#include "daemon/ingest/line_splitter.h"
#include "daemon/log.h"

namespace driftd {

// The decoder and its output, which one thread's processors can share: a line is decoded and
// applied within one call, so nothing of it outlives the call. Sharing them keeps an idle
// connection's memory to its unfinished line (the decoder's buffers grow with the longest line).
struct DecodeScratch {
  LineDecoder decoder;
  Record record;
  DecodeError error;
  // The Monitor shard (Monitor::Batch) the thread's records are counted through, or -1: under
  // each model's lock.
  int shard = -1;
};

class LineProcessor {
 public:
  // `scratch`, when not null, must outlive the processor and be used by no other thread while
  // this processor runs; null gives the processor its own.
  LineProcessor(Monitor* monitor, TransportMetrics* metrics, prometheus::Counter* values,
                LogRateLimiter* log_limiter, size_t max_line_bytes,
                DecodeScratch* scratch = nullptr);

  // Processes the lines in `bytes`, which arrived at `now` (unix seconds). A line may span
  // calls; one longer than max_line_bytes is counted as "line_too_long" and skipped to its end.
  void Feed(std::string_view bytes, double now);
  // The message (a datagram, an HTTP body) ended: its unterminated last line is a whole line.
  void EndMessage(double now);
  // The stream ended: an unterminated last line is a record if it decodes; otherwise it was cut
  // off, and is counted as "truncated_line" rather than as malformed.
  void EndStream(double now);
  // Forgets the unterminated line buffered so far; returns whether there was one.
  bool DropPartialLine();
  // Whether a line has begun and not ended (see LineSplitter::in_line).
  bool in_line() const { return splitter_.in_line(); }
  // Bytes this processor holds beyond its own size: the unterminated line's buffer.
  size_t buffered_capacity() const { return splitter_.buffered_capacity(); }

  // Counts and logs a transport-level error.
  void Error(Reason reason, std::string_view message, std::string_view sample = {});
  // Adds the counts gathered since the last Flush() to the metrics.
  void Flush();

  // The unit of line-protocol timestamps (DecodeScratch's decoder; see LineDecoder).
  void set_precision(TimestampPrecision precision) { scratch_->decoder.set_precision(precision); }

  uint64_t accepted() const { return accepted_; }
  // Lines that decoded as records, whether the monitor accepted them or not (unknown model, late,
  // future): what keeps a stream connection from being idle.
  uint64_t decoded() const { return decoded_; }
  uint64_t rejected() const { return rejected_; }
  const std::string& last_error() const { return last_error_; }
  // The first line rejected, by number (1-based, counting every line fed, blank ones included),
  // with its error and its first kLogSampleBytes; line 0 while none was.
  struct FirstError {
    uint64_t line = 0;
    std::string error;
    std::string sample;
  };
  const FirstError& first_error() const { return first_error_; }

 private:
  bool Process(std::string_view line, double now, bool stream_ended);
  void TooLong(std::string_view head);
  std::string RejectionMessage(Reason reason) const;

  Monitor* monitor_;
  TransportMetrics* metrics_;
  prometheus::Counter* values_;
  LogRateLimiter* log_limiter_;
  LineSplitter splitter_;
  std::unique_ptr<DecodeScratch> own_scratch_;  // when none was given
  DecodeScratch* scratch_;
  ApplyStats stats_;
  Monitor::Batch batch_;                                                 // released by Flush()
  std::array<uint64_t, static_cast<size_t>(Format::kCount)> records_{};  // by Format
  void Rejected(std::string message, std::string_view line);

  uint64_t accepted_ = 0, rejected_ = 0, decoded_ = 0;
  uint64_t lines_ = 0;  // lines fed so far
  std::string last_error_;
  FirstError first_error_;
};

}  // namespace driftd
