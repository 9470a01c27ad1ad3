#include "daemon/ingest/decoder.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <system_error>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace driftd {
namespace {

constexpr Reason kMalformedJson = Reason::kMalformedJson;
constexpr Reason kMalformedLineProtocol = Reason::kMalformedLineProtocol;
constexpr Reason kMissingModel = Reason::kMissingModel;
constexpr Reason kBadTimestamp = Reason::kBadTimestamp;
constexpr Reason kBinary = Reason::kBinary;

// Items quoted in error messages are cut to this many bytes.
constexpr size_t kMaxQuotedBytes = 64;

// The JSON parser's first allocation; it doubles when a longer line arrives.
constexpr size_t kInitialJsonCapacity = 4096;

DecodeStatus Fail(DecodeError* error, Reason reason, std::string message) {
  if (error != nullptr) {
    error->reason = reason;
    error->message = std::move(message);
  }
  return DecodeStatus::kError;
}

// `s` in double quotes, cut to kMaxQuotedBytes without splitting a UTF-8 sequence.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  if (s.size() <= kMaxQuotedBytes) {
    out.append(s);
  } else {
    size_t cut = kMaxQuotedBytes;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    out.append(s.substr(0, cut));
    out.append("...");
  }
  out.push_back('"');
  return out;
}

std::string AtByte(size_t offset) { return " at byte " + std::to_string(offset); }

bool IsBlank(char c) { return c == ' ' || c == '\t'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

size_t SkipBlanks(const char* s, size_t pos, size_t n) {
  while (pos < n && IsBlank(s[pos])) ++pos;
  return pos;
}

// ---------------------------------------------------------------------------------------------
// Byte classification: one pass over the line finds control bytes, bytes >= 0x80 and (for line
// protocol) the positions of the bytes the grammar cares about.

bool IsControl(unsigned char c) { return (c < 0x20 && c != '\t' && c != '\r') || c == 0x7F; }

struct ByteScan {
  bool control = false;  // a control byte other than '\t' and '\r' (DEL included)
  bool high = false;     // a byte >= 0x80
};

#if defined(__SSE2__)

struct Classifier {
  __m128i control_bound = _mm_set1_epi8(0x1F);
  __m128i tab = _mm_set1_epi8('\t');
  __m128i cr = _mm_set1_epi8('\r');
  __m128i del = _mm_set1_epi8(0x7F);
  __m128i comma = _mm_set1_epi8(',');
  __m128i equals = _mm_set1_epi8('=');
  __m128i space = _mm_set1_epi8(' ');
  __m128i backslash = _mm_set1_epi8('\\');
  __m128i quote = _mm_set1_epi8('"');
  __m128i control = _mm_setzero_si128();
  int high = 0;

  // Classifies 16 bytes; returns the mask of special bytes when kSpecials.
  template <bool kSpecials>
  uint64_t Block(const char* p) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i is_tab = _mm_cmpeq_epi8(v, tab);
    __m128i c = _mm_cmpeq_epi8(_mm_max_epu8(v, control_bound), control_bound);  // v <= 0x1F
    c = _mm_andnot_si128(_mm_or_si128(is_tab, _mm_cmpeq_epi8(v, cr)), c);
    control = _mm_or_si128(control, _mm_or_si128(c, _mm_cmpeq_epi8(v, del)));
    high |= _mm_movemask_epi8(v);
    if constexpr (!kSpecials) {
      return 0;
    } else {
      const __m128i s = _mm_or_si128(
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, equals)),
                       _mm_or_si128(_mm_cmpeq_epi8(v, space), is_tab)),
          _mm_or_si128(_mm_cmpeq_epi8(v, backslash), _mm_cmpeq_epi8(v, quote)));
      return static_cast<uint32_t>(_mm_movemask_epi8(s));
    }
  }
};

// When kSpecials, bits[i / 64] bit i % 64 is set for every special byte and for i == n (so that a
// search for the next special byte always stops at the end of the line); `bits` must hold
// n / 64 + 1 words.
template <bool kSpecials>
ByteScan ScanBytes(const char* s, size_t n, uint64_t* bits) {
  Classifier k;
  uint64_t word = 0;  // the bits of the current 64-byte chunk
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const uint64_t mask = k.Block<kSpecials>(s + i);
    if constexpr (kSpecials) {
      word |= mask << (i % 64);
      if (i % 64 == 48) {
        bits[i / 64] = word;
        word = 0;
      }
    }
  }
  if (i < n) {  // 1 to 15 bytes left: classify the last 16 bytes and keep the new ones
    const size_t left = n - i;
    uint64_t mask;
    if (n >= 16) {
      mask = k.Block<kSpecials>(s + n - 16) >> (16 - left);
    } else {
      char tail[16];
      std::memset(tail, 'a', sizeof tail);  // neither special nor control
      std::memcpy(tail, s, n);
      mask = k.Block<kSpecials>(tail);
    }
    word |= mask << (i % 64);  // i % 64 <= 48, so the tail stays in this word
  }
  if constexpr (kSpecials) bits[n / 64] = word | uint64_t{1} << (n % 64);
  ByteScan scan;
  scan.control = _mm_movemask_epi8(k.control) != 0;
  scan.high = (k.high & 0xFFFF) != 0;
  return scan;
}

#else  // portable fallback

bool IsSpecial(char c) {
  return c == ',' || c == '=' || c == ' ' || c == '\t' || c == '\\' || c == '"';
}

template <bool kSpecials>
ByteScan ScanBytes(const char* s, size_t n, uint64_t* bits) {
  ByteScan scan;
  if constexpr (kSpecials) std::fill_n(bits, n / 64 + 1, 0);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    scan.control |= IsControl(c);
    scan.high |= c >= 0x80;
    if constexpr (kSpecials) bits[i / 64] |= uint64_t{IsSpecial(s[i])} << (i % 64);
  }
  if constexpr (kSpecials) bits[n / 64] |= uint64_t{1} << (n % 64);
  return scan;
}

#endif

size_t FirstControlByte(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (IsControl(static_cast<unsigned char>(s[i]))) return i;
  }
  return s.size();
}

// ---------------------------------------------------------------------------------------------
// Duplicate keys.

uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

uint64_t Mix(uint64_t a, uint64_t b) {
  const unsigned __int128 r =
      static_cast<unsigned __int128>(a ^ 0xa0761d6478bd642fULL) * (b ^ 0xe7037ed1a0b428dbULL);
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

// The per-process key hash seed, one word per factor of Mix. Without it a sender could compute
// keys whose hashes share their low bits and make one line's duplicate-key table probe
// quadratically (20,000 such keys: 2 x 10^8 probes); with it the slots are unpredictable. Both
// factors are seeded, so no key block can zero a product whatever the seed.
struct HashSeed {
  uint64_t a, b;
};

HashSeed RandomHashSeed() {
  std::random_device rd;
  auto word = [&rd] { return (uint64_t{rd()} << 32) ^ rd(); };
  return {word(), word()};
}

HashSeed g_hash_seed = RandomHashSeed();
bool g_fast_paths = true;  // see SetFastPathsForTesting
// The seed mixed with HashBlock's constants once, so a short key pays one load per factor.
HashSeed g_block_seed = {0x1d8e4e27c47d124fULL ^ g_hash_seed.a,
                         0x8ebc6af09c88c6e3ULL ^ g_hash_seed.b};

// A fast non-cryptographic hash of a key. Keys of up to 16 bytes hash as their bytes padded with
// zeros to 16, so that the JSON path can hash a key from the register it scanned it with instead
// of loading it again (those loads measured slow, depending on the buffer's address).
uint64_t HashBlock(uint64_t lo, uint64_t hi, size_t size) {
  return Mix(lo ^ g_block_seed.a, hi ^ size ^ g_block_seed.b);
}

#if defined(__SSE2__)
// `block` holds the key's first `size` (<= 16) bytes; the bytes after them may be anything.
uint64_t HashBlock(__m128i block, size_t size) {
  const __m128i index = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  block = _mm_and_si128(block, _mm_cmpgt_epi8(_mm_set1_epi8(static_cast<char>(size)), index));
  return HashBlock(static_cast<uint64_t>(_mm_cvtsi128_si64(block)),
                   static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(block, block))),
                   size);
}
#endif

// Out of line: the rare path (keys over 16 bytes, or at the end of the buffer), kept from growing
// the parsers it would be inlined into.
[[gnu::noinline]] uint64_t HashKeySlow(std::string_view key) {
  const char* p = key.data();
  const size_t n = key.size();
  if (n <= 16) {
    char padded[16] = {};
    std::memcpy(padded, p, n);
    return HashBlock(Load64(padded), Load64(padded + 8), n);
  }
  uint64_t seed = 0x589965cc75374cc3ULL ^ n ^ g_hash_seed.a;
  size_t left = n;
  while (left > 16) {
    seed = Mix(Load64(p) ^ seed, Load64(p + 8) ^ 0x94d049bb133111ebULL ^ g_hash_seed.b);
    p += 16;
    left -= 16;
  }
  return Mix(Load64(p + left - 16) ^ seed,
             Load64(p + left - 8) ^ 0xbf58476d1ce4e5b9ULL ^ g_hash_seed.b);
}

// `readable_end`: how far past the key bytes may be read (at least key.data() + key.size()).
inline uint64_t HashKey(std::string_view key, const char* readable_end) {
#if defined(__SSE2__)
  if (key.size() <= 16 && readable_end - key.data() >= 16) {
    return HashBlock(_mm_loadu_si128(reinterpret_cast<const __m128i*>(key.data())), key.size());
  }
#else
  (void)readable_end;
#endif
  return HashKeySlow(key);
}

#if defined(__SSE2__)
// Which of the 16 bytes at `a` equal those at `b`, a bit each (both may be read 16 bytes on).
inline unsigned EqualBytes16(const char* a, const char* b) {
  return static_cast<unsigned>(
      _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a)),
                                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(b)))));
}
#endif

// Record::shape numbers handed out so far, in blocks of kShapeNumbers to each decoder that needs
// them, so that no two shapes in the process share one and decoders on several threads that learn
// shape after shape (records of two models interleaved) do not all write one cache line.
std::atomic<uint64_t> g_shapes{0};
constexpr uint64_t kShapeNumbers = 4096;

// Finds repeated keys among the fields of one record. Up to kSmallKeys keys: a 64-bit Bloom
// filter over the key hashes, and a scan of the earlier hashes only when it reports a possible
// repeat. Beyond that: an open-addressing table, so that a line with many fields stays linear.
class KeyIndex {
 public:
  // Occupied slots the table mode stepped over since construction (tests: stays linear in the
  // keys, see SetKeyHashSeedForTesting).
  uint64_t probes() const { return probes_; }
  // Keys taken by MatchShape since construction (tests: the shape was used).
  uint64_t shaped_keys() const { return shaped_keys_ + matched_; }

  // The shape (issue 14). Senders write the same keys in the same order, record after record. The
  // index remembers the keys of the last object the fast paths finished: up to kShapeKeys keys,
  // distinct, of printable ASCII bytes that fit in 32 with their terminator (`":` in JSON, so up
  // to 30; `=` in line protocol, up to 31), and their hashes. While every key of an object has
  // been its shape's key at the same position, the next one is checked with one 16-byte compare
  // (two past 16 bytes): no scan for its end, no hash and no look for a repeat (the shape's keys
  // are distinct). The first key that differs brings the hashes of the keys before it into the
  // index, and the object goes on the usual way.

