#pragma once
/// @file
/// KL(p_λp ‖ p_λq) between two members of the same family, summed over latent coordinates:
///   KL = B(λq) − B(λp) − ⟨λq − λp, ∇B(λp)⟩ = D_B(λq, λp).
#include "cebm/divergences/bregman_divergence.hpp"

namespace cebm {

template <class F, class A, std::size_t S>
A kl(const param_pack<A, S>& lambda_p, const param_pack<A, S>& lambda_q) {
  if constexpr (detail::require_family<F, A>()) {
    const param_pack<A, S> lq = detail::expand_pack(lambda_q, lambda_p[0], "cebm::kl");
    return bregman_divergence<F>(lq, lambda_p);
  } else {
    return lambda_p[0];
  }
}

}  // namespace cebm
