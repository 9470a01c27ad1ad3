// The drift state machine, the heart of driftd: one sliding window per model over its reference's
// features, fed by decoded records from any transport, and the evaluation that turns windows into
// divergences and moves the alert states on. Pure: time is passed in, and state changes are
// reported through MonitorObserver (the daemon logs them); no I/O, no threads of its own.
// Thread-safety: every model is guarded by its own mutex; Apply() and Evaluate() may run on
// different threads. An Evaluation is immutable once returned and shared by pointer. Several
// ingest threads apply records side by side through shards (Batch): each thread counts its model's
// newest slice in a shard of its own, under the shard's lock only, and the shards are added into
// the window (exactly: counts add) when the thread's slice changes and before anything reads or
// moves the window (evaluation, snapshot, checkpoint, reload).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/alert_policy.h"
#include "core/divergence.h"
#include "core/reference.h"
#include "core/significance.h"
#include "core/window.h"
#include "core/window_set.h"
#include "daemon/ingest/decoder.h"

namespace driftd {

// What Apply() did with one record.
struct ApplyOutcome {
  // kCount when the record was counted into its model's window; otherwise why not:
  // kUnknownModel, kLate or kFuture.
  Reason rejected = Reason::kCount;
  uint32_t values = 0;            // feature values counted
  uint32_t unknown_features = 0;  // fields that are not a feature of the model (not counted)
  uint32_t type_mismatches = 0;   // values of the wrong type (counted as missing)
  bool accepted() const { return rejected == Reason::kCount; }
};

// Outcomes added up; the caller adds them to its metrics in one step per batch.
struct ApplyStats {
  uint64_t records = 0;  // records accepted into a window
  uint64_t values = 0;   // feature values counted
  ReasonCounts errors;   // records and values not counted, by reason
  void Add(const ApplyOutcome& o) {
    if (o.accepted()) {
      ++records;
    } else {
      errors.Add(o.rejected);
    }
    values += o.values;
    if (o.unknown_features) errors.Add(Reason::kUnknownFeature, o.unknown_features);
    if (o.type_mismatches) errors.Add(Reason::kTypeMismatch, o.type_mismatches);
  }
};

// One of a model's windows: its name (the `window` label) and its length and slices.
struct NamedWindow {
  std::string name = "1h";
  WindowOptions options;
  bool operator==(const NamedWindow&) const = default;
};

// The index of the window named `name` in `windows`, or nullopt. Thread-safe.
std::optional<size_t> FindWindow(const std::vector<NamedWindow>& windows, std::string_view name);

struct MonitorOptions {
  // Shortest first; WindowSet::CheckTiers() holds for their options.
  std::vector<NamedWindow> windows{NamedWindow()};
  DivergenceOptions divergence;
  KlDirection kl_direction = KlDirection::kWindowToReference;
  uint64_t min_samples = 200;
};

// Everything evaluated for one feature in one window.
struct FeatureEvaluation {
  std::string name;
  uint32_t window = 0;  // the index of its window in MonitorOptions::windows
  FeatureKind kind;
  uint64_t samples = 0;
  bool evaluable = false;  // samples >= min_samples: the divergences may be reported
  Divergences divergences;
  double kl = 0, entropy = 0, cross_entropy = 0;  // in the configured KL direction
  Significance significance;                      // G-test of the window against the reference
  double p_adjusted = 1;      // Benjamini-Hochberg across the model's evaluable features
  double kl_noise_floor = 0;  // (K-1)/(2n), in the configured log base
  DriftMetric alert_metric = DriftMetric::kKl;  // the alert policy's metric
  double alert_value = 0;                       // and its value in this window
  // The feature's state after this evaluation: one per feature, whatever the window (its
  // warning level is decided in the policy's warning window, its critical level in the critical
  // window: ModelAlerts).
  FeatureAlertState alert;
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
  // Window by window (MonitorOptions::windows' order), each window's features in reference
  // order: feature f of window k is features[k * features_per_window + f].
  std::vector<FeatureEvaluation> features;
  size_t features_per_window = 0;
  std::vector<uint64_t> records;                     // records in each window
  uint32_t warning_window = 0, critical_window = 0;  // the alert policy's windows (indexes)
  std::span<const FeatureEvaluation> Window(size_t k) const {
    return {features.data() + k * features_per_window, features_per_window};
  }
  ModelAlertSummary alerts;
  uint64_t late = 0, future = 0;
  uint64_t saturations = 0;  // observations dropped at a full window counter (SlidingWindow::Add)
};

struct Evaluation {
  double timestamp = 0;         // unix seconds the windows were evaluated at
  double duration_seconds = 0;  // wall time the evaluation took
  MonitorOptions options;       // the options it was evaluated with
  std::vector<ModelEvaluation> models;
  // Keeps the models (whose references the features point into) alive as long as this
  // evaluation, across a Reload().
  std::shared_ptr<const void> models_alive;
};

// What Monitor::Reload() kept, reset and changed, for the log.
struct ReloadReport {
  std::vector<std::string> added, removed;
  std::vector<std::string> unchanged;  // same reference bytes: window and alert states kept
  std::vector<std::string> swapped;    // a new reference: every feature with the same bins kept
  // (model, feature) pairs whose bins changed or that are new in a swapped model: empty windows.
  std::vector<std::pair<std::string, std::string>> reset_features;
  bool windows_reset = false;  // the window options changed: every window starts empty
};

// One model's window and alert states as a checkpoint holds them (Monitor::Checkpoint), in the
// window's own terms: slices by absolute index, for the reference with `sha256` and `bins`.
struct ModelCheckpoint {
  using Slices = std::vector<std::pair<int64_t, std::vector<uint32_t>>>;
  std::string model, sha256;
  std::vector<NamedWindow> windows;
  std::vector<uint32_t> bins;  // the window's bins per feature (the records counter last)
  double end = 0;              // the window's end, unix seconds
  // slices[k]: the live slices of tier k of the WindowSet that are not all zero, oldest first.
  std::vector<Slices> slices;
  uint64_t late = 0, future = 0, saturations = 0;
  std::vector<uint32_t> explicit_missing;  // features counting absent values (see Reload)
  double explicit_until = 0;
  std::vector<FeatureAlertState::Saved> alert_states;
  bool retrain = false;
};

// A feature's drift state moved (FeatureAlertState::Update said so).
struct FeatureStateChange {
  std::string_view model, feature;
  std::string_view from, to;  // FeatureAlertState::Name()s
  DriftLevel level;           // the new level
  DriftMetric metric;         // the policy's metric, and its value
  double value;
  double p_value, p_adjusted;
  uint64_t window_samples;
  std::string_view window;  // the window those values are of
};

// A model's retraining recommendation turned on or off.
struct RetrainChange {
  std::string_view model;
  bool retrain;  // the new recommendation
  size_t drifted_features, critical_features, evaluable_features;
};

// Where the Monitor reports its state changes; the daemon logs them. Called on the thread that
// runs Evaluate(), during it.
class MonitorObserver {
 public:
  virtual ~MonitorObserver() = default;
  virtual void FeatureStateChanged(const FeatureStateChange& change) = 0;
  virtual void RetrainChanged(const RetrainChange& change) = 0;
};

struct MonitoredModel;  // one model's reference, window and alert state (monitor.cc)
struct ModelShard;      // one ingest thread's counts for a model (monitor.cc)

// The memory a Monitor will hold, in bytes: every model's window counters and its reference
// (bins, counts, smoothed probabilities), and what ingest keeps beside them per model: a key
// cache (at its bound) and a stamp per feature, and for each ingest thread the same again plus
// its shard's slice of counters.
struct MemoryEstimate {
  size_t windows = 0;
  size_t references = 0;
  size_t ingest = 0;
  size_t total() const { return windows + references + ingest; }
};

class Monitor {
 public:
  // One model per reference (its sha256 names it), windows starting at `now`. `alerts[i]` is the
  // alerting policy of references[i] (defaults when shorter). `observer` (may be null) hears of
  // every state change and must outlive the Monitor.
  // `shards`: how many Batch shard numbers (0 .. shards - 1) ingest threads may use, each its
  // own; fixed for the Monitor's life.
  Monitor(const MonitorOptions& options, std::vector<Reference> references, double now,
          std::vector<ModelAlerts> alerts = {}, MonitorObserver* observer = nullptr,
          uint32_t shards = 0);
  ~Monitor();

