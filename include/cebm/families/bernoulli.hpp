#pragma once
/// @file
/// Bernoulli per latent coordinate, z ∈ {0, 1}.
///
///   η(z) = z,  λ = logit p ∈ ℝ,  h(z) = 1
///   B(λ)  = log(1 + e^λ) = softplus(λ)
///   ∇B(λ) = σ(λ) = p
///   B*(μ) = μ log μ + (1 − μ) log(1 − μ)      (0 log 0 = 0)
/// Reference: Wainwright & Jordan (2008), example 3.1.
#include "cebm/core/ops.hpp"
#include "cebm/core/param_pack.hpp"

namespace cebm {

struct bernoulli {
  static constexpr std::size_t num_stats = 1;
  static constexpr const char* name = "bernoulli";

  template <class A>
  static param_pack<A, 1> sufficient_stats(const A& z) {
    return {{{z}}};
  }
  template <class A>
  static A log_normalizer(const param_pack<A, 1>& l) {
    return ops::softplus(l[0]);
  }
  template <class A>
  static param_pack<A, 1> mean_params(const param_pack<A, 1>& l) {
    return {{{ops::sigmoid(l[0])}}};
  }
  template <class A>
  static param_pack<A, 1> natural_from_mean(const param_pack<A, 1>& m) {
    return {{{ops::log(m[0]) - ops::log1p(-m[0])}}};
  }
  template <class A>
  static A conjugate_dual(const param_pack<A, 1>& m) {
    using T = ops::scalar_t<A>;
    const A& p = m[0];
    const A q = T(1) - p;
    const A zero = ops::zeros_like(p);
    return ops::where(p > T(0), A(p * ops::log(ops::maximum(p, zero))), zero) +
           ops::where(q > T(0), A(q * ops::log(ops::maximum(q, zero))), zero);
  }
  template <class A, class G>
  static A sample(const param_pack<A, 1>& l, G& gen) {
    const A u = ops::uniform_like(l[0], gen);
    return ops::where(u < ops::sigmoid(l[0]), ops::full_like(u, 1.0), ops::zeros_like(u));
  }
};

}  // namespace cebm
