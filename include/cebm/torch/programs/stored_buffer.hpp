#pragma once
/// @file
/// What a trainer's checkpoint stores of its replay buffer, read without the evaluation:
/// `stored_sample_shape(checkpoint, path)`, the shape [C, H, W] of the model's samples.
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <torch/serialize/archive.h>

namespace cebm::programs {

namespace detail {

/// The checkpoint's replay-buffer storage [capacity, C, H, W] and its archive (into `b`).
inline at::Tensor read_buffer_storage(torch::serialize::InputArchive& ckpt, const std::string& path,
                                      torch::serialize::InputArchive& b) {
  at::Tensor storage;
  try {
    ckpt.read("buffer", b);
    b.read("storage", storage, true);
  } catch (const std::exception&) {
    throw std::runtime_error(path + ": holds no replay buffer (not a checkpoint of a cebm trainer?)");
  }
  return storage;
}

}  // namespace detail

/// The sample shape [C, H, W] of the replay buffer a checkpoint holds.
inline std::vector<std::int64_t> stored_sample_shape(torch::serialize::InputArchive& ckpt, const std::string& path) {
  torch::serialize::InputArchive b;
  const at::Tensor storage = detail::read_buffer_storage(ckpt, path, b);
  return {storage.sizes().begin() + 1, storage.sizes().end()};
}

}  // namespace cebm::programs
