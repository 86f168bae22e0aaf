#pragma once
/// @file
/// `horizontal_flip`: Kornia `RandomHorizontalFlip`. With probability p a sample's columns are
/// reversed, x[:, :, i, j] ↦ x[:, :, i, W − 1 − j]; the others are left as they are.
#include <ATen/ATen.h>

#include "cebm/torch/data/augment/detail.hpp"

namespace cebm::data {

/// Flips each sample left–right with probability p (default 0.5), independently.
inline at::Tensor horizontal_flip(const at::Tensor& x, at::Generator& gen, double p = 0.5) {
  constexpr const char* where = "cebm::data::horizontal_flip";
  detail::check_images(x, where);
  detail::check_probability(p, where, "p");
  detail::check_generator(gen, x, where);
  return detail::where_samples(detail::bernoulli_mask(x.size(0), p, gen, x), x.flip({3}), x);
}

}  // namespace cebm::data
