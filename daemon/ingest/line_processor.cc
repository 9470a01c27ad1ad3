#include "daemon/ingest/line_processor.h"

namespace driftd {

LineProcessor::LineProcessor(Monitor* monitor, TransportMetrics* metrics,
                             prometheus::Counter* values, LogRateLimiter* log_limiter,
                             size_t max_line_bytes, DecodeScratch* scratch)
    : monitor_(monitor),
      metrics_(metrics),
      values_(values),
      log_limiter_(log_limiter),
      splitter_(max_line_bytes),
      own_scratch_(scratch ? nullptr : std::make_unique<DecodeScratch>()),
      scratch_(scratch ? scratch : own_scratch_.get()),
      batch_(scratch_->shard) {}

void LineProcessor::Feed(std::string_view bytes, double now) {
  splitter_.Feed(
      bytes, [&](std::string_view line) { Process(line, now, false); },
      [&](std::string_view head) { TooLong(head); });
}

void LineProcessor::EndMessage(double now) {
  if (splitter_.rest().empty()) return;
  Process(splitter_.rest(), now, false);
  splitter_.Reset();
}

void LineProcessor::EndStream(double now) {
  if (splitter_.rest().empty()) return;
  Process(splitter_.rest(), now, true);
  splitter_.Reset();
}

bool LineProcessor::DropPartialLine() {
  const bool had = !splitter_.rest().empty();
  splitter_.Reset();
  return had;
}

void LineProcessor::TooLong(std::string_view head) {
  ++lines_;
  Error(Reason::kLineTooLong, "line longer than max_line_bytes; skipped to its end", head);
}

bool LineProcessor::Process(std::string_view line, double now, bool stream_ended) {
  ++lines_;
  Record& record = scratch_->record;
  DecodeError& error = scratch_->error;
  switch (scratch_->decoder.Decode(line, &record, &error)) {
    case DecodeStatus::kSkip:
      return true;
    case DecodeStatus::kError:
      if (stream_ended) {
        Error(Reason::kTruncatedLine, "connection closed in the middle of a line", line);
      } else {
        Error(error.reason, error.message, line);
      }
      return false;
    case DecodeStatus::kRecord:
      break;
  }
  ++decoded_;
  ++records_[static_cast<size_t>(record.format)];
  const ApplyOutcome outcome = monitor_->Apply(record, now, &batch_);
  stats_.Add(outcome);
  if (!outcome.accepted()) {
    Rejected(RejectionMessage(outcome.rejected), line);
    return false;
  }
  ++accepted_;
  return true;
}

std::string LineProcessor::RejectionMessage(Reason reason) const {
  switch (reason) {
    case Reason::kUnknownModel:
      return "unknown model \"" + std::string(scratch_->record.model) + "\"";
    case Reason::kLate:
      return "timestamp older than the window";
    case Reason::kFuture:
      return "timestamp more than one slice ahead of driftd's clock";
    default:
      return std::string(ReasonLabel(reason));
  }
}

void LineProcessor::Rejected(std::string message, std::string_view line) {
  ++rejected_;
  last_error_ = std::move(message);
  if (first_error_.line == 0) {
    first_error_ = {lines_, last_error_, std::string(Utf8Prefix(line, kLogSampleBytes))};
  }
}

void LineProcessor::Error(Reason reason, std::string_view message, std::string_view sample) {
  batch_.Release();  // logging may block on stderr: never while holding a model's lock
  Rejected(std::string(ReasonLabel(reason)) + ": " + std::string(message), sample);
  metrics_->Error(reason);
  uint64_t suppressed = 0;
  if (log_limiter_->Allow(&suppressed)) {
    Log(spdlog::level::warn, "ingest error",
        {{"reason", ReasonLabel(reason)},
         {"error", message},
         {"sample", Utf8Prefix(sample, kLogSampleBytes)},
         {"suppressed", suppressed}});
  }
}

void LineProcessor::Flush() {
  batch_.Release();
  for (size_t f = 0; f < records_.size(); ++f) {
    if (records_[f]) metrics_->records[f]->Increment(static_cast<double>(records_[f]));
    records_[f] = 0;
  }
  metrics_->Add(stats_, values_);
  stats_ = ApplyStats{};
}

}  // namespace driftd