  struct ModelSet;  // the models and options in force (monitor.cc)

  // Keeps the model of the last applied record locked across consecutive Apply() calls, so a
  // chunk of records for one model takes the lock, advances the window and places arrival-time
  // records once. Owned by one thread; Release() it (or destroy it) before doing anything slow,
  // at the latest at the end of each read: the evaluation waits on the lock meanwhile.
  //
  // A Batch given a shard number (below the Monitor's `shards`) counts into that shard instead:
  // it holds the shard's lock, not the model's, and takes the model's only briefly, when its
  // slice changes or for a record stamped outside it. One thread per shard number, so that the
  // shard's lock is contended only by the evaluation.
  class Batch {
   public:
    Batch() = default;
    explicit Batch(int shard) : shard_(shard) {}
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
    ~Batch() { Release(); }
    void Release();

   private:
    friend class Monitor;
    int shard_ = -1;                                // the shard number, or none
    ModelShard* shard_held_ = nullptr;              // locked while set (model_ is not, then)
    MonitoredModel* model_ = nullptr;               // locked while set, unless shard_held_
    std::shared_ptr<const Monitor::ModelSet> set_;  // keeps model_ alive
    double now_ = -1;                               // the `now` the window was advanced to
    bool now_admitted_ = false;  // whether arrival-time records are accepted, and where:
    WindowPlace now_place_;
  };

