// A time-based sliding window of per-bin counters for every feature of one model.
// `length_seconds` is split into `slices` equal slices; whole slices expire as time advances, so
// the totals always cover the last `length_seconds` to within one slice. Time is passed in by the
// caller: nothing here reads a clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace driftd {

struct WindowOptions {
  double length_seconds = 3600;
  uint32_t slices = 60;
  double slice_seconds() const { return length_seconds / slices; }
  bool operator==(const WindowOptions&) const = default;
};

// Where an observation stamped t goes.
enum class Admission {
  kAccepted,  // inside the window (or at most one slice ahead of it: see below)
  kLate,      // older than the window: dropped
  kFuture,    // more than one slice ahead of the window's end: dropped
};

// One Counter per (feature, bin, slice), 4 bytes each, and no per-bin running totals (the totals
// are summed when asked for). A counter holds at most kCounterMax observations; further adds to a
// full counter are dropped and counted (saturations()), never wrapped. Not thread-safe: one owner
// at a time (the daemon guards each model's window with its own mutex).
class SlidingWindow {
 public:
  // The type of every (feature, bin, slice) counter.
  using Counter = uint32_t;
  // The most observations one (feature, bin, slice) counter holds: 4,294,967,295.
  static constexpr Counter kCounterMax = std::numeric_limits<Counter>::max();

  // `bins_per_feature[f]` is the size of feature f's full bin vector. The window ends at `now`.
  SlidingWindow(const WindowOptions& options, std::vector<uint32_t> bins_per_feature, double now);

  // Moves the window's end to `now` (unix seconds), expiring slices that fall out of it. A `now`
  // earlier than the current end is ignored: the window never moves backwards.
  void AdvanceTo(double now);

  // Moves the window by `seconds` of wall-clock time (positive or negative) without losing a
  // count: the end moves by `seconds` and every live slice keeps its counts, now covering the
  // shifted times; the newest slice stays the newest. For a wall clock that was stepped, so
  // that observations stamped on the new clock land where the old clock would have put them.
  // A non-finite `seconds` is ignored.
  void Shift(double seconds);

  // Decides where an observation stamped `t` goes. Rule for future timestamps (clock skew between
  // sender and driftd): up to one slice ahead of the window's end is counted in the newest slice;
  // further ahead (and +inf) is rejected as kFuture. Older than the window (and -inf, NaN) is
  // kLate. Any double is classified without overflow. On kAccepted, *slot is the slice to pass
  // to Add().
  Admission Admit(double t, uint32_t* slot) const;

  // Counts one observation of `feature` in `bin` in slice `slot` (from Admit()). A counter at
  // kCounterMax stays there and the add is counted in saturations() instead.
  void Add(uint32_t slot, uint32_t feature, uint32_t bin) {
    Counter& c = counts_[static_cast<size_t>(slot) * stride_ + offsets_[feature] + bin];
    if (!Increment(c)) ++saturations_;
  }
  // Adds one to `c` unless it is at kCounterMax; false when it was (the add did not fit). Add(),
  // and an ingest thread's own slice of counters (Monitor's shards).
  static bool Increment(Counter& c) {
    if (c == kCounterMax) [[unlikely]] {
      return false;
    }
    ++c;
    return true;
  }

  // Observations dropped because their counter was full (see Add()), since construction.
  uint64_t saturations() const { return saturations_; }

  // Writes the window's totals over all live slices, every feature's bins back to back in
  // feature order (see offset()), into *out, resizing it.
  void Totals(std::vector<uint64_t>* out) const;

  // Adds `other`'s counts into this window. Both must have the same options and bins (returns
  // false and changes nothing otherwise). The result equals the window that received both
  // windows' observations: its end is the later of the two ends.
  bool Merge(const SlidingWindow& other);

  // Copies feature `from_feature`'s counts in `from` into feature `feature` here, slice by slice.
  // Both windows must have the same options and end (build this one at from.end()) and the
  // feature the same number of bins; returns false and changes nothing otherwise.
  bool CopyFeature(const SlidingWindow& from, uint32_t from_feature, uint32_t feature);

  // The absolute index of the newest slice (floor(end / slice_seconds), as shifted); the live
  // slices are head() - slices + 1 .. head().
  int64_t head() const { return head_; }
  // How far Shift() has renumbered the slices so far: the slice that had index i has index
  // i + (moved() - moved() then) now.
  int64_t moved() const { return moved_; }
  // The absolute index of the slice holding time `t` in a window with `options`: head() is
  // IndexOf(end()).
  static int64_t IndexOf(double t, const WindowOptions& options);
  // The counters of live slice `index` (every feature's bins back to back), or an empty span
  // when `index` is not live.
  std::span<const Counter> Slice(int64_t index) const;
  std::span<Counter> MutableSlice(int64_t index);
  void AddSaturations(uint64_t n) { saturations_ += n; }

  uint32_t features() const { return static_cast<uint32_t>(offsets_.size() - 1); }
  uint32_t bins(uint32_t feature) const { return offsets_[feature + 1] - offsets_[feature]; }
  size_t offset(uint32_t feature) const { return offsets_[feature]; }
  size_t total_bins() const { return stride_; }
  const WindowOptions& options() const { return options_; }
  // Unix time of the window's end (the latest AdvanceTo()).
  double end() const { return end_; }
  // Bytes held by the counters and the bookkeeping, computed from the storage itself.
  size_t MemoryBytes() const;
  // The MemoryBytes() of a window of `slices` slices over `total_bins` bins (the sum of
  // bins_per_feature) of `features` features, before it is built: what `driftd check-config`
  // reports. Counters take slices * total_bins * sizeof(Counter) bytes.
  static size_t MemoryBytesFor(uint32_t slices, size_t total_bins, size_t features);

 private:
  friend struct SlidingWindowPeer;  // tests: sets a counter near kCounterMax without 4G adds

  // floor(t / slice), clamped to +-kIndexLimit so that any double maps to an index without an
  // out-of-range conversion (the clamped range still spans millions of years at 1 ms slices).
  int64_t SliceIndex(double t) const;
  static int64_t ClampIndex(double q);  // a floor()ed quotient as an index, clamped
  uint32_t Slot(int64_t index) const;
  static constexpr int64_t kIndexLimit = int64_t{1} << 52;

  WindowOptions options_;
  double slice_seconds_;
  std::vector<uint32_t> offsets_;  // feature f's bins start at offsets_[f]; one past the end last
  size_t stride_ = 0;              // counters per slice
  std::vector<Counter> counts_;    // [slice][feature bins...]
  int64_t head_ = 0;               // absolute index of the newest slice
  int64_t shift_ = 0;              // slices Shift() moved the indices by: index i is in slot
                                   // (i - shift_) mod slices
  int64_t moved_ = 0;              // the same, not reduced modulo slices (moved())
  double end_ = 0;
  uint64_t saturations_ = 0;
};

}  // namespace driftd
