#pragma once
/// @file
/// `precision_policy`: which arithmetic a run's networks use (precision_mode.hpp) on its device,
/// the one object the trainers and the evaluation take. `forward(f)` runs a network's forward
/// pass `f` under autocast (autocast_scope.hpp) and returns its tensors in float32; in fp32 mode it
/// is `f()` itself, so fp32 results are those of code that knows no policy.
///
/// What stays float32 in every mode (the fp32 islands):
///   - the parameters and the optimisers' state: autocast casts copies of the weights, the master
///     weights and Adam's moments are float32, and the step updates them in float32;
///   - the Langevin state x and its update x ← x − a·∇ₓE(x) + s·ε, and the replay buffer that
///     holds it: x enters the network as float32, ∇ₓE comes back in x's dtype;
///   - the energies, their reductions over the latent coordinates and the family's maths on the
///     statistics (log-normalisers B(λ + t(x)), posterior means): a model casts its network's
///     output with `full_precision` before them (models/conjugate_ebm.hpp, models/clel.hpp, …);
///   - the losses, computed by the trainers from float32 outputs outside any autocast scope;
///   - gradients: unscaled in float32 by the fp16 loss scaler (loss_scaler.hpp).
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <torch/version.h>

#include "cebm/torch/precision/autocast_scope.hpp"
#include "cebm/torch/precision/precision_mode.hpp"

namespace cebm {

/// `t` in float32 when it is a reduced-precision floating tensor (bf16, fp16); otherwise `t`
/// itself, untouched: where a model's network output enters the mathematics that stays float32.
inline at::Tensor full_precision(const at::Tensor& t) {
  if (t.defined() && (t.scalar_type() == at::kBFloat16 || t.scalar_type() == at::kHalf)) return t.to(at::kFloat);
  return t;
}

namespace detail {
template <class T>
T full_precision_all(T v) {
  if constexpr (std::is_same_v<T, at::Tensor>) {
    return full_precision(v);
  } else if constexpr (std::is_same_v<T, std::vector<at::Tensor>>) {
    for (auto& t : v) t = full_precision(t);
    return v;
  } else {
    return v;  // anything else passes as it is
  }
}
}  // namespace detail

class precision_policy {
 public:
  /// Throws std::invalid_argument when this build cannot run `mode` on `device` (check()).
  explicit precision_policy(precision_mode mode = precision_mode::fp32, at::Device device = at::kCPU)
      : mode_(mode), device_(device) {
    check(mode, device);
  }

  precision_mode mode() const { return mode_; }
  at::Device device() const { return device_; }
  /// Whether the networks run under autocast (bf16, fp16).
  bool autocasts() const { return mode_ == precision_mode::bf16 || mode_ == precision_mode::fp16; }
  /// Whether the losses are scaled before backward (fp16).
  bool scales_loss() const { return mode_ == precision_mode::fp16; }
  /// The dtype of the networks' convolutions and matrix products.
  at::ScalarType compute_dtype() const {
    return mode_ == precision_mode::bf16 ? at::kBFloat16 : mode_ == precision_mode::fp16 ? at::kHalf : at::kFloat;
  }

  /// f() under this policy's autocast scope, its tensors (a tensor, a vector of them) returned in
  /// float32 (`full_precision`); in fp32 mode f() with nothing around it.
  template <class F>
  auto forward(F&& f) const {
    if (mode_ == precision_mode::fp32) return f();
    autocast_scope scope(mode_, device_);
    return detail::full_precision_all(f());
  }

  /// What a user should know about this mode on this device, or "" when nothing: a CPU without
  /// the mode's instructions computes it in software, slower than fp32; tf32 changes nothing on
  /// the CPU.
  std::string note() const {
    if (!device_.is_cpu()) return "";
    if (mode_ == precision_mode::tf32) return "precision tf32: TF32 is a CUDA mode; on the CPU the run computes in fp32";
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (mode_ == precision_mode::bf16 && !__builtin_cpu_supports("avx512bf16"))
      return "precision bf16: this CPU has no bfloat16 instructions (AVX512_BF16); the networks compute bf16 in "
             "software, with bf16's numerics but slower than fp32";
    if (mode_ == precision_mode::fp16 && !__builtin_cpu_supports("avx512fp16"))
      return "precision fp16: this CPU has no float16 instructions (AVX512_FP16); the networks compute fp16 in "
             "software, with fp16's numerics but slower than fp32";
#endif
    return "";
  }

  /// Throws std::invalid_argument naming the mode and the device when this build cannot run it:
  /// autocast exists for the CPU and CUDA only, and CPU float16 autocast from libtorch 2.4 on.
  static void check(precision_mode mode, at::Device device) {
    const bool autocast = mode == precision_mode::bf16 || mode == precision_mode::fp16;
    if (autocast && !device.is_cpu() && !device.is_cuda())
      throw std::invalid_argument(std::string("precision ") + to_string(mode) + " runs on the CPU or CUDA, not on " +
                                  device.str());
#if !CEBM_AUTOCAST_BY_DEVICE_TYPE
    if (mode == precision_mode::fp16 && device.is_cpu())
      throw std::invalid_argument("precision fp16 on the CPU needs libtorch 2.4 or later (CPU autocast casts to bfloat16 "
                                  "only before), this build has " TORCH_VERSION "; use bf16");
#endif
  }

 private:
  precision_mode mode_;
  at::Device device_;
};

}  // namespace cebm
