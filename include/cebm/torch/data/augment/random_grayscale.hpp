#pragma once
/// @file
/// `random_grayscale`: Kornia-0.6.3 `RandomGrayscale`. With probability p a sample is replaced by
/// its luma, Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601), copied to the three channels; the image
/// keeps its shape. One-channel images are grey already and come back unchanged.
#include <ATen/ATen.h>

#include "cebm/torch/data/augment/detail.hpp"

namespace cebm::data {

/// Luma of RGB images [N, 3, H, W] → [N, 1, H, W]; one-channel images are returned as they are.
inline at::Tensor rgb_to_grayscale(const at::Tensor& x) {
  detail::check_images(x, "cebm::data::rgb_to_grayscale");
  if (x.size(1) == 1) return x;
  return 0.299 * x.narrow(1, 0, 1) + 0.587 * x.narrow(1, 1, 1) + 0.114 * x.narrow(1, 2, 1);
}

/// Each sample, with probability p (default 0.2, CLEL), becomes its luma in all channels.
inline at::Tensor random_grayscale(const at::Tensor& x, at::Generator& gen, double p = 0.2) {
  constexpr const char* where = "cebm::data::random_grayscale";
  detail::check_images(x, where);
  detail::check_probability(p, where, "p");
  detail::check_generator(gen, x, where);
  const at::Tensor grey = detail::bernoulli_mask(x.size(0), p, gen, x);
  if (x.size(1) == 1) return x;
  return detail::where_samples(grey, rgb_to_grayscale(x).expand_as(x), x);
}

}  // namespace cebm::data
