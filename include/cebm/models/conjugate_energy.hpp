#pragma once
/// @file
/// Energies of a conjugate EBM with bias family F, bias λ and encoder statistics t(x):
///
///   joint     E(x, z) = −⟨λ + t(x), η(z)⟩ − log h(z) + B(λ)        (= −log p(x, z) + const)
///   marginal  E(x)    = Σ_k [B(λ_k) − B(λ_k + t_k(x))]             (= −log ∫ exp(−E(x, z)) dz)
///
/// so that E(x, z) = E(x) − log p(z | x) with p(z | x) = p_F(z | λ + t(x)). Sums run over latent
/// coordinates; one energy per batch row. Reference: Wu et al., "Conjugate Energy-Based Models",
/// ICML 2021, eq. (4)–(6).
#include "cebm/core/checks.hpp"
#include "cebm/detail/pack_algebra.hpp"
#include "cebm/models/posterior.hpp"

namespace cebm {

template <class F, class A, std::size_t S>
A marginal_energy(const param_pack<A, S>& lambda, const param_pack<A, S>& t) {
  if constexpr (detail::require_family<F, A>()) {
    detail::check_natural_params<F>(lambda, "cebm::marginal_energy (bias λ)");
    detail::check_pack_shapes(t, "cebm::marginal_energy", "the statistics t(x)");
    ops::check_broadcast(lambda[0], t[0], "cebm::marginal_energy (bias λ vs t(x))");
    // Σ_k B(λ_k) once for the bias (a single row), broadcast over the batch afterwards.
    const A posterior = ops::sum_last(F::log_normalizer(posterior_params<F>(lambda, t)));
    const A energy =
        ops::expand_as(ops::sum_last(F::log_normalizer(lambda)), posterior, "cebm::marginal_energy") - posterior;
    detail::check_finite(energy, "cebm::marginal_energy", "the energy");
    return energy;
  } else {
    return lambda[0];
  }
}

template <class F, class A, std::size_t S>
A joint_energy(const param_pack<A, S>& lambda, const param_pack<A, S>& t, const A& z) {
  if constexpr (detail::require_family<F, A>()) {
    const param_pack<A, S> bias = detail::expand_pack(lambda, t[0], "cebm::joint_energy (bias λ vs t(x))");
    detail::check_natural_params<F>(bias, "cebm::joint_energy (bias λ)");
    const param_pack<A, S> eta = F::sufficient_stats(z);
    if (!ops::same_shape(eta[0], t[0]))
      throw std::invalid_argument("cebm::joint_energy: z has shape " + ops::shape_string(z) +
                                  " but t(x) has statistics of shape " + ops::shape_string(t[0]));
    const A coupling = detail::inner_sum(detail::add_packs(bias, t), eta) + detail::sum_log_base_measure<F>(z);
    const A energy =
        ops::expand_as(ops::sum_last(F::log_normalizer(lambda)), coupling, "cebm::joint_energy") - coupling;
    detail::check_finite(energy, "cebm::joint_energy", "the energy");
    return energy;
  } else {
    return z;
  }
}

}  // namespace cebm