  struct ShapeKey;
  // The shape's keys the current object may still match. A fast path's loop keeps it in locals:
  // the index's own members would be reloaded after every store to a field, which may alias
  // them. Begin returns it, MatchShape moves it on, and Sync gives the index its count back,
  // before any other call on the index and when the object ends.
  struct Cursor {
    const ShapeKey* next;
    const ShapeKey* end;
  };

  // Reset, for a fast path's object whose keys end with `terminator` (a literal, 1 or 2 bytes).
  Cursor Begin(std::string_view terminator) {
    Reset();
    terminator_ = terminator;
    on_shape_ = shape_size_ != 0 && shape_terminator_ == TerminatorCode(terminator);
    const ShapeKey* const first = shape_.data();
    return {first, on_shape_ ? first + shape_size_ : first};
  }

  // If the bytes at `p` are the cursor's next key of the shape and its terminator, the bytes they
  // take (the key's size plus the terminator's), and the cursor moves on; else 0. `p` may be read
  // 32 bytes on.
  [[gnu::always_inline]] static size_t MatchShape(const char* p, Cursor* cursor) {
    if (cursor->next == cursor->end) return 0;
    const ShapeKey& k = *cursor->next;
#if defined(__SSE2__)
    const unsigned equal = EqualBytes16(p, k.bytes);
    if ((equal & k.mask) != k.mask) [[unlikely]] {
      // A mismatch, or a key past 16 bytes: its mask has bit 16 set, which no compare of 16 bytes
      // sets, so that a short key pays nothing for long ones. Its first 16 bytes, then the rest.
      if (k.mask != kLongKey || equal != 0xFFFF) return 0;
      if ((EqualBytes16(p + 16, k.bytes + 16) & k.rest_mask) != k.rest_mask) return 0;
    }
#else
    if (std::memcmp(p, k.bytes, k.taken) != 0) return 0;
#endif
    ++cursor->next;
    return k.taken;
  }

  // The keys `cursor` took are the current object's matched ones.
  void Sync(const Cursor& cursor) { matched_ = static_cast<size_t>(cursor.next - shape_.data()); }

  // AddLast for a key MatchShape did not take: `cursor` takes no more, and the index has its
  // count back first.
  void AddOffShape(Cursor* cursor, std::vector<Field>* fields, uint64_t hash) {
    cursor->end = cursor->next;
    Sync(*cursor);
    AddLast(fields, hash);
  }

  // The object Begin started ended well with `fields`: they are the shape from now on, unless
  // every one was the shape's already (a record with fewer keys leaves it as it was).
  void Finish(const std::vector<Field>& fields) {
    if (!on_shape_) Learn(fields);
  }
  // After Finish: the Record::shape of those fields, the shape's number if they are its first
  // keys, else (and for no fields) 0.
  uint64_t ShapeOf(const std::vector<Field>& fields) const {
    return !fields.empty() && shape_size_ >= fields.size() ? shape_id_ : 0;
  }

  // Forgets every key (a new record, or a repeated "features" object).
  void Reset() {
    bloom_ = 0;
    count_ = 0;
    table_mask_ = 0;
    on_shape_ = false;
    shaped_keys_ += matched_;
    matched_ = 0;
  }

  // `fields->back()` was just appended; `hash` is HashKey of its key. If an earlier field has the
  // same key, that field takes the new value and the new one is removed (last one wins, first
  // position kept).
  void AddLast(std::vector<Field>* fields, uint64_t hash) {
    if (on_shape_) LeaveShape();
    if (table_mask_ != 0 || count_ == kSmallKeys) return AddLarge(fields, hash);
    const uint64_t bit = uint64_t{1} << (hash >> 58);
    if ((bloom_ & bit) != 0 && FoundSmall(fields, hash)) return;
    bloom_ |= bit;
    small_[count_++] = hash;
  }

 private:
  static constexpr size_t kSmallKeys = 16;

  static void Replace(std::vector<Field>* fields, size_t earlier) {
    (*fields)[earlier].value = fields->back().value;
    fields->pop_back();
  }

  bool FoundSmall(std::vector<Field>* fields, uint64_t hash) {
    const std::vector<Field>& f = *fields;
    for (size_t i = 0; i < count_; ++i) {
      if (small_[i] == hash && f[i].key == f.back().key) {
        Replace(fields, i);
        return true;
      }
    }
    return false;
  }

  [[gnu::noinline]] void AddLarge(std::vector<Field>* fields, uint64_t hash) {
    const std::vector<Field>& f = *fields;
    if (table_mask_ == 0) {  // leaving the small mode
      hashes_.assign(small_, small_ + count_);
      Rebuild();
    }
    size_t slot = hash & table_mask_;
    for (uint32_t entry; (entry = table_[slot]) != 0; slot = (slot + 1) & table_mask_) {
      ++probes_;
      if (hashes_[entry - 1] == hash && f[entry - 1].key == f.back().key) {
        return Replace(fields, entry - 1);
      }
    }
    table_[slot] = static_cast<uint32_t>(hashes_.size() + 1);
    hashes_.push_back(hash);
    if (hashes_.size() * 2 > table_mask_ + 1) Rebuild();
  }

  void Rebuild() {
    size_t size = 64;
    while (size < hashes_.size() * 4) size *= 2;
    table_.assign(size, 0);
    table_mask_ = size - 1;
    for (size_t i = 0; i < hashes_.size(); ++i) {
      size_t slot = hashes_[i] & table_mask_;
      while (table_[slot] != 0) slot = (slot + 1) & table_mask_;
      table_[slot] = static_cast<uint32_t>(i + 1);
    }
  }

  // The current object's next key is not the shape's: the keys the shape took go into the small
  // mode or the table, as AddLast would have put them.
  [[gnu::noinline]] void LeaveShape() {
    on_shape_ = false;
    if (matched_ <= kSmallKeys) {
      for (size_t i = 0; i < matched_; ++i) {
        bloom_ |= uint64_t{1} << (shape_[i].hash >> 58);
        small_[i] = shape_[i].hash;
      }
      count_ = matched_;
    } else {
      hashes_.clear();
      for (size_t i = 0; i < matched_; ++i) hashes_.push_back(shape_[i].hash);
      Rebuild();
    }
  }

  // `fields`, deduplicated and so distinct, become the shape: the first matched_ are its keys
  // already; the rest up to the first that cannot be one (too long, not printable ASCII) are
  // added, each with its hash from the small mode or the table, which hold them in field order.
  [[gnu::noinline]] void Learn(const std::vector<Field>& fields) {
    const uint64_t* const hashes = table_mask_ != 0 ? hashes_.data() : small_;
    size_t n = matched_;  // the fields before it are the shape's already
    for (; n < fields.size() && n < kShapeKeys; ++n) {
      const std::string_view key = fields[n].key;
      if (key.size() + terminator_.size() > sizeof(ShapeKey::bytes) ||
          !std::ranges::all_of(key, [](char c) { return c >= ' ' && c <= '~'; })) {
        break;
      }
      if (shape_.size() == n) shape_.emplace_back();
      ShapeKey& k = shape_[n];
      std::memset(k.bytes, 0, sizeof k.bytes);
      std::memcpy(k.bytes, key.data(), key.size());
      std::memcpy(k.bytes + key.size(), terminator_.data(), terminator_.size());
      k.taken = static_cast<uint32_t>(key.size() + terminator_.size());
      k.mask = k.taken > 16 ? kLongKey : (1u << k.taken) - 1;
      k.rest_mask = k.taken > 16 ? (1u << (k.taken - 16)) - 1 : 0;
      k.hash = hashes[n];
    }
    shape_size_ = n;
    shape_terminator_ = TerminatorCode(terminator_);
    if (next_shape_id_ == end_shape_id_) {
      next_shape_id_ = g_shapes.fetch_add(kShapeNumbers, std::memory_order_relaxed) + 1;
      end_shape_id_ = next_shape_id_ + kShapeNumbers;
    }
    shape_id_ = next_shape_id_++;
  }

  // A terminator as a number, compared inline (string_view's == is a call).
  static uint32_t TerminatorCode(std::string_view t) {
    uint32_t code = static_cast<uint32_t>(t.size());
    for (size_t i = 0; i < t.size(); ++i) code = code << 8 | static_cast<unsigned char>(t[i]);
    return code;
  }

  // One key of the shape: its bytes and the terminator's (`taken` in all), and which of the
  // first 16 compared bytes count (kLongKey past 16 bytes) and which of the next 16. 64 bytes, so
  // that finding one is a shift.
  static constexpr unsigned kLongKey = 0x1FFFF;

 public:
  struct alignas(64) ShapeKey {
    char bytes[32];
    uint32_t mask;
    uint32_t rest_mask;
    uint32_t taken;
    uint64_t hash;
  };

 private:
  // The most keys the shape remembers: the rest of a wider record takes the usual way.
  static constexpr size_t kShapeKeys = 256;

  std::vector<ShapeKey> shape_;  // its first shape_size_ entries are the shape
  size_t shape_size_ = 0;
  uint64_t shape_id_ = 0;                          // its Record::shape number
  uint64_t next_shape_id_ = 0, end_shape_id_ = 0;  // this index's block of them
  uint32_t shape_terminator_ = 0;                  // its keys' terminator, as TerminatorCode
  std::string_view terminator_;                    // the current record's, from Begin
  bool on_shape_ = false;     // every key of the current object so far matched the shape
  size_t matched_ = 0;        // the keys of the current object the shape took
  uint64_t shaped_keys_ = 0;  // by the objects before the current one

  uint64_t bloom_ = 0;
  uint64_t small_[kSmallKeys];  // hashes of the first count_ fields' keys in the small mode
  size_t count_ = 0;
  std::vector<uint64_t> hashes_;  // the hash of every field's key in the table mode
  std::vector<uint32_t> table_;   // field index + 1, 0 when empty; used when table_mask_ != 0
  size_t table_mask_ = 0;
  uint64_t probes_ = 0;
};

// How the fast paths append a record's fields: over the last record's. A field at a position the
// vector holds already is overwritten (its key, its value's kind and text, and the number or
// digits its kind uses; see Value), not built anew, when its key is the shape's (which needs no
// look for a repeat); any other key cuts the vector to the fields before it and is appended, as
// KeyIndex::AddLast wants it. End() cuts what is left of a longer earlier record.
class FieldWriter {
 public:
  explicit FieldWriter(std::vector<Field>* fields)
      : fields_(fields), data_(fields->data()), size_(fields->size()) {}

  // The next field, keyed `key`; its value is the caller's to write. `shaped`: its key is the
  // shape's (KeyIndex::MatchShape took it), and may overwrite the field held at its position.
  [[gnu::always_inline]] Field* Next(std::string_view key, bool shaped) {
    Field* field;
    if (shaped && n_ < size_) [[likely]] {
      field = data_ + n_;
      field->key = key;
    } else {
      fields_->resize(n_);
      field = &fields_->emplace_back(Field{key, {}});
      data_ = fields_->data();
      size_ = n_ + 1;
    }
    ++n_;
    return field;
  }
  // The vector changed under the writer (KeyIndex::AddLast removed a repeat): its fields so far.
  void Sync() {
    data_ = fields_->data();
    n_ = size_ = fields_->size();
  }
  // The record's fields end: the vector holds exactly them.
  void End() {
    if (size_ > n_) fields_->resize(n_);
  }

