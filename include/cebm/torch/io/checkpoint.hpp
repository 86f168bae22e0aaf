#pragma once
/// @file
/// Checkpoint files that survive being killed mid-write: the archive goes to `<path>.tmp` and is
/// renamed over `<path>` (atomic on POSIX file systems), so `<path>` is always the old or the new
/// checkpoint, never a torn one.
#include <filesystem>
#include <stdexcept>
#include <string>

#include <torch/serialize/archive.h>

namespace cebm::train {

inline void write_checkpoint(torch::serialize::OutputArchive& archive, const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  const std::string tmp = path + ".tmp";
  archive.save_to(tmp);
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) throw std::runtime_error(path + ": cannot move the new checkpoint into place (" + ec.message() + ")");
}

inline torch::serialize::InputArchive read_checkpoint(const std::string& path) {
  if (!std::filesystem::exists(path)) throw std::runtime_error(path + ": no such checkpoint");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": not a readable checkpoint (" + std::string(e.what()).substr(0, 200) + ")");
  }
  return archive;
}

}  // namespace cebm::train
