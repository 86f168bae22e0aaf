#pragma once
/// @file
/// `augmentation_policy`: the three named augmentations of CLEL (`datasets.get_augmentation`,
/// Kornia 0.6.3), each sample with its own random parameters:
///
///   - "strong" (SimCLR): random_resized_crop(size, scale 0.08–1, ratio 3/4–4/3, bicubic)
///                        → color_jitter(0.4, 0.4, 0.4, 0.1, p = 0.8) → random_grayscale(p = 0.2)
///                        → horizontal_flip(p = 0.5);
///   - "weak":            pad_and_crop(reflect, 4) → horizontal_flip(p = 0.5);
///   - "none":            identity.
///
/// A policy is a copyable callable `at::Tensor(const at::Tensor&, at::Generator&)`, so it plugs into
/// `replay_buffer::set_augmentation` and anywhere else a batch is augmented:
///
///     buffer.set_augmentation(cebm::data::augmentation_policy::strong(32));
///     at::Tensor views = cebm::data::augmentation_policy::strong(32)(x, gen);
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include <ATen/ATen.h>

#include "cebm/torch/data/augment/color_jitter.hpp"
#include "cebm/torch/data/augment/detail.hpp"
#include "cebm/torch/data/augment/horizontal_flip.hpp"
#include "cebm/torch/data/augment/pad_and_crop.hpp"
#include "cebm/torch/data/augment/random_grayscale.hpp"
#include "cebm/torch/data/augment/random_resized_crop.hpp"

namespace cebm::data {

class augmentation_policy {
 public:
  enum class kind { none, weak, strong };

  /// Identity.
  static augmentation_policy none() { return augmentation_policy(kind::none); }

  /// Reflect-pad by `padding`, random window of the input's size, then flip with probability `flip_p`.
  static augmentation_policy weak(std::int64_t padding = 4, double flip_p = 0.5) {
    augmentation_policy a(kind::weak);
    a.padding_ = padding;
    a.flip_p_ = flip_p;
    a.validate("cebm::data::augmentation_policy::weak");
    return a;
  }

  /// SimCLR: resized crop to `crop.size()` → colour jitter → greyscale → flip, CLEL's values by default.
  static augmentation_policy strong(random_resized_crop_options crop = {}, color_jitter_options jitter = {},
                                    double grayscale_p = 0.2, double flip_p = 0.5) {
    augmentation_policy a(kind::strong);
    a.crop_ = std::move(crop);
    a.jitter_ = jitter;
    a.grayscale_p_ = grayscale_p;
    a.flip_p_ = flip_p;
    a.validate("cebm::data::augmentation_policy::strong");
    return a;
  }
  /// SimCLR with square output size × size and CLEL's values for everything else.
  static augmentation_policy strong(std::int64_t size) { return strong(random_resized_crop_options(size)); }

  /// "none", "weak" or "strong" (as in CLEL's configs); `size` is the strong policy's output side.
  static augmentation_policy from_name(const std::string& name, std::int64_t size = 32) {
    if (name == "none") return none();
    if (name == "weak") return weak();
    if (name == "strong") return strong(size);
    throw std::invalid_argument("cebm::data::augmentation_policy::from_name: name must be \"none\", \"weak\" or \"strong\", got \"" +
                                name + "\"");
  }

  kind type() const noexcept { return kind_; }
  const random_resized_crop_options& crop() const noexcept { return crop_; }
  const color_jitter_options& jitter() const noexcept { return jitter_; }
  double grayscale_p() const noexcept { return grayscale_p_; }
  double flip_p() const noexcept { return flip_p_; }
  std::int64_t padding() const noexcept { return padding_; }

  /// Augments images [N, C, H, W] (C = 1 or 3, values in [0, 1]) with parameters from `gen`.
  at::Tensor operator()(const at::Tensor& x, at::Generator& gen) const {
    constexpr const char* where = "cebm::data::augmentation_policy";
    detail::check_images(x, where);
    switch (kind_) {
      case kind::none:
        return x;
      case kind::weak:
        return horizontal_flip(pad_and_crop(x, gen, padding_), gen, flip_p_);
      case kind::strong: {
        at::Tensor y = random_resized_crop(x, gen, crop_);
        y = color_jitter(y, gen, jitter_);
        y = random_grayscale(y, gen, grayscale_p_);
        return horizontal_flip(y, gen, flip_p_);
      }
    }
    throw std::logic_error("cebm::data::augmentation_policy: unknown kind");
  }

 private:
  explicit augmentation_policy(kind k) : kind_(k) {}

  void validate(const char* where) const {
    detail::check_probability(flip_p_, where, "flip_p");
    if (kind_ == kind::weak && padding_ < 0)
      throw std::invalid_argument(std::string(where) + ": padding must be >= 0, got " + std::to_string(padding_));
    if (kind_ == kind::strong) {
      crop_.validate(where);
      jitter_.validate(where);
      detail::check_probability(grayscale_p_, where, "grayscale_p");
    }
  }

  kind kind_;
  random_resized_crop_options crop_{};
  color_jitter_options jitter_{};
  double grayscale_p_ = 0.2;
  double flip_p_ = 0.5;
  std::int64_t padding_ = 4;
};

}  // namespace cebm::data
