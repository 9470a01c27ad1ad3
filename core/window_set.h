// Several sliding windows of different lengths over the same features (5 minutes, an hour, a day),
// each observation counted once. The windows are tiers of SlidingWindow, finest first: a value is
// added to the finest tier that still covers its time, and a slice expiring from one tier is
// handed, whole, to the slice of the next tier that holds its time. Window k is the sum of tiers
// 0..k, and equals what a SlidingWindow of window k's options alone would hold. Time is passed in
// by the caller. Not thread-safe: one owner at a time (like SlidingWindow).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/window.h"

namespace driftd {

// Where one observation goes: a tier and its slot (SlidingWindow::Admit).
struct WindowPlace {
  uint32_t tier = 0;
  uint32_t slot = 0;
};

class WindowSet {
 public:
  // The rule the tiers must follow, finest first, or "" when `tiers` follows it: at least one
  // tier; each later tier's slice a whole multiple of the one before's (so a slice hands on whole)
  // and its length longer than the one before's by at least one of its own slices (so that what a
  // finer tier still holds is inside the coarser window). Names the offending tier by index.
  static std::string CheckTiers(const std::vector<WindowOptions>& tiers);

  // `tiers` must pass CheckTiers(); `bins_per_feature` as for SlidingWindow. Ends at `now`.
  WindowSet(const std::vector<WindowOptions>& tiers, const std::vector<uint32_t>& bins_per_feature,
            double now);

  // Moves every tier's end to `now`, handing expiring slices on to the next tier (the coarsest
  // tier's expire). A `now` earlier than the end is ignored.
  void AdvanceTo(double now);
  // SlidingWindow::Shift on every tier.
  void Shift(double seconds);

  // Where an observation stamped `t` goes: the finest tier that covers it (a value older than the
  // finest window may still be inside a longer one). kLate when older than the longest window;
  // kFuture as for SlidingWindow::Admit (one slice of the finest tier ahead is accepted).
  Admission Admit(double t, WindowPlace* place) const;

  // Counts one observation (see SlidingWindow::Add).
  void Add(WindowPlace place, uint32_t feature, uint32_t bin) {
    tiers_[place.tier].Add(place.slot, feature, bin);
  }

  // Where an observation stamped `t` goes, as Admit() decides, by tier and absolute slice index
  // (SlidingWindow::head()'s numbering) rather than slot.
  Admission Locate(double t, uint32_t* tier, int64_t* index) const;
  // Adds `counts` (total_bins() counters, laid out as a slice) into slice `index` of tier `tier`;
  // a slice that has left that tier goes where the tier handed it on (the next tier holding its
  // time; dropped past the last). Sums past kCounterMax saturate and are counted.
  void AddSlice(uint32_t tier, int64_t index, const SlidingWindow::Counter* counts) {
    HandOn(tier, index * ratio_[tier], counts);
  }

  // (*out)[k] = window k's totals (tiers 0..k summed), as SlidingWindow::Totals lays them out.
  void Totals(std::vector<std::vector<uint64_t>>* out) const;

  // Copies feature `from_feature` of `from` into `feature` here, tier by tier (see
  // SlidingWindow::CopyFeature); false and no change unless the tiers match.
  bool CopyFeature(const WindowSet& from, uint32_t from_feature, uint32_t feature);

  size_t windows() const { return tiers_.size(); }
  const SlidingWindow& tier(size_t k) const { return tiers_[k]; }
  SlidingWindow& mutable_tier(size_t k) { return tiers_[k]; }
  size_t offset(uint32_t feature) const { return tiers_[0].offset(feature); }
  double end() const { return tiers_[0].end(); }
  // Every tier's saturations (SlidingWindow::saturations()), summed.
  uint64_t saturations() const;
  size_t MemoryBytes() const;
  // MemoryBytes() of a set of `tiers` over `total_bins` bins of `features` features.
  static size_t MemoryBytesFor(const std::vector<WindowOptions>& tiers, size_t total_bins,
                               size_t features);

 private:
  // Adds `counts` (a slice of tier k - 1 with absolute index `index`) into tier k, or into the
  // first later tier still holding its time; dropped when none does.
  void HandOn(size_t k, int64_t index, const SlidingWindow::Counter* counts);

  std::vector<SlidingWindow> tiers_;
  std::vector<int64_t> ratio_;  // ratio_[k]: tier k's slice over tier k - 1's (ratio_[0] = 1)
};

}  // namespace driftd