 private:
  std::vector<Field>* const fields_;
  Field* data_;
  size_t size_;   // fields_->size()
  size_t n_ = 0;  // the record's fields so far
};

// ---------------------------------------------------------------------------------------------
// Line protocol.

// Position of the first special byte at or after `pos` (the line's end is marked special).
size_t NextSpecial(const uint64_t* bits, size_t pos) {
  size_t word = pos / 64;
  uint64_t m = bits[word] & (~uint64_t{0} << (pos % 64));
  while (m == 0) m = bits[++word];
  return word * 64 + static_cast<size_t>(__builtin_ctzll(m));
}

// The measurement escapes ',' and ' '; tag keys, tag values and field keys escape ',', '=', ' '.
enum class NameKind { kMeasurement, kKey };

template <NameKind kKind>
bool Escapable(char c) {
  if constexpr (kKind == NameKind::kMeasurement) {
    return c == ',' || c == ' ';
  } else {
    return c == ',' || c == '=' || c == ' ';
  }
}

// Returns the end of the name starting at `pos`: the first unescaped ',' or blank (and '=' for
// keys) or the end of the line. Sets *escaped when a backslash escape was seen.
template <NameKind kKind>
size_t ScanName(const char* s, size_t n, const uint64_t* bits, size_t pos, bool* escaped) {
  while (true) {
    pos = NextSpecial(bits, pos);
    if (pos == n) return n;
    const char c = s[pos];
    if (c == '\\') {
      if (pos + 1 < n && Escapable<kKind>(s[pos + 1])) {
        *escaped = true;
        pos += 2;
      } else {
        ++pos;  // a literal backslash
      }
    } else if (c == '"' || (kKind == NameKind::kMeasurement && c == '=')) {
      ++pos;  // an ordinary byte here
    } else {
      return pos;
    }
  }
}

// Copies s[begin, end) to *out without the escaping backslashes; returns the copy.
template <NameKind kKind>
std::string_view Name(const char* s, size_t begin, size_t end, bool escaped, char** out) {
  if (!escaped) return {s + begin, end - begin};
  char* const start = *out;
  char* o = start;
  for (size_t i = begin; i < end; ++i) {
    if (s[i] == '\\' && i + 1 < end && Escapable<kKind>(s[i + 1])) ++i;
    *o++ = s[i];
  }
  *out = o;
  return {start, static_cast<size_t>(o - start)};
}

// Eight ASCII digits at `p` as a number; false if any of them is not a digit (SWAR, as in
// simdjson's number parser).
static_assert(std::endian::native == std::endian::little, "EightDigits reads digits as a word");
bool EightDigits(const char* p, uint64_t* value) {
  uint64_t v = Load64(p);
  if (((v & 0xF0F0F0F0F0F0F0F0) | (((v + 0x0606060606060606) & 0xF0F0F0F0F0F0F0F0) >> 4)) !=
      0x3333333333333333) {
    return false;
  }
  v -= 0x3030303030303030;
  v = v * 10 + (v >> 8);
  *value = ((v & 0x000000FF000000FF) * (100 + (1000000ULL << 32)) +
            ((v >> 16) & 0x000000FF000000FF) * (1 + (10000ULL << 32))) >>
           32;
  return true;
}

// One or more digits as a uint64. False on any other byte or overflow. Leading zeros are fine.
bool ParseUint64(const char* p, const char* end, uint64_t* value) {
  if (p == end) return false;
  while (end - p > 1 && *p == '0') ++p;
  if (end - p > 20) return false;
  // Up to 19 digits cannot overflow; only a 20th needs checking.
  const char* const safe_end = p + std::min<ptrdiff_t>(end - p, 19);
  uint64_t v = 0;
  for (uint64_t eight; safe_end - p >= 8; p += 8) {
    if (!EightDigits(p, &eight)) return false;
    v = v * 100000000 + eight;
  }
  for (; p < safe_end; ++p) {
    const unsigned d = static_cast<unsigned char>(*p) - unsigned{'0'};
    if (d > 9) return false;
    v = v * 10 + d;
  }
  if (p < end) {
    const unsigned d = static_cast<unsigned char>(*p) - unsigned{'0'};
    if (d > 9 || __builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, d, &v)) {
      return false;
    }
  }
  *value = v;
  return true;
}

// [-]digits as an int64. False on bad syntax or overflow.
bool ParseInt64(const char* p, const char* end, int64_t* value) {
  const bool negative = p < end && *p == '-';
  uint64_t v = 0;
  if (!ParseUint64(p + negative, end, &v)) return false;
  if (v > (negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1)) return false;
  *value = negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return true;
}

constexpr uint64_t kPow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

// Eight digits, each byte 0..9 (the first digit in the lowest byte), as a number (SWAR).
inline uint64_t DigitsValue(uint64_t d) {
  d = d * 10 + (d >> 8);
  return ((d & 0x000000FF000000FF) * (100 + (1000000ULL << 32)) +
          ((d >> 16) & 0x000000FF000000FF) * (1 + (10000ULL << 32))) >>
         32;
}

// Appends the digits at `p` to *mantissa and returns the end of the digits, which must be followed
// by a non-digit with 8 readable bytes after it (a separator or a NUL): no bound, and no copy near
// the end of readable memory. Eight bytes at a time (SWAR, no loop over digits): the run of digits
// at the start of a word is found from its non-digit bytes, shifted up to make the bytes after it
// leading zeros, and converted as EightDigits does. Past 19 significant digits the mantissa wraps:
// callers count the digits and take the slow path then.
[[gnu::always_inline]] inline const char* DigitRun(const char* p, uint64_t* mantissa) {
  uint64_t m = *mantissa;
  for (;;) {
    const uint64_t x = Load64(p) ^ 0x3030303030303030;
    const uint64_t other = (x | (x + 0x0606060606060606)) & 0xF0F0F0F0F0F0F0F0;
    if (other == 0) {
      m = m * 100000000 + DigitsValue(x);
      p += 8;
      continue;
    }
    const size_t count = static_cast<size_t>(__builtin_ctzll(other)) / 8;
    if (count != 0) {
      m = m * kPow10[count] + DigitsValue(x << (8 * (8 - count)));
      p += count;
    }
    *mantissa = m;
    return p;
  }
}

// The integer part of a number at `p`, when it is shorter than 4 digits or starts with a 0:
// *value gets its value, and the digits it takes are returned, 0 to 3; else 4 and *value is
// untouched (DigitRun's case). A leading 0 is a digit alone: "01" stops after the 0, and whoever
// reads on finds a 1 where a separator should be. A feature's value usually has an integer part
// of 1 to 3 digits: one word and no loop, where DigitRun spends a loop, a table of powers and
// 64-bit constants (callgrind: 60 fewer instructions per 10-value record).
[[gnu::always_inline]] inline size_t SmallInteger(const char* p, uint64_t* value) {
  uint32_t w;
  std::memcpy(&w, p, sizeof w);
  const uint32_t x = w ^ 0x30303030u;                            // a digit's byte becomes 0..9
  const uint32_t other = (x | (x + 0x06060606u)) & 0xF0F0F0F0u;  // per byte: not a digit
  const bool zero = (w & 0xFF) == '0';
  if (other == 0 && !zero) return 4;
  // A branch on a leading 0: the same count in arithmetic made decoder_bench slower (it lengthens
  // the chain from one value's start to the next).
  const size_t count = zero ? 1 : static_cast<size_t>(__builtin_ctz(other | 0x80000000u)) / 8;
  // The digits moved to the word's top bytes (the first digit in the lowest byte, as loaded):
  // "000d", "00dd" or "0ddd". Then byte 0 holds the first pair's value, byte 2 the second's.
  uint32_t d = static_cast<uint32_t>(uint64_t{x} << (32 - 8 * count));
  d = d * 10 + (d >> 8);
  *value = (d & 0xFF) * 100 + ((d >> 16) & 0xFF);
  return count;
}

#if defined(__SSE2__) && defined(__x86_64__)
// 0xFF x 16, then 0 x 16: the 16 bytes from kPrefixMask + 16 - n keep a vector's first n bytes.
alignas(32) constexpr uint8_t kPrefixMask[32] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                                 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

// The run of digits at `p` (16 readable bytes), up to 16 of them: returns its length, and *value
// gets the digits followed by zeros up to 16 digits ("25" -> 2500000000000000). One vector does
// what two or three DigitRun words do (a fraction of a sender's double has 14 to 17 digits), with
// no shift by the run's length: the zeros scale the number, and the caller's power of ten (-16)
// takes the scale back. Digit pairs, then fours, then eights, by multiply-adds (SSE2 only, no
// pmaddubsw).
[[gnu::always_inline]] inline size_t SixteenDigits(const char* p, uint64_t* value) {
  const __m128i v =
      _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), _mm_set1_epi8('0'));
  const __m128i nine = _mm_set1_epi8(9);
  const unsigned digit = static_cast<unsigned>(
      _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(v, nine), v)));  // byte - '0' <= 9
  const size_t count = static_cast<size_t>(__builtin_ctz(~digit));   // bit 16 of ~digit is set
  const __m128i d =
      _mm_and_si128(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(kPrefixMask + 16 - count)));
  // 16-bit lanes: the earlier digit is the lane's low byte.
  const __m128i pairs =
      _mm_add_epi16(_mm_mullo_epi16(_mm_and_si128(d, _mm_set1_epi16(0x00FF)), _mm_set1_epi16(10)),
                    _mm_srli_epi16(d, 8));
  const __m128i fours = _mm_madd_epi16(pairs, _mm_set1_epi32(0x00010000 | 100));
  const __m128i eights =
      _mm_madd_epi16(_mm_packs_epi32(fours, fours), _mm_set1_epi32(0x00010000 | 10000));
  const uint64_t both = static_cast<uint64_t>(_mm_cvtsi128_si64(eights));
  *value = (both & 0xFFFFFFFF) * 100000000 + (both >> 32);
  return count;
}
#endif

// DigitRun for digits that stop by `end`, where bytes are readable up to `readable` (>= end): when
// a word of readable bytes follows `end` (the token is not the line's last), DigitRun itself; else
// the words near `readable` are loaded from a copy.
[[gnu::always_inline]] inline const char* AppendDigits(const char* p, const char* end,
                                                       const char* readable, uint64_t* mantissa) {
  if (readable - end >= 8) return DigitRun(p, mantissa);  // the byte at `end` is not a digit
  uint64_t m = *mantissa;
  while (p < end) {
    uint64_t v;
    if (readable - p >= 8) {
      v = Load64(p);
    } else {
      char word[8];
      std::memset(word, 'x', sizeof word);  // not a digit
      std::memcpy(word, p, static_cast<size_t>(readable - p));
      v = Load64(word);
    }
    // Per byte: a digit becomes 0..9; any other byte gets a high nibble (after adding 6, also a
    // low nibble above 9). Carries only cross from a non-digit byte into the bytes after it.
    const uint64_t x = v ^ 0x3030303030303030;
    const uint64_t other = (x | (x + 0x0606060606060606)) & 0xF0F0F0F0F0F0F0F0;
    size_t count = other == 0 ? 8 : static_cast<size_t>(__builtin_ctzll(other)) / 8;
    count = std::min(count, static_cast<size_t>(end - p));
    if (count == 0) break;
    m = m * kPow10[count] + DigitsValue(x << (8 * (8 - count) % 64));  // count == 8: no shift
    p += count;
    if (count < 8) break;
  }
  *mantissa = m;
  return p;
}

