#pragma once
/// @file
/// `color_jitter`: Kornia-0.6.3 `ColorJitter` (the CLEL "strong" augmentation's colour step), with
/// per-sample factors
///
///     b ~ U[max(0, 1 − B), min(2, 1 + B)],   c ~ U[max(0, 1 − C), 1 + C],
///     s ~ U[max(0, 1 − S), 1 + S],           h ~ U[−H, H]  (turns, H ≤ 1/2),
///
/// applied as in `adjust.hpp` (additive brightness, multiplicative contrast, saturation and hue in
/// HSV, a clamp to [0, 1] after each) in one random order per call, a permutation of the four that
/// the whole batch shares. Each sample is jittered with probability p, else left as it is. The bounds
/// 2 and 0 are Kornia's; for B, C, S ≤ 1 the ranges are 1 ± B etc. All four operations run even
/// when a range is {1} (they still clamp), as in Kornia.
///
/// The permutation is read back to the host to order the operations (as Kornia's `.tolist()`
/// does): one 4-element copy per call, a synchronisation on an accelerator.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

#include "cebm/core/arg.hpp"
#include "cebm/torch/data/augment/adjust.hpp"
#include "cebm/torch/data/augment/detail.hpp"

namespace cebm::data {

/// Defaults are the CLEL "strong" values: ColorJitter(0.4, 0.4, 0.4, 0.1, p = 0.8).
struct color_jitter_options {
  CEBM_ARG(double, brightness) = 0.4;  ///< B ≥ 0
  CEBM_ARG(double, contrast) = 0.4;    ///< C ≥ 0
  CEBM_ARG(double, saturation) = 0.4;  ///< S ≥ 0
  CEBM_ARG(double, hue) = 0.1;         ///< H ∈ [0, 1/2], in turns
  CEBM_ARG(double, p) = 0.8;           ///< probability that a sample is jittered

 public:
  void validate(const char* where) const {
    auto non_negative = [&](double v, const char* name) {
      if (!(v >= 0.0 && v < INFINITY))
        throw std::invalid_argument(std::string(where) + ": " + name + " must be finite and >= 0, got " + std::to_string(v));
    };
    non_negative(brightness_, "brightness");
    non_negative(contrast_, "contrast");
    non_negative(saturation_, "saturation");
    if (!(hue_ >= 0.0 && hue_ <= 0.5))
      throw std::invalid_argument(std::string(where) + ": hue must be in [0, 0.5] (turns), got " + std::to_string(hue_));
    detail::check_probability(p_, where, "p");
  }
};

/// One call's random draw: factors per sample, who is jittered, and the order of the operations.
struct color_jitter_params {
  enum op : int { brightness_op = 0, contrast_op = 1, saturation_op = 2, hue_op = 3 };
  at::Tensor brightness;  ///< [N] factor b
  at::Tensor contrast;    ///< [N] factor c
  at::Tensor saturation;  ///< [N] factor s
  at::Tensor hue;         ///< [N] shift h in turns
  at::Tensor apply;       ///< [N] bool, samples that are jittered
  std::array<int, 4> order{brightness_op, contrast_op, saturation_op, hue_op};  ///< operations, first to last
};

/// Draws the parameters for a batch of n images like `like` (its device; float, or double for double).
inline color_jitter_params sample_color_jitter_params(std::int64_t n, at::Generator& gen,
                                                      const color_jitter_options& o, const at::Tensor& like) {
  constexpr const char* where = "cebm::data::sample_color_jitter_params";
  o.validate(where);
  detail::check_generator(gen, like, where);
  const at::TensorOptions opts = detail::param_options(like);
  auto uniform = [&](double lo, double hi) { return at::rand({n}, gen, opts) * (hi - lo) + lo; };
  color_jitter_params prm;
  prm.brightness = uniform(std::max(0.0, 1.0 - o.brightness()), std::min(2.0, 1.0 + o.brightness()));
  prm.contrast = uniform(std::max(0.0, 1.0 - o.contrast()), 1.0 + o.contrast());
  prm.saturation = uniform(std::max(0.0, 1.0 - o.saturation()), 1.0 + o.saturation());
  prm.hue = uniform(-o.hue(), o.hue());
  prm.apply = at::rand({n}, gen, opts) < o.p();
  const at::Tensor perm = at::randperm(4, gen, opts.dtype(at::kLong)).cpu();
  for (int i = 0; i < 4; ++i) prm.order[static_cast<std::size_t>(i)] = static_cast<int>(perm[i].item<std::int64_t>());
  return prm;
}

/// Applies drawn parameters: the four adjustments in `prm.order` to the samples in `prm.apply`.
inline at::Tensor apply_color_jitter(const at::Tensor& x, const color_jitter_params& prm) {
  constexpr const char* where = "cebm::data::apply_color_jitter";
  detail::check_images(x, where);
  std::array<bool, 4> seen{};
  for (int op : prm.order) {
    if (op < 0 || op > 3 || seen[static_cast<std::size_t>(op)])
      throw std::invalid_argument(std::string(where) + ": order must be a permutation of {0, 1, 2, 3}");
    seen[static_cast<std::size_t>(op)] = true;
  }
  const at::Tensor& a = prm.apply;
  if (!a.defined() || !(a.dim() == 0 || (a.dim() == 1 && a.size(0) == x.size(0))))
    throw std::invalid_argument(std::string(where) + ": apply must be a 0-dim tensor or a vector [" +
                                std::to_string(x.size(0)) + "], got " + detail::describe_tensor(a));
  at::Tensor y = x;
  for (int op : prm.order) {
    switch (op) {
      case color_jitter_params::brightness_op: y = adjust_brightness(y, prm.brightness); break;
      case color_jitter_params::contrast_op: y = adjust_contrast(y, prm.contrast); break;
      case color_jitter_params::saturation_op: y = adjust_saturation(y, prm.saturation); break;
      default: y = adjust_hue(y, prm.hue); break;
    }
  }
  const at::Tensor mask = a.to(x.device(), at::kBool);
  return at::where(a.dim() == 0 ? mask : mask.reshape({-1, 1, 1, 1}), y, x);
}

/// Kornia-0.6.3 ColorJitter on images [N, C, H, W] in [0, 1], C = 1 (brightness and contrast only)
/// or 3; parameters from `gen`.
inline at::Tensor color_jitter(const at::Tensor& x, at::Generator& gen, const color_jitter_options& o = {}) {
  constexpr const char* where = "cebm::data::color_jitter";
  detail::check_images(x, where);
  o.validate(where);
  detail::check_generator(gen, x, where);
  return apply_color_jitter(x, sample_color_jitter_params(x.size(0), gen, o, x));
}

}  // namespace cebm::data
