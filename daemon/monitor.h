// The daemon's drift state: one sliding window per model over its reference's features, fed by
// decoded records from any transport, and the evaluation that turns windows into divergences.
// Thread-safety: every ModelState is guarded by its own mutex; Apply() and Evaluate() may run on
// different threads. The latest Evaluation is immutable and shared by pointer.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/alert_policy.h"
#include "core/divergence.h"
#include "core/reference.h"
#include "core/significance.h"
#include "core/window.h"
#include "daemon/ingest/decoder.h"

namespace driftd {

// Why a record or a value was not counted: the `reason` label of driftd_ingest_errors_total.
enum class IngestError {
  kUnknownModel,
  kUnknownFeature,
  kTypeMismatch,  // a string for a numeric feature, an object, ...
  kLate,
  kFuture,
  kCount,
};
const char* IngestErrorReason(IngestError e);

// Counts from applying records; the caller adds them to its metrics in one step per batch.
struct ApplyStats {
  uint64_t records = 0;  // records accepted into a window
  uint64_t values = 0;   // feature values counted
  std::array<uint64_t, static_cast<size_t>(IngestError::kCount)> errors{};
  void Add(IngestError e) { ++errors[static_cast<size_t>(e)]; }
};

struct MonitorOptions {
  WindowOptions window;
  DivergenceOptions divergence;
  bool kl_reference_to_window = false;
  uint64_t min_samples = 200;
};

// Everything evaluated for one feature.
struct FeatureEvaluation {
  std::string name;
  FeatureKind kind;
  uint64_t samples = 0;
  bool evaluable = false;  // samples >= min_samples: the divergences may be reported
  Divergences divergences;
  double kl = 0, entropy = 0, cross_entropy = 0;  // in the configured KL direction
  Significance significance;                      // G-test of the window against the reference
  double p_adjusted = 1;      // Benjamini-Hochberg across the model's evaluable features
  double kl_noise_floor = 0;  // (K-1)/(2n), in the configured log base
  double alert_value = 0;     // the alert policy's metric
  FeatureAlertState alert;    // the state after this evaluation
  double missing_ratio = 0;
  double out_of_range_ratio = 0;  // underflow + overflow, or other
  std::vector<uint64_t> window_counts;
  // The reference side, owned by the Monitor (valid while it lives).
  const FeatureBins* bins = nullptr;
  const std::vector<uint64_t>* reference_counts = nullptr;
  const std::vector<double>* reference_probabilities = nullptr;  // smoothed
};

struct ModelEvaluation {
  std::string model, version, sha256;
  std::vector<FeatureEvaluation> features;
  uint64_t records = 0;  // records in the window
  ModelAlertSummary alerts;
  uint64_t late = 0, future = 0;
};

struct Evaluation {
  double timestamp = 0;         // unix seconds the windows were evaluated at
  double duration_seconds = 0;  // wall time the evaluation took
  std::vector<ModelEvaluation> models;
};

struct MonitoredModel;  // one model's reference, window and alert state (monitor.cc)

class Monitor {
 public:
  // `references[i]` with the SHA-256 of its file `sha256[i]`; windows start at `now`.
  // `alerts[i]` is the alerting policy of references[i] (defaults when shorter).
  Monitor(const MonitorOptions& options, std::vector<Reference> references,
          std::vector<std::string> sha256, double now, std::vector<ModelAlerts> alerts = {});
  ~Monitor();

  // Keeps the model of the last applied record locked across consecutive Apply() calls, so a
  // chunk of records for one model takes the lock, advances the window and places arrival-time
  // records once. Owned by one thread; Release() it (or destroy it) before doing anything slow,
  // at the latest at the end of each read: the evaluation waits on the lock meanwhile.
  class Batch {
   public:
    Batch() = default;
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
    ~Batch() { Release(); }
    void Release();

   private:
    friend class Monitor;
    MonitoredModel* model_ = nullptr;  // locked while set
    double now_ = -1;                  // the `now` the window was advanced to
    bool now_admitted_ = false;        // whether arrival-time records are accepted, and where:
    uint32_t now_slot_ = 0;
  };

  // Counts `record` (arrival time `now`, unix seconds) into its model's window. A feature absent
  // from a record counts as missing for that record, as in `driftd reference build`. A tag whose
  // key names a categorical feature counts as that feature (unless a field already named it).
  // Thread-safe.
  void Apply(const Record& record, double now, ApplyStats* stats, Batch* batch = nullptr);

  // Advances every window to `now`, evaluates every feature and moves the alert states on by
  // one evaluation (logging every change). Holds each model's lock only while summing its window.
  // Must not run concurrently with itself (the alert states belong to the evaluating thread).
  std::shared_ptr<Evaluation> Evaluate(double now);

  const MonitorOptions& options() const { return options_; }
  size_t models() const { return models_.size(); }

 private:
  using Model = MonitoredModel;
  Model* Find(std::string_view name);
  void UpdateAlerts(Model* m, ModelEvaluation* me);
  MonitorOptions options_;
  std::vector<std::unique_ptr<Model>> models_;
};

}  // namespace driftd
