// The checkpoint file in state.directory: written so that a crash at any moment leaves either
// the previous checkpoint or the new one, whole; read so that a file driftd cannot use is set
// aside (renamed, never deleted) and driftd starts empty instead of failing.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "core/checkpoint.h"

namespace driftd {

// The file's name inside the state directory.
inline constexpr std::string_view kCheckpointFileName = "checkpoint";

// Creates `directory` (and its parents) when missing. False with *error otherwise.
bool EnsureStateDirectory(const std::string& directory, std::string* error);

// Writes `bytes` as DIRECTORY/checkpoint: into checkpoint.tmp, fsync, rename over the old file,
// fsync of the directory. False with *error ("write checkpoint.tmp: No space left on device")
// and the previous checkpoint left in place.
bool WriteCheckpointFile(const std::string& directory, std::string_view bytes, std::string* error);

// Writes `bytes` as `path` the same way (PATH.tmp created with `mode` less the umask, fsync,
// rename, fsync of the folder): whole or not at all, even across a crash.
bool WriteFileAtomically(const std::string& path, std::string_view bytes, mode_t mode,
                         std::string* error);

enum class CheckpointLoad {
  kNone,      // no checkpoint in the directory
  kLoaded,    // *out holds it
  kSetAside,  // unusable: renamed to *set_aside_as, *error says why
  kError,     // could not be read (permissions, ...): *error; left in place
};

CheckpointLoad ReadCheckpointFile(const std::string& directory, CheckpointFile* out,
                                  std::string* error, std::string* set_aside_as);

}  // namespace driftd