// The significant digits of a number whose `digits` digits (and point) start at `integer` and
// end by `end`: leading zeros (0.000...) add nothing to the mantissa, so 0.0076995392475645895,
// Python's repr of a small double, fits in it.
inline size_t SignificantDigits(const char* integer, const char* end, size_t digits) {
  if (digits <= 19) return digits;
  for (const char* q = integer; q < end && (*q == '0' || *q == '.'); ++q) digits -= *q == '0';
  return digits;
}

// The double nearest negative? -i * 10^power : i * 10^power, by Eisel and Lemire's method alone: i,
// normalised, times the 128-bit truncated power of five, rounded to 53 bits, ties to even.
// simdjson's compute_float_64 tries Clinger's way first (i < 2^53 and |power| <= 22: one exact
// multiplication or division), a branch that senders' numbers mispredict about half the time
// (Python's repr writes 16 or 17 digits) and a division; the profile of NDJSON ingest put a tenth
// of the fast path in the two. Eisel-Lemire is exact on that range too. False, as
// compute_float_64's own second step is, when the truncated product cannot decide the rounding, and
// also for a power outside simdjson's table (smallest_power..largest_power) and subnormal and
// infinite results (all rare): callers then take their slow path.
[[gnu::always_inline]] inline bool DecimalToDouble(int64_t power, uint64_t i, bool negative,
                                                   double* value) {
  if (power < simdjson::internal::smallest_power || power > simdjson::internal::largest_power) {
    return false;
  }
  if (i == 0) {
    *value = negative ? -0.0 : 0.0;
    return true;
  }
  const uint64_t* const fives =
      simdjson::internal::power_of_five_128 + 2 * (power - simdjson::internal::smallest_power);
  const int lz = __builtin_clzll(i);
  i <<= lz;
  using u128 = unsigned __int128;
  const u128 first = static_cast<u128>(i) * fives[0];
  uint64_t low = static_cast<uint64_t>(first);
  uint64_t high = static_cast<uint64_t>(first >> 64);
  if ((high & 0x1FF) == 0x1FF) {  // the low bits might carry into the 55 kept: refine
    const uint64_t second = static_cast<uint64_t>((static_cast<u128>(i) * fives[1]) >> 64);
    low += second;
    high += second > low;
    if (low == ~uint64_t{0}) return false;
  }
  const uint64_t top = high >> 63;
  uint64_t mantissa = high >> (top + 9);
  int64_t exponent = (((152170 + 65536) * power) >> 16) + 1024 + 63 - lz - (1 ^ top);
  if (exponent <= 0) return false;  // subnormal
  // Exactly halfway between two doubles (possible only for small powers): round to even.
  if (low <= 1 && power >= -4 && power <= 23 && (mantissa & 3) == 1 &&
      (mantissa << (top + 64 - 53 - 2)) == high) {
    mantissa &= ~uint64_t{1};
  }
  mantissa += mantissa & 1;
  mantissa >>= 1;
  if (mantissa >= uint64_t{1} << 53) {  // rounding carried into a new bit
    mantissa = uint64_t{1} << 52;
    ++exponent;
  }
  if (exponent > 2046) return false;  // infinite
  const uint64_t bits = (mantissa & ~(uint64_t{1} << 52)) | static_cast<uint64_t>(exponent) << 52 |
                        static_cast<uint64_t>(negative) << 63;
  std::memcpy(value, &bits, sizeof bits);
  return true;
}

// Exponents are read up to this: far past any power a line can bring back into range (a line
// is at most 64 MiB), and far from overflowing.
constexpr int64_t kExponentBound = int64_t{1} << 40;

// Whether a decimal number, -?digits*(.digits*)?([eE][+-]?digits)?, that a conversion found out of
// a double's range is too large rather than too small: the power of ten of its first nonzero digit,
// plus one, plus its exponent, is positive (out of range, it is at least 309 or at most -323).
bool TooLarge(std::string_view number) {
  size_t i = number.empty() || (number[0] != '-' && number[0] != '+') ? 0 : 1;
  int64_t whole = 0, zeros = 0;  // digits from the first nonzero one to the point; zeros after it
  bool point = false, nonzero = false;
  for (; i < number.size(); ++i) {
    const char c = number[i];
    if (c == '.') {
      point = true;
      continue;
    }
    if (!IsDigit(c)) break;
    nonzero |= c != '0';
    whole += nonzero && !point;
    zeros += !nonzero && point;
  }
  int64_t e = 0;
  if (i < number.size() && (number[i] == 'e' || number[i] == 'E')) {
    const bool negative = ++i < number.size() && number[i] == '-';
    i += i < number.size() && (number[i] == '-' || number[i] == '+');
    for (; i < number.size() && IsDigit(number[i]); ++i) {
      e = std::min(e * 10 + (number[i] - '0'), kExponentBound);
    }
    if (negative) e = -e;
  }
  return (whole > 0 ? whole : -zeros) + e > 0;
}

// Line-protocol float: -?(digits(.digits*)?|.digits)([eE][+-]?digits)?, finite. Up to 19
// significant digits the decimal mantissa and power of ten go to DecimalToDouble (correctly
// rounded, as simdjson's conversion of JSON numbers is); what it cannot decide, and longer
// mantissas, go to std::from_chars. Either way: the double nearest the decimal, as strtod gives it.
// Inlined into the field loop: a call per value cost more than a tenth of the parse.
[[gnu::always_inline]] inline bool ParseFloat(const char* p, const char* end, const char* readable,
                                              double* value) {
  const char* const start = p;
  const bool negative = p < end && *p == '-';
  p += negative;
  uint64_t mantissa = 0;
  const char* const integer = p;
  p = AppendDigits(p, end, readable, &mantissa);
  size_t digits = static_cast<size_t>(p - integer);
  int64_t exponent = 0;
  if (p < end && *p == '.') {
    const char* const fraction = ++p;
    p = AppendDigits(p, end, readable, &mantissa);
    digits += static_cast<size_t>(p - fraction);
    exponent = -(p - fraction);
  }
  if (digits == 0) return false;
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    const bool negative_exponent = p < end && *p == '-';
    if (p < end && (*p == '+' || *p == '-')) ++p;
    if (p == end) return false;
    int64_t e = 0;
    for (; p < end && IsDigit(*p); ++p) e = std::min<int64_t>(e * 10 + (*p - '0'), kExponentBound);
    exponent += negative_exponent ? -e : e;
  }
  if (p != end) return false;
  if (SignificantDigits(integer, end, digits) <= 19 &&
      DecimalToDouble(exponent, mantissa, negative, value)) {
    return true;
  }
  const std::from_chars_result r = std::from_chars(start, end, *value);
  if (r.ec == std::errc::result_out_of_range && r.ptr == end &&
      !TooLarge(std::string_view(start, static_cast<size_t>(end - start)))) {
    *value = negative ? -0.0 : 0.0;  // underflow (e.g. 1e-400) is zero; overflow is an error
    return true;
  }
  return r.ec == std::errc() && r.ptr == end;
}

bool IsTrue(std::string_view t) {
  return t == "t" || t == "T" || t == "true" || t == "True" || t == "TRUE";
}
bool IsFalse(std::string_view t) {
  return t == "f" || t == "F" || t == "false" || t == "False" || t == "FALSE";
}

// A line-protocol integer field's value: the digits (and sign) in [begin, end), then `suffix`,
// 'i' (int64) or 'u' (uint64). False when they are not one, or out of its range.
[[gnu::always_inline]] inline bool IntegerValue(const char* begin, const char* end, char suffix,
                                                double* number) {
  if (suffix == 'i') {
    int64_t v = 0;
    if (!ParseInt64(begin, end, &v)) return false;
    *number = static_cast<double>(v);
  } else {
    uint64_t v = 0;
    if (!ParseUint64(begin, end, &v)) return false;
    *number = static_cast<double>(v);
  }
  return true;
}

// A timestamp in `precision`'s unit to seconds. Below a second: whole seconds plus the fraction,
// so that e.g. ...250000000 ns gives exactly .25.
double TimestampToSeconds(int64_t t, TimestampPrecision precision) {
  auto split = [t](int64_t per_second, double unit) {
    return static_cast<double>(t / per_second) + static_cast<double>(t % per_second) * unit;
  };
  switch (precision) {
    case TimestampPrecision::kNanoseconds:
      return split(1000000000, 1e-9);
    case TimestampPrecision::kMicroseconds:
      return split(1000000, 1e-6);
    case TimestampPrecision::kMilliseconds:
      return split(1000, 1e-3);
    case TimestampPrecision::kSeconds:
      return static_cast<double>(t);
    case TimestampPrecision::kMinutes:
      return static_cast<double>(t) * 60;
    case TimestampPrecision::kHours:
      return static_cast<double>(t) * 3600;
  }
  return NAN;
}

std::string_view PrecisionUnit(TimestampPrecision precision) {
  switch (precision) {
    case TimestampPrecision::kNanoseconds:
      return "nanoseconds";
    case TimestampPrecision::kMicroseconds:
      return "microseconds";
    case TimestampPrecision::kMilliseconds:
      return "milliseconds";
    case TimestampPrecision::kSeconds:
      return "seconds";
    case TimestampPrecision::kMinutes:
      return "minutes";
    case TimestampPrecision::kHours:
      return "hours";
  }
  return "?";
}

// End of a field value token or timestamp (for messages): the next ',' or blank.
size_t TokenEnd(const char* s, size_t pos, size_t n, bool stop_at_comma) {
  while (pos < n && !IsBlank(s[pos]) && !(stop_at_comma && s[pos] == ',')) ++pos;
  return pos;
}

std::string LpError(std::string_view what, size_t offset) {
  return "line protocol: " + std::string(what) + AtByte(offset);
}

