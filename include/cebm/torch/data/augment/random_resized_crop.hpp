#pragma once
/// @file
/// `random_resized_crop`: Kornia-0.6.3 `RandomResizedCrop(size, scale, ratio, resample = BICUBIC)`,
/// the first step of the CLEL "strong" augmentation.
///
/// **Box.** For an H × W image, each sample draws `attempts` (default 10, Kornia's number)
/// candidates at once,
///
///     area ~ U[s₀·HW, s₁·HW],   log r ~ U[log r₀, log r₁],
///     w = round(√(area·r)),      h = round(√(area/r)),
///
/// and keeps the first with 0 < w < W and 0 < h < H (strict, as Kornia: a candidate as large as the
/// image is rejected). When none qualifies, the fallback is the whole image if W/H lies in [r₀, r₁],
/// else the widest (W/H < r₀: w = W, h = round(W/r₀)) or tallest (W/H > r₁: h = H, w = round(H·r₁))
/// box of the extreme ratio. Kornia compares H/W with the ratio range and swaps w and h of the chosen
/// candidate; for square images with a range symmetric in log r (the default) this changes nothing,
/// and the orientation used here is torchvision's. The corner is uniform over the positions that
/// keep the box inside: x₀ = ⌊u·(W − w + 1)⌋, y₀ = ⌊u'·(H − h + 1)⌋.
///
/// **Resampling.** Bicubic (cubic convolution, a = −0.75, PyTorch's kernel) with corner alignment:
/// output pixel j of `out_w` samples the box at x₀ + j·(w − 1)/(out_w − 1), so the centres of the
/// box's corner pixels land on the output's corner pixels. Two treatments of the taps that fall
/// outside the box, both Kornia's:
///   - `crop_mode::slice` (default; Kornia's default `cropping_mode="slice"` in the 0.6 sources that
///     still carry the old ColorJitter, i.e. what the CLEL runs used): the box is cut out and resized on its own, so taps past its edge repeat the
///     edge pixel (`F.interpolate(..., 'bicubic', align_corners=True)` of the patch). Computed as
///     y = A_y · x · A_xᵀ with per-sample [out, H] and [out, W] interpolation matrices.
///   - `crop_mode::resample` (Kornia `cropping_mode="resample"`): one `grid_sample` per batch on the
///     whole image with a per-sample affine grid, zero padding outside the image, so taps past the
///     box read the image's neighbouring pixels.
/// Interior output pixels agree between the two. Bicubic overshoots: values may leave [0, 1] (by at
/// most 0.45 for inputs in [0, 1]); Kornia does not clamp here and neither does this.
#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include <ATen/ATen.h>

#include "cebm/config.hpp"
#include "cebm/core/arg.hpp"
#include "cebm/torch/data/augment/detail.hpp"

namespace cebm::data {

enum class crop_mode {
  slice,     ///< cut the box out, then resize it (taps past the box repeat its edge)
  resample,  ///< sample the whole image through an affine grid (taps past the box read the image)
};

struct random_resized_crop_options {
  using extent = std::array<std::int64_t, 2>;  ///< {height, width}
  using range = std::pair<double, double>;

  random_resized_crop_options() = default;
  /// Square output, size × size.
  explicit random_resized_crop_options(std::int64_t size) : size_{size, size} {}
  random_resized_crop_options(std::int64_t height, std::int64_t width) : size_{height, width} {}

  CEBM_ARG(extent, size) = {32, 32};               ///< output {height, width}
  CEBM_ARG(range, scale) = std::make_pair(0.08, 1.0);  ///< box area as a fraction of the image, [s₀, s₁]
  CEBM_ARG(range, ratio) = std::make_pair(3.0 / 4.0, 4.0 / 3.0);  ///< box width/height, [r₀, r₁], drawn log-uniformly
  CEBM_ARG(std::int64_t, attempts) = 10;           ///< candidates per sample before the fallback
  CEBM_ARG(crop_mode, mode) = crop_mode::slice;

