// Why input was not counted, whichever layer found it (decoder, transport, monitor): the `reason`
// label of driftd_ingest_errors_total. Each reason is named once, here; the metrics, the logs and
// docs/metrics.md take the labels from this table (a test checks the docs against it).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace driftd {

enum class Reason : uint8_t {
  // The decoder: the line is lost.
  kMalformedJson,
  kMalformedLineProtocol,
  kMissingModel,
  kBadTimestamp,
  kBinary,
  // The transports.
  kLineTooLong,
  kTruncatedLine,
  kTooManyConnections,
  kIdleTimeout,
  kBodyTooLarge,
  kShutdown,
  kAcceptError,
  kSlowClient,
  kUdpDropped,
  kTooManyRequests,
  kBadRequest,
  // The monitor: a record (unknown model, late, future) or one value (the others).
  kUnknownModel,
  kUnknownFeature,
  kTypeMismatch,
  kLate,
  kFuture,
  kCount,
};

inline constexpr size_t kReasonCount = static_cast<size_t>(Reason::kCount);

inline constexpr std::array<std::string_view, kReasonCount> kReasonLabels = {
    "malformed_json",
    "malformed_line_protocol",
    "missing_model",
    "bad_timestamp",
    "binary",
    "line_too_long",
    "truncated_line",
    "too_many_connections",
    "idle_timeout",
    "body_too_large",
    "shutdown",
    "accept_error",
    "slow_client",
    "udp_dropped",
    "too_many_requests",
    "bad_request",
    "unknown_model",
    "unknown_feature",
    "type_mismatch",
    "late",
    "future"};

static_assert(
    [] {
      for (std::string_view label : kReasonLabels) {
        if (label.empty()) return false;
      }
      return true;
    }(),
    "every Reason needs its label");

// The label of `r` ("malformed_json", ...).
inline std::string_view ReasonLabel(Reason r) { return kReasonLabels[static_cast<size_t>(r)]; }

// Counts by reason; adding is one array increment.
struct ReasonCounts {
  std::array<uint64_t, kReasonCount> n{};
  void Add(Reason r, uint64_t k = 1) { n[static_cast<size_t>(r)] += k; }
  uint64_t operator[](Reason r) const { return n[static_cast<size_t>(r)]; }
};

}  // namespace driftd