// The contents of a JSON string from `raw` (just past the opening quote) to its closing quote,
// without copying, when no escape comes first; returns the byte past the closing quote, or null
// (an escape, or no quote before `end`). When `hash` is not null also the text's HashKey. Bytes
// are readable SIMDJSON_PADDING past `end`. With kChecked (the fast path, which validates the line
// itself) a control byte or DEL also stops it, and *high gets the high bits of the bytes scanned;
// the NUL at `end` then stops every scan, so no bound is checked.
// (An inline scan: a libc memchr call costs more than scanning a short key.)
//
// Always inlined: out of line, *text is stored as two words and reloaded as one 16-byte copy,
// which stalls store-to-load forwarding (measured: a third of the JSON decode time).
template <bool kChecked>
[[gnu::always_inline]] inline const char* StringContents(const char* raw, const char* end,
                                                         std::string_view* text, uint64_t* hash,
                                                         unsigned* high = nullptr) {
  const char* p = raw;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i control_bound = _mm_set1_epi8(0x1F);
  const __m128i del = _mm_set1_epi8(0x7F);
  for (;;) {
    if constexpr (!kChecked) {
      if (p >= end) return nullptr;
    }
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i stop = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
    if constexpr (kChecked) {
      stop = _mm_or_si128(
          stop, _mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(v, control_bound), control_bound),
                             _mm_cmpeq_epi8(v, del)));
      // Bytes past the string's end count too: at worst, a line that has non-ASCII bytes only
      // outside its strings (an error anyway) is validated for nothing.
      *high |= static_cast<unsigned>(_mm_movemask_epi8(v));
    }
    const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(stop));
    if (mask != 0) {
      p += __builtin_ctz(mask);
      if (*p != '"' || (!kChecked && p >= end)) return nullptr;
      const size_t size = static_cast<size_t>(p - raw);
      *text = std::string_view(raw, size);
      if (hash != nullptr) *hash = size < 16 ? HashBlock(v, size) : HashKey(*text, end);
      return p + 1;
    }
    p += 16;
  }
#else
  for (; p < end; ++p) {
    const unsigned char c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\') break;
    if constexpr (kChecked) {
      *high |= c & 0x80;
      if (c <= 0x1F || c == 0x7F) return nullptr;
    }
  }
  if (p >= end || *p != '"') return nullptr;
  *text = std::string_view(raw, static_cast<size_t>(p - raw));
  if (hash != nullptr) *hash = HashKey(*text, end);
  return p + 1;
#endif
}

// JsonNumber's body (below), for the number's digits at `p`, after its '-' if kNegative: each sign
// has its own copy, so that the usual unsigned one keeps no sign in a register (it was spilled).
template <bool kNegative>
[[gnu::always_inline]] inline const char* NumberDigits(const char* p, double* value,
                                                       Value* decimal) {
  constexpr bool negative = kNegative;
  const char* const integer = p;
  uint64_t mantissa = 0;
  if (const size_t small = SmallInteger(p, &mantissa); small < 4) [[likely]] {
    if (small == 0) return nullptr;
    p += small;
  } else {  // four digits or more
    p = DigitRun(p, &mantissa);
  }
  size_t digits = static_cast<size_t>(p - integer);
  int64_t exponent = 0;
  if (*p == '.') {
    const char* const fraction = ++p;
#if defined(__SSE2__) && defined(__x86_64__)
    uint64_t sixteen;
    const size_t count = SixteenDigits(p, &sixteen);
    if (count == 0) return nullptr;
    if (mantissa < 1000) [[likely]] {  // up to 3 integer digits and 16 more: below 10^19
      const uint64_t whole = mantissa;
      mantissa = mantissa * 10000000000000000 + sixteen;
      exponent = -16;
      p += count;
      if (decimal != nullptr && !negative) {
        // A sender's usual number, straight to a decimal: no exponent, and up to 16 fraction
        // digits, or 17 after at most 2 integer digits (so 19 digits at most, and the 17th
        // decides whether the value lies above its digits at power -16).
        const bool seventeenth = count == 16 && IsDigit(*p);
        const char* const end = p + seventeenth;
        if ((!seventeenth || (whole < 100 && !IsDigit(*end))) && (*end | 0x20) != 'e') [[likely]] {
          decimal->kind =
              seventeenth && *p != '0' ? Value::Kind::kDecimalAbove : Value::Kind::kDecimal;
          decimal->digits = mantissa;
          decimal->text = std::string_view(integer, static_cast<size_t>(end - integer));
          return end;
        }
      }
      if (count == 16 && IsDigit(*p)) {
        const char* const more = p;
        p = DigitRun(p, &mantissa);
        exponent -= p - more;
      }
    } else {
      p = DigitRun(p, &mantissa);
      exponent = -(p - fraction);
    }
#else
    p = DigitRun(p, &mantissa);
    if (p == fraction) return nullptr;
    exponent = -(p - fraction);
#endif
    digits += static_cast<size_t>(p - fraction);
  }
  if (*p == 'e' || *p == 'E') {
    ++p;
    const bool negative_exponent = *p == '-';
    p += *p == '-' || *p == '+';
    if (!IsDigit(*p)) return nullptr;
    int64_t e = 0;
    const char* const exponent_digits = p;
    for (; IsDigit(*p); ++p) e = std::min<int64_t>(e * 10 + (*p - '0'), kExponentBound);
    if (p - exponent_digits > 19) return nullptr;  // simdjson's limit: let it say so
    exponent += negative_exponent ? -e : e;
  }
  if (SignificantDigits(integer, p, digits) > 19) return nullptr;
  if (decimal != nullptr && !negative && exponent >= -19 && exponent <= -16) [[likely]] {
    // The digits at power -16, truncated (19 significant digits at most: below 10^19). The usual
    // number left above; this is the rarer one, with 17 or more fraction digits or an exponent.
    const uint64_t scale = kPow10[-16 - exponent];
    const uint64_t digits = mantissa / scale;
    *decimal = Value::Decimal(digits, digits * scale != mantissa,
                              std::string_view(integer, static_cast<size_t>(p - integer)));
    return p;
  }
  if (decimal != nullptr) {  // *value is its number, and it has no text
    decimal->kind = Value::Kind::kNumber;
    decimal->text = {};
  }
  // The padded fraction's power is the usual one: spelled out, DecimalToDouble's range checks and
  // power arithmetic fold away.
  if (!(exponent == -16 ? DecimalToDouble(-16, mantissa, negative, value)
                        : DecimalToDouble(exponent, mantissa, negative, value))) {
    return nullptr;
  }
  return p;  // what follows is checked by the caller: "01" or "1x" stop at a non-separator
}

// A JSON number, -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, of at most 19 significant
// digits and a power of ten DecimalToDouble decides; returns the byte past it, or null. Digits are
// read 8 or 16 at a time: a non-digit and 16 readable bytes must follow (a padded copy of the
// line). What the fast paths of both formats take: in line protocol it is a subset of ParseFloat's
// grammar. A fraction's digits may come with zeros after them and a power of ten lowered to match
// (SixteenDigits): the same decimal, so DecimalToDouble gives the same double, and where it cannot
// decide, the slow paths do.
//
// With `decimal`, a non-negative number whose digits end at a power of ten from -19 to -16 (a
// sender's double with a fraction, of up to 3 integer digits) is left unconverted there instead,
// as a Value::Decimal (*value untouched): the Monitor bins it from its digits. Any other number
// goes into *value, and decimal becomes a kNumber with no text.
[[gnu::always_inline]] inline const char* JsonNumber(const char* p, double* value,
                                                     Value* decimal = nullptr) {
  // A branch, not p += negative: the parse is a chain of loads, each at an address computed from
  // the bytes before it, and a (predicted) branch takes this step off that chain.
  if (*p == '-') [[unlikely]] {
    return NumberDigits<true>(p + 1, value, decimal);
  }
  return NumberDigits<false>(p, value, decimal);
}

// ---------------------------------------------------------------------------------------------
// JSON fast path, by hand: the profile of NDJSON ingest (issue 14) put half of driftd's CPU in
// simdjson's On-Demand walk of each line (stage 1, then a generic iterator over every token) and
// a quarter of that in its digit-at-a-time number loop. Records are small flat objects, so one
// pass that knows their shape does the same work for less, and does the byte checks of Decode on
// the way (controls, DEL and non-ASCII bytes can only be inside its strings). It takes only what
// it can decide exactly: strings without escapes, scalar values, "features"/"fields" and "tags"
// objects, numbers of up to 19 significant digits (converted by DecimalToDouble, correctly
// rounded, so the double is the one get_double gives). Anything else (an escape, a nested value, a
// control byte, invalid UTF-8, a syntax error, a missing model) makes it give up, and Decode
// decodes the line from the start the general way, with its error messages.
//
// The buffer holds the line, then SIMDJSON_PADDING zero bytes: a NUL ends every scan (a NUL in the
// line is a control byte, which stops it too) and 16-byte loads never leave the buffer.

// The bytes the last JSON record started with, up to and including its features object's '{',
// when before that object it held only the model: `{"model":"ten","features":{`. Senders repeat
// them on every line. A line that starts with the same bytes has the same model at the same
// place, and FastJsonLine goes straight to its features. (The head ends in an ASCII byte and was
// valid UTF-8 in its line, so the rest of a line that starts with it is all there is to check.)
class JsonHead {
 public:
  // Whether the line [p, end), padded as CopyLine pads it, starts with the head (and goes on).
  bool StartOf(const char* p, const char* end) const {
    if (size_ == 0 || static_cast<size_t>(end - p) <= size_) return false;
#if defined(__SSE2__)
    if (size_ < 16) {
      const unsigned want = (1u << size_) - 1;
      return (EqualBytes16(p, bytes_) & want) == want;
    }
    // 16 bytes at a time, the last 16 ending with the head's last byte (no mask to work out).
    for (size_t i = 0; i + 16 < size_; i += 16) {
      if (EqualBytes16(p + i, bytes_ + i) != 0xFFFF) return false;
    }
    return EqualBytes16(p + size_ - 16, bytes_ + size_ - 16) == 0xFFFF;
#else
    return std::memcmp(p, bytes_, size_) == 0;
#endif
  }
  size_t size() const { return size_; }
  void Count() { ++lines_; }
  uint64_t lines() const { return lines_; }  // lines that started with it (tests)
  std::string_view Model(const char* line) const { return {line + model_at_, model_size_}; }

  // The line at `line` decoded well, its features object opening at `features` after the model
  // `model` alone (or `features` null: it did not, and the head is forgotten).
  void Learn(const char* line, const char* features, std::string_view model) {
    size_ = 0;
    if (features == nullptr || static_cast<size_t>(features + 1 - line) > sizeof bytes_) return;
    size_ = static_cast<size_t>(features + 1 - line);
    std::memcpy(bytes_, line, size_);
    model_at_ = static_cast<size_t>(model.data() - line);
    model_size_ = model.size();
  }

 private:
  char bytes_[64] = {};
  size_t size_ = 0;  // 0: no head
  size_t model_at_ = 0, model_size_ = 0;
  uint64_t lines_ = 0;
};

class FastJsonLine {
 public:
  FastJsonLine(const char* s, size_t n) : begin_(s), end_(s + n) {}

