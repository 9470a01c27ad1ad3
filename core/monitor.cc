#include "core/monitor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <type_traits>

#include "core/category.h"

namespace driftd {

std::optional<size_t> FindWindow(const std::vector<NamedWindow>& windows, std::string_view name) {
  for (size_t k = 0; k < windows.size(); ++k) {
    if (windows[k].name == name) return k;
  }
  return std::nullopt;
}

// MonitoredModel::Lookup()'s memory: the key last seen at each position and its feature (or -1),
// and a Record::shape whose keys those are.
struct PositionCache {
  std::vector<std::pair<std::string, int>> entries;
  uint64_t shape = 0;       // a record of this shape with at most shape_fields fields has
  size_t shape_fields = 0;  // entries' keys: each field's feature is its entry's
  // For a record of that shape, what CountRecord needs of each field's feature, in field order.
  struct Slot {
    const FeatureBins* bins = nullptr;  // null: the key is no feature
    uint32_t feature = 0;
    uint32_t offset = 0;   // the window's offset(feature): where its bins' counters start
    bool numeric = false;  // its bins are numeric (never for no feature)
  };
  std::vector<Slot> slots;  // shape_fields of them
};

// One ingest thread's counts for one model, gathered under `mu` alone: the records of the slice
// its arrival times fall in (tier 0, slice `index`), added into the model's window by Drain().
struct ModelShard {
  std::mutex mu;
  // Everything below is guarded by mu.
  bool retired = false;  // the model was retired (Reload): look its name up again
  std::vector<SlidingWindow::Counter> counts;  // a slice's counters (the window's layout)
  bool dirty = false;                          // counts holds something
  uint64_t saturations = 0;                    // adds dropped at a full counter
  bool placed = false;                         // index is a slice of the window
  int64_t index = 0;      // the slice counts belongs to, numbered as tier 0 was when its
  int64_t moved = 0;      // moved() was this (SlidingWindow::moved())
  double now = -1;        // the arrival time Place() last saw
  bool now_here = false;  // arrival-time records at `now` go into counts
  double shifted = 0;     // Monitor::shifted_ as Place() last saw it
  // As the model's own, for the records this shard counts (see MonitoredModel).
  std::vector<uint32_t> seen;
  uint32_t generation = 0;
  PositionCache by_position;
  std::vector<uint32_t> explicit_missing;
  uint64_t explicit_version = ~uint64_t{0};
};

struct MonitoredModel {
  MonitoredModel(Reference ref, const MonitorOptions& options, double now,
                 ModelAlerts alerts_policy, uint32_t shard_count = 0)
      : reference(std::move(ref)),
        alerts(std::move(alerts_policy)),
        window(Tiers(options), Bins(reference), now) {
    for (uint32_t i = 0; i < shard_count; ++i) {
      shards.push_back(std::make_unique<ModelShard>());
      shards.back()->seen.assign(reference.features.size(), 0);
    }
    warning_window = static_cast<uint32_t>(
        FindWindow(options.windows, alerts.warning_window).value_or(options.windows.size() - 1));
    critical_window =
        static_cast<uint32_t>(FindWindow(options.windows, alerts.critical_window).value_or(0));
    alert_states.resize(reference.features.size());
    prepared.reserve(reference.features.size());
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
  static std::vector<WindowOptions> Tiers(const MonitorOptions& options) {
    std::vector<WindowOptions> tiers;
    for (const NamedWindow& w : options.windows) tiers.push_back(w.options);
    return tiers;
  }
  uint32_t records_feature() const { return static_cast<uint32_t>(reference.features.size()); }

  // The feature named `key`, the `position`-th field of its record, or -1. Senders repeat the
  // same fields in the same order, so the answer for each position is remembered and checked
  // with one string compare before falling back to the hash table. Only keys that can be a
  // feature name (no longer than the longest one) are remembered, so the cache holds at most
  // kPositions keys of at most longest_name bytes (78 KiB with the reference limit of 256-byte
  // names, entries and slots included), whatever the senders send. Caller holds mu.
  int Lookup(PositionCache& by_position, size_t position, std::string_view key) const {
    if (position < by_position.entries.size()) {  // a remembered key is no longer than longest_name
      const auto& [name, f] = by_position.entries[position];
      if (SameKey(name, key)) return f;
    }
    return LookupAndRemember(by_position, position, key);
  }
  // Lookup's other case, out of line so that the usual one inlines into the per-field loop.
  [[gnu::noinline]] int LookupAndRemember(PositionCache& by_position, size_t position,
                                          std::string_view key) const {
    if (key.size() > longest_name) return -1;  // no feature has so long a name
    auto it = index.find(key);
    const int f = it == index.end() ? -1 : static_cast<int>(it->second);
    if (position < kPositions) {
      std::vector<std::pair<std::string, int>>& entries = by_position.entries;
      if (entries.capacity() < kPositions) entries.reserve(kPositions);  // never more
      if (entries.size() <= position) entries.resize(position + 1, {std::string(), -1});
      entries[position] = {std::string(key), f};
      by_position.shape = 0;
    }
    return f;
  }
  // After a record of a shape that `by_position` does not know was counted: remembers the shape,
  // for as many of its leading fields as the entries now hold, and their features' slots.
  [[gnu::noinline]] void RememberShape(PositionCache& by_position, const Record& record) const {
    const std::vector<std::pair<std::string, int>>& entries = by_position.entries;
    size_t n = 0;
    while (n < record.fields.size() && n < entries.size() &&
           entries[n].first == record.fields[n].key) {
      ++n;
    }
    by_position.shape = record.shape;
    by_position.shape_fields = n;
    by_position.slots.resize(n);  // at most kPositions, as the entries
    for (size_t i = 0; i < n; ++i) {
      PositionCache::Slot& slot = by_position.slots[i];
      const int f = entries[i].second;
      slot = {};
      if (f < 0) continue;
      slot.bins = &reference.features[static_cast<size_t>(f)].bins;
      slot.feature = static_cast<uint32_t>(f);
      slot.offset = static_cast<uint32_t>(window.offset(slot.feature));
      slot.numeric = slot.bins->kind() == FeatureKind::kNumeric;
    }
  }
  static constexpr size_t kPositions = 256;

  const Reference reference;
  const ModelAlerts alerts;
  uint32_t warning_window = 0, critical_window = 0;  // resolved from `alerts`
  // Evaluation thread only: the alert state of every feature, and the model's last summary.
  std::vector<FeatureAlertState> alert_states;
  bool retrain = false;
  std::vector<PreparedReference> prepared;
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> index;
  size_t longest_name = 0;  // bytes of the longest feature name

  std::mutex mu;
  WindowSet window;               // guarded by mu
  std::vector<uint32_t> seen;     // guarded by mu: generation a feature was last counted in
  PositionCache by_position;      // guarded by mu: see Lookup()
  uint32_t generation = 0;        // guarded by mu
  uint64_t late = 0, future = 0;  // guarded by mu
  double shifted = 0;             // guarded by mu: Monitor::shifted_ as this window last applied it
  // Guarded by mu: Reload() replaced this model; look the name up again in the current set.
  bool retired = false;
  // Guarded by mu. Features whose window started empty at a Reload() while the model's records
  // counter kept its counts: until every slice from before the reload has left the window
  // (explicit_until, window time), an absent value is counted in their missing bin as it comes
  // instead of being inferred from the records counter. counts_absent[f] marks them.
  std::vector<uint32_t> explicit_missing;
  std::vector<char> counts_absent;
  double explicit_until = 0;
  uint64_t explicit_version = 0;  // guarded by mu: changes of explicit_missing

  // One per shard number (Monitor's `shards`); a shard's lock is taken before mu, never after.
  std::vector<std::unique_ptr<ModelShard>> shards;

  void SetExplicitMissing(std::vector<uint32_t> features, double until) {
    ++explicit_version;
    explicit_missing = std::move(features);
    counts_absent.assign(explicit_missing.empty() ? 0 : reference.features.size(), 0);
    for (uint32_t f : explicit_missing) counts_absent[f] = 1;
    explicit_until = until;
  }
};

struct Monitor::ModelSet {
  MonitorOptions options;
  std::vector<std::shared_ptr<MonitoredModel>> models;
  MonitoredModel* Find(std::string_view name) const {
    for (const auto& m : models) {
      if (m->reference.model == name) return m.get();
    }
    return nullptr;
  }
};

Monitor::Monitor(const MonitorOptions& options, std::vector<Reference> references, double now,
                 std::vector<ModelAlerts> alerts, MonitorObserver* observer, uint32_t shards)
    : shards_(shards), observer_(observer) {
  auto set = std::make_shared<ModelSet>();
  set->options = options;
  for (size_t i = 0; i < references.size(); ++i) {
    set->models.push_back(std::make_shared<Model>(std::move(references[i]), options, now,
                                                  i < alerts.size() ? alerts[i] : ModelAlerts(),
                                                  shards_));
  }
  set_ = std::move(set);
}

Monitor::~Monitor() = default;

void Monitor::Batch::Release() {
  if (shard_held_ != nullptr) {
    shard_held_->mu.unlock();
  } else if (model_ != nullptr) {
    model_->mu.unlock();
  }
  shard_held_ = nullptr;
  model_ = nullptr;
  set_.reset();
  now_ = -1;
}

std::shared_ptr<const Monitor::ModelSet> Monitor::Current() const {
  std::lock_guard<std::mutex> lock(set_mu_);
  return set_;
}

MonitorOptions Monitor::options() const { return Current()->options; }
size_t Monitor::models() const { return Current()->models.size(); }

template <class TryLock>
Monitor::Model* Monitor::FindLive(std::string_view name, std::shared_ptr<const ModelSet>* set,
                                  TryLock try_lock) {
  for (;;) {
    *set = Current();
    Model* m = (*set)->Find(name);
    if (m == nullptr) return nullptr;
    // Retired: a Reload() published its successor before retiring it, so the next look-up
    // finds the successor.
    if (try_lock(m)) return m;
  }
}

Monitor::Model* Monitor::LockModel(std::string_view name, std::shared_ptr<const ModelSet>* set) {
  return FindLive(name, set, [](Model* m) {
    m->mu.lock();
    if (!m->retired) return true;
    m->mu.unlock();
    return false;
  });
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
    *bin = v.IsDecimal() ? bins.DecimalBin(v) : bins.NumericBin(v.number);  // booleans: 0 / 1
    return true;
  }
  if (v.IsNumber()) {
    CategoryBuffer buf;
    const double number = v.Number();
    *bin =
        std::isnan(number) ? bins.missing_bin() : bins.CategoryBin(CanonicalNumber(number, &buf));
  } else if (v.kind == Value::Kind::kBool) {
    *bin = bins.CategoryBin(v.text);  // "true" / "false": canonical already
  } else {
    *bin = TextCategoryBin(bins, v.text);
  }
  return true;
}

// Counts `record`'s fields and tags through `add(feature, offset, bin)` (offset: the window's
// offset(feature), which a shaped record's slots hold), each feature once (`seen` and
// `generation` stamp the features counted), then an absent value for each feature in
// `explicit_missing` the record did not carry; adds what it counted to *outcome.
template <class Add>
[[gnu::always_inline]] inline void CountRecord(const MonitoredModel& m, const Record& record,
                                               PositionCache& by_position,
                                               std::vector<uint32_t>& seen, uint32_t& generation,
                                               const std::vector<uint32_t>& explicit_missing,
                                               ApplyOutcome* outcome, Add&& add) {
  if (++generation == 0) {  // wrapped: forget every stamp
    std::fill(seen.begin(), seen.end(), 0u);
    generation = 1;
  }
  const uint32_t gen = generation;
  auto add_feature = [&](uint32_t f, uint32_t bin) { add(f, m.window.offset(f), bin); };
  add_feature(m.records_feature(), 0);
  // The per-value loop keeps its counts and pointers in locals: a store to *outcome could
  // otherwise alias them and make every value reload them.
  uint32_t* const stamps = seen.data();
  const ReferenceFeature* const features = m.reference.features.data();
  uint64_t values = 0, unknown = 0, mismatches = 0;
  const size_t fields = record.fields.size();
  const Field* const field_data = record.fields.data();
  // A shape the cache knows: its keys are the slots' and distinct, so no compare and no repeat.
  const bool shaped =
      record.shape != 0 && record.shape == by_position.shape && fields <= by_position.shape_fields;
  // One value of feature f: its bin counted, or a type mismatch (counted as missing, like an
  // absent feature).
  auto count = [&](uint32_t f, size_t offset, const FeatureBins& bins, bool numeric,
                   const Value& value, auto stamp) __attribute__((always_inline)) {
    uint32_t bin;
    if (numeric && value.IsDecimal()) {  // BinOf's usual cases, inline
      bin = bins.DecimalBin(value);
    } else if (value.kind == Value::Kind::kNumber && numeric) {
      bin = bins.NumericBin(value.number);
    } else if (uint32_t other; BinOf(bins, value, &other)) {  // (bin's address is not taken)
      bin = other;
    } else {
      ++mismatches;
      return;
    }
    if constexpr (decltype(stamp)::value) stamps[f] = gen;
    add(f, offset, bin);
    ++values;
  };
  if (shaped) {
    // A shape's keys are distinct: the stamps matter only to the tags and explicit_missing below.
    auto count_shaped = [&](auto stamp) __attribute__((always_inline)) {
      const PositionCache::Slot* const slots = by_position.slots.data();
      for (size_t i = 0; i < fields; ++i) {
        const PositionCache::Slot& slot = slots[i];
        // A numeric slot first: one test for the usual value (a slot of no feature is not).
        if (!slot.numeric && slot.bins == nullptr) {
          ++unknown;
          continue;
        }
        count(slot.feature, slot.offset, *slot.bins, slot.numeric, field_data[i].value, stamp);
      }
    };
    if (record.tags.empty() && explicit_missing.empty()) {
      count_shaped(std::false_type{});
    } else {
      count_shaped(std::true_type{});
    }
  } else {
    for (size_t i = 0; i < fields; ++i) {
      const Field& field = field_data[i];
      const int found = m.Lookup(by_position, i, field.key);
      if (found < 0) {
        ++unknown;
        continue;
      }
      const uint32_t f = static_cast<uint32_t>(found);
      if (stamps[f] == gen) continue;  // a repeated key counts once
      const FeatureBins& bins = features[f].bins;
      count(f, m.window.offset(f), bins, bins.kind() == FeatureKind::kNumeric, field.value,
            std::true_type{});
    }
  }
  outcome->values += values;
  outcome->unknown_features += unknown;
  outcome->type_mismatches += mismatches;
  if (!shaped && record.shape != 0 && record.shape != by_position.shape) {
    m.RememberShape(by_position, record);
  }
  for (const Field& tag : record.tags) {
    auto it = m.index.find(tag.key);
    if (it == m.index.end()) continue;  // ordinary tags (host, region) are not features
    const uint32_t f = it->second;
    const FeatureBins& bins = m.reference.features[f].bins;
    if (bins.kind() != FeatureKind::kCategorical || seen[f] == gen) continue;
    seen[f] = gen;
    add_feature(f, TextCategoryBin(bins, tag.value.text));
    ++outcome->values;
  }
  for (uint32_t f : explicit_missing) {  // empty but after a Reload() that reset features
    if (seen[f] != gen) add_feature(f, m.reference.features[f].bins.missing_bin());
  }
}

// Counts a record its window did not admit (late or future) in `m`, and returns why; kCount for
// an admitted one. Caller holds m->mu.
Reason Refused(MonitoredModel* m, Admission admission) {
  switch (admission) {
    case Admission::kLate:
      ++m->late;
      return Reason::kLate;
    case Admission::kFuture:
      ++m->future;
      return Reason::kFuture;
    case Admission::kAccepted:
      break;
  }
  return Reason::kCount;
}

// Adds what `s` holds into m's window and empties it, renumbering its slice as the window is
// numbered now. Caller holds s->mu and m->mu, the window's shifts caught up.
void Drain(MonitoredModel* m, ModelShard* s) {
  if (!s->placed) return;
  const int64_t moved = m->window.tier(0).moved();
  s->index += moved - s->moved;
  s->moved = moved;
  if (!s->dirty) return;
  m->window.AddSlice(0, s->index, s->counts.data());
  m->window.mutable_tier(0).AddSaturations(s->saturations);
  std::fill(s->counts.begin(), s->counts.end(), 0u);
  s->saturations = 0;
  s->dirty = false;
}

}  // namespace

