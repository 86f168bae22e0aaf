#pragma once
/// @file
/// Bregman divergence of the log-normaliser, summed over latent coordinates:
///   D_B(λ₁, λ₂) = B(λ₁) − B(λ₂) − ⟨λ₁ − λ₂, ∇B(λ₂)⟩ ≥ 0,
/// which equals KL(p_{λ₂} ‖ p_{λ₁}) (note the order; see `kl`). Uses `F::bregman_divergence` when
/// the family has a closed form (one that needs B and ∇B only where they share work, as the
/// von Mises–Fisher's Bessel function does), otherwise the right-hand side.
/// Reference: Banerjee et al., "Clustering with Bregman Divergences", JMLR 2005, §4.
#include "cebm/core/checks.hpp"
#include "cebm/detail/pack_algebra.hpp"

namespace cebm {

namespace detail {
/// λ₂ broadcast to λ₁'s shape after both are validated: λ₂ itself when the shapes agree (expanding
/// would copy it on Eigen), else its expansion, kept in `storage`.
template <class F, class A, std::size_t S>
const param_pack<A, S>& bregman_second_argument(const param_pack<A, S>& lambda1, const param_pack<A, S>& lambda2,
                                                param_pack<A, S>& storage) {
  check_natural_params<F>(lambda1, "cebm::bregman_divergence (first argument)");
  check_natural_params<F>(lambda2, "cebm::bregman_divergence (second argument)");
  if (ops::same_shape(lambda2[0], lambda1[0])) return lambda2;
  storage = expand_pack(lambda2, lambda1[0], "cebm::bregman_divergence");
  return storage;
}
}  // namespace detail

/// D_B from the family's B and ∇B, ignoring any closed form (exposed for testing both).
template <class F, class A, std::size_t S>
A bregman_divergence_from_gradient(const param_pack<A, S>& lambda1, const param_pack<A, S>& lambda2) {
  if constexpr (detail::require_family<F, A>()) {
    detail::require_num_stats<F, S>();
    param_pack<A, S> storage;
    const param_pack<A, S>& l2 = detail::bregman_second_argument<F>(lambda1, lambda2, storage);
    // ⟨λ₁ − λ₂, ∇B(λ₂)⟩ statistic by statistic, each difference and product reduced as it is
    // formed (on Eigen, without storing either).
    const param_pack<A, S> mu = F::mean_params(l2);
    A inner = ops::sum_last((lambda1[0] - l2[0]) * mu[0]);
    for (std::size_t s = 1; s < S; ++s) inner = inner + ops::sum_last((lambda1[s] - l2[s]) * mu[s]);
    return ops::sum_last(F::log_normalizer(lambda1)) - ops::sum_last(F::log_normalizer(l2)) - inner;
  } else {
    return lambda1[0];
  }
}

template <class F, class A, std::size_t S>
A bregman_divergence(const param_pack<A, S>& lambda1, const param_pack<A, S>& lambda2) {
  if constexpr (detail::require_family<F, A>()) {
    detail::require_num_stats<F, S>();
    if constexpr (detail::has_bregman_divergence<F, A>::value) {
      param_pack<A, S> storage;
      return ops::sum_last(F::bregman_divergence(lambda1, detail::bregman_second_argument<F>(lambda1, lambda2, storage)));
    } else {
      return bregman_divergence_from_gradient<F>(lambda1, lambda2);
    }
  } else {
    return lambda1[0];
  }
}

}  // namespace cebm