  // Counts `record` (arrival time `now`, unix seconds) into its model's window and says what it
  // did. A feature absent from a record counts as missing for that record, as in `driftd
  // reference build`. A tag whose key names a categorical feature counts as that feature (unless
  // a field already named it). Thread-safe.
  ApplyOutcome Apply(const Record& record, double now, Batch* batch = nullptr) {
    // Inline: the ingest threads' usual call goes straight on to their shard.
    if (batch != nullptr && batch->shard_ >= 0 && static_cast<uint32_t>(batch->shard_) < shards_) {
      return ApplySharded(record, now, batch);
    }
    return ApplyLocked(record, now, batch);
  }

  // Advances every window to `now`, evaluates every feature and moves the alert states on by
  // one evaluation (reporting every change to the observer). Holds each model's lock only while
  // summing its window. Must not run concurrently with itself (the alert states belong to the
  // evaluating thread).
  std::shared_ptr<Evaluation> Evaluate(double now);

  // The wall clock was stepped by `seconds` (forward when positive): every model's window moves
  // by as much, keeping its counts (SlidingWindow::Shift), before the next Apply() with a new
  // `now` or Evaluate() touches it. Call it before handing out any time read from the stepped
  // clock. Takes no model lock (safe while holding a Batch); thread-safe.
  void ShiftWindows(double seconds);

  // Tests: sets every counter of the slice that shard `shard` of model `model` counts into (once
  // a record placed it) to `value`, as 4G records would, and returns whether there was one.
  bool SetShardCountersForTesting(std::string_view model, int shard, uint32_t value);

