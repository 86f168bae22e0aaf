#pragma once
/// @file
/// Gamma(shape α, rate β) per latent coordinate, z > 0.
///
///   η(z) = (log z, z),  λ = (α − 1, −β),  λ₁ > −1, λ₂ < 0,  h(z) = 1
///   B(λ)  = log Γ(λ₁ + 1) − (λ₁ + 1) log(−λ₂)
///   ∇B(λ) = (ψ(α) − log β,  α/β) = (E log z, E z)
///   (∇B)⁻¹(μ): α solves log α − ψ(α) = log μ₂ − μ₁ (Newton, Minka 2002), β = α/μ₂
/// Reference: Minka, "Estimating a Gamma distribution" (2002).
#include <cmath>

#include "cebm/core/ops.hpp"
#include "cebm/core/param_pack.hpp"

namespace cebm {

struct gamma {
  static constexpr std::size_t num_stats = 2;
  static constexpr const char* name = "gamma";

  template <class A>
  static param_pack<A, 2> sufficient_stats(const A& z) {
    return {{{ops::log(z), z}}};
  }
  template <class A>
  static A log_normalizer(const param_pack<A, 2>& l) {
    using T = ops::scalar_t<A>;
    const A shape = l[0] + T(1);
    return ops::lgamma(shape) - shape * ops::log(-l[1]);
  }
  template <class A>
  static param_pack<A, 2> mean_params(const param_pack<A, 2>& l) {
    using T = ops::scalar_t<A>;
    const A shape = l[0] + T(1);
    const A rate = -l[1];
    return {{{ops::digamma(shape) - ops::log(rate), shape / rate}}};
  }
  template <class A>
  static param_pack<A, 2> natural_from_mean(const param_pack<A, 2>& m) {
    using T = ops::scalar_t<A>;
    // c = log E z − E log z > 0 by Jensen; solve f(α) = log α − ψ(α) − c = 0.
    const A c = ops::log(m[1]) - m[0];
    // Minka's closed-form start is within a few percent; Newton in α converges quadratically.
    A shape = (T(3) - c + ops::sqrt(ops::square(c - T(3)) + T(24) * c)) / (T(12) * c);
    for (int it = 0; it < 8; ++it) {
      const A f = ops::log(shape) - ops::digamma(shape) - c;
      const A df = T(1) / shape - ops::trigamma(shape);
      shape = shape - f / df;
    }
    return {{{shape - T(1), -shape / m[1]}}};
  }
  template <class A>
  static auto in_domain(const param_pack<A, 2>& l) {
    using T = ops::scalar_t<A>;
    return ops::logical_and(l[0] > T(-1), l[1] < T(0));
  }
  template <class A, class G>
  static A sample(const param_pack<A, 2>& l, G& gen) {
    using T = ops::scalar_t<A>;
    return ops::standard_gamma(A(l[0] + T(1)), gen) / (-l[1]);
  }
};

}  // namespace cebm
