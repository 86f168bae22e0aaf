#pragma once
/// @file
/// `precision_mode`: the arithmetic a run's networks use, one word per mode, as `--precision`
/// spells it.
///
///   fp32   float32 throughout (the default; results bit-identical to a build without modes)
///   tf32   float32 tensors; on CUDA, cuBLAS and cuDNN may multiply in TF32 (10-bit mantissa,
///          float32 range and accumulation); on the CPU the same as fp32
///   bf16   the networks' convolutions and matrix products in bfloat16 (autocast), everything the
///          precision policy names fp32 stays fp32 (precision_policy.hpp)
///   fp16   as bf16 in float16, with dynamic loss scaling (loss_scaler.hpp): float16's range ends
///          at 65504 and its smallest normal gradient is 6e-5
#include <stdexcept>
#include <string>

namespace cebm {

enum class precision_mode { fp32, tf32, bf16, fp16 };

inline const char* to_string(precision_mode m) {
  switch (m) {
    case precision_mode::fp32: return "fp32";
    case precision_mode::tf32: return "tf32";
    case precision_mode::bf16: return "bf16";
    case precision_mode::fp16: return "fp16";
  }
  return "?";
}

/// The mode a word names; throws std::invalid_argument naming the word and the words expected.
inline precision_mode precision_mode_from_string(const std::string& word) {
  for (precision_mode m : {precision_mode::fp32, precision_mode::tf32, precision_mode::bf16, precision_mode::fp16})
    if (word == to_string(m)) return m;
  throw std::invalid_argument("precision '" + word + "': expected fp32, tf32, bf16 or fp16");
}

}  // namespace cebm