  // Replaces the models with one per reference in `references` under `options`, keeping what
  // can be kept: a model whose reference has the same sha256 (and the window options are
  // unchanged) keeps its window and alert states exactly; a model with a new reference keeps, per
  // feature with the same bins (same edges or categories), its window counts and alert state,
  // and starts the others empty; other models start empty and removed ones are dropped. Records
  // applied concurrently are never lost or counted twice: each old model is retired under its
  // lock, after the new models are published. Call on the thread that runs Evaluate(), never at
  // the same time as it.
  ReloadReport Reload(const MonitorOptions& options, std::vector<Reference> references, double now,
                      std::vector<ModelAlerts> alerts = {});

  // A model's window number `window` as a reference (same features and bins, the window's
  // counts with absent values as missing, as Evaluate() compares them), advanced to `now`;
  // nullopt with *error when there is no such model or window, or the window holds no record.
  // Thread-safe.
  std::optional<Reference> Snapshot(std::string_view model, size_t window, double now,
                                    std::string* error);

  // Every model's window and alert states (see ModelCheckpoint), each copied under its lock.
  // Call on the evaluation thread (the alert states are its own). `max_lock_seconds`, when
  // non-null, receives the longest time one model's lock was held.
  std::vector<ModelCheckpoint> Checkpoint(double* max_lock_seconds = nullptr);

  // Restores a checkpointed model into the model of the same name: only when the reference's
  // sha256 and bins and the windows match (else returns false with *why). Slices that have
  // since left the windows (by `now`) are dropped. Returns the records restored in the longest
  // window in *records. Call on the evaluation thread before ingest starts.
  bool Restore(const ModelCheckpoint& saved, double now, uint64_t* records, std::string* why);

  // What a Monitor built from `references` with `options` will hold (see MemoryEstimate),
  // computed from the sizes the windows and references allocate. Thread-safe.
  // `shards` as given to the constructor.
  static MemoryEstimate EstimateMemory(const MonitorOptions& options,
                                       const std::vector<Reference>& references,
                                       uint32_t shards = 0);

  MonitorOptions options() const;
  size_t models() const;

 private:
  using Model = MonitoredModel;
  std::shared_ptr<const ModelSet> Current() const;
  // The model named `name` of the current set, or null, once try_lock(m) took a lock on it and
  // said it is live (not retired; try_lock unlocks and returns false when it is). Defined and
  // used in monitor.cc: LockModel, LockShard, LockDrained.
  template <class TryLock>
  Model* FindLive(std::string_view name, std::shared_ptr<const ModelSet>* set, TryLock try_lock);
  // The model named `name` of the current set, locked and not retired, or null.
  Model* LockModel(std::string_view name, std::shared_ptr<const ModelSet>* set);
  void UpdateAlerts(Model* m, const MonitorOptions& options, ModelEvaluation* me);
  // Applies the ShiftWindows() calls `m` has not seen yet. Caller holds m->mu.
  void CatchUpShifts(Model* m);
  // Apply() through shard `batch->shard_`.
  ApplyOutcome ApplySharded(const Record& record, double now, Batch* batch);
  // Apply() with no shard: under the model's lock.
  ApplyOutcome ApplyLocked(const Record& record, double now, Batch* batch);
  // Where `shard`'s arrival-time records at `now` go, adding what it holds into the window first
  // when that changes. Caller holds the shard's lock, not m->mu.
  void Place(Model* m, ModelShard* shard, double now);
  // Shard `shard` of the model named `name` in the current set, locked and not retired, or null.
  ModelShard* LockShard(std::string_view name, int shard, std::shared_ptr<const ModelSet>* set,
                        Model** model);
  class Drained;  // every shard of a model and the model locked, the shards added in
  uint32_t shards_ = 0;
  // As LockModel(), with the model's shards added in and held in *lock.
  Model* LockDrained(std::string_view name, std::shared_ptr<const ModelSet>* set,
                     std::optional<Drained>* lock);
  MonitorObserver* observer_;
  mutable std::mutex set_mu_;
  std::shared_ptr<const ModelSet> set_;  // guarded by set_mu_; replaced whole by Reload()
  std::atomic<double> shifted_{0};       // the sum of every ShiftWindows() so far
};

}  // namespace driftd
