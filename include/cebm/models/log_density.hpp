#pragma once
/// @file
/// log p(z | λ) = Σ_coordinates [⟨λ, η(z)⟩ − B(λ) + log h(z)], one value per batch row.
/// λ has z's batch shape or is one row broadcast over the batch.
#include "cebm/core/checks.hpp"
#include "cebm/detail/pack_algebra.hpp"

namespace cebm {

template <class F, class A, std::size_t S>
A log_density(const param_pack<A, S>& lambda, const A& z) {
  if constexpr (detail::require_family<F, A>()) {
    detail::require_num_stats<F, S>();
    const param_pack<A, S> eta = F::sufficient_stats(z);
    const param_pack<A, S> lam = detail::expand_pack(lambda, eta[0], "cebm::log_density (λ vs z)");
    detail::check_natural_params<F>(lam, "cebm::log_density");
    return detail::inner_sum(lam, eta) - ops::sum_last(F::log_normalizer(lam)) + detail::sum_log_base_measure<F>(z);
  } else {
    return z;
  }
}

}  // namespace cebm
