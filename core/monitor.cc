#include "core/monitor.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/category.h"

namespace driftd {

struct MonitoredModel {
  MonitoredModel(Reference ref, const MonitorOptions& options, double now,
                 ModelAlerts alerts_policy)
      : reference(std::move(ref)),
        alerts(std::move(alerts_policy)),
        window(options.window, Bins(reference), now) {
    alert_states.resize(reference.features.size());
    for (uint32_t f = 0; f < reference.features.size(); ++f) {
      index.emplace(reference.features[f].name, f);
      prepared.emplace_back(reference.features[f].counts, options.divergence);
      longest_name = std::max(longest_name, reference.features[f].name.size());
    }
    seen.assign(reference.features.size(), 0);
  }

  // Every feature's bins, then one counter of the records accepted (for absent = missing).
  static std::vector<uint32_t> Bins(const Reference& ref) {
    std::vector<uint32_t> bins;
    for (const ReferenceFeature& f : ref.features) bins.push_back(f.bins.size());
    bins.push_back(1);
    return bins;
  }
  uint32_t records_feature() const { return static_cast<uint32_t>(reference.features.size()); }

  // The feature named `key`, the `position`-th field of its record, or -1. Senders repeat the
  // same fields in the same order, so the answer for each position is remembered and checked
  // with one string compare before falling back to the hash table. Only keys that can be a
  // feature name (no longer than the longest one) are remembered, so the cache holds at most
  // kPositions * longest_name bytes of keys (64 KiB with the reference limit of 256-byte names),
  // whatever the senders send. Caller holds mu.
  int Lookup(size_t position, std::string_view key) {
    if (key.size() > longest_name) return -1;  // no feature has so long a name
    if (position < by_position.size()) {
      const auto& [name, f] = by_position[position];
      if (name == key) return f;
    }
    auto it = index.find(key);
    const int f = it == index.end() ? -1 : static_cast<int>(it->second);
    if (position < kPositions) {
      if (by_position.size() <= position) by_position.resize(position + 1, {std::string(), -1});
      by_position[position] = {std::string(key), f};
    }
    return f;
  }
  static constexpr size_t kPositions = 256;

  const Reference reference;
  const ModelAlerts alerts;
  // Evaluation thread only: the alert state of every feature, and the model's last summary.
  std::vector<FeatureAlertState> alert_states;
  bool retrain = false;
  std::vector<PreparedReference> prepared;
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> index;
  size_t longest_name = 0;  // bytes of the longest feature name

