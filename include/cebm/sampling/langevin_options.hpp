#pragma once
/// @file
/// Options of the Langevin sampler. The update is
///
///   x ← x − a · clip(∇ₓE(x), ±c) + s · ε,   ε ~ N(0, I),   then x ← clamp(x, lo, hi) if asked,
///
/// with the step a and the noise s as separate knobs: the published EBMs do not use the textbook
/// s = √(2a) (reference notes §1.5, §3.4). Presets:
///   cebm():  60 steps, a = 1.0, s = 0.0075, no clip, no clamp       (data in [−1, 1])
///   clel():  60 steps, a = 100, s = 0.001, clip ±100, clamp [0, 1]   (data in [0, 1])
///
/// With `metropolis(true)` each update is a proposal accepted with the MALA probability for the
/// target exp(−E(x)); a clamp range then restricts the target to the box (proposals outside are
/// rejected, not clamped), and gradient clipping is refused because it breaks the proposal density.
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>

#include <ATen/ATen.h>

#include "cebm/core/arg.hpp"

namespace cebm {

/// What a per-step hook sees. It may replace `x` (e.g. a projection); the sampler continues from it.
struct langevin_step {
  std::int64_t step;       ///< 0-based index of the step just taken
  at::Tensor& x;           ///< chains after the step
  const at::Tensor& energy;  ///< [B] energies before the step (at the point the gradient was taken)
  const at::Tensor& grad_norm;  ///< [B] per-chain ‖∇ₓE‖ before the step
};

struct langevin_options {
  using range = std::pair<double, double>;
  CEBM_ARG(std::int64_t, steps) = 60;
  CEBM_ARG(double, step_size) = 1.0;
  CEBM_ARG(double, noise_std) = 0.0075;
  /// Clip every gradient element to ±value before the step.
  CEBM_ARG(std::optional<double>, grad_clip) = std::nullopt;
  /// Clamp the chains to [first, second] after every step.
  CEBM_ARG(std::optional<range>, clamp) = std::nullopt;
  /// Metropolis-adjusted Langevin (MALA) for the target exp(−E).
  CEBM_ARG(bool, metropolis) = false;
  /// Freeze chains whose energy or gradient stops being finite, instead of failing the run.
  CEBM_ARG(bool, skip_nonfinite) = false;
  /// Called after every step.
  CEBM_ARG(std::function<void(langevin_step&)>, hook) = nullptr;

 public:
  /// The published CEBM sampler (authors' code: step 1.0 on ∇E, noise std 0.0075).
  static langevin_options cebm() { return langevin_options{}; }
  /// The published CLEL sampler (authors' code: step 100, noise 0.001, clip ±100, clamp [0, 1]).
  static langevin_options clel() {
    return langevin_options{}.step_size(100.0).noise_std(0.001).grad_clip(100.0).clamp(std::make_pair(0.0, 1.0));
  }
};

}  // namespace cebm
