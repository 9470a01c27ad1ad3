#include "core/window_set.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace driftd {

namespace {

// floor(a / b) for b > 0.
int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && a < 0 ? 1 : 0); }

}  // namespace

std::string WindowSet::CheckTiers(const std::vector<WindowOptions>& tiers) {
  if (tiers.empty()) return "at least one window is needed";
  for (size_t k = 1; k < tiers.size(); ++k) {
    const WindowOptions& fine = tiers[k - 1];
    const WindowOptions& coarse = tiers[k];
    const double ratio = coarse.slice_seconds() / fine.slice_seconds();
    std::ostringstream why;
    if (!(ratio >= 1) || std::abs(ratio - std::round(ratio)) > 1e-9 * ratio) {
      why << "window " << k << ": its slice (" << coarse.slice_seconds()
          << " s) must be a whole multiple of the slice of the window before it ("
          << fine.slice_seconds() << " s)";
      return why.str();
    }
    if (coarse.length_seconds < fine.length_seconds + coarse.slice_seconds() * (1 - 1e-9)) {
      why << "window " << k << ": its length (" << coarse.length_seconds
          << " s) must exceed the length of the window before it (" << fine.length_seconds
          << " s) by at least one of its slices (" << coarse.slice_seconds() << " s)";
      return why.str();
    }
  }
  return "";
}

WindowSet::WindowSet(const std::vector<WindowOptions>& tiers,
                     const std::vector<uint32_t>& bins_per_feature, double now) {
  tiers_.reserve(tiers.size());
  ratio_.reserve(tiers.size());
  for (size_t k = 0; k < tiers.size(); ++k) {
    tiers_.emplace_back(tiers[k], bins_per_feature, now);
    ratio_.push_back(k == 0 ? 1
                            : static_cast<int64_t>(std::llround(tiers[k].slice_seconds() /
                                                                tiers[k - 1].slice_seconds())));
  }
}

void WindowSet::HandOn(size_t k, int64_t index, const SlidingWindow::Counter* counts) {
  for (; k < tiers_.size(); ++k) {
    SlidingWindow& w = tiers_[k];
    index = std::min(FloorDiv(index, ratio_[k]), w.head());
    const std::span<SlidingWindow::Counter> dst = w.MutableSlice(index);
    if (dst.empty()) continue;  // older than this window too: on to the next
    uint64_t saturated = 0;
    for (size_t b = 0; b < dst.size(); ++b) {
      const uint64_t sum = uint64_t{dst[b]} + counts[b];
      if (sum > SlidingWindow::kCounterMax) [[unlikely]] {
        saturated += sum - SlidingWindow::kCounterMax;
        dst[b] = SlidingWindow::kCounterMax;
      } else {
        dst[b] = static_cast<SlidingWindow::Counter>(sum);
      }
    }
    w.AddSaturations(saturated);
    return;
  }
}

void WindowSet::AdvanceTo(double now) {
  if (!(now > end())) return;
  // The coarsest first, so that a slice handed on lands in a tier already at `now`.
  for (size_t k = tiers_.size(); k-- > 0;) {
    SlidingWindow& w = tiers_[k];
    if (k + 1 < tiers_.size()) {
      const int64_t slices = w.options().slices;
      const int64_t head = SlidingWindow::IndexOf(now, w.options());
      // The slices whose slots the advance reuses: head_ + 1 - slices .. last - slices.
      const int64_t last = std::min(head, w.head() + slices);
      for (int64_t i = w.head() + 1 - slices; i <= last - slices; ++i) {
        const std::span<const SlidingWindow::Counter> s = w.Slice(i);
        if (!s.empty()) HandOn(k + 1, i, s.data());
      }
    }
    w.AdvanceTo(now);
  }
}

void WindowSet::Shift(double seconds) {
  for (SlidingWindow& w : tiers_) w.Shift(seconds);
}

Admission WindowSet::Admit(double t, WindowPlace* place) const {
  const Admission a = tiers_[0].Admit(t, &place->slot);
  if (a != Admission::kLate) {
    place->tier = 0;
    return a;
  }
  for (uint32_t k = 1; k < tiers_.size(); ++k) {
    if (tiers_[k].Admit(t, &place->slot) == Admission::kAccepted) {
      place->tier = k;
      return Admission::kAccepted;
    }
  }
  return Admission::kLate;
}

Admission WindowSet::Locate(double t, uint32_t* tier, int64_t* index) const {
  WindowPlace place;
  const Admission a = Admit(t, &place);
  if (a != Admission::kAccepted) return a;
  const SlidingWindow& w = tiers_[place.tier];
  *tier = place.tier;
  *index = std::min(SlidingWindow::IndexOf(t, w.options()), w.head());
  return a;
}

void WindowSet::Totals(std::vector<std::vector<uint64_t>>* out) const {
  out->resize(tiers_.size());
  std::vector<uint64_t> tier;
  for (size_t k = 0; k < tiers_.size(); ++k) {
    tiers_[k].Totals(&tier);
    if (k == 0) {
      (*out)[0] = tier;
      continue;
    }
    (*out)[k] = (*out)[k - 1];
    for (size_t i = 0; i < tier.size(); ++i) (*out)[k][i] += tier[i];
  }
}

bool WindowSet::CopyFeature(const WindowSet& from, uint32_t from_feature, uint32_t feature) {
  if (from.tiers_.size() != tiers_.size()) return false;
  for (size_t k = 0; k < tiers_.size(); ++k) {
    const SlidingWindow& a = from.tiers_[k];
    const SlidingWindow& b = tiers_[k];
    if (a.head() != b.head() || a.options().slices != b.options().slices ||
        a.options().slice_seconds() != b.options().slice_seconds() ||
        from_feature >= a.features() || feature >= b.features() ||
        a.bins(from_feature) != b.bins(feature)) {
      return false;
    }
  }
  for (size_t k = 0; k < tiers_.size(); ++k) {
    tiers_[k].CopyFeature(from.tiers_[k], from_feature, feature);
  }
  return true;
}

uint64_t WindowSet::saturations() const {
  uint64_t n = 0;
  for (const SlidingWindow& w : tiers_) n += w.saturations();
  return n;
}

size_t WindowSet::MemoryBytes() const {
  size_t n = sizeof(*this) + ratio_.capacity() * sizeof(int64_t);
  for (const SlidingWindow& w : tiers_) n += w.MemoryBytes();
  return n;
}

size_t WindowSet::MemoryBytesFor(const std::vector<WindowOptions>& tiers, size_t total_bins,
                                 size_t features) {
  size_t n = sizeof(WindowSet) + tiers.size() * sizeof(int64_t);
  for (const WindowOptions& w : tiers) {
    n += SlidingWindow::MemoryBytesFor(w.slices, total_bins, features);
  }
  return n;
}

}  // namespace driftd