// Every shard of a model locked (in order), then the model, and what the shards held added into
// its window: the window then holds every record applied before.
class Monitor::Drained {
 public:
  Drained(Monitor* monitor, Model* m) : m_(m) {
    locks_.reserve(m->shards.size());
    for (const auto& s : m->shards) locks_.emplace_back(s->mu);
    m->mu.lock();
    monitor->CatchUpShifts(m);
    for (const auto& s : m->shards) Drain(m, s.get());
  }
  ~Drained() { m_->mu.unlock(); }  // then the shards' locks (locks_)
  Drained(const Drained&) = delete;
  Drained& operator=(const Drained&) = delete;

 private:
  Model* m_;
  std::vector<std::unique_lock<std::mutex>> locks_;
};

ApplyOutcome Monitor::ApplyLocked(const Record& record, double now, Batch* batch) {
  if (batch == nullptr) {  // one record on its own (a Batch costs its destructor per record)
    Batch local;
    return ApplyLocked(record, now, &local);
  }
  ApplyOutcome outcome;
  Model* m = batch->model_;
  if (m == nullptr || !SameKey(m->reference.model, record.model)) {
    batch->Release();
    m = LockModel(record.model, &batch->set_);
    if (m == nullptr) {
      batch->set_.reset();
      outcome.rejected = Reason::kUnknownModel;
      return outcome;
    }
    batch->model_ = m;
  }
  if (now != batch->now_) {
    CatchUpShifts(m);
    m->window.AdvanceTo(now);
    batch->now_ = now;
    batch->now_admitted_ = m->window.Admit(now, &batch->now_place_) == Admission::kAccepted;
  }
  WindowPlace slot = batch->now_place_;
  Admission admission = Admission::kAccepted;
  if (!std::isnan(record.timestamp)) {
    admission = m->window.Admit(record.timestamp, &slot);
  } else if (!batch->now_admitted_) {
    admission = m->window.Admit(now, &slot);
  }
  outcome.rejected = Refused(m, admission);
  if (!outcome.accepted()) return outcome;
  CountRecord(*m, record, m->by_position, m->seen, m->generation, m->explicit_missing, &outcome,
              [&](uint32_t f, size_t, uint32_t bin) { m->window.Add(slot, f, bin); });
  return outcome;
}

