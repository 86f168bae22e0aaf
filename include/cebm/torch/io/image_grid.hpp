#pragma once
/// @file
/// `make_grid`: a batch of images [N, C, H, W] (uint8) tiled into one image [C, H', W'] with
/// `columns` images per row (torchvision's `nrow`, which counts columns) and `padding` pixels of
/// `pad_value` between and around them.
#include <cstdint>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

namespace cebm::eval {

inline at::Tensor make_grid(const at::Tensor& images, std::int64_t columns = 8, std::int64_t padding = 2,
                            std::uint8_t pad_value = 0) {
  if (images.dim() != 4 || images.scalar_type() != at::kByte || images.size(0) == 0)
    throw std::invalid_argument("cebm::eval::make_grid: expected a non-empty uint8 batch [N, C, H, W], got " +
                                std::string(c10::str(images.sizes())));
  if (columns <= 0 || padding < 0) throw std::invalid_argument("cebm::eval::make_grid: columns must be > 0, padding >= 0");
  const std::int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  const std::int64_t cols = std::min(columns, n), rows = (n + cols - 1) / cols;
  at::Tensor grid = at::full({c, rows * (h + padding) + padding, cols * (w + padding) + padding}, pad_value, images.options());
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t r = i / cols, k = i % cols;
    grid.narrow(1, padding + r * (h + padding), h).narrow(2, padding + k * (w + padding), w).copy_(images[i]);
  }
  return grid;
}

}  // namespace cebm::eval
