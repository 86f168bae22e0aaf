#pragma once
/// @file
/// Batched image augmentations with per-sample random parameters, Kornia-0.6.3 semantics (what the
/// CLEL results used): images are floating-point [N, C, H, W], C = 1 or 3, values in [0, 1], on any
/// device; every random number comes from the `at::Generator&` passed in.
///
///   random_resized_crop  bicubic RandomResizedCrop          augment/random_resized_crop.hpp
///   color_jitter         ColorJitter (≤ 0.6.3, "ColorJiggle") augment/color_jitter.hpp
///   random_grayscale     RandomGrayscale                      augment/random_grayscale.hpp
///   horizontal_flip      RandomHorizontalFlip                 augment/horizontal_flip.hpp
///   pad_and_crop         RandomCrop with reflect padding      augment/pad_and_crop.hpp
///   augmentation_policy  "strong" / "weak" / "none"           augment/augmentation_policy.hpp
///
/// The deterministic cores (resized_crop with explicit boxes, pad_and_crop_at with explicit offsets,
/// adjust_brightness/contrast/saturation/hue with explicit factors, rgb_to_hsv/hsv_to_rgb,
/// rgb_to_grayscale) are public too.
#include "cebm/torch/data/augment/adjust.hpp"
#include "cebm/torch/data/augment/augmentation_policy.hpp"
#include "cebm/torch/data/augment/color_jitter.hpp"
#include "cebm/torch/data/augment/horizontal_flip.hpp"
#include "cebm/torch/data/augment/hsv.hpp"
#include "cebm/torch/data/augment/pad_and_crop.hpp"
#include "cebm/torch/data/augment/random_grayscale.hpp"
#include "cebm/torch/data/augment/random_resized_crop.hpp"