Monitor::Model* Monitor::LockDrained(std::string_view name, std::shared_ptr<const ModelSet>* set,
                                     std::optional<Drained>* lock) {
  return FindLive(name, set, [&](Model* m) {
    lock->emplace(this, m);
    if (!m->retired) return true;
    lock->reset();
    return false;
  });
}

ModelShard* Monitor::LockShard(std::string_view name, int shard,
                               std::shared_ptr<const ModelSet>* set, Model** model) {
  ModelShard* s = nullptr;
  *model = FindLive(name, set, [&](Model* m) {
    s = m->shards[static_cast<size_t>(shard)].get();
    s->mu.lock();
    if (!s->retired) return true;
    s->mu.unlock();
    return false;
  });
  return *model == nullptr ? nullptr : s;
}

void Monitor::Place(Model* m, ModelShard* s, double now) {
  std::lock_guard<std::mutex> lock(m->mu);
  CatchUpShifts(m);
  m->window.AdvanceTo(now);
  Drain(m, s);  // renumbers s->index as the window is numbered now
  uint32_t tier = 0;
  int64_t index = 0;
  const bool here = m->window.Locate(now, &tier, &index) == Admission::kAccepted && tier == 0;
  if (here && (!s->placed || index != s->index)) {
    if (s->counts.empty()) s->counts.assign(m->window.tier(0).total_bins(), 0);
    s->placed = true;
    s->index = index;
  }
  s->now = now;
  s->now_here = here;
  s->shifted = m->shifted;
  if (s->explicit_version != m->explicit_version) {
    s->explicit_missing = m->explicit_missing;
    s->explicit_version = m->explicit_version;
  }
}

