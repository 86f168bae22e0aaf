#pragma once
/// @file
/// From stored uint8 images to a model's input, with the papers' conventions as named options:
///
///   minus_one_one     x/127.5 − 1 ∈ [−1, 1]            CEBM (ToTensor then Normalize(0.5, 0.5))
///   unit_dequantized  k/256 + U(0, 1/256) ∈ [0, 1)      CLEL (uniform dequantisation)
///   unit              x/255 ∈ [0, 1]                   VAE features, pixel-space baselines
///
/// then optional Gaussian noise (CEBM adds std 0.03 to every training batch; its OOD evaluation
/// 0.01). Before scaling, images can be brought to a common geometry so any model takes any set:
/// channels 1 ↔ 3 (replicate grey; ITU-R 601 luma for RGB → grey) and size (28 → 32 by zero
/// padding around the image, or bilinear resizing). `to_pixels` maps model-scale images back to
/// uint8 for PNGs.
#include <cstdint>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

#include "cebm/core/arg.hpp"

namespace cebm::data {

enum class pixel_scale { minus_one_one, unit_dequantized, unit };
enum class resize_mode { pad, bilinear };

struct image_transform_options {
  CEBM_ARG(pixel_scale, scale) = pixel_scale::minus_one_one;
  CEBM_ARG(double, noise_std) = 0.0;
  CEBM_ARG(std::int64_t, channels) = 0;  ///< 0 keeps the input's
  CEBM_ARG(std::int64_t, size) = 0;      ///< 0 keeps the input's; otherwise a square side
  CEBM_ARG(resize_mode, resize) = resize_mode::pad;
  CEBM_ARG(at::ScalarType, dtype) = at::kFloat;

 public:
  /// CEBM training batches: [−1, 1] plus N(0, 0.03²).
  static image_transform_options cebm() { return image_transform_options{}.noise_std(0.03); }
  /// CLEL: [0, 1) with uniform dequantisation.
  static image_transform_options clel() { return image_transform_options{}.scale(pixel_scale::unit_dequantized); }
};

/// Channels and size only, still uint8.
inline at::Tensor reshape_images(const at::Tensor& images, const image_transform_options& o) {
  if (images.dim() != 4 || images.scalar_type() != at::kByte)
    throw std::invalid_argument("cebm::data::reshape_images: expected uint8 images [N, C, H, W], got " +
                                std::string(c10::str(images.sizes())) + " " + c10::toString(images.scalar_type()));
  at::Tensor x = images;
  const std::int64_t c = x.size(1);
  if (o.channels() != 0 && o.channels() != c) {
    if (c == 1 && o.channels() == 3) {
      x = x.expand({x.size(0), 3, x.size(2), x.size(3)}).contiguous();
    } else if (c == 3 && o.channels() == 1) {
      const at::Tensor w = at::tensor({0.299, 0.587, 0.114}, at::TensorOptions().dtype(at::kFloat).device(x.device()));
      x = (x.to(at::kFloat) * w.view({1, 3, 1, 1})).sum(1, true).round().clamp(0, 255).to(at::kByte);
    } else {
      throw std::invalid_argument("cebm::data::reshape_images: cannot turn " + std::to_string(c) + " channels into " +
                                  std::to_string(o.channels()) + " (supported: 1 <-> 3)");
    }
  }
  if (o.size() != 0 && (x.size(2) != o.size() || x.size(3) != o.size())) {
    if (o.resize() == resize_mode::pad) {
      const std::int64_t dh = o.size() - x.size(2), dw = o.size() - x.size(3);
      if (dh < 0 || dw < 0)
        throw std::invalid_argument("cebm::data::reshape_images: cannot pad " + std::to_string(x.size(2)) + "x" +
                                    std::to_string(x.size(3)) + " images to " + std::to_string(o.size()) +
                                    " (smaller); use resize_mode::bilinear");
      x = at::constant_pad_nd(x, {dw / 2, dw - dw / 2, dh / 2, dh - dh / 2}, 0);
    } else {
      x = at::upsample_bilinear2d(x.to(at::kFloat), {o.size(), o.size()}, /*align_corners=*/false)
              .round()
              .clamp(0, 255)
              .to(at::kByte);
    }
  }
  return x;
}

/// uint8 images → the model's scale and geometry; the generator drives dequantisation and noise.
inline at::Tensor to_model_input(const at::Tensor& images, const image_transform_options& o, at::Generator& gen) {
  if (o.noise_std() < 0) throw std::invalid_argument("cebm::data::to_model_input: noise_std must be >= 0");
  const at::Tensor x8 = reshape_images(images, o);
  const auto opts = x8.options().dtype(o.dtype());
  at::Tensor x = x8.to(o.dtype());
  switch (o.scale()) {
    case pixel_scale::minus_one_one: x = x / 127.5 - 1.0; break;
    case pixel_scale::unit_dequantized: x = (x + at::rand(x.sizes(), gen, opts)) / 256.0; break;
    case pixel_scale::unit: x = x / 255.0; break;
  }
  if (o.noise_std() > 0) x = x + o.noise_std() * at::normal(0.0, 1.0, x.sizes(), gen, opts);
  return x;
}

/// Model-scale images → uint8 pixels (clamped), the inverse of the scaling above.
inline at::Tensor to_pixels(const at::Tensor& x, pixel_scale scale) {
  at::Tensor p;
  switch (scale) {
    case pixel_scale::minus_one_one: p = (x.detach() + 1.0) * 127.5; break;
    case pixel_scale::unit_dequantized: p = at::floor(x.detach() * 256.0); break;
    case pixel_scale::unit: p = x.detach() * 255.0; break;
  }
  return p.round().clamp(0, 255).to(at::kByte);
}

}  // namespace cebm::data
