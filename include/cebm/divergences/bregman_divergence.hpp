#pragma once
/// @file
/// Bregman divergence of the log-normaliser, summed over latent coordinates:
///   D_B(λ₁, λ₂) = B(λ₁) − B(λ₂) − ⟨λ₁ − λ₂, ∇B(λ₂)⟩ ≥ 0,
/// which equals KL(p_{λ₂} ‖ p_{λ₁}) (note the order; see `kl`).
/// Reference: Banerjee et al., "Clustering with Bregman Divergences", JMLR 2005, §4.
#include "cebm/core/checks.hpp"
#include "cebm/detail/pack_algebra.hpp"

namespace cebm {

template <class F, class A, std::size_t S>
A bregman_divergence(const param_pack<A, S>& lambda1, const param_pack<A, S>& lambda2) {
  if constexpr (detail::require_family<F, A>()) {
    detail::require_num_stats<F, S>();
    detail::check_natural_params<F>(lambda1, "cebm::bregman_divergence (first argument)");
    detail::check_natural_params<F>(lambda2, "cebm::bregman_divergence (second argument)");
    const param_pack<A, S> l2 = detail::expand_pack(lambda2, lambda1[0], "cebm::bregman_divergence");
    param_pack<A, S> diff;
    for (std::size_t s = 0; s < S; ++s) diff[s] = lambda1[s] - l2[s];
    return ops::sum_last(F::log_normalizer(lambda1)) - ops::sum_last(F::log_normalizer(l2)) -
           detail::inner_sum(diff, F::mean_params(l2));
  } else {
    return lambda1[0];
  }
}

}  // namespace cebm