  // The record, or false: see above. *record may be partly filled when it fails.
  bool Decode(Record* record, KeyIndex* field_index, KeyIndex* tag_index, JsonHead* head) {
    const char* p;
    bool have_fields = false;
    const bool headed = head->StartOf(begin_, end_);
    if (headed) {
      head->Count();
      record->model = head->Model(begin_);
      p = Object<false>(begin_ + head->size(), &record->fields, field_index);
      have_fields = true;
    } else {
      p = Blanks(begin_);
      if (*p != '{') return false;
      p = Blanks(p + 1);
    }
    // A head to learn: the features object's '{', when only the model came before it.
    const char* features = nullptr;
    std::string_view head_model;
    bool model_only = true;
    for (bool resume = headed;; resume = false) {
      if (!resume) {
        if (*p != '"') return false;
        std::string_view key;
        if ((p = String(p + 1, &key, nullptr)) == nullptr) return false;
        p = Blanks(p);
        if (*p != ':') return false;
        p = Blanks(p + 1);
        const bool is_features = SameKey(key, "features") || SameKey(key, "fields");
        if (is_features || SameKey(key, "tags")) {
          if (*p != '{') return false;
          if (is_features && model_only && !have_fields && !record->model.empty()) {
            features = p;
            head_model = record->model;
          }
          model_only &= is_features;
          p = is_features ? Object<false>(p + 1, &record->fields, field_index)
                          : Object<true>(p + 1, &record->tags, tag_index);
          have_fields |= is_features;
        } else if (SameKey(key, "model") || SameKey(key, "name")) {
          if (*p != '"') return false;
          model_only &= record->model.empty();
          p = String(p + 1, &record->model, nullptr);
        } else if (SameKey(key, "ts") || SameKey(key, "timestamp")) {
          if (*p != '-' && !IsDigit(*p)) return false;
          model_only = false;
          p = JsonNumber(p, &record->timestamp);
        } else {
          Value ignored;
          model_only = false;
          p = Scalar(p, false, &ignored);
        }
      }
      if (p == nullptr) return false;
      p = Blanks(p);
      if (*p == '}') break;
      if (*p != ',') return false;
      p = Blanks(p + 1);
    }
    if (Blanks(p + 1) != end_ || record->model.empty() || !have_fields) return false;
    record->shape = field_index->ShapeOf(record->fields);
    if (high_ != 0 && !simdjson::validate_utf8(begin_, static_cast<size_t>(end_ - begin_))) {
      return false;
    }
    if (!headed) head->Learn(begin_, features, head_model);
    return true;
  }

 private:
  static const char* Blanks(const char* p) {
    // Every byte the grammar expects next is above ' ': one compare in the usual case.
    while (static_cast<unsigned char>(*p) <= ' ' && (*p == ' ' || *p == '\t' || *p == '\r')) ++p;
    return p;
  }

  // A string's contents from `p` (just past the opening quote) up to the closing quote, with no
  // escape, no control byte (JSON forbids raw tabs and carriage returns in strings) and no DEL;
  // returns the byte past the closing quote. With `hash`, also the text's HashKey.
  [[gnu::always_inline]] const char* String(const char* p, std::string_view* text, uint64_t* hash) {
    return StringContents<true>(p, end_, text, hash, &high_);
  }

  // A scalar value (a string only, when `strings_only`), as ReadJsonValue reads it.
  [[gnu::always_inline]] const char* Scalar(const char* p, bool strings_only, Value* value) {
    if (!strings_only) {  // a feature's usual value first: JsonNumber is null on anything else
      if (const char* const end = JsonNumber(p, &value->number, value)) return end;
      if (IsDigit(*p) || *p == '-') return nullptr;  // a number the slow path is to decide
    }
    if (*p == '"') {
      value->kind = Value::Kind::kString;
      return String(p + 1, &value->text, nullptr);
    }
    if (strings_only) return nullptr;
    if (std::memcmp(p, "true", 4) == 0) {
      *value = Value::Bool(true);
      return p + 4;
    }
    if (std::memcmp(p, "false", 5) == 0) {
      *value = Value::Bool(false);
      return p + 5;
    }
    if (std::memcmp(p, "null", 4) == 0) {
      *value = Value{};  // kNull, with no text
      return p + 4;
    }
    return nullptr;
  }

  // The members of a "features"/"fields" or "tags" (kStringsOnly) object from `p` (just past its
  // '{') into *out; returns the byte past its '}'.
  template <bool kStringsOnly>
  const char* Object(const char* p, std::vector<Field>* out, KeyIndex* index) {
    KeyIndex::Cursor shape = index->Begin("\":");
    p = Blanks(p);
    if (*p == '}') {
      out->clear();
      return p + 1;
    }
    if (*p != '"') return nullptr;
    p = Members<kStringsOnly>(p, out, index, &shape);
    index->Sync(shape);
    if (p != nullptr) index->Finish(*out);
    return p;
  }

  // Object's members, from the first key's opening quote: the byte past the '}', or null.
  template <bool kStringsOnly>
  [[gnu::always_inline]] const char* Members(const char* p, std::vector<Field>* out,
                                             KeyIndex* index, KeyIndex::Cursor* shape) {
    FieldWriter writer(out);
    for (;;) {  // at a key's opening quote
      std::string_view key;
      uint64_t hash = 0;
      const size_t shaped = KeyIndex::MatchShape(p + 1, shape);
      if (shaped != 0) {  // the key, its closing quote and the colon
        key = std::string_view(p + 1, shaped - 2);
        p += 1 + shaped;
      } else {
        if ((p = String(p + 1, &key, &hash)) == nullptr) return nullptr;
        p = Blanks(p);
        if (*p != ':') return nullptr;
        ++p;
      }
      Field* const field = writer.Next(key, shaped != 0);
      if ((p = Scalar(Blanks(p), kStringsOnly, &field->value)) == nullptr) return nullptr;
      if (shaped == 0) {
        index->AddOffShape(shape, out, hash);
        writer.Sync();
      }
      if (std::memcmp(p, ",\"", 2) == 0) {  // the compact separator: one 2-byte compare
        ++p;
        continue;
      }
      p = Blanks(p);
      if (*p == '}') {
        writer.End();
        return p + 1;
      }
      if (*p != ',') return nullptr;
      p = Blanks(p + 1);
      if (*p != '"') return nullptr;
    }
  }

  const char* const begin_;
  const char* const end_;
  unsigned high_ = 0;  // a byte >= 0x80 was seen in (or just past) a string
};

// ---------------------------------------------------------------------------------------------
// Line-protocol fast path, for the same reason (issue 14): the general decoder classifies every
// byte into a bitmap first, then walks names, escapes and values through it. The lines senders
// write are plain: a measurement, tags and fields with ASCII names and no escapes, an optional
// timestamp, one blank between them. This pass takes such a line in one walk, checking every byte
// on the way (names are printable ASCII without ',', '=', ' ', '"' or '\\'; strings printable
// ASCII without '\\'; floats JSON-shaped numbers), and gives up on anything else: an escape, more
// than one blank or a tab, a control or non-ASCII byte, a float of more than 19 significant digits,
// any error. Decode then decodes the line from the start the general way, with its error messages;
// the record is the same (a test compares the two on random and mutated lines).
//
// The buffer holds the line, then SIMDJSON_PADDING zero bytes (CopyLine), as for JSON.

class FastLineProtocolLine {
 public:
  FastLineProtocolLine(const char* s, size_t n) : end_(s + n), padded_end_(end_ + kPadding) {}

  // The record decoded from `p` (past any leading blanks), or false: see above. *record may be
  // partly filled when it fails.
  bool Decode(const char* p, TimestampPrecision precision, Record* record, KeyIndex* field_index,
              KeyIndex* tag_index) {
    const char* name = p;
    p = Name(p);
    if (p == name || (*p != ',' && *p != ' ')) return false;
    record->model = View(name, p);
    if (*p == ',') tag_index->Reset();
    while (*p == ',') {
      const char* const key = ++p;
      p = Name(p);
      if (p == key || *p != '=') return false;
      const std::string_view tag_key = View(key, p);
      const char* const value = ++p;
      p = Name(p);
      if (p == value || (*p != ',' && *p != ' ')) return false;
      Field& tag = record->tags.emplace_back();
      tag.key = tag_key;
      tag.value.kind = Value::Kind::kString;
      tag.value.text = View(value, p);
      tag_index->AddLast(&record->tags, HashKey(tag_key, padded_end_));
    }
    ++p;  // the blank before the fields
    KeyIndex::Cursor shape = field_index->Begin("=");
    p = Fields(p, record, field_index, &shape);
    field_index->Sync(shape);
    if (p == nullptr) return false;
    field_index->Finish(record->fields);
    record->shape = field_index->ShapeOf(record->fields);
    record->format = Format::kLineProtocol;
    if (p == end_) return true;
    if (*p != ' ') return false;
    const char* const timestamp = ++p;
    p += *p == '-';
    while (IsDigit(*p)) ++p;
    int64_t t = 0;
    if (p != end_ || !ParseInt64(timestamp, p, &t)) return false;
    record->timestamp = TimestampToSeconds(t, precision);
    return true;
  }

 private:
  static constexpr size_t kPadding = simdjson::SIMDJSON_PADDING;

  // Whether a byte can be in a name the fast path takes.
  static constexpr std::array<bool, 256> kPlain = [] {
    std::array<bool, 256> plain{};
    for (int c = '!'; c <= '~'; ++c) plain[c] = c != ',' && c != '=' && c != '"' && c != '\\';
    return plain;
  }();

  // The fields from `p` (the first key) into record->fields; returns the byte past the last
  // value, or null.
  [[gnu::always_inline]] const char* Fields(const char* p, Record* record, KeyIndex* field_index,
                                            KeyIndex::Cursor* shape) const {
    FieldWriter writer(&record->fields);
    for (;;) {
      const char* const key = p;
      const size_t shaped = KeyIndex::MatchShape(p, shape);
      if (shaped != 0) {
        p += shaped - 1;
      } else {
        p = Name(p);
        if (p == key || *p != '=') return nullptr;
      }
      Field* const field = writer.Next(View(key, p), shaped != 0);
      if ((p = FieldValue(p + 1, &field->value)) == nullptr) return nullptr;
      if (shaped == 0) {
        field_index->AddOffShape(shape, &record->fields, HashKey(field->key, padded_end_));
        writer.Sync();
      }
      if (*p != ',') {
        writer.End();
        return p;
      }
      ++p;
    }
  }

  // A field's value at `p`, as LineProtocol reads it; returns the byte past it (which the caller
  // checks), or null.
  [[gnu::always_inline]] const char* FieldValue(const char* p, Value* value) const {
    if (*p == '"') {  // a string of printable ASCII: no escape (nor a byte that needs checking)
      const char* const text = ++p;
      while (kStringByte[static_cast<unsigned char>(*p)]) ++p;
      if (*p != '"') return nullptr;
      value->kind = Value::Kind::kString;
      value->text = View(text, p);
      return p + 1;
    }
    const char* const begin = p;
    if (*p == '-' || IsDigit(*p)) {
      // A float, else an integer (i) or an unsigned one (u): JsonNumber reads the digits of
      // either, and an integer's suffix then comes next. (A float does not scan its digits
      // twice; IntegerValue rejects "1.5i", and an integer JsonNumber leaves, such as one of 20
      // digits, takes the slow path.)
      const char* const end = JsonNumber(begin, &value->number, value);
      if (end != nullptr && (*end == 'i' || *end == 'u')) [[unlikely]] {
        value->kind = Value::Kind::kNumber;  // "1e-16i" was read as a decimal; IntegerValue refuses
        value->text = {};
        return IntegerValue(begin, end, *end, &value->number) ? end + 1 : nullptr;
      }
      return end;
    }
    // A boolean: t, T, true, True, TRUE and the same for false.
    p = Name(p);
    const std::string_view token = View(begin, p);
    const bool is_true = IsTrue(token);
    if (!is_true && !IsFalse(token)) return nullptr;
    *value = Value::Bool(is_true);
    return p;
  }