ApplyOutcome Monitor::ApplySharded(const Record& record, double now, Batch* batch) {
  ApplyOutcome outcome;
  Model* m = batch->model_;
  ModelShard* s = batch->shard_held_;
  if (m == nullptr || !SameKey(m->reference.model, record.model)) {
    batch->Release();
    s = LockShard(record.model, batch->shard_, &batch->set_, &m);
    if (s == nullptr) {
      batch->set_.reset();
      outcome.rejected = Reason::kUnknownModel;
      return outcome;
    }
    batch->model_ = m;
    batch->shard_held_ = s;
  }
  const double shifted = shifted_.load(std::memory_order_acquire);
  if (now != s->now || shifted != s->shifted) {
    // Another arrival time in the same slice, with no clock step since: the shard's place holds.
    if (s->now_here && shifted == s->shifted &&
        SlidingWindow::IndexOf(now, m->window.tier(0).options()) == s->index) {
      s->now = now;
    } else {
      Place(m, s, now);
    }
  }
  bool here = s->now_here;
  if (!std::isnan(record.timestamp)) {
    here = s->placed && s->shifted == shifted &&
           SlidingWindow::IndexOf(record.timestamp, m->window.tier(0).options()) == s->index;
  }
  if (here) {
    // Inlined: called once per value, it is a counter increment. (The counters' address in a
    // local: a counter's store could alias the vector's own, which would be reloaded.)
    SlidingWindow::Counter* const counts = s->counts.data();
    // A record counts each feature at most once, so no counter of the slice exceeds its records
    // counter: while that one is below the maximum, no increment can overflow, and none is
    // checked. At the maximum, each saturates on its own.
    if (counts[m->window.offset(m->records_feature())] < SlidingWindow::kCounterMax) [[likely]] {
      auto add = [&](uint32_t, size_t offset, uint32_t bin) __attribute__((always_inline)) {
        ++counts[offset + bin];
      };
      CountRecord(*m, record, s->by_position, s->seen, s->generation, s->explicit_missing, &outcome,
                  add);
    } else {
      auto add = [&](uint32_t, size_t offset, uint32_t bin) {
        if (!SlidingWindow::Increment(counts[offset + bin])) ++s->saturations;
      };
      CountRecord(*m, record, s->by_position, s->seen, s->generation, s->explicit_missing, &outcome,
                  add);
    }
    s->dirty = true;
    return outcome;
  }
  // Stamped outside the shard's slice (or no arrival-time place): counted straight into the
  // window, under the model's lock.
  std::lock_guard<std::mutex> lock(m->mu);
  CatchUpShifts(m);
  m->window.AdvanceTo(now);
  WindowPlace slot;
  outcome.rejected =
      Refused(m, m->window.Admit(std::isnan(record.timestamp) ? now : record.timestamp, &slot));
  if (!outcome.accepted()) return outcome;
  CountRecord(*m, record, s->by_position, s->seen, s->generation, m->explicit_missing, &outcome,
              [&](uint32_t f, size_t, uint32_t bin) { m->window.Add(slot, f, bin); });
  return outcome;
}

