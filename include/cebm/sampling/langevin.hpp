#pragma once
/// @file
/// `langevin(energy, x0, options, gen)`: Langevin dynamics (SGLD as the EBM papers use it, or MALA)
/// on any energy callable `x -> E(x)` returning one energy per chain, shape [B].
///
/// Gradients are taken with respect to the chains only (`torch::autograd::grad`), so the energy's
/// parameters keep their `.grad` untouched, and the chains are detached after every step, so no
/// graph outlives a step. Device and dtype come from x0; the noise comes from `gen`, which must be a
/// generator of x0's device. Train/eval mode of the energy's modules is the caller's choice (CLEL
/// samples in train mode so spectral norm keeps power-iterating).
///
/// Non-finite energies or gradients end the run with an error naming the first step where they
/// appeared, unless `skip_nonfinite(true)` freezes those chains and counts them. Detection is
/// recorded on the device and read once at the end of the run.
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <c10/core/GradMode.h>

#include "cebm/sampling/diagnostics.hpp"
#include "cebm/sampling/generator.hpp"
#include "cebm/sampling/langevin_options.hpp"

namespace cebm {

struct langevin_result {
  at::Tensor samples;  ///< the final chains, detached, x0's shape, device and dtype
  langevin_diagnostics diagnostics;
};

namespace detail {

struct energy_and_grad {
  at::Tensor energy;  // [B], detached
  at::Tensor grad;    // x's shape
};

template <class Energy>
energy_and_grad evaluate_energy(Energy& energy, const at::Tensor& x) {
  at::Tensor xr = x.detach().requires_grad_(true);
  at::Tensor e = energy(xr);
  if (!e.defined() || e.dim() != 1 || e.size(0) != x.size(0))
    throw std::invalid_argument("cebm::langevin: the energy must return one value per chain, shape [" +
                                std::to_string(x.size(0)) + "], got " +
                                (e.defined() ? std::string(c10::str(e.sizes())) : std::string("an undefined tensor")));
  at::Tensor g = torch::autograd::grad({e.sum()}, {xr}, /*grad_outputs=*/{}, /*retain_graph=*/false,
                                       /*create_graph=*/false, /*allow_unused=*/true)[0];
  if (!g.defined()) g = at::zeros_like(x);  // an energy that ignores x
  return {e.detach(), g};
}

inline at::Tensor per_chain_norm(const at::Tensor& g) { return g.reshape({g.size(0), -1}).norm(2, 1); }

inline at::Tensor nonfinite_rows(const energy_and_grad& eg) {
  return at::isfinite(eg.energy).logical_not() |
         at::isfinite(eg.grad).reshape({eg.grad.size(0), -1}).all(1).logical_not();
}

// Broadcast a per-chain [B] tensor over x's trailing axes.
inline at::Tensor per_chain(const at::Tensor& v, const at::Tensor& like) {
  std::vector<std::int64_t> shape(like.dim(), 1);
  shape[0] = like.size(0);
  return v.reshape(shape);
}

}  // namespace detail

template <class Energy>
langevin_result langevin(Energy&& energy, const at::Tensor& x0, const langevin_options& o, at::Generator& gen) {
  if (!x0.defined() || x0.dim() < 1 || x0.size(0) == 0)
    throw std::invalid_argument("cebm::langevin: x0 must be a non-empty batch of chains [B, ...]");
  if (!at::isFloatingType(x0.scalar_type()))
    throw std::invalid_argument("cebm::langevin: x0 must be a floating-point tensor");
  check_generator_device(gen, x0, "cebm::langevin");
  if (o.steps() < 0 || o.step_size() < 0 || o.noise_std() < 0)
    throw std::invalid_argument("cebm::langevin: steps, step_size and noise_std must be non-negative");
  if (o.metropolis() && o.grad_clip())
    throw std::invalid_argument("cebm::langevin: gradient clipping breaks the MALA proposal density; "
                                "use metropolis(false) or grad_clip(std::nullopt)");
  if (o.metropolis() && o.noise_std() <= 0)
    throw std::invalid_argument("cebm::langevin: MALA needs noise_std > 0");
  if (o.clamp() && !(o.clamp()->first < o.clamp()->second))
    throw std::invalid_argument("cebm::langevin: clamp range must have first < second");

  c10::AutoGradMode grad_on(true);  // the sampler needs autograd even under a caller's NoGradGuard
  const double a = o.step_size(), s = o.noise_std();
  const auto opts = x0.options();
  at::Tensor x = x0.detach().clone();
  const std::int64_t chains = x.size(0);

  at::Tensor frozen = at::zeros({chains}, opts.dtype(at::kBool));
  at::Tensor first_bad = at::full({}, -1, opts.dtype(at::kLong));
  at::Tensor grad_norm_sum = at::zeros({}, opts);
  at::Tensor accept_sum = at::zeros({}, opts);

  auto flag = [&](const at::Tensor& bad_rows, std::int64_t step) {
    if (o.skip_nonfinite()) {
      frozen = frozen | bad_rows;
    } else {
      first_bad = at::where((first_bad < 0) & bad_rows.any(), at::full({}, step, first_bad.options()), first_bad);
    }
  };

  detail::energy_and_grad cur = detail::evaluate_energy(energy, x);
  langevin_diagnostics d;
  d.energy_start = cur.energy.mean();
  flag(detail::nonfinite_rows(cur), 0);

  for (std::int64_t k = 0; k < o.steps(); ++k) {
    const at::Tensor norm = detail::per_chain_norm(cur.grad);
    grad_norm_sum += at::where(at::isfinite(norm), norm, at::zeros_like(norm)).mean();
    const at::Tensor noise = at::normal(0.0, 1.0, x.sizes(), gen, opts);
    const at::Tensor energy_before = cur.energy;

    if (!o.metropolis()) {
      at::Tensor g = o.grad_clip() ? cur.grad.clamp(-*o.grad_clip(), *o.grad_clip()) : cur.grad;
      at::Tensor next = x - a * g + s * noise;
      if (o.clamp()) next = next.clamp(o.clamp()->first, o.clamp()->second);
      if (o.skip_nonfinite()) next = at::where(detail::per_chain(frozen, x), x, next);
      x = next.detach();
      if (k + 1 < o.steps()) {
        cur = detail::evaluate_energy(energy, x);
        flag(detail::nonfinite_rows(cur), k + 1);
      }
    } else {
      // Proposal x' = x − a∇E(x) + sε; accept with min(1, e^{E(x) − E(x')} q(x | x') / q(x' | x)).
      const at::Tensor proposal = (x - a * cur.grad + s * noise).detach();
      detail::energy_and_grad prop = detail::evaluate_energy(energy, proposal);
      const at::Tensor bad = detail::nonfinite_rows(prop);
      flag(bad, k + 1);
      auto log_q = [&](const at::Tensor& to, const at::Tensor& from, const at::Tensor& grad_from) {
        return -(to - from + a * grad_from).reshape({chains, -1}).pow(2).sum(1) / (2 * s * s);
      };
      at::Tensor log_alpha = cur.energy - prop.energy + log_q(x, proposal, prop.grad) - log_q(proposal, x, cur.grad);
      if (o.clamp()) {
        const at::Tensor flat = proposal.reshape({chains, -1});
        const at::Tensor outside = (flat < o.clamp()->first).any(1) | (flat > o.clamp()->second).any(1);
        log_alpha = at::where(outside, at::full_like(log_alpha, -std::numeric_limits<double>::infinity()), log_alpha);
      }
      const at::Tensor u = at::rand({chains}, gen, opts);
      at::Tensor accept = (u.log() < log_alpha) & bad.logical_not() & frozen.logical_not();
      accept_sum += accept.to(opts.dtype()).mean();
      const at::Tensor acc = detail::per_chain(accept, x);
      x = at::where(acc, proposal, x).detach();
      cur = {at::where(accept, prop.energy, cur.energy), at::where(acc, prop.grad, cur.grad)};
    }

    if (o.hook()) {
      langevin_step info{k, x, energy_before, norm};
      o.hook()(info);
      x = x.detach();
    }
  }

  if (!o.skip_nonfinite()) {
    const std::int64_t step = first_bad.item<std::int64_t>();
    if (step >= 0)
      throw std::domain_error("cebm::langevin: the energy or its gradient is not finite at step " + std::to_string(step) +
                              " of " + std::to_string(o.steps()) +
                              " (step 0 is the starting point); use skip_nonfinite(true) to freeze such chains instead");
  }

  // The last evaluated energies: no forward beyond the ones the steps need.
  const at::Tensor e_end = cur.energy.detach();
  d.energy_end = at::where(frozen, at::zeros_like(e_end), e_end).sum() /
                 at::clamp_min(chains - frozen.sum(), 1).to(opts.dtype());
  d.grad_norm = o.steps() > 0 ? grad_norm_sum / static_cast<double>(o.steps()) : detail::per_chain_norm(cur.grad).mean();
  d.sample_min = x.min();
  d.sample_max = x.max();
  if (o.metropolis()) d.acceptance_rate = o.steps() > 0 ? accept_sum / static_cast<double>(o.steps()) : accept_sum;
  d.nonfinite_chains = frozen.sum();
  return {x, d};
}

}  // namespace cebm
