#pragma once
/// @file
/// `pad_and_crop`: the CLEL "weak" crop, Kornia `RandomCrop((H, W), padding = k, padding_mode =
/// 'reflect')`. Each sample is reflect-padded by k on every side (the edge pixel is not repeated:
/// index −1 reads index 1, as torch's "reflect") and an H × W window is cut at an offset (dx, dy)
/// drawn uniformly from {0, …, 2k}², independently per sample. The output has the input's shape;
/// pixels are copied, never interpolated:
///
///     y[n, c, i, j] = x[n, c, ρ_H(i + dy − k), ρ_W(j + dx − k)],   ρ_L(t) = L − 1 − |L − 1 − |t||.
#include <cstdint>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

#include "cebm/torch/data/augment/detail.hpp"

namespace cebm::data {

namespace detail {
/// Reflected source indices [N, L] for windows starting at `offset` [N] in the padded axis.
inline at::Tensor reflected_window(const at::Tensor& offset, std::int64_t length, std::int64_t padding) {
  const at::Tensor t = (offset.reshape({-1, 1}) - padding) + at::arange(length, offset.options()).reshape({1, -1});
  return (length - 1) - ((length - 1) - t.abs()).abs();
}

inline void check_padding(std::int64_t padding, const at::Tensor& x, const char* where) {
  if (padding < 0 || padding >= x.size(2) || padding >= x.size(3))
    throw std::invalid_argument(std::string(where) + ": padding must be in [0, min(H, W) − 1] for reflection, got " +
                                std::to_string(padding) + " for images of shape " + std::string(c10::str(x.sizes())));
}
}  // namespace detail

/// The window at explicit offsets: `offsets` int64 [N, 2] holds (dx, dy) per sample, each in [0, 2k]
/// (indices that would fall outside even the padded image are clamped to its edge).
inline at::Tensor pad_and_crop_at(const at::Tensor& x, const at::Tensor& offsets, std::int64_t padding = 4) {
  constexpr const char* where = "cebm::data::pad_and_crop_at";
  detail::check_images(x, where);
  detail::check_padding(padding, x, where);
  if (!offsets.defined() || offsets.dim() != 2 || offsets.size(0) != x.size(0) || offsets.size(1) != 2 ||
      at::isFloatingType(offsets.scalar_type()) || offsets.scalar_type() == at::kBool)
    throw std::invalid_argument(std::string(where) + ": offsets must be an integer tensor [" + std::to_string(x.size(0)) +
                                ", 2] of (dx, dy), got " + detail::describe_tensor(offsets));
  const std::int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const at::Tensor off = offsets.to(x.device(), at::kLong);
  const at::Tensor rows = detail::reflected_window(off.select(1, 1), h, padding).clamp(0, h - 1);
  const at::Tensor cols = detail::reflected_window(off.select(1, 0), w, padding).clamp(0, w - 1);
  return x.gather(2, rows.reshape({n, 1, h, 1}).expand({n, c, h, w}))
      .gather(3, cols.reshape({n, 1, 1, w}).expand({n, c, h, w}));
}

/// Reflect-pad by `padding` (default 4) and cut a random window of the input's size, per sample.
inline at::Tensor pad_and_crop(const at::Tensor& x, at::Generator& gen, std::int64_t padding = 4) {
  constexpr const char* where = "cebm::data::pad_and_crop";
  detail::check_images(x, where);
  detail::check_padding(padding, x, where);
  detail::check_generator(gen, x, where);
  const at::Tensor offsets = at::randint(0, 2 * padding + 1, {x.size(0), 2}, gen, x.options().dtype(at::kLong));
  return pad_and_crop_at(x, offsets, padding);
}

}  // namespace cebm::data