  std::mutex mu;
  SlidingWindow window;        // guarded by mu
  std::vector<uint32_t> seen;  // guarded by mu: generation a feature was last counted in
  std::vector<std::pair<std::string, int>> by_position;  // guarded by mu: see Lookup()
  uint32_t generation = 0;                               // guarded by mu
  uint64_t late = 0, future = 0;                         // guarded by mu
  double shifted = 0;  // guarded by mu: Monitor::shifted_ as this window last applied it
};

Monitor::Monitor(const MonitorOptions& options, std::vector<Reference> references, double now,
                 std::vector<ModelAlerts> alerts, MonitorObserver* observer)
    : options_(options), observer_(observer) {
  for (size_t i = 0; i < references.size(); ++i) {
    models_.push_back(std::make_unique<Model>(std::move(references[i]), options_, now,
                                              i < alerts.size() ? alerts[i] : ModelAlerts()));
  }
}

Monitor::~Monitor() = default;

void Monitor::Batch::Release() {
  if (model_ != nullptr) model_->mu.unlock();
  model_ = nullptr;
  now_ = -1;
}

Monitor::Model* Monitor::Find(std::string_view name) {
  for (auto& m : models_) {
    if (m->reference.model == name) return m.get();
  }
  return nullptr;
}

namespace {

// The bin of a category that came as text (a string or a tag): the category as written, or else
// the one of its canonical text (core/category.h), so that a tag "10115.0" finds the "10115" a CSV
// built. The second lookup is paid only by text that misses.
uint32_t TextCategoryBin(const FeatureBins& bins, std::string_view text) {
  const uint32_t bin = bins.CategoryBin(text);
  if (bin != bins.other_bin()) return bin;
  CategoryBuffer buf;
  const std::optional<std::string_view> canonical = CanonicalText(text, &buf);
  if (!canonical) return bins.missing_bin();  // "nan", as the builder counts it
  return *canonical == text ? bin : bins.CategoryBin(*canonical);
}

// The bin of `v` for `bins`, or false on a type mismatch.
bool BinOf(const FeatureBins& bins, const Value& v, uint32_t* bin) {
  if (v.kind == Value::Kind::kNull) {
    *bin = bins.missing_bin();
    return true;
  }
  if (bins.kind() == FeatureKind::kNumeric) {
    if (v.kind == Value::Kind::kString) return false;
    *bin = bins.NumericBin(v.number);  // booleans count as 0 / 1
    return true;
  }
  if (v.kind == Value::Kind::kNumber) {
    CategoryBuffer buf;
    *bin = std::isnan(v.number) ? bins.missing_bin()
                                : bins.CategoryBin(CanonicalNumber(v.number, &buf));
  } else if (v.kind == Value::Kind::kBool) {
    *bin = bins.CategoryBin(v.text);  // "true" / "false": canonical already
  } else {
    *bin = TextCategoryBin(bins, v.text);
  }
  return true;
}

}  // namespace

ApplyOutcome Monitor::Apply(const Record& record, double now, Batch* batch) {
  ApplyOutcome outcome;
  Model* m = Find(record.model);
  if (m == nullptr) {
    outcome.rejected = Reason::kUnknownModel;
    return outcome;
  }
  Batch local;
  if (batch == nullptr) batch = &local;
  if (batch->model_ != m) {
    batch->Release();
    m->mu.lock();
    batch->model_ = m;
  }
  if (now != batch->now_) {
    CatchUpShifts(m);
    m->window.AdvanceTo(now);
    batch->now_ = now;
    batch->now_admitted_ = m->window.Admit(now, &batch->now_slot_) == Admission::kAccepted;
  }
  uint32_t slot = batch->now_slot_;
  Admission admission = Admission::kAccepted;
  if (!std::isnan(record.timestamp)) {
    admission = m->window.Admit(record.timestamp, &slot);
  } else if (!batch->now_admitted_) {
    admission = m->window.Admit(now, &slot);
  }
  switch (admission) {
    case Admission::kLate:
      ++m->late;
      outcome.rejected = Reason::kLate;
      return outcome;
    case Admission::kFuture:
      ++m->future;
      outcome.rejected = Reason::kFuture;
      return outcome;
    case Admission::kAccepted:
      break;
  }
  if (++m->generation == 0) {  // wrapped: forget every stamp
    std::fill(m->seen.begin(), m->seen.end(), 0u);
    m->generation = 1;
  }
  const uint32_t gen = m->generation;
  m->window.Add(slot, m->records_feature(), 0);
  for (size_t i = 0; i < record.fields.size(); ++i) {
    const Field& field = record.fields[i];
    const int found = m->Lookup(i, field.key);
    if (found < 0) {
      ++outcome.unknown_features;
      continue;
    }
    const uint32_t f = static_cast<uint32_t>(found);
    if (m->seen[f] == gen) continue;  // a repeated key counts once
    uint32_t bin;
    if (!BinOf(m->reference.features[f].bins, field.value, &bin)) {
      ++outcome.type_mismatches;
      continue;  // counted as missing, like an absent feature
    }
    m->seen[f] = gen;
    m->window.Add(slot, f, bin);
    ++outcome.values;
  }
  for (const Field& tag : record.tags) {
    auto it = m->index.find(tag.key);
    if (it == m->index.end()) continue;  // ordinary tags (host, region) are not features
    const uint32_t f = it->second;
    const FeatureBins& bins = m->reference.features[f].bins;
    if (bins.kind() != FeatureKind::kCategorical || m->seen[f] == gen) continue;
    m->seen[f] = gen;
    m->window.Add(slot, f, TextCategoryBin(bins, tag.value.text));
    ++outcome.values;
  }
  return outcome;
}

std::shared_ptr<Evaluation> Monitor::Evaluate(double now) {
  auto eval = std::make_shared<Evaluation>();
  eval->timestamp = now;
  std::vector<uint64_t> totals;
  const double log_scale = options_.divergence.base == LogBase::kTwo ? 1.0 / std::log(2.0) : 1.0;
  for (auto& m : models_) {
    ModelEvaluation me;
    {
      std::lock_guard<std::mutex> lock(m->mu);
      CatchUpShifts(m.get());
      m->window.AdvanceTo(now);
      m->window.Totals(&totals);
      me.late = m->late;
      me.future = m->future;
      me.saturations = m->window.saturations();
    }
    me.model = m->reference.model;
    me.version = m->reference.version;
    me.sha256 = m->reference.sha256;
    const uint64_t records = totals[m->window.offset(m->records_feature())];
    me.records = records;
    for (uint32_t f = 0; f < m->reference.features.size(); ++f) {
      const ReferenceFeature& rf = m->reference.features[f];
      const FeatureBins& bins = rf.bins;
      FeatureEvaluation fe;
      fe.name = rf.name;
      fe.kind = bins.kind();
      fe.window_counts.assign(totals.begin() + m->window.offset(f),
                              totals.begin() + m->window.offset(f) + bins.size());
      uint64_t counted = 0;
      for (uint64_t c : fe.window_counts) counted += c;
      // Records that did not carry this feature: missing.
      if (records > counted) fe.window_counts[bins.missing_bin()] += records - counted;
      const Divergences d = m->prepared[f].Compare(fe.window_counts);
      fe.samples = d.samples;
      fe.divergences = d;
      fe.evaluable = d.has_data && d.samples >= options_.min_samples;
      if (options_.kl_direction == KlDirection::kReferenceToWindow) {
        fe.kl = d.kl_reference_to_window;
        fe.entropy = d.reference_entropy;
        fe.cross_entropy = d.reference_cross_entropy;
      } else {
        fe.kl = d.kl_window_to_reference;
        fe.entropy = d.entropy;
        fe.cross_entropy = d.cross_entropy;
      }
      if (fe.samples > 0) {
        const double n = static_cast<double>(fe.samples);
        fe.missing_ratio = static_cast<double>(fe.window_counts[bins.missing_bin()]) / n;
        const uint64_t out =
            bins.kind() == FeatureKind::kNumeric
                ? fe.window_counts[bins.underflow_bin()] + fe.window_counts[bins.overflow_bin()]
                : fe.window_counts[bins.other_bin()];
        fe.out_of_range_ratio = static_cast<double>(out) / n;
      }
      fe.bins = &rf.bins;
      fe.reference_counts = &rf.counts;
      fe.reference_probabilities = &m->prepared[f].probabilities();
      fe.significance = GTest(fe.window_counts, m->prepared[f].probabilities(), rf.counts);
      fe.kl_noise_floor = fe.significance.kl_noise_floor * log_scale;
      me.features.push_back(std::move(fe));
    }
    UpdateAlerts(m.get(), &me);
    eval->models.push_back(std::move(me));
  }
  return eval;
}

void Monitor::ShiftWindows(double seconds) {
  if (std::isfinite(seconds)) shifted_.fetch_add(seconds, std::memory_order_acq_rel);
}

void Monitor::CatchUpShifts(Model* m) {
  const double total = shifted_.load(std::memory_order_acquire);
  if (total == m->shifted) return;
  m->window.Shift(total - m->shifted);
  m->shifted = total;
}

MemoryEstimate Monitor::EstimateMemory(const MonitorOptions& options,
                                       const std::vector<Reference>& references) {
  MemoryEstimate e;
  for (const Reference& ref : references) {
    const std::vector<uint32_t> bins = MonitoredModel::Bins(ref);
    size_t total_bins = 0;
    for (uint32_t b : bins) total_bins += b;
    e.windows += SlidingWindow::MemoryBytesFor(options.window.slices, total_bins, bins.size());
    for (const ReferenceFeature& f : ref.features) {
      e.references += sizeof(ReferenceFeature) + StringHeapBytes(f.name) + f.bins.HeapBytes() +
                      f.counts.size() * sizeof(uint64_t) + sizeof(PreparedReference) +
                      PreparedReference::HeapBytesFor(f.bins.size());
    }
  }
  return e;
}

void Monitor::UpdateAlerts(Model* m, ModelEvaluation* me) {
  // Benjamini-Hochberg across the features that have enough data.
  std::vector<double> p;
  for (const FeatureEvaluation& fe : me->features) {
    if (fe.evaluable) p.push_back(fe.significance.p_value);
  }
  const std::vector<double> adjusted = BenjaminiHochberg(p);
  size_t next = 0;
  for (size_t f = 0; f < me->features.size(); ++f) {
    FeatureEvaluation& fe = me->features[f];
    const AlertPolicy& policy = m->alerts.For(fe.name);
    if (fe.evaluable) fe.p_adjusted = adjusted[next++];
    fe.alert_value = Describe(policy.metric).value(fe);
    FeatureAlertState& state = m->alert_states[f];
    const std::string from = state.Name();
    if (state.Update(policy, {fe.evaluable, fe.alert_value, fe.p_adjusted}) && observer_) {
      const std::string to = state.Name();
      observer_->FeatureStateChanged({me->model, fe.name, from, to, state.level(), policy.metric,
                                      fe.alert_value, fe.significance.p_value, fe.p_adjusted,
                                      fe.samples});
    }
    fe.alert = state;
  }
  me->alerts = Summarize(m->alerts.retrain, m->alert_states);
  if (me->alerts.retrain != m->retrain) {
    if (observer_) {
      observer_->RetrainChanged({me->model, me->alerts.retrain, me->alerts.drifted,
                                 me->alerts.critical, me->alerts.evaluable});
    }
    m->retrain = me->alerts.retrain;
  }
}

}  // namespace driftd
