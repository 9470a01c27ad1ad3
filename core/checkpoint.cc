#include "core/checkpoint.h"

#include <cstring>
#include <type_traits>

#include "core/sha256.h"

namespace driftd {
namespace {

// Header: magic, version (u32), payload length (u64), the payload's SHA-256 as 64 hex digits.
constexpr size_t kSha256Hex = 64;
constexpr size_t kHeaderBytes = kCheckpointMagic.size() + 4 + 8 + kSha256Hex;

// Numbers are written little-endian, as the machine holds them (x86-64, arm64): a checkpoint
// from a big-endian host fails its range checks or its bins check, never loads wrong.
class Writer {
 public:
  template <typename T>
  void Put(T v) {
    static_assert(std::is_arithmetic_v<T>);
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out_.append(b, sizeof(T));
  }
  void PutString(std::string_view s) {
    Put<uint32_t>(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  void PutU32s(const std::vector<uint32_t>& v) {
    Put<uint32_t>(static_cast<uint32_t>(v.size()));
    if (!v.empty()) {
      out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(uint32_t));
    }
  }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  bool Get(T* v) {
    static_assert(std::is_arithmetic_v<T>);
    if (in_.size() < sizeof(T)) return false;
    std::memcpy(v, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
    return true;
  }
  bool GetString(std::string* s) {
    uint32_t n = 0;
    if (!Get(&n) || in_.size() < n) return false;
    s->assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
  bool GetU32s(std::vector<uint32_t>* v) {
    uint32_t n = 0;
    if (!Get(&n) || in_.size() / sizeof(uint32_t) < n) return false;
    v->resize(n);
    if (n != 0) std::memcpy(v->data(), in_.data(), size_t{n} * sizeof(uint32_t));
    in_.remove_prefix(size_t{n} * sizeof(uint32_t));
    return true;
  }
  // Whether `count` items of at least `min_bytes` each can still follow.
  bool CanHold(uint64_t count, size_t min_bytes) const { return count <= in_.size() / min_bytes; }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

void PutModel(Writer* w, const ModelCheckpoint& m) {
  w->PutString(m.model);
  w->PutString(m.sha256);
  w->Put<uint32_t>(static_cast<uint32_t>(m.windows.size()));
  for (const NamedWindow& nw : m.windows) {
    w->PutString(nw.name);
    w->Put<double>(nw.options.length_seconds);
    w->Put<uint32_t>(nw.options.slices);
  }
  w->PutU32s(m.bins);
  w->Put<double>(m.end);
  w->Put<uint64_t>(m.late);
  w->Put<uint64_t>(m.future);
  w->Put<uint64_t>(m.saturations);
  w->Put<uint8_t>(m.retrain ? 1 : 0);
  w->Put<uint32_t>(static_cast<uint32_t>(m.alert_states.size()));
  for (const FeatureAlertState::Saved& s : m.alert_states) {
    w->Put<uint8_t>(s.evaluable ? 1 : 0);
    w->Put<uint8_t>(s.level);
    for (uint32_t v : s.up) w->Put<uint32_t>(v);
    for (uint32_t v : s.down) w->Put<uint32_t>(v);
  }
  w->PutU32s(m.explicit_missing);
  w->Put<double>(m.explicit_until);
  for (const ModelCheckpoint::Slices& tier : m.slices) {
    w->Put<uint32_t>(static_cast<uint32_t>(tier.size()));
    for (const auto& [index, counts] : tier) {
      w->Put<int64_t>(index);
      w->PutU32s(counts);
    }
  }
}

// Version 1 held one window, with no name: read as one window named "" (Restore matches it by its
// options alone).
bool GetWindows(Reader* r, uint32_t version, ModelCheckpoint* m) {
  uint32_t windows = 1;
  if (version >= 2 && (!r->Get(&windows) || windows == 0 || windows > kMaxCheckpointWindows)) {
    return false;
  }
  m->windows.resize(windows);
  for (NamedWindow& w : m->windows) {
    w.name.clear();
    if ((version >= 2 && !r->GetString(&w.name)) || !r->Get(&w.options.length_seconds) ||
        !r->Get(&w.options.slices)) {
      return false;
    }
  }
  return true;
}

bool GetModel(Reader* r, uint32_t version, ModelCheckpoint* m, std::string* error) {
  uint8_t retrain = 0;
  uint32_t states = 0;
  if (!r->GetString(&m->model) || !r->GetString(&m->sha256) || !GetWindows(r, version, m) ||
      !r->GetU32s(&m->bins) || !r->Get(&m->end) || !r->Get(&m->late) || !r->Get(&m->future) ||
      !r->Get(&m->saturations) || !r->Get(&retrain) || !r->Get(&states) ||
      !r->CanHold(states, 26)) {
    *error = "truncated model record";
    return false;
  }
  if (retrain > 1) {
    *error = "bad retrain flag";
    return false;
  }
  m->retrain = retrain != 0;
  m->alert_states.resize(states);
  for (FeatureAlertState::Saved& s : m->alert_states) {
    uint8_t evaluable = 0;
    bool ok = r->Get(&evaluable) && r->Get(&s.level);
    for (uint32_t& v : s.up) ok = ok && r->Get(&v);
    for (uint32_t& v : s.down) ok = ok && r->Get(&v);
    if (!ok) {
      *error = "truncated alert state";
      return false;
    }
    if (evaluable > 1) {
      *error = "bad alert state";
      return false;
    }
    s.evaluable = evaluable != 0;
  }
  if (!r->GetU32s(&m->explicit_missing) || !r->Get(&m->explicit_until)) {
    *error = "truncated model record";
    return false;
  }
  uint64_t stride = 0;
  for (uint32_t b : m->bins) stride += b;
  m->slices.resize(m->windows.size());
  for (size_t k = 0; k < m->windows.size(); ++k) {
    uint32_t slices = 0;
    if (!r->Get(&slices) || !r->CanHold(slices, 12) || slices > m->windows[k].options.slices) {
      *error = "truncated or oversized slice list";
      return false;
    }
    m->slices[k].resize(slices);
    for (auto& [index, counts] : m->slices[k]) {
      if (!r->Get(&index) || !r->GetU32s(&counts)) {
        *error = "truncated slice";
        return false;
      }
      if (counts.size() != stride) {
        *error = "a slice of model \"" + m->model + "\" does not match its bins";
        return false;
      }
    }
  }
  return true;
}

}  // namespace

std::string EncodeCheckpoint(const CheckpointFile& file) {
  Writer payload;
  payload.Put<double>(file.written_at);
  payload.Put<uint32_t>(static_cast<uint32_t>(file.models.size()));
  for (const ModelCheckpoint& m : file.models) PutModel(&payload, m);

  Writer out;
  out.out().append(kCheckpointMagic);
  out.Put<uint32_t>(kCheckpointVersion);
  out.Put<uint64_t>(payload.out().size());
  out.out().append(Sha256Hex(payload.out()));
  out.out().append(payload.out());
  return std::move(out.out());
}

std::optional<CheckpointFile> DecodeCheckpoint(std::string_view bytes, std::string* error) {
  if (bytes.size() < kCheckpointMagic.size() ||
      bytes.substr(0, kCheckpointMagic.size()) != kCheckpointMagic) {
    *error = "not a driftd checkpoint";
    return std::nullopt;
  }
  if (bytes.size() < kHeaderBytes) {
    *error = "truncated: " + std::to_string(bytes.size()) + " bytes, shorter than the header";
    return std::nullopt;
  }
  Reader header(bytes.substr(kCheckpointMagic.size()));
  uint32_t version = 0;
  uint64_t length = 0;
  header.Get(&version);
  header.Get(&length);
  if (version < 1 || version > kCheckpointVersion) {
    *error = "checkpoint format version " + std::to_string(version) + " is not supported (this " +
             "driftd reads versions 1 to " + std::to_string(kCheckpointVersion) + ")";
    return std::nullopt;
  }
  const std::string_view sha = bytes.substr(kHeaderBytes - kSha256Hex, kSha256Hex);
  const std::string_view payload = bytes.substr(kHeaderBytes);
  if (payload.size() != length) {
    *error = "truncated: the payload holds " + std::to_string(payload.size()) +
             " bytes, the header says " + std::to_string(length);
    return std::nullopt;
  }
  if (Sha256Hex(payload) != sha) {
    *error = "checksum mismatch: the file is corrupt";
    return std::nullopt;
  }
  Reader r(payload);
  CheckpointFile file;
  uint32_t models = 0;
  if (!r.Get(&file.written_at) || !r.Get(&models) || !r.CanHold(models, 64)) {
    *error = "truncated model list";
    return std::nullopt;
  }
  file.models.resize(models);
  for (ModelCheckpoint& m : file.models) {
    if (!GetModel(&r, version, &m, error)) return std::nullopt;
  }
  if (!r.done()) {
    *error = "unexpected bytes after the last model";
    return std::nullopt;
  }
  return file;
}

}  // namespace driftd