namespace {

// Feature f's counts as compared with its reference: its window totals, and the records that did
// not carry it as missing (inferred from the records counter, unless the feature counts absent
// values itself: MonitoredModel::explicit_missing).
void FeatureCounts(const MonitoredModel& m, const std::vector<uint64_t>& totals, uint32_t f,
                   bool counts_absent, std::vector<uint64_t>* out) {
  const FeatureBins& bins = m.reference.features[f].bins;
  out->assign(totals.begin() + m.window.offset(f),
              totals.begin() + m.window.offset(f) + bins.size());
  if (counts_absent) return;
  const uint64_t records = totals[m.window.offset(m.records_feature())];
  uint64_t counted = 0;
  for (uint64_t c : *out) counted += c;
  if (records > counted) (*out)[bins.missing_bin()] += records - counted;
}

// Feature f of window `window`, whose totals are `totals`: everything but the alert fields.
FeatureEvaluation EvaluateFeature(const MonitoredModel& m, const std::vector<uint64_t>& totals,
                                  uint32_t f, uint32_t window, bool counts_absent,
                                  const MonitorOptions& options, double log_scale) {
  const ReferenceFeature& rf = m.reference.features[f];
  const FeatureBins& bins = rf.bins;
  FeatureEvaluation fe;
  fe.name = rf.name;
  fe.window = window;
  fe.kind = bins.kind();
  FeatureCounts(m, totals, f, counts_absent, &fe.window_counts);
  const Divergences d = m.prepared[f].Compare(fe.window_counts);
  fe.samples = d.samples;
  fe.divergences = d;
  fe.evaluable = d.has_data && d.samples >= options.min_samples;
  if (options.kl_direction == KlDirection::kReferenceToWindow) {
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
  fe.reference_probabilities = &m.prepared[f].probabilities();
  fe.significance = GTest(fe.window_counts, m.prepared[f].probabilities(), rf.counts);
  fe.kl_noise_floor = fe.significance.kl_noise_floor * log_scale;
  return fe;
}

}  // namespace

std::shared_ptr<Evaluation> Monitor::Evaluate(double now) {
  auto eval = std::make_shared<Evaluation>();
  eval->timestamp = now;
  const std::shared_ptr<const ModelSet> set = Current();
  const MonitorOptions& options = set->options;
  eval->options = options;
  eval->models_alive = set;
  std::vector<std::vector<uint64_t>> totals;
  std::vector<char> counts_absent;
  const double log_scale = options.divergence.base == LogBase::kTwo ? 1.0 / std::log(2.0) : 1.0;
  for (const auto& m : set->models) {
    ModelEvaluation me;
    {
      Drained lock(this, m.get());
      m->window.AdvanceTo(now);
      if (!m->explicit_missing.empty() && m->window.end() >= m->explicit_until) {
        m->SetExplicitMissing({}, 0);  // every slice from before the reload has left
      }
      m->window.Totals(&totals);
      counts_absent = m->counts_absent;
      me.late = m->late;
      me.future = m->future;
      me.saturations = m->window.saturations();
    }
    me.model = m->reference.model;
    me.version = m->reference.version;
    me.sha256 = m->reference.sha256;
    me.warning_window = m->warning_window;
    me.critical_window = m->critical_window;
    const uint32_t features = static_cast<uint32_t>(m->reference.features.size());
    me.features_per_window = features;
    me.features.reserve(size_t{features} * totals.size());
    for (uint32_t k = 0; k < totals.size(); ++k) {
      me.records.push_back(totals[k][m->window.offset(m->records_feature())]);
      for (uint32_t f = 0; f < features; ++f) {
        me.features.push_back(EvaluateFeature(
            *m, totals[k], f, k, !counts_absent.empty() && counts_absent[f], options, log_scale));
      }
    }
    UpdateAlerts(m.get(), options, &me);
    eval->models.push_back(std::move(me));
  }
  return eval;
}

bool Monitor::SetShardCountersForTesting(std::string_view model, int shard, uint32_t value) {
  std::shared_ptr<const ModelSet> set;
  Model* m = nullptr;
  ModelShard* s = LockShard(model, shard, &set, &m);
  if (s == nullptr) return false;
  const bool placed = s->placed;
  if (placed) {
    std::fill(s->counts.begin(), s->counts.end(), value);
    s->dirty = true;
  }
  s->mu.unlock();
  return placed;
}

void Monitor::ShiftWindows(double seconds) {
  if (std::isfinite(seconds)) shifted_.fetch_add(seconds, std::memory_order_acq_rel);
}

void Monitor::CatchUpShifts(Model* m) {
  const double total = shifted_.load(std::memory_order_acquire);
  if (total == m->shifted) return;
  m->window.Shift(total - m->shifted);
  if (!m->explicit_missing.empty()) m->explicit_until += total - m->shifted;
  m->shifted = total;
}

ReloadReport Monitor::Reload(const MonitorOptions& options, std::vector<Reference> references,
                             double now, std::vector<ModelAlerts> alerts) {
  ReloadReport report;
  const std::shared_ptr<const ModelSet> old = Current();
  const bool same_window = old->options.windows == options.windows;
  report.windows_reset = !same_window;

  auto next = std::make_shared<ModelSet>();
  next->options = options;
  const double shifted = shifted_.load(std::memory_order_acquire);
  for (size_t i = 0; i < references.size(); ++i) {
    auto m = std::make_shared<Model>(std::move(references[i]), options, now,
                                     i < alerts.size() ? alerts[i] : ModelAlerts(), shards_);
    m->shifted = shifted;
    if (old->Find(m->reference.model) == nullptr) report.added.push_back(m->reference.model);
    next->models.push_back(std::move(m));
  }
  for (const auto& m : old->models) {
    if (next->Find(m->reference.model) == nullptr) report.removed.push_back(m->reference.model);
  }

  // The successors are locked before they are published, so that no record reaches one before
  // its predecessor's counts have moved into it; a predecessor is retired under its own lock,
  // after any record a batch holds it for.
  for (const auto& m : next->models) m->mu.lock();
  {
    std::lock_guard<std::mutex> lock(set_mu_);
    set_ = next;
  }
  const WindowOptions& longest = options.windows.back().options;
  for (const auto& o : old->models) {
    Drained lock(this, o.get());
    o->retired = true;
    for (const auto& shard : o->shards) shard->retired = true;
    Model* n = next->Find(o->reference.model);
    if (n == nullptr || !same_window) continue;
    CatchUpShifts(o.get());
    n->late = o->late;
    n->future = o->future;
    n->shifted = o->shifted;
    n->retrain = o->retrain;
    if (!o->reference.sha256.empty() && o->reference.sha256 == n->reference.sha256) {
      n->window = std::move(o->window);
      n->alert_states = o->alert_states;
      n->seen = std::move(o->seen);
      n->generation = o->generation;
      n->SetExplicitMissing(std::move(o->explicit_missing), o->explicit_until);
      report.unchanged.push_back(n->reference.model);
      continue;
    }
    WindowSet window(MonitoredModel::Tiers(options), MonitoredModel::Bins(n->reference),
                     o->window.end());
    std::vector<uint32_t> explicit_missing;
    for (uint32_t f = 0; f < n->reference.features.size(); ++f) {
      const ReferenceFeature& nf = n->reference.features[f];
      const int of = o->reference.FindFeature(nf.name);
      if (of >= 0 && o->reference.features[of].bins.SameBinsAs(nf.bins)) {
        window.CopyFeature(o->window, static_cast<uint32_t>(of), f);
        n->alert_states[f] = o->alert_states[of];
        if (!o->counts_absent.empty() && o->counts_absent[of]) explicit_missing.push_back(f);
      } else {
        explicit_missing.push_back(f);
        report.reset_features.emplace_back(n->reference.model, nf.name);
      }
    }
    window.CopyFeature(o->window, o->records_feature(), n->records_feature());
    window.mutable_tier(0).AddSaturations(o->window.saturations());
    const double until = std::max(o->explicit_until,
                                  window.end() + longest.length_seconds + longest.slice_seconds());
    n->window = std::move(window);
    n->SetExplicitMissing(std::move(explicit_missing), until);
    report.swapped.push_back(n->reference.model);
  }
  for (const auto& m : next->models) m->mu.unlock();
  return report;
}

std::optional<Reference> Monitor::Snapshot(std::string_view name, size_t window, double now,
                                           std::string* error) {
  std::shared_ptr<const ModelSet> set;
  std::optional<Drained> lock;  // held to the end: a reload may move this model's window out
  Model* m = LockDrained(name, &set, &lock);
  if (m == nullptr) {
    *error = "no model named \"" + std::string(name) + "\"";
    return std::nullopt;
  }
  if (window >= m->window.windows()) {
    *error = "no such window";
    return std::nullopt;
  }
  std::vector<std::vector<uint64_t>> all;
  CatchUpShifts(m);
  m->window.AdvanceTo(now);
  m->window.Totals(&all);
  const std::vector<uint64_t>& totals = all[window];
  if (totals[m->window.offset(m->records_feature())] == 0) {
    *error = "the window " + set->options.windows[window].name + " of model \"" +
             std::string(name) + "\" holds no record yet";
    return std::nullopt;
  }
  Reference ref;
  ref.model = m->reference.model;
  for (uint32_t f = 0; f < m->reference.features.size(); ++f) {
    ReferenceFeature rf{m->reference.features[f].name, m->reference.features[f].bins, {}};
    FeatureCounts(*m, totals, f, !m->counts_absent.empty() && m->counts_absent[f], &rf.counts);
    ref.features.push_back(std::move(rf));
  }
  return ref;
}

std::vector<ModelCheckpoint> Monitor::Checkpoint(double* max_lock_seconds) {
  std::vector<ModelCheckpoint> out;
  const std::shared_ptr<const ModelSet> set = Current();
  double longest = 0;
  const size_t tiers = set->options.windows.size();
  for (const auto& m : set->models) {
    ModelCheckpoint c;
    c.model = m->reference.model;
    c.sha256 = m->reference.sha256;
    c.windows = set->options.windows;
    c.bins = MonitoredModel::Bins(m->reference);
    size_t stride = 0;
    for (uint32_t b : c.bins) stride += b;
    for (const FeatureAlertState& s : m->alert_states) c.alert_states.push_back(s.Save());
    c.retrain = m->retrain;
    // One slice per lock: ingest of the model waits for one slice's copy at most, not the whole
    // window's. The buffer is allocated (and its pages faulted in) before the lock is taken. A
    // slice that moves on to the next tier during the copy (or a clock step, which renumbers
    // the slices) would be missed or copied twice, so the copy starts over when any tier's
    // newest slice changed; the third attempt holds the lock throughout. Every tier is copied
    // oldest slice first, the finest tier last, so the newest slice is copied last and its end
    // is the checkpoint's.
    for (int attempt = 0;; ++attempt) {
      const bool whole = attempt >= 2;
      std::optional<Drained> held;  // the shards' counts are added in first, either way
      held.emplace(this, m.get());
      if (!whole) held.reset();
      auto locked = [&](auto&& fn) {
        if (whole) return fn();
        std::lock_guard<std::mutex> lock(m->mu);
        return fn();
      };
      std::vector<int64_t> heads(tiers);
      double shifted = 0;
      locked([&] {
        CatchUpShifts(m.get());
        for (size_t k = 0; k < tiers; ++k) heads[k] = m->window.tier(k).head();
        shifted = m->shifted;
      });
      auto moved = [&] {  // caller holds m->mu
        CatchUpShifts(m.get());
        if (m->shifted != shifted) return true;
        for (size_t k = 0; k < tiers; ++k) {
          if (m->window.tier(k).head() != heads[k]) return true;
        }
        return false;
      };
      c.slices.assign(tiers, {});
      bool restart = false;
      for (size_t k = tiers; k-- > 0 && !restart;) {
        const int64_t slices = set->options.windows[k].options.slices;
        for (int64_t index = heads[k] - slices + 1; index <= heads[k] && !restart; ++index) {
          std::vector<uint32_t> counts(stride);
          bool live = false;
          const auto start = std::chrono::steady_clock::now();
          locked([&] {
            if (moved()) {
              restart = true;
              return;
            }
            const std::span<const SlidingWindow::Counter> slice = m->window.tier(k).Slice(index);
            live = slice.size() == stride;
            if (live) std::copy(slice.begin(), slice.end(), counts.begin());
            if (k == 0 && index == heads[0]) {
              c.end = m->window.end();
              c.late = m->late;
              c.future = m->future;
              c.saturations = m->window.saturations();
              c.explicit_missing = m->explicit_missing;
              c.explicit_until = m->explicit_until;
            }
          });
          longest = std::max(
              longest,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
          if (live &&
              std::any_of(counts.begin(), counts.end(), [](uint32_t v) { return v != 0; })) {
            c.slices[k].emplace_back(index, std::move(counts));
          }
        }
      }
      if (!restart) break;
    }
    out.push_back(std::move(c));
  }
  if (max_lock_seconds != nullptr) *max_lock_seconds = longest;
  return out;
}

bool Monitor::Restore(const ModelCheckpoint& saved, double now, uint64_t* records,
                      std::string* why) {
  std::shared_ptr<const ModelSet> set;
  std::optional<Drained> lock;
  Model* m = LockDrained(saved.model, &set, &lock);
  if (m == nullptr) {
    *why = "no such model in the configuration";
    return false;
  }
  const WindowOptions& w = set->options.windows.front().options;
  if (saved.sha256 != m->reference.sha256) {
    *why = "the reference changed since the checkpoint (sha256 " + saved.sha256 + ")";
    return false;
  }
  // A version 1 checkpoint's one window has no name: matched by its options alone.
  auto same = [&](const NamedWindow& a, const NamedWindow& b) {
    return (a.name.empty() || a.name == b.name) && a.options == b.options;
  };
  const std::vector<NamedWindow>& now_windows = set->options.windows;
  if (saved.windows.size() != now_windows.size() || saved.slices.size() != saved.windows.size() ||
      !std::equal(saved.windows.begin(), saved.windows.end(), now_windows.begin(), same)) {
    *why = "the windows changed since the checkpoint";
    return false;
  }
  if (!std::isfinite(saved.end) || !std::isfinite(saved.explicit_until)) {
    *why = "the checkpoint's window end is not a number";
    return false;
  }
  if (saved.end > now + w.slice_seconds()) {
    // Taken with a clock ahead of this one: its slices would hold the window there and every
    // record until the clock caught up would be late.
    *why = "the checkpoint's window ends in the future (clock stepped back since?)";
    return false;
  }
  if (saved.bins != MonitoredModel::Bins(m->reference) ||
      saved.alert_states.size() != m->alert_states.size()) {
    *why = "the checkpoint's bins do not match the reference";
    return false;
  }
  for (uint32_t f : saved.explicit_missing) {
    if (f >= m->reference.features.size()) {
      *why = "the checkpoint names a feature the reference does not have";
      return false;
    }
  }
  WindowSet window(MonitoredModel::Tiers(set->options), saved.bins, saved.end);
  for (size_t k = 0; k < saved.slices.size(); ++k) {
    for (const auto& [index, counts] : saved.slices[k]) {
      const std::span<SlidingWindow::Counter> slice = window.mutable_tier(k).MutableSlice(index);
      if (slice.size() != counts.size()) {
        *why = "the checkpoint holds a slice outside its window";
        return false;
      }
      std::copy(counts.begin(), counts.end(), slice.begin());
    }
  }
  std::vector<FeatureAlertState> states(m->alert_states.size());
  for (size_t f = 0; f < states.size(); ++f) {
    if (!states[f].Restore(saved.alert_states[f])) {
      *why = "the checkpoint holds an unknown alert level";
      return false;
    }
  }
  window.mutable_tier(0).AddSaturations(saved.saturations);
  // The slices that left the window while driftd was not running are dropped by their time.
  CatchUpShifts(m);
  window.AdvanceTo(std::max(now, saved.end));
  std::vector<std::vector<uint64_t>> totals;
  window.Totals(&totals);
  *records = totals.back()[window.offset(m->records_feature())];
  m->window = std::move(window);
  m->alert_states = std::move(states);
  m->retrain = saved.retrain;
  m->late = saved.late;
  m->future = saved.future;
  m->SetExplicitMissing(saved.explicit_missing, saved.explicit_until);
  return true;
}

MemoryEstimate Monitor::EstimateMemory(const MonitorOptions& options,
                                       const std::vector<Reference>& references, uint32_t shards) {
  MemoryEstimate e;
  for (const Reference& ref : references) {
    const std::vector<uint32_t> bins = MonitoredModel::Bins(ref);
    size_t total_bins = 0;
    for (uint32_t b : bins) total_bins += b;
    e.windows += WindowSet::MemoryBytesFor(MonitoredModel::Tiers(options), total_bins, bins.size());
    // The model's and every shard's key cache at its bound (kPositions keys, each as long as the
    // longest name, held outside the string when longer than its own buffer) and `seen` stamps;
    // a shard also holds one slice of counters.
    std::string_view longest;
    for (const ReferenceFeature& f : ref.features) {
      if (f.name.size() > longest.size()) longest = f.name;
    }
    const size_t cache =
        MonitoredModel::kPositions *
        (sizeof(decltype(PositionCache::entries)::value_type) + StringHeapBytes(longest));
    const size_t seen = ref.features.size() * sizeof(uint32_t);
    e.ingest += (cache + seen) + shards * (sizeof(ModelShard) + cache + seen +
                                           total_bins * sizeof(SlidingWindow::Counter));
    for (const ReferenceFeature& f : ref.features) {
      e.references += sizeof(ReferenceFeature) + StringHeapBytes(f.name) + f.bins.HeapBytes() +
                      f.counts.size() * sizeof(uint64_t) + sizeof(PreparedReference) +
                      PreparedReference::HeapBytesFor(f.bins.size());
    }
  }
  return e;
}

void Monitor::UpdateAlerts(Model* m, const MonitorOptions& options, ModelEvaluation* me) {
  const size_t features = me->features_per_window;
  const size_t windows = features == 0 ? 0 : me->features.size() / features;
  // Benjamini-Hochberg across the features that have enough data, window by window.
  for (size_t k = 0; k < windows; ++k) {
    FeatureEvaluation* first = me->features.data() + k * features;
    std::vector<double> p;
    for (size_t f = 0; f < features; ++f) {
      if (first[f].evaluable) p.push_back(first[f].significance.p_value);
    }
    const std::vector<double> adjusted = BenjaminiHochberg(p);
    size_t next = 0;
    for (size_t f = 0; f < features; ++f) {
      FeatureEvaluation& fe = first[f];
      const AlertPolicy& policy = m->alerts.For(fe.name);
      if (fe.evaluable) fe.p_adjusted = adjusted[next++];
      fe.alert_metric = policy.metric;
      fe.alert_value = Describe(policy.metric).value(fe);
    }
  }
  const std::vector<NamedWindow>& named = options.windows;
  for (size_t f = 0; f < features; ++f) {
    const FeatureEvaluation& warn = me->features[me->warning_window * features + f];
    const FeatureEvaluation& crit = me->features[me->critical_window * features + f];
    const AlertPolicy& policy = m->alerts.For(warn.name);
    FeatureAlertState& state = m->alert_states[f];
    const std::string from = state.Name();
    if (state.Update(policy, {warn.evaluable, warn.alert_value, warn.p_adjusted},
                     {crit.evaluable, crit.alert_value, crit.p_adjusted}) &&
        observer_) {
      // Told with the values of the window that decided the new level.
      const FeatureEvaluation& by = state.level() == DriftLevel::kCritical ? crit : warn;
      const std::string to = state.Name();
      observer_->FeatureStateChanged(
          {me->model, by.name, from, to, state.level(), policy.metric, by.alert_value,
           by.significance.p_value, by.p_adjusted, by.samples,
           by.window < named.size() ? std::string_view(named[by.window].name) : ""});
    }
    for (size_t k = 0; k < windows; ++k) me->features[k * features + f].alert = state;
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
