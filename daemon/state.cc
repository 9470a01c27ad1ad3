#include "daemon/state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace driftd {
namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

bool WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

bool EnsureStateDirectory(const std::string& directory, std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) {
    *error = directory + ": " + ec.message();
    return false;
  }
  if (!std::filesystem::is_directory(directory, ec)) {
    *error = directory + ": not a directory";
    return false;
  }
  return true;
}

bool WriteCheckpointFile(const std::string& directory, std::string_view bytes, std::string* error) {
  return WriteFileAtomically((std::filesystem::path(directory) / kCheckpointFileName).string(),
                             bytes, 0600, error);
}

bool WriteFileAtomically(const std::string& final_path, std::string_view bytes, mode_t mode,
                         std::string* error) {
  // The directory to fsync after the rename: the path's parent, or "." for a bare file name.
  // (Kept a path: assigning "." to an empty std::string trips a GCC 12 -Wstringop-overflow
  // false positive in Release builds.)
  std::filesystem::path parent = std::filesystem::path(final_path).parent_path();
  if (parent.empty()) parent = std::filesystem::path(".");
  const std::string directory = parent.string();
  const std::string tmp_path = final_path + ".tmp";
  const int fd = open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    *error = Errno("open " + tmp_path);
    return false;
  }
  if (!WriteAll(fd, bytes) || fsync(fd) != 0) {
    *error = Errno("write " + tmp_path);
    close(fd);
    unlink(tmp_path.c_str());
    return false;
  }
  if (close(fd) != 0) {
    *error = Errno("close " + tmp_path);
    unlink(tmp_path.c_str());
    return false;
  }
  if (rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    *error = Errno("rename " + tmp_path);
    unlink(tmp_path.c_str());
    return false;
  }
  // The rename is durable only once the directory entry is.
  const int dfd = open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || fsync(dfd) != 0) {
    *error = Errno("fsync " + directory);
    if (dfd >= 0) close(dfd);
    return false;
  }
  close(dfd);
  return true;
}

CheckpointLoad ReadCheckpointFile(const std::string& directory, CheckpointFile* out,
                                  std::string* error, std::string* set_aside_as) {
  const std::string path = (std::filesystem::path(directory) / kCheckpointFileName).string();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return CheckpointLoad::kNone;
    *error = Errno("open " + path);
    return CheckpointLoad::kError;
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    *error = "read " + path + ": I/O error";
    return CheckpointLoad::kError;
  }
  std::optional<CheckpointFile> file = DecodeCheckpoint(bytes, error);
  if (file) {
    *out = std::move(*file);
    return CheckpointLoad::kLoaded;
  }
  // Kept for a post-mortem under a name the next start does not read.
  const auto stamp = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  *set_aside_as = path + ".bad-" + std::to_string(stamp);
  if (rename(path.c_str(), set_aside_as->c_str()) != 0) {
    *error += "; " + Errno("and it could not be set aside as " + *set_aside_as);
    return CheckpointLoad::kError;
  }
  return CheckpointLoad::kSetAside;
}

}  // namespace driftd
