// The checkpoint file: every model's window and alert states (Monitor::Checkpoint) as bytes, and
// back. A header names the format and its version and carries the payload's length and SHA-256,
// so that a truncated, corrupt or foreign file is recognised whole before anything is used.
// Pure: no files here (daemon/state.h writes and reads them).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/monitor.h"

namespace driftd {

// The first bytes of every checkpoint file, then the format version (4 bytes, little-endian).
inline constexpr std::string_view kCheckpointMagic = "DRIFTDCK";
// Version 2 holds several named windows per model; version 1 (one window) is still read.
inline constexpr uint32_t kCheckpointVersion = 2;
// The most windows a model's checkpoint may hold (the configuration allows as many).
inline constexpr uint32_t kMaxCheckpointWindows = 8;

struct CheckpointFile {
  double written_at = 0;  // unix seconds
  std::vector<ModelCheckpoint> models;
};

std::string EncodeCheckpoint(const CheckpointFile& file);

// The checkpoint in `bytes`, or nullopt with *error saying why: "not a driftd checkpoint",
// "checkpoint format version 7 is not supported", "truncated: ...", "checksum mismatch", or what
// in the payload is out of range. Never reads past `bytes`; thread-safe.
std::optional<CheckpointFile> DecodeCheckpoint(std::string_view bytes, std::string* error);

}  // namespace driftd