 public:
  void validate(const char* where) const {
    if (size_[0] < 1 || size_[1] < 1)
      throw std::invalid_argument(std::string(where) + ": size must be positive, got {" + std::to_string(size_[0]) + ", " +
                                  std::to_string(size_[1]) + "}");
    if (!(scale_.first > 0.0 && scale_.first <= scale_.second && std::isfinite(scale_.second)))
      throw std::invalid_argument(std::string(where) + ": scale must satisfy 0 < s0 <= s1 < inf, got (" +
                                  std::to_string(scale_.first) + ", " + std::to_string(scale_.second) + ")");
    if (!(ratio_.first > 0.0 && ratio_.first <= ratio_.second && std::isfinite(ratio_.second)))
      throw std::invalid_argument(std::string(where) + ": ratio must satisfy 0 < r0 <= r1 < inf, got (" +
                                  std::to_string(ratio_.first) + ", " + std::to_string(ratio_.second) + ")");
    if (attempts_ < 1)
      throw std::invalid_argument(std::string(where) + ": attempts must be >= 1, got " + std::to_string(attempts_));
  }
};

namespace detail {

/// Cubic-convolution weights (a = −0.75) of the taps at distances d₀ = 1 + t, d₁ = t, d₂ = 1 − t,
/// d₃ = 2 − t from the sample point, t ∈ [0, 1): [..., 4].
inline at::Tensor cubic_weights(const at::Tensor& t) {
  constexpr double a = -0.75;
  auto near = [&](const at::Tensor& d) { return ((a + 2.0) * d - (a + 3.0)) * d * d + 1.0; };
  auto far = [&](const at::Tensor& d) { return ((a * d - 5.0 * a) * d + 8.0 * a) * d - 4.0 * a; };
  return at::cat({far(1.0 + t), near(t), near(1.0 - t), far(2.0 - t)}, -1);
}

/// Per-sample bicubic resize matrices [N, out, in] for boxes [start, start + length) along one axis,
/// taps clamped to the box (the patch-resize of `crop_mode::slice`).
inline at::Tensor bicubic_patch_matrix(const at::Tensor& start, const at::Tensor& length, std::int64_t out,
                                       std::int64_t in) {
  const at::TensorOptions dbl = start.options().dtype(at::kDouble);
  const at::Tensor len = length.to(at::kDouble).reshape({-1, 1});
  const at::Tensor step = out > 1 ? (len - 1.0) / static_cast<double>(out - 1) : at::zeros_like(len);
  const at::Tensor pos = at::arange(out, dbl).reshape({1, -1}) * step;  // [N, out], box coordinates
  const at::Tensor base = at::floor(pos);
  const at::Tensor weights = cubic_weights((pos - base).unsqueeze(-1));  // [N, out, 4]
  at::Tensor taps = base.to(at::kLong).unsqueeze(-1) + at::arange(-1, 3, start.options().dtype(at::kLong)).reshape({1, 1, 4});
  taps = at::minimum(taps.clamp_min(0), (length.to(at::kLong) - 1).reshape({-1, 1, 1})) + start.to(at::kLong).reshape({-1, 1, 1});
  taps = taps.clamp(0, in - 1);
  return at::zeros({start.size(0), out, in}, dbl).scatter_add_(2, taps, weights);
}

inline void check_boxes(const at::Tensor& boxes, const at::Tensor& x, const char* where) {
  if (!boxes.defined() || boxes.dim() != 2 || boxes.size(0) != x.size(0) || boxes.size(1) != 4 ||
      at::isFloatingType(boxes.scalar_type()) || boxes.scalar_type() == at::kBool)
    throw std::invalid_argument(std::string(where) + ": boxes must be an integer tensor [" + std::to_string(x.size(0)) +
                                ", 4] of (x, y, width, height), got " + describe_tensor(boxes));
#if CEBM_ENABLE_CHECKS
  if (boxes.size(0) == 0) return;
  const at::Tensor b = boxes.to(at::kLong).cpu();
  const at::Tensor bad = (b.select(1, 0) < 0) | (b.select(1, 1) < 0) | (b.select(1, 2) < 1) | (b.select(1, 3) < 1) |
                         (b.select(1, 0) + b.select(1, 2) > x.size(3)) | (b.select(1, 1) + b.select(1, 3) > x.size(2));
  if (bad.any().item<bool>()) {
    const std::int64_t i = bad.to(at::kLong).argmax().item<std::int64_t>();
    throw std::invalid_argument(std::string(where) + ": box " + std::to_string(i) + " = (x " +
                                std::to_string(b[i][0].item<std::int64_t>()) + ", y " + std::to_string(b[i][1].item<std::int64_t>()) +
                                ", w " + std::to_string(b[i][2].item<std::int64_t>()) + ", h " +
                                std::to_string(b[i][3].item<std::int64_t>()) + ") is not a non-empty box inside the " +
                                std::to_string(x.size(2)) + " x " + std::to_string(x.size(3)) + " image");
  }
#endif
}

}  // namespace detail

/// Draws crop boxes for n images of height × width: int64 [n, 4] rows (x, y, width, height) on
/// `device`, by Kornia's rule (see the file comment).
inline at::Tensor sample_resized_crop_boxes(std::int64_t n, std::int64_t height, std::int64_t width, at::Generator& gen,
                                            const random_resized_crop_options& o = {},
                                            at::Device device = at::kCPU) {
  constexpr const char* where = "cebm::data::sample_resized_crop_boxes";
  o.validate(where);
  if (n < 0 || height < 1 || width < 1)
    throw std::invalid_argument(std::string(where) + ": need n >= 0 and height, width >= 1, got n = " + std::to_string(n) +
                                ", height = " + std::to_string(height) + ", width = " + std::to_string(width));
  if (!gen.defined() || gen.device().type() != device.type())
    throw std::invalid_argument(std::string(where) + ": gen must be a generator of device " + device.str());
  const at::TensorOptions dbl = at::TensorOptions().dtype(at::kDouble).device(device);
  const double hw = static_cast<double>(height * width);
  const std::int64_t tries = o.attempts();
  const auto [s0, s1] = o.scale();
  const auto [r0, r1] = o.ratio();
  const at::Tensor area = at::rand({n, tries}, gen, dbl) * ((s1 - s0) * hw) + s0 * hw;
  const at::Tensor aspect = at::exp(at::rand({n, tries}, gen, dbl) * (std::log(r1) - std::log(r0)) + std::log(r0));
  const at::Tensor w = at::round(at::sqrt(area * aspect));
  const at::Tensor h = at::round(at::sqrt(area / aspect));
  const at::Tensor ok = (w > 0) & (w < width) & (h > 0) & (h < height);
  // The first valid candidate: the largest of ok · (tries − k) is unique.
  const at::Tensor first = (ok.to(at::kLong) * (tries - at::arange(tries, dbl.dtype(at::kLong)))).argmax(1, true);
  const at::Tensor found = ok.any(1);

  double fw = width, fh = height;
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  if (in_ratio < r0) fh = std::round(fw / r0);
  else if (in_ratio > r1) fw = std::round(fh * r1);
  fw = std::min(std::max(fw, 1.0), static_cast<double>(width));
  fh = std::min(std::max(fh, 1.0), static_cast<double>(height));
  const at::Tensor bw = at::where(found, w.gather(1, first).squeeze(1), at::full({n}, fw, dbl));
  const at::Tensor bh = at::where(found, h.gather(1, first).squeeze(1), at::full({n}, fh, dbl));

  const at::Tensor bx = at::minimum(at::floor(at::rand({n}, gen, dbl) * (width - bw + 1.0)), width - bw);
  const at::Tensor by = at::minimum(at::floor(at::rand({n}, gen, dbl) * (height - bh + 1.0)), height - bh);
  return at::stack({bx, by, bw, bh}, 1).to(at::kLong);
}

/// Crops each sample to its box (int64 [N, 4] rows (x, y, width, height)) and resizes it bicubically
/// to `size` = {height, width}, corner-aligned.
inline at::Tensor resized_crop(const at::Tensor& x, const at::Tensor& boxes, random_resized_crop_options::extent size,
                               crop_mode mode = crop_mode::slice) {
  constexpr const char* where = "cebm::data::resized_crop";
  detail::check_images(x, where);
  detail::check_boxes(boxes, x, where);
  if (size[0] < 1 || size[1] < 1)
    throw std::invalid_argument(std::string(where) + ": size must be positive, got {" + std::to_string(size[0]) + ", " +
                                std::to_string(size[1]) + "}");
  const std::int64_t n = x.size(0), c = x.size(1), in_h = x.size(2), in_w = x.size(3);
  const at::Tensor b = boxes.to(x.device(), at::kLong);
  if (mode == crop_mode::slice) {
    const at::Tensor rows = detail::bicubic_patch_matrix(b.select(1, 1), b.select(1, 3), size[0], in_h).to(x.scalar_type());
    const at::Tensor cols = detail::bicubic_patch_matrix(b.select(1, 0), b.select(1, 2), size[1], in_w).to(x.scalar_type());
    return at::matmul(at::matmul(rows.unsqueeze(1), x), cols.transpose(1, 2).unsqueeze(1));
  }
  // Normalised coordinates with align_corners = true: pixel p ↔ 2p/(L − 1) − 1. Output u ∈ [−1, 1]
  // maps to the box as x₀ + (u + 1)/2 · (w − 1).
  const at::Tensor bd = b.to(at::kDouble);
  const double sx = static_cast<double>(std::max<std::int64_t>(in_w - 1, 1));
  const double sy = static_cast<double>(std::max<std::int64_t>(in_h - 1, 1));
  const at::Tensor ax = (bd.select(1, 2) - 1.0) / sx, bx = (2.0 * bd.select(1, 0) + bd.select(1, 2) - 1.0) / sx - 1.0;
  const at::Tensor ay = (bd.select(1, 3) - 1.0) / sy, by = (2.0 * bd.select(1, 1) + bd.select(1, 3) - 1.0) / sy - 1.0;
  const at::Tensor zero = at::zeros_like(ax);
  const at::Tensor theta = at::stack({ax, zero, bx, zero, ay, by}, 1).reshape({n, 2, 3}).to(x.scalar_type());
  const at::Tensor grid = at::affine_grid_generator(theta, {n, c, size[0], size[1]}, /*align_corners=*/true);
  return at::grid_sampler(x, grid, /*interpolation_mode=bicubic*/ 2, /*padding_mode=zeros*/ 0, /*align_corners=*/true);
}

/// Kornia-0.6.3 RandomResizedCrop with bicubic resampling on images [N, C, H, W]: per-sample boxes
/// from `gen`, output [N, C, size[0], size[1]].
inline at::Tensor random_resized_crop(const at::Tensor& x, at::Generator& gen, const random_resized_crop_options& o = {}) {
  constexpr const char* where = "cebm::data::random_resized_crop";
  detail::check_images(x, where);
  o.validate(where);
  detail::check_generator(gen, x, where);
  return resized_crop(x, sample_resized_crop_boxes(x.size(0), x.size(2), x.size(3), gen, o, x.device()), o.size(), o.mode());
}

}  // namespace cebm::data
