#include "core/window.h"

#include <algorithm>
#include <cmath>

namespace driftd {

SlidingWindow::SlidingWindow(const WindowOptions& options, std::vector<uint32_t> bins_per_feature,
                             double now)
    : options_(options), slice_seconds_(options.slice_seconds()) {
  offsets_.reserve(bins_per_feature.size() + 1);
  offsets_.push_back(0);
  for (uint32_t b : bins_per_feature) {
    stride_ += b;
    offsets_.push_back(static_cast<uint32_t>(stride_));
  }
  counts_.assign(stride_ * options_.slices, 0);
  head_ = SliceIndex(now);
  end_ = now;
}

int64_t SlidingWindow::SliceIndex(double t) const {
  const double q = std::floor(t / slice_seconds_);
  return ClampIndex(q);
}

int64_t SlidingWindow::IndexOf(double t, const WindowOptions& options) {
  return ClampIndex(std::floor(t / options.slice_seconds()));
}

int64_t SlidingWindow::ClampIndex(double q) {
  constexpr double kLimit = static_cast<double>(kIndexLimit);
  if (q >= kLimit) return kIndexLimit;      // also +inf
  if (!(q > -kLimit)) return -kIndexLimit;  // also -inf and NaN
  return static_cast<int64_t>(q);
}

uint32_t SlidingWindow::Slot(int64_t index) const {
  const int64_t s = options_.slices;
  return static_cast<uint32_t>((((index - shift_) % s) + s) % s);
}

void SlidingWindow::Shift(double seconds) {
  if (!std::isfinite(seconds)) return;
  end_ += seconds;
  const int64_t head = SliceIndex(end_);
  // Index head now names the slot head_ named: the newest slice stays the newest.
  const int64_t s = options_.slices;
  shift_ = (((shift_ + (head - head_)) % s) + s) % s;
  moved_ += head - head_;
  head_ = head;
}

void SlidingWindow::AdvanceTo(double now) {
  if (!(now > end_)) return;
  end_ = now;
  const int64_t head = SliceIndex(now);
  const int64_t last = std::min<int64_t>(head, head_ + options_.slices);
  for (int64_t i = head_ + 1; i <= last; ++i) {
    std::fill_n(counts_.begin() + static_cast<ptrdiff_t>(Slot(i) * stride_), stride_, 0u);
  }
  head_ = std::max(head_, head);
}

Admission SlidingWindow::Admit(double t, uint32_t* slot) const {
  if (std::isnan(t)) return Admission::kLate;
  // Decided on the double, before any conversion: 1e300 is future, not an overflowed index.
  if (t > end_ + slice_seconds_) return Admission::kFuture;
  const int64_t index = SliceIndex(t);  // clamped: -1e300 lands far below the window
  if (index > head_) {
    *slot = Slot(head_);
    return Admission::kAccepted;
  }
  if (index <= head_ - options_.slices) return Admission::kLate;
  *slot = Slot(index);
  return Admission::kAccepted;
}

void SlidingWindow::Totals(std::vector<uint64_t>* out) const {
  out->assign(stride_, 0);
  uint64_t* dst = out->data();
  for (uint32_t s = 0; s < options_.slices; ++s) {
    const Counter* src = counts_.data() + static_cast<size_t>(s) * stride_;
    for (size_t i = 0; i < stride_; ++i) dst[i] += src[i];
  }
}

bool SlidingWindow::Merge(const SlidingWindow& other) {
  if (other.offsets_ != offsets_ || other.options_.slices != options_.slices ||
      other.slice_seconds_ != slice_seconds_) {
    return false;
  }
  AdvanceTo(other.end_);
  // Add the other's live slices that are still live here, slice by absolute index (each window
  // maps an index to its own slot, see Shift()); a sum past kCounterMax saturates.
  const int64_t lo = std::max(head_, other.head_) - options_.slices + 1;
  for (int64_t i = std::max(lo, other.head_ - options_.slices + 1); i <= other.head_; ++i) {
    Counter* dst = counts_.data() + static_cast<size_t>(Slot(i)) * stride_;
    const Counter* src = other.counts_.data() + static_cast<size_t>(other.Slot(i)) * stride_;
    for (size_t b = 0; b < stride_; ++b) {
      const uint64_t sum = uint64_t{dst[b]} + src[b];
      if (sum > kCounterMax) [[unlikely]] {
        saturations_ += sum - kCounterMax;
        dst[b] = kCounterMax;
      } else {
        dst[b] = static_cast<Counter>(sum);
      }
    }
  }
  saturations_ += other.saturations_;
  return true;
}

bool SlidingWindow::CopyFeature(const SlidingWindow& from, uint32_t from_feature,
                                uint32_t feature) {
  if (from.options_.slices != options_.slices || from.slice_seconds_ != slice_seconds_ ||
      from.head_ != head_ || from_feature >= from.features() || feature >= features() ||
      from.bins(from_feature) != bins(feature)) {
    return false;
  }
  for (int64_t i = head_ - options_.slices + 1; i <= head_; ++i) {
    const Counter* src = from.counts_.data() + static_cast<size_t>(from.Slot(i)) * from.stride_ +
                         from.offsets_[from_feature];
    Counter* dst = counts_.data() + static_cast<size_t>(Slot(i)) * stride_ + offsets_[feature];
    std::copy_n(src, bins(feature), dst);
  }
  return true;
}

std::span<const SlidingWindow::Counter> SlidingWindow::Slice(int64_t index) const {
  if (index > head_ || index <= head_ - options_.slices) return {};
  return {counts_.data() + static_cast<size_t>(Slot(index)) * stride_, stride_};
}

std::span<SlidingWindow::Counter> SlidingWindow::MutableSlice(int64_t index) {
  if (index > head_ || index <= head_ - options_.slices) return {};
  return {counts_.data() + static_cast<size_t>(Slot(index)) * stride_, stride_};
}

size_t SlidingWindow::MemoryBytesFor(uint32_t slices, size_t total_bins, size_t features) {
  return sizeof(SlidingWindow) + size_t{slices} * total_bins * sizeof(Counter) +
         (features + 1) * sizeof(decltype(offsets_)::value_type);
}

size_t SlidingWindow::MemoryBytes() const {
  return sizeof(*this) + counts_.capacity() * sizeof(decltype(counts_)::value_type) +
         offsets_.capacity() * sizeof(decltype(offsets_)::value_type);
}

}  // namespace driftd