  // The end of the run of name bytes at `p` (the padding's NUL stops it).
  static const char* Name(const char* p) {
    while (kPlain[static_cast<unsigned char>(*p)]) ++p;
    return p;
  }
  // Whether a byte can be in a string value the fast path takes.
  static constexpr std::array<bool, 256> kStringByte = [] {
    std::array<bool, 256> string{};
    for (int c = ' '; c <= '~'; ++c) string[c] = c != '"' && c != '\\';
    return string;
  }();

  static std::string_view View(const char* begin, const char* end) {
    return {begin, static_cast<size_t>(end - begin)};
  }

  const char* const end_;
  const char* const padded_end_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------

struct LineDecoder::State {
  simdjson::ondemand::parser parser;
  std::string json_buffer;        // the current line followed by SIMDJSON_PADDING bytes
  std::string scratch;            // unescaped line-protocol names and strings, >= the line's size
  std::vector<uint64_t> special;  // line-protocol special-byte bitmap (see ScanBytes)
  KeyIndex field_index;
  KeyIndex tag_index;
  JsonHead json_head;
  TimestampPrecision precision = TimestampPrecision::kNanoseconds;
  uint64_t fast_json_lines = 0;           // JSON lines the fast path decoded (see FastJsonLine)
  uint64_t fast_line_protocol_lines = 0;  // and line-protocol lines (FastLineProtocolLine)

  DecodeStatus LineProtocol(std::string_view line, size_t pos, Record* record, DecodeError* error);
  // Decodes the JSON line CopyLine copied.
  DecodeStatus Json(std::string_view line, Record* record, DecodeError* error);

  // Copies a line into json_buffer, followed by SIMDJSON_PADDING zero bytes: what both fast
  // paths and simdjson read.
  const char* CopyLine(std::string_view line) {
    const size_t n = line.size();
    const size_t padded = n + simdjson::SIMDJSON_PADDING;
    if (json_buffer.size() < padded) json_buffer.resize(std::max(padded, json_buffer.size() * 2));
    std::memcpy(json_buffer.data(), line.data(), n);
    std::memset(json_buffer.data() + n, 0, simdjson::SIMDJSON_PADDING);
    return json_buffer.data();
  }
};

LineDecoder::LineDecoder() : state_(std::make_unique<State>()) {
  // A failed allocation is retried (and reported) by the first JSON line.
  const simdjson::error_code ignored = state_->parser.allocate(kInitialJsonCapacity);
  (void)ignored;
}
LineDecoder::~LineDecoder() = default;
void LineDecoder::set_precision(TimestampPrecision precision) { state_->precision = precision; }

std::optional<TimestampPrecision> ParsePrecision(std::string_view text, bool v1_forms) {
  if (text == "ns") return TimestampPrecision::kNanoseconds;
  if (text == "us") return TimestampPrecision::kMicroseconds;
  if (text == "ms") return TimestampPrecision::kMilliseconds;
  if (text == "s") return TimestampPrecision::kSeconds;
  if (!v1_forms) return std::nullopt;
  if (text == "n") return TimestampPrecision::kNanoseconds;
  if (text == "u" || text == "\xc2\xb5") return TimestampPrecision::kMicroseconds;  // "µ"
  if (text == "m") return TimestampPrecision::kMinutes;
  if (text == "h") return TimestampPrecision::kHours;
  return std::nullopt;
}

uint64_t LineDecoder::KeyProbes() const {
  return state_->field_index.probes() + state_->tag_index.probes();
}
uint64_t LineDecoder::ShapedKeys() const {
  return state_->field_index.shaped_keys() + state_->tag_index.shaped_keys();
}
uint64_t LineDecoder::FastJsonLines() const { return state_->fast_json_lines; }
uint64_t LineDecoder::JsonHeads() const { return state_->json_head.lines(); }
uint64_t LineDecoder::FastLineProtocolLines() const { return state_->fast_line_protocol_lines; }
void SetFastPathsForTesting(bool enabled) { g_fast_paths = enabled; }
void SetKeyHashSeedForTesting(uint64_t a, uint64_t b) {
  g_hash_seed = {a, b};
  g_block_seed = {0x1d8e4e27c47d124fULL ^ a, 0x8ebc6af09c88c6e3ULL ^ b};
}
LineDecoder::LineDecoder(LineDecoder&&) noexcept = default;
LineDecoder& LineDecoder::operator=(LineDecoder&&) noexcept = default;

DecodeStatus LineDecoder::Decode(std::string_view line, Record* record, DecodeError* error) {
  record->ClearAllButFields();  // the fast paths write over the last record's fields
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const char* const s = line.data();
  const size_t n = line.size();

  const size_t first = SkipBlanks(s, 0, n);
  const bool json = first < n && s[first] == '{';
  if (json) {
    const char* const copy = state_->CopyLine(line);
    if (g_fast_paths && FastJsonLine(copy, n).Decode(record, &state_->field_index,
                                                     &state_->tag_index, &state_->json_head)) {
      ++state_->fast_json_lines;
      return DecodeStatus::kRecord;
    }
  }
  const bool line_protocol = first < n && !json && s[first] != '#';
  if (line_protocol && g_fast_paths) {
    const char* const copy = state_->CopyLine(line);
    if (FastLineProtocolLine(copy, n).Decode(copy + first, state_->precision, record,
                                             &state_->field_index, &state_->tag_index)) {
      ++state_->fast_line_protocol_lines;
      return DecodeStatus::kRecord;
    }
  }
  record->Clear();  // what a fast path left, and the last record's fields
  ByteScan scan;
  if (line_protocol) {
    if (state_->special.size() < n / 64 + 1) state_->special.resize(n / 64 + 1);
    scan = ScanBytes<true>(s, n, state_->special.data());
  } else {
    scan = ScanBytes<false>(s, n, nullptr);
  }
  if (scan.control) {
    const size_t at = FirstControlByte(line);
    static constexpr char kHex[] = "0123456789abcdef";
    const unsigned char c = static_cast<unsigned char>(line[at]);
    return Fail(error, kBinary,
                std::string("control byte 0x") + kHex[c >> 4] + kHex[c & 15] + AtByte(at));
  }
  if (scan.high && !simdjson::validate_utf8(s, n)) {
    return Fail(error, kBinary, "line is not valid UTF-8");
  }

  if (line_protocol) return state_->LineProtocol(line, first, record, error);
  if (json) return state_->Json(line, record, error);
  return DecodeStatus::kSkip;  // blank or comment
}

DecodeStatus LineDecoder::State::LineProtocol(std::string_view line, size_t pos, Record* record,
                                              DecodeError* error) {
  const char* const s = line.data();
  const size_t n = line.size();
  const uint64_t* const bits = special.data();
  if (scratch.size() < n) scratch.resize(std::max(n, scratch.size() * 2));
  char* out = scratch.data();  // unescaped text is never longer than the line
  const char* const scratch_end = scratch.data() + scratch.size();
  record->format = Format::kLineProtocol;

  // Measurement.
  bool escaped = false;
  size_t end = ScanName<NameKind::kMeasurement>(s, n, bits, pos, &escaped);
  if (end == pos) return Fail(error, kMalformedLineProtocol, LpError("expected measurement", pos));
  record->model = Name<NameKind::kMeasurement>(s, pos, end, escaped, &out);
  pos = end;

  // Tag set.
  if (pos < n && s[pos] == ',') tag_index.Reset();
  while (pos < n && s[pos] == ',') {
    ++pos;
    escaped = false;
    end = ScanName<NameKind::kKey>(s, n, bits, pos, &escaped);
    if (end == pos) return Fail(error, kMalformedLineProtocol, LpError("expected tag key", pos));
    const std::string_view key = Name<NameKind::kKey>(s, pos, end, escaped, &out);
    if (end == n || s[end] != '=') {
      return Fail(error, kMalformedLineProtocol,
                  LpError("expected '=' after tag key " + Quote(key), end));
    }
    const uint64_t hash = HashKey(key, escaped ? scratch_end : s + n);
    pos = end + 1;
    escaped = false;
    end = ScanName<NameKind::kKey>(s, n, bits, pos, &escaped);
    if (end == pos) {
      return Fail(error, kMalformedLineProtocol,
                  LpError("empty value for tag key " + Quote(key), pos));
    }
    if (end < n && s[end] == '=') {
      return Fail(error, kMalformedLineProtocol,
                  LpError("unescaped '=' in value of tag " + Quote(key), end));
    }
    Field& tag = record->tags.emplace_back();
    tag.key = key;
    tag.value.kind = Value::Kind::kString;
    tag.value.text = Name<NameKind::kKey>(s, pos, end, escaped, &out);
    tag_index.AddLast(&record->tags, hash);
    pos = end;
  }

  // Field set, after at least one blank (the name scans stop only at ',', '=', blanks or the end).
  pos = SkipBlanks(s, pos, n);
  if (pos == n) {
    return Fail(error, kMalformedLineProtocol,
                LpError("missing field set after measurement " + Quote(record->model), pos));
  }
  field_index.Reset();
  while (true) {
    escaped = false;
    end = ScanName<NameKind::kKey>(s, n, bits, pos, &escaped);
    if (end == pos) return Fail(error, kMalformedLineProtocol, LpError("expected field key", pos));
    const std::string_view key = Name<NameKind::kKey>(s, pos, end, escaped, &out);
    if (end == n || s[end] != '=') {
      return Fail(error, kMalformedLineProtocol,
                  LpError("expected '=' after field key " + Quote(key), end));
    }
    const uint64_t hash = HashKey(key, escaped ? scratch_end : s + n);
    pos = end + 1;
    // Filled in place (no copies of a whole Field); on errors the record is dropped anyway.
    Field& field = record->fields.emplace_back();
    field.key = key;
    Value& value = field.value;
    if (pos < n && s[pos] == '"') {
      // String: '\' escapes '"' and '\'; before any other byte it is literal.
      const size_t begin = pos + 1;
      size_t i = begin;
      bool string_escaped = false;
      while (true) {
        i = NextSpecial(bits, i);
        if (i == n || s[i] == '"') break;
        if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '"' || s[i + 1] == '\\')) {
          string_escaped = true;
          ++i;
        }
        ++i;
      }
      if (i == n) {
        return Fail(error, kMalformedLineProtocol,
                    LpError("unterminated string value of field " + Quote(key), pos));
      }
      value.kind = Value::Kind::kString;
      if (!string_escaped) {
        value.text = std::string_view(s + begin, i - begin);
      } else {
        char* const start = out;
        for (size_t j = begin; j < i; ++j) {
          if (s[j] == '\\' && (s[j + 1] == '"' || s[j + 1] == '\\')) ++j;  // j + 1 <= i
          *out++ = s[j];
        }
        value.text = std::string_view(start, static_cast<size_t>(out - start));
      }
      pos = i + 1;
      if (pos < n && s[pos] != ',' && !IsBlank(s[pos])) {
        return Fail(error, kMalformedLineProtocol,
                    LpError("unexpected byte after string value of field " + Quote(key), pos));
      }
    } else {
      // Number or boolean: up to the next ',' or blank; any other special byte makes it invalid.
      end = NextSpecial(bits, pos);
      bool ok = end > pos && (end == n || s[end] == ',' || IsBlank(s[end]));
      if (ok) {
        const char* const begin = s + pos;
        const char* const stop = s + end;
        const char first = *begin;
        const char last = stop[-1];
        if (first == 't' || first == 'T' || first == 'f' || first == 'F') {
          const std::string_view token(begin, end - pos);
          const bool is_true = IsTrue(token);
          ok = is_true || IsFalse(token);
          value = Value::Bool(is_true);
        } else if (last == 'i' || last == 'u') {
          ok = IntegerValue(begin, stop - 1, last, &value.number);
          value.kind = Value::Kind::kNumber;
        } else {
          ok = ParseFloat(begin, stop, s + n, &value.number);
          value.kind = Value::Kind::kNumber;
        }
      }
      if (!ok) {
        end = TokenEnd(s, pos, n, /*stop_at_comma=*/true);
        return Fail(error, kMalformedLineProtocol,
                    end == pos ? LpError("missing value of field " + Quote(key), pos)
                               : LpError("invalid value " + Quote({s + pos, end - pos}) +
                                             " of field " + Quote(key),
                                         pos));
      }
      pos = end;
    }
    field_index.AddLast(&record->fields, hash);
    if (pos < n && s[pos] == ',') {
      ++pos;
      continue;
    }
    break;  // at a blank or the end
  }

  // Optional timestamp, an integer in `precision`'s unit.
  pos = SkipBlanks(s, pos, n);
  if (pos == n) return DecodeStatus::kRecord;
  end = NextSpecial(bits, pos);  // digits and '-' are not special
  int64_t t = 0;
  if ((end < n && !IsBlank(s[end])) || !ParseInt64(s + pos, s + end, &t)) {
    end = TokenEnd(s, pos, n, /*stop_at_comma=*/false);
    return Fail(error, kBadTimestamp,
                LpError("timestamp " + Quote({s + pos, end - pos}) +
                            " is not an integer number of " + std::string(PrecisionUnit(precision)),
                        pos));
  }
  record->timestamp = TimestampToSeconds(t, precision);
  pos = SkipBlanks(s, end, n);
  if (pos != n) {
    return Fail(error, kMalformedLineProtocol, LpError("unexpected text after timestamp", pos));
  }
  return DecodeStatus::kRecord;
}

