#pragma once
/// @file
/// What a trainer's checkpoint stores, read without the evaluation:
///   `stored_sample_shape(checkpoint, path)`   the shape [C, H, W] of the replay buffer's samples;
///   `load_stored_weights(module, checkpoint, entry, path, kind)`
///                                             the weights entry ("model", "ema") into a module.
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <torch/nn/module.h>
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

/// Loads the checkpoint's weights entry `entry` into `module`; a missing tensor, or one whose
/// shape or dtype differs from the module's, names the file and the model `kind` it was built as.
/// (libtorch's `Module::load` replaces a tensor of another shape without a word, leaving a module
/// whose weights disagree with its options.)
inline void load_stored_weights(torch::nn::Module& module, torch::serialize::InputArchive& ckpt, const std::string& entry,
                                const std::string& path, const std::string& kind) {
  const auto fail = [&](const std::string& why) {
    return std::runtime_error(path + ": its '" + entry + "' parameters do not fit a " + kind + " built from the run's options (" +
                              why + ")");
  };
  struct shape_of {
    std::string name;
    std::vector<std::int64_t> sizes;
    at::ScalarType type;
  };
  std::vector<shape_of> expected;  // what the module holds before the load
  for (const auto& t : module.named_parameters(true)) expected.push_back({t.key(), t.value().sizes().vec(), t.value().scalar_type()});
  for (const auto& t : module.named_buffers(true))
    if (t.value().defined()) expected.push_back({t.key(), t.value().sizes().vec(), t.value().scalar_type()});
  try {
    torch::serialize::InputArchive w;
    ckpt.read(entry, w);
    module.load(w);
  } catch (const std::exception& e) {
    throw fail(std::string(e.what()).substr(0, 160));
  }
  const auto params = module.named_parameters(true), buffers = module.named_buffers(true);
  for (const auto& want : expected) {
    const at::Tensor* got = params.find(want.name);
    if (got == nullptr) got = buffers.find(want.name);
    if (got == nullptr || got->sizes().vec() != want.sizes || got->scalar_type() != want.type)
      throw fail("'" + want.name + "' is " +
                 (got ? std::string(c10::str(got->sizes())) + " " + std::string(c10::toString(got->scalar_type())) : "missing") +
                 ", the model's " + std::string(c10::str(at::IntArrayRef(want.sizes))) + " " + std::string(c10::toString(want.type)));
  }
}

}  // namespace cebm::programs
