#pragma once
/// @file
/// The conjugate posterior: with bias λ and neural sufficient statistics t(x),
///   p(z | x) = p_F(z | λ + t(x))   exactly, for any family F.
///
/// `posterior_params<F>(λ, t)` returns λ + t(x) (λ of t's shape, or one row broadcast over the
/// batch); `posterior_mean<F>` returns E[η(z) | x] = ∇B(λ + t(x)); for the Gaussian its
/// statistic 0 is the posterior mean of z, the CEBM representation.
#include "cebm/core/checks.hpp"
#include "cebm/detail/pack_algebra.hpp"

namespace cebm {

template <class F, class A, std::size_t S>
param_pack<A, S> posterior_params(const param_pack<A, S>& lambda, const param_pack<A, S>& t) {
  if constexpr (detail::require_family<F, A>()) {
    detail::require_num_stats<F, S>();
    detail::check_pack_shapes(t, "cebm::posterior_params", "the statistics t(x)");
    const char* where = "cebm::posterior_params (bias λ vs t(x))";
    detail::check_pack_shapes(lambda, where, "the natural parameters");
    // The bias is broadcast inside the addition: one pass over t, no expanded copy of λ.
    param_pack<A, S> post;
    for (std::size_t s = 0; s < S; ++s) post[s] = ops::add_expanded(lambda[s], t[s], where);
    detail::check_natural_params<F>(post, "cebm::posterior_params");
    return post;
  } else {
    return t;
  }
}

template <class F, class A, std::size_t S>
param_pack<A, S> posterior_mean(const param_pack<A, S>& lambda, const param_pack<A, S>& t) {
  if constexpr (detail::require_family<F, A>()) {
    return F::mean_params(posterior_params<F>(lambda, t));
  } else {
    return t;
  }
}

}  // namespace cebm
