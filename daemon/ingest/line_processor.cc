#include "daemon/ingest/line_processor.h"

namespace driftd {

LineProcessor::LineProcessor(Monitor* monitor, TransportMetrics* metrics,
                             prometheus::Counter* values, LogRateLimiter* log_limiter)
    : monitor_(monitor), metrics_(metrics), values_(values), log_limiter_(log_limiter) {}

bool LineProcessor::Line(std::string_view line, double now) { return Process(line, now, false); }

bool LineProcessor::LastLine(std::string_view line, double now) { return Process(line, now, true); }

bool LineProcessor::Process(std::string_view line, double now, bool stream_ended) {
  switch (decoder_.Decode(line, &record_, &error_)) {
    case DecodeStatus::kSkip:
      return true;
    case DecodeStatus::kError:
      if (stream_ended) {
        Error("truncated_line", "connection closed in the middle of a line", line);
      } else {
        Error(error_.reason, error_.message, line);
      }
      return false;
    case DecodeStatus::kRecord:
      break;
  }
  ++records_[record_.format == Format::kJson ? 0 : 1];
  const uint64_t before = stats_.records;
  const auto unknown_model = stats_.errors[static_cast<size_t>(IngestError::kUnknownModel)];
  monitor_->Apply(record_, now, &stats_, &batch_);
  if (stats_.records == before) {
    ++rejected_;
    if (stats_.errors[static_cast<size_t>(IngestError::kUnknownModel)] != unknown_model) {
      last_error_ = "unknown model \"" + std::string(record_.model) + "\"";
    } else {
      last_error_ = "timestamp outside the window";
    }
    return false;
  }
  ++accepted_;
  return true;
}

void LineProcessor::Error(std::string_view reason, std::string_view message,
                          std::string_view sample) {
  batch_.Release();  // logging may block on stderr: never while holding a model's lock
  ++rejected_;
  last_error_ = std::string(reason) + ": " + std::string(message);
  metrics_->Error(reason);
  uint64_t suppressed = 0;
  if (log_limiter_->Allow(&suppressed)) {
    Log(spdlog::level::warn, "ingest error",
        {{"reason", reason},
         {"error", message},
         {"sample", Utf8Prefix(sample, kLogSampleBytes)},
         {"suppressed", suppressed}});
  }
}

void LineProcessor::Flush() {
  batch_.Release();
  for (int f = 0; f < 2; ++f) {
    if (records_[f]) metrics_->records[f]->Increment(static_cast<double>(records_[f]));
    records_[f] = 0;
  }
  metrics_->Add(stats_, values_);
  stats_ = ApplyStats{};
}

}  // namespace driftd
