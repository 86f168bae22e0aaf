#pragma once
/// @file
/// Out-of-distribution sets of the papers' OOD tables, as uint8 datasets (labels −1):
///   constant_images       one uniformly drawn colour per image (the papers' "constant" sets)
///   uniform_noise_images  every pixel uniform on 0…255
///   interpolated_images   (img_i + img_{i+offset}) / 2 over a test split (CLEL's CIFAR10-Interp,
///                         offset 100, N − offset images)
/// Another dataset (MNIST against Fashion-MNIST) is another reader; `reshape_images` matches shapes.
#include <cstdint>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

#include "cebm/torch/data/image_dataset.hpp"

namespace cebm::data {

inline image_dataset constant_images(std::int64_t n, std::int64_t channels, std::int64_t height, std::int64_t width,
                                     at::Generator& gen) {
  if (n <= 0 || channels <= 0 || height <= 0 || width <= 0)
    throw std::invalid_argument("cebm::data::constant_images: sizes must be positive");
  const at::Tensor colour = at::randint(0, 256, {n, channels, 1, 1}, gen, at::kLong).to(at::kByte);
  return {colour.expand({n, channels, height, width}).contiguous(), at::full({n}, -1, at::kLong),
          "constant images (" + std::to_string(n) + ")"};
}

inline image_dataset uniform_noise_images(std::int64_t n, std::int64_t channels, std::int64_t height, std::int64_t width,
                                          at::Generator& gen) {
  if (n <= 0 || channels <= 0 || height <= 0 || width <= 0)
    throw std::invalid_argument("cebm::data::uniform_noise_images: sizes must be positive");
  return {at::randint(0, 256, {n, channels, height, width}, gen, at::kLong).to(at::kByte), at::full({n}, -1, at::kLong),
          "uniform noise images (" + std::to_string(n) + ")"};
}

inline image_dataset interpolated_images(const image_dataset& d, std::int64_t offset = 100) {
  d.validate();
  if (offset <= 0 || offset >= d.size())
    throw std::invalid_argument("cebm::data::interpolated_images: offset must be in [1, " + std::to_string(d.size() - 1) +
                                "] for " + d.source + ", got " + std::to_string(offset));
  const std::int64_t n = d.size() - offset;
  const at::Tensor a = d.images.narrow(0, 0, n).to(at::kFloat), b = d.images.narrow(0, offset, n).to(at::kFloat);
  return {((a + b) / 2).round().to(at::kByte), at::full({n}, -1, at::kLong), "interpolations of " + d.source};
}

}  // namespace cebm::data
