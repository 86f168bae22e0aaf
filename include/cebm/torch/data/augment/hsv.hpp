#pragma once
/// @file
/// `rgb_to_hsv` and `hsv_to_rgb`: the colour-space pair behind saturation and hue jitter, as
/// Kornia 0.6.3 defines it (the CLEL augmentations).
///
/// For r, g, b ∈ [0, 1], with M = max(r, g, b), m = min(r, g, b), δ = M − m:
///
///     V = M,   S = δ / (M + ε)  (ε = 1e-8, so black has S = 0),
///     H = 2π · frac( h₆ / 6 ),  h₆ = (g − b)/δ        if M = r
///                                    2 + (b − r)/δ    if M = g (and M ≠ r)
///                                    4 + (r − g)/δ    otherwise,
///
/// with H = 0 for greys (δ = 0). H is in radians, [0, 2π). The inverse is the standard sextant
/// formula: i = ⌊6H/2π⌋ mod 6, f = (6H/2π mod 6) − i, p = V(1−S), q = V(1−fS), t = V(1−(1−f)S),
/// (r, g, b) = (V,t,p), (q,V,p), (p,V,t), (p,q,V), (t,p,V), (V,p,q) for i = 0…5. Any real H is
/// accepted (it is taken modulo 2π), so a hue shift needs no wrapping of its own.
/// Reference: A. R. Smith, "Color gamut transform pairs", SIGGRAPH 1978.
#include <cmath>
#include <string>

#include <ATen/ATen.h>

#include "cebm/torch/data/augment/detail.hpp"

namespace cebm::data {

namespace detail {
inline void check_three_channels(const at::Tensor& x, const char* where) {
  check_images(x, where);
  if (x.size(1) != 3)
    throw std::invalid_argument(std::string(where) + ": images must have 3 channels, got shape " +
                                std::string(c10::str(x.sizes())));
}
}  // namespace detail

/// RGB [N, 3, H, W] in [0, 1] → HSV [N, 3, H, W]: H in radians [0, 2π), S and V in [0, 1].
inline at::Tensor rgb_to_hsv(const at::Tensor& rgb) {
  detail::check_three_channels(rgb, "cebm::data::rgb_to_hsv");
  const at::Tensor r = rgb.select(1, 0), g = rgb.select(1, 1), b = rgb.select(1, 2);
  const at::Tensor v = at::maximum(at::maximum(r, g), b);
  const at::Tensor delta = v - at::minimum(at::minimum(r, g), b);
  const at::Tensor s = delta / (v + 1e-8);
  const at::Tensor safe = at::where(delta == 0, at::ones_like(delta), delta);
  // Ties resolve to the first channel holding the maximum; every tied branch gives the same hue.
  const at::Tensor sextant = at::where(r == v, (g - b) / safe, at::where(g == v, 2.0 + (b - r) / safe, 4.0 + (r - g) / safe));
  const at::Tensor h = at::remainder(sextant / 6.0, 1.0) * (2.0 * M_PI);
  return at::stack({h, s, v}, 1);
}

/// HSV [N, 3, H, W] (H in radians, any real value) → RGB [N, 3, H, W].
inline at::Tensor hsv_to_rgb(const at::Tensor& hsv) {
  detail::check_three_channels(hsv, "cebm::data::hsv_to_rgb");
  const at::Tensor h6 = at::remainder(hsv.select(1, 0) * (6.0 / (2.0 * M_PI)), 6.0);
  const at::Tensor s = hsv.select(1, 1), v = hsv.select(1, 2);
  const at::Tensor sextant = at::floor(h6).clamp(0, 5);  // remainder may round up to 6 in floating point
  const at::Tensor f = h6 - sextant;
  const at::Tensor p = v * (1.0 - s), q = v * (1.0 - f * s), t = v * (1.0 - (1.0 - f) * s);
  const at::Tensor index = sextant.to(at::kLong).unsqueeze(1);
  auto pick = [&](std::initializer_list<at::Tensor> table) { return at::stack(table, 1).gather(1, index); };
  return at::cat({pick({v, q, p, p, t, v}), pick({t, v, v, q, p, p}), pick({p, p, t, v, v, q})}, 1);
}

}  // namespace cebm::data
