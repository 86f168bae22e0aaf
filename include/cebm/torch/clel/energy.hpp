#pragma once
/// @file
/// The CLEL energies from the networks' outputs (Lee et al., "Guiding Energy-based Models via
/// Contrastive Latent Variables", ICLR 2023, §2.2; reference notes §3.3). With f = f_θ(x) ∈ ℝ^{d_f},
/// g = g_θ(f) ∈ ℝ^{d} (a bias-free projection, so g(f) ∝ g(f/‖f‖)) and z ∈ S^{d−1}:
///
///   marginal   e(x)    = ½‖f‖²
///   joint      E(x, z) = ½‖f‖² − β cos(g, z)
///   posterior  p(z | x) ∝ exp(β cos(g, z)) = vMF(z; mean direction ĝ = g/‖g‖, concentration β)
///
/// so with B the von Mises–Fisher log-normaliser w.r.t. the surface measure of S^{d−1}
/// (families/von_mises_fisher.hpp), θ = β ĝ and B(θ) depending on ‖θ‖ = β only,
///
///   E(x, z) = e(x) − log p(z | x) − B(β ĝ),    ∫_{S^{d−1}} exp(−E(x, z)) dz = exp(−e(x) + B(β ĝ)):
///
/// e is the marginal energy of the joint up to an additive constant (the paper's "independent of x
/// due to the symmetry"). The functions take the network outputs, not the networks, so the same
/// code serves the live and the averaged (EMA) model and any architecture.
///
/// cos(a, b) = â·b̂ with â = a / max(‖a‖, 1e-12), as `F.normalize` in the published code; z need not
/// be normalised by the caller. Shapes: f [B, d_f], g [B, d]; z is [B, d] or one [d] for the batch.
#include <cmath>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

#include "cebm/families/von_mises_fisher.hpp"
#include "cebm/models/log_density.hpp"
#include "cebm/torch/clel/detail/rows.hpp"
#include "cebm/torch/ops.hpp"

namespace cebm::clel {

namespace detail {
inline void require_beta(double beta, const char* where) {
  if (!(beta >= 0) || !std::isfinite(beta))
    throw std::invalid_argument(std::string(where) + ": beta must be finite and non-negative, got " +
                                std::to_string(beta));
}
}  // namespace detail

/// e(x) = ½‖f(x)‖², [B], from f [B, d_f].
inline at::Tensor marginal_energy(const at::Tensor& f) {
  detail::require_rows(f, "cebm::clel::marginal_energy", "f");
  return 0.5 * f.pow(2).sum(1);
}

/// E(x, z) = ½‖f‖² − β cos(g, z), [B], from f [B, d_f], g = g(f) [B, d] and z [B, d] or [d].
inline at::Tensor joint_energy(const at::Tensor& f, const at::Tensor& g, const at::Tensor& z, double beta = 0.01) {
  constexpr const char* where = "cebm::clel::joint_energy";
  detail::require_rows(f, where, "f");
  detail::require_rows(g, where, "g");
  detail::require_same_rows(f, g, where, "f", "g");
  detail::require_direction(z, g, where, "z");
  detail::require_beta(beta, where);
  return 0.5 * f.pow(2).sum(1) - beta * detail::cosine(g, z);
}

/// Natural parameters θ = β g/‖g‖ [B, d] of the posterior p(z | x) = vMF(θ), for
/// `cebm::von_mises_fisher` (a pack of one statistic).
inline param_pack<at::Tensor, 1> posterior_params(const at::Tensor& g, double beta = 0.01) {
  detail::require_rows(g, "cebm::clel::posterior_params", "g");
  detail::require_beta(beta, "cebm::clel::posterior_params");
  return make_pack(at::Tensor(beta * detail::unit_rows(g)));
}

/// log p(z | x) = β cos(g, z) − B(β ĝ) w.r.t. the surface measure, [B]; z [B, d] or [d] is
/// normalised first (the density lives on the sphere). Computed by `cebm::log_density`.
inline at::Tensor log_posterior(const at::Tensor& g, const at::Tensor& z, double beta = 0.01) {
  constexpr const char* where = "cebm::clel::log_posterior";
  detail::require_rows(g, where, "g");
  detail::require_direction(z, g, where, "z");
  return log_density<von_mises_fisher>(posterior_params(g, beta), at::Tensor(detail::unit_rows(z).expand_as(g)));
}

}  // namespace cebm::clel