// ---------------------------------------------------------------------------------------------
// JSON.

namespace {

namespace ondemand = simdjson::ondemand;

// A message for a simdjson error, with the byte offset where the parser stopped when known.
std::string JsonSyntax(simdjson::error_code code, ondemand::document& doc, const char* base,
                       size_t size) {
  std::string message = std::string("json: ") + simdjson::error_message(code);
  const char* at = nullptr;
  if (doc.current_location().get(at) == simdjson::SUCCESS && at >= base && at <= base + size) {
    message += AtByte(static_cast<size_t>(at - base));
  }
  return message;
}

// A JSON number's double. simdjson 3.0.1 (Debian's) wraps the mantissa of a number of more than
// 19 digits whose integer part is 0: get_double gives 0.0276628 for 0.95000000000000000000
// (simdjson issue 2093, fixed in 3.6.3), and it can take one too large for a double for a smaller
// one. Such numbers, rare, are converted again by std::from_chars, which rounds exactly: a number
// too large is a NUMBER_ERROR, as a fixed simdjson says, and one too small is zero. simdjson's own
// errors stay its own.
simdjson::error_code JsonDouble(ondemand::value& json, double* number) {
  const std::string_view token = json.raw_json_token();  // before the value is consumed
  if (auto code = json.get_double().get(*number)) return code;
  size_t digits = 0;
  for (size_t i = 0; i < token.size() && token[i] != 'e' && token[i] != 'E'; ++i) {
    digits += IsDigit(token[i]);
  }
  if (digits <= 19) return simdjson::SUCCESS;
  double exact = 0;
  const std::from_chars_result r =
      std::from_chars(token.data(), token.data() + token.size(), exact);
  if (r.ec == std::errc()) {
    *number = exact;
  } else if (r.ec == std::errc::result_out_of_range) {
    if (TooLarge(token)) return simdjson::NUMBER_ERROR;  // as a fixed simdjson says
    *number = token[0] == '-' ? -0.0 : 0.0;
  }
  return simdjson::SUCCESS;
}

// Reads one feature/field (any scalar) or tag (strings only) value. On a type error sets *what.
[[gnu::always_inline]] inline simdjson::error_code ReadJsonValue(ondemand::value& json,
                                                                 const char* end, bool strings_only,
                                                                 Value* value, const char** what) {
  ondemand::json_type type;
  if (auto code = json.type().get(type)) return code;
  switch (type) {
    case ondemand::json_type::number:
      if (strings_only) break;
      value->kind = Value::Kind::kNumber;
      return JsonDouble(json, &value->number);
    case ondemand::json_type::string: {
      value->kind = Value::Kind::kString;
      // Peek at the token (just past its opening quote) before consuming the value.
      if (StringContents<false>(json.raw_json_token().data() + 1, end, &value->text, nullptr)) {
        ondemand::raw_json_string consumed;
        return json.get_raw_json_string().get(consumed);
      }
      return json.get_string().get(value->text);
    }
    case ondemand::json_type::boolean: {
      if (strings_only) break;
      bool b = false;
      if (auto code = json.get_bool().get(b)) return code;
      *value = Value::Bool(b);
      return simdjson::SUCCESS;
    }
    case ondemand::json_type::null: {
      if (strings_only) break;
      bool is_null = false;
      if (auto code = json.is_null().get(is_null)) return code;
      if (!is_null) return simdjson::N_ATOM_ERROR;
      value->kind = Value::Kind::kNull;
      return simdjson::SUCCESS;
    }
    case ondemand::json_type::object:
    case ondemand::json_type::array:
      *what = strings_only ? "must be a string"
                           : "is an object or array; values must be numbers, strings, booleans "
                             "or null";
      return simdjson::INCORRECT_TYPE;
  }
  *what = "must be a string";
  return simdjson::INCORRECT_TYPE;
}

}  // namespace

DecodeStatus LineDecoder::State::Json(std::string_view line, Record* record, DecodeError* error) {
  record->format = Format::kJson;
  const size_t n = line.size();
  char* const base = json_buffer.data();  // holds the line (see CopyLine)
  const char* const end = base + n;
  if (n > parser.capacity() &&
      parser.allocate(std::max(n, parser.capacity() * 2)) != simdjson::SUCCESS) {
    return Fail(error, kMalformedJson, "json: line too long (" + std::to_string(n) + " bytes)");
  }

  ondemand::document doc;
  if (auto code = parser.iterate(base, n, json_buffer.size()).get(doc)) {
    return Fail(error, kMalformedJson, std::string("json: ") + simdjson::error_message(code));
  }
  ondemand::object root;
  if (auto code = doc.get_object().get(root)) {
    return Fail(error, kMalformedJson, JsonSyntax(code, doc, base, n));
  }

  bool have_fields = false;
  for (auto member : root) {
    // Fields are used in place: moving one out of its simdjson_result (`.get(field)`) makes GCC
    // store it in pieces and reload it whole, a store-forwarding stall that cost more than
    // parsing the rest of the line.
    if (auto code = member.error()) {
      return Fail(error, kMalformedJson, JsonSyntax(code, doc, base, n));
    }
    ondemand::field& field = member.value_unsafe();
    std::string_view key;
    const char* const raw_key = field.key().raw();  // just past the opening quote
    const size_t key_offset = static_cast<size_t>(raw_key - base) - 1;
    if (!StringContents<false>(raw_key, end, &key, nullptr)) {
      if (auto code = field.unescaped_key().get(key)) {
        return Fail(error, kMalformedJson, JsonSyntax(code, doc, base, n));
      }
    }
    const bool is_features = key == "features" || key == "fields";
    const bool is_tags = !is_features && key == "tags";
    if (is_features || is_tags) {
      ondemand::object object;
      if (auto code = field.value().get_object().get(object)) {
        if (code != simdjson::INCORRECT_TYPE) {
          return Fail(error, kMalformedJson, JsonSyntax(code, doc, base, n));
        }
        return Fail(error, kMalformedJson,
                    "json: " + Quote(key) + " must be an object" + AtByte(key_offset));
      }
      std::vector<Field>* const out = is_features ? &record->fields : &record->tags;
      KeyIndex* const index = is_features ? &field_index : &tag_index;
      out->clear();
      index->Reset();
      for (auto inner : object) {
        if (auto code = inner.error()) {
          return Fail(error, kMalformedJson, JsonSyntax(code, doc, base, n));
        }
        ondemand::field& item = inner.value_unsafe();
        const char* const raw_key = item.key().raw();
        const size_t item_offset = static_cast<size_t>(raw_key - base) - 1;
        std::string_view item_key;
        uint64_t hash = 0;
        if (!StringContents<false>(raw_key, end, &item_key, &hash)) {
          if (auto code = item.unescaped_key().get(item_key)) {
            return Fail(error, kMalformedJson, JsonSyntax(code, doc, base, n));
          }
          hash = HashKey(item_key, item_key.data() + item_key.size());
        }
        Field& parsed = out->emplace_back();  // filled in place: no copies of a whole Field
        parsed.key = item_key;
        const char* what = nullptr;
        if (auto code = ReadJsonValue(item.value(), end, is_tags, &parsed.value, &what)) {
          const std::string name = std::string(is_tags ? "tag " : "feature ") + Quote(parsed.key);
          return Fail(error, kMalformedJson,
                      "json: " + name +
                          (what ? std::string(" ") + what
                                : std::string(": ") + simdjson::error_message(code)) +
                          AtByte(item_offset));
        }
        index->AddLast(out, hash);
      }
      if (is_features) have_fields = true;
    } else if (key == "model" || key == "name") {
      if (auto code = field.value().get_string().get(record->model)) {
        if (code != simdjson::INCORRECT_TYPE) {
          return Fail(error, kMalformedJson, JsonSyntax(code, doc, base, n));
        }
        return Fail(error, kMalformedJson,
                    "json: " + Quote(key) + " must be a string" + AtByte(key_offset));
      }
    } else if (key == "ts" || key == "timestamp") {
      ondemand::json_type type;
      if (auto code = field.value().type().get(type)) {
        return Fail(error, kMalformedJson, JsonSyntax(code, doc, base, n));
      }
      if (type != ondemand::json_type::number) {
        return Fail(
            error, kBadTimestamp,
            "json: " + Quote(key) + " must be a number (unix seconds)" + AtByte(key_offset));
      }
      double ts = 0;
      if (auto code = JsonDouble(field.value(), &ts)) {
        return Fail(
            error, kBadTimestamp,
            "json: " + Quote(key) + ": " + simdjson::error_message(code) + AtByte(key_offset));
      }
      record->timestamp = ts;
    }
    // Any other key is skipped.
  }
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) == simdjson::SUCCESS) {
    return Fail(
        error, kMalformedJson,
        "json: unexpected text after the object" +
            AtByte(static_cast<size_t>(std::clamp<const char*>(trailing, base, end) - base)));
  }
  if (record->model.empty()) {
    return Fail(error, kMissingModel, "json: missing \"model\" (or \"name\") string");
  }
  if (!have_fields) {
    return Fail(error, kMalformedJson, "json: missing \"features\" (or \"fields\") object");
  }
  return DecodeStatus::kRecord;
}

}  // namespace driftd
