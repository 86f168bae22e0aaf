#pragma once
/// @file
/// The four colour adjustments of Kornia-0.6.3 `ColorJitter` (later renamed `ColorJiggle`), with
/// explicit factors, one per sample ([N]) or one for the batch (0-dim). Images in [0, 1]; each result
/// is clamped to [0, 1].
///
///     brightness b:  x ↦ clamp(x + (b − 1))         additive, not torchvision's x·b
///     contrast   c:  x ↦ clamp(x · c)               multiplicative, not a blend with the mean grey
///     saturation s:  (H, S, V) ↦ (H, clamp(S·s), V)  in HSV
///     hue        h:  (H, S, V) ↦ (H + 2πh, S, V)     in HSV, h in turns
///
/// Greyscale images (C = 1) have S = 0, so saturation and hue leave them unchanged and return them
/// as they are (Kornia rejects one-channel images there).
#include <vector>

#include <ATen/ATen.h>

#include "cebm/torch/data/augment/detail.hpp"
#include "cebm/torch/data/augment/hsv.hpp"

namespace cebm::data {

/// clamp(x + (b − 1), 0, 1).
inline at::Tensor adjust_brightness(const at::Tensor& x, const at::Tensor& b) {
  constexpr const char* where = "cebm::data::adjust_brightness";
  detail::check_images(x, where);
  return (x + (detail::per_sample(b, x, where, "b") - 1.0)).clamp(0.0, 1.0);
}

/// clamp(x · c, 0, 1).
inline at::Tensor adjust_contrast(const at::Tensor& x, const at::Tensor& c) {
  constexpr const char* where = "cebm::data::adjust_contrast";
  detail::check_images(x, where);
  return (x * detail::per_sample(c, x, where, "c")).clamp(0.0, 1.0);
}

namespace detail {
/// x with HSV channel `channel` replaced by change(that channel, the per-sample factor); grey
/// images (one channel) have neither hue nor saturation and come back as they are.
template <class Change>
at::Tensor adjust_hsv(const at::Tensor& x, const at::Tensor& factor, std::int64_t channel, const char* where,
                      const char* name, Change&& change) {
  check_images(x, where);
  const at::Tensor f = per_sample(factor, x, where, name);
  if (x.size(1) == 1) return x;
  std::vector<at::Tensor> hsv = rgb_to_hsv(x).split(1, 1);
  hsv[channel] = change(hsv[channel], f);
  return hsv_to_rgb(at::cat(hsv, 1)).clamp(0.0, 1.0);
}
}  // namespace detail

/// Saturation S ↦ clamp(S · s, 0, 1) in HSV.
inline at::Tensor adjust_saturation(const at::Tensor& x, const at::Tensor& s) {
  return detail::adjust_hsv(x, s, 1, "cebm::data::adjust_saturation", "s",
                            [](const at::Tensor& sat, const at::Tensor& f) { return (sat * f).clamp(0.0, 1.0); });
}

/// Hue H ↦ H + 2πh (h in turns; h = 1/3 takes red to green) in HSV.
inline at::Tensor adjust_hue(const at::Tensor& x, const at::Tensor& h) {
  return detail::adjust_hsv(x, h, 0, "cebm::data::adjust_hue", "h",
                            [](const at::Tensor& hue, const at::Tensor& turns) { return hue + turns * (2.0 * M_PI); });
}

}  // namespace cebm::data
