#pragma once
/// @file
/// `replace_file(path, bytes, what)`: a file written whole or not at all. The bytes go to
/// `<path>.tmp`, are flushed to the disk (fsync) and renamed over `path`; a failed write (a full
/// disk, a file-size limit) removes the temporary file, leaves the previous `path` (if any) as it
/// was and throws an error naming the file and the cause. `what` names the content in messages
/// ("the checkpoint", "the summary").
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace cebm::train {

inline void replace_file(const std::string& path, const std::string& bytes, const std::string& what) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  if (ec) throw std::runtime_error(path + ": cannot create its folder (" + ec.message() + ")");
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw std::runtime_error(tmp + ": cannot open for writing (" + std::strerror(errno) + ")");
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() && std::fflush(f) == 0 &&
                       ::fsync(fileno(f)) == 0;
  const int write_errno = errno;
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    fs::remove(tmp, ec);
    throw std::runtime_error(path + ": cannot write " + what + " (" + std::strerror(written ? errno : write_errno) +
                             "); the previous one, if any, is intact");
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw std::runtime_error(path + ": cannot move " + what + " into place (" + ec.message() + ")");
  }
}

}  // namespace cebm::train
