#pragma once
/// @file
/// The convex conjugate (Legendre dual) of the log-normaliser, per latent coordinate:
///   B*(μ) = sup_λ ⟨λ, μ⟩ − B(λ) = ⟨λ(μ), μ⟩ − B(λ(μ)),  λ(μ) = (∇B)⁻¹(μ),
/// i.e. the negative entropy less E[log h]. Uses `F::conjugate_dual` when the family has one,
/// otherwise the right-hand side through `F::natural_from_mean`. The Legendre identity
/// B(λ) + B*(∇B(λ)) = ⟨λ, ∇B(λ)⟩ holds coordinate-wise.
#include "cebm/core/checks.hpp"
#include "cebm/detail/pack_algebra.hpp"

namespace cebm {

/// B*(μ) from the family's natural_from_mean, ignoring any closed form (exposed for testing both).
template <class F, class A, std::size_t S>
A conjugate_dual_from_inverse(const param_pack<A, S>& mu) {
  static_assert(detail::has_natural_from_mean<F, A>::value,
                "cebm::conjugate_dual: the family has neither `conjugate_dual(mu)` nor `natural_from_mean(mu)`");
  const param_pack<A, S> lambda = F::natural_from_mean(mu);
  A total = lambda[0] * mu[0];
  for (std::size_t s = 1; s < S; ++s) total = total + lambda[s] * mu[s];
  return total - F::log_normalizer(lambda);
}

template <class F, class A, std::size_t S>
A conjugate_dual(const param_pack<A, S>& mu) {
  if constexpr (detail::require_family<F, A>()) {
    detail::require_num_stats<F, S>();
    detail::check_pack_shapes(mu, "cebm::conjugate_dual", "the mean parameters");
    if constexpr (detail::has_conjugate_dual<F, A>::value) return F::conjugate_dual(mu);
    else return conjugate_dual_from_inverse<F>(mu);
  } else {
    return mu[0];
  }
}

}  // namespace cebm
