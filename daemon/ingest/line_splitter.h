// Splits a byte stream into newline-terminated lines, bounding how much of one line is buffered.
// Pure: no sockets. Lines that fit in one read are handed out without copying.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

namespace driftd {

class LineSplitter {
 public:
  explicit LineSplitter(size_t max_line_bytes) : max_(max_line_bytes) {}

  // Feeds `data`: calls on_line(std::string_view) for every complete line (without '\n') and
  // on_too_long(std::string_view head) once for every line longer than max_line_bytes, with the
  // part of it seen so far (at least its first max_line_bytes bytes, for a log sample); its rest
  // is then skipped up to its newline. A line may span any number of Feed() calls.
  template <class OnLine, class OnTooLong>
  void Feed(std::string_view data, OnLine&& on_line, OnTooLong&& on_too_long) {
    while (!data.empty()) {
      const char* nl = static_cast<const char*>(std::memchr(data.data(), '\n', data.size()));
      const size_t len = nl ? static_cast<size_t>(nl - data.data()) : data.size();
      if (skipping_) {
        if (nl) skipping_ = false;
      } else if (partial_.size() + len > max_) {
        if (partial_.empty()) {
          on_too_long(data.substr(0, len));
        } else {
          partial_.append(data.data(), std::min(len, max_));
          on_too_long(std::string_view(partial_));
        }
        Release();
        skipping_ = nl == nullptr;
      } else if (nl && partial_.empty()) {
        on_line(data.substr(0, len));
      } else {
        partial_.append(data.data(), len);
        if (nl) {
          on_line(std::string_view(partial_));
          Release();
        }
      }
      data.remove_prefix(nl ? len + 1 : len);
    }
  }

  // The unterminated line buffered so far (empty when the stream ended on a newline, or while an
  // overlong line is being skipped).
  std::string_view rest() const { return partial_; }
  // Whether a line has begun and not ended yet (buffered, or an overlong one being skipped).
  bool in_line() const { return skipping_ || !partial_.empty(); }
  // The bytes held for the unterminated line (its capacity, not its length).
  size_t buffered_capacity() const { return partial_.capacity(); }
  void Reset() {
    Release();
    skipping_ = false;
  }

  // A buffer that grew past this for one long line is given back once the line is done, so a
  // connection that once sent a long line does not keep its memory.
  static constexpr size_t kKeptCapacity = 4096;

 private:
  void Release() {
    if (partial_.capacity() > kKeptCapacity) {
      std::string().swap(partial_);
    } else {
      partial_.clear();
    }
  }

  size_t max_;
  std::string partial_;
  bool skipping_ = false;
};

}  // namespace driftd
