#pragma once
/// @file
/// Categorical over C classes per latent coordinate, z ∈ {0, …, C−1} (stored as a real number),
/// in the minimal representation with class C−1 as the reference.
///
///   η_c(z) = [z = c] for c = 0 … C−2,  λ_c = log(p_c / p_{C−1}) ∈ ℝ,  h(z) = 1
///   B(λ)    = log(1 + Σ_c e^{λ_c})
///   ∇B(λ)_c = e^{λ_c − B(λ)} = p_c
///   B*(μ)   = Σ_c μ_c log μ_c + μ_{C−1} log μ_{C−1},  μ_{C−1} = 1 − Σ_c μ_c   (0 log 0 = 0)
/// Reference: Wainwright & Jordan (2008), example 3.5.
#include "cebm/core/ops.hpp"
#include "cebm/core/param_pack.hpp"

namespace cebm {

template <std::size_t C>
struct categorical {
  static_assert(C >= 2, "cebm::categorical<C>: needs at least two classes");
  static constexpr std::size_t num_stats = C - 1;
  static constexpr const char* name = "categorical";

  template <class A>
  static param_pack<A, C - 1> sufficient_stats(const A& z) {
    using T = ops::scalar_t<A>;
    param_pack<A, C - 1> eta;
    for (std::size_t c = 0; c + 1 < C; ++c)
      eta[c] = ops::where(z == T(c), ops::full_like(z, 1.0), ops::zeros_like(z));
    return eta;
  }
  template <class A>
  static A log_normalizer(const param_pack<A, C - 1>& l) {
    // log-sum-exp over {0, λ_0, …, λ_{C−2}}, shifted by the largest term.
    A top = ops::zeros_like(l[0]);
    for (std::size_t c = 0; c + 1 < C; ++c) top = ops::maximum(top, l[c]);
    A total = ops::exp(A(-top));
    for (std::size_t c = 0; c + 1 < C; ++c) total = total + ops::exp(A(l[c] - top));
    return top + ops::log(total);
  }
  template <class A>
  static param_pack<A, C - 1> mean_params(const param_pack<A, C - 1>& l) {
    const A b = log_normalizer(l);
    return transform(l, [&](const A& lc) { return ops::exp(A(lc - b)); });
  }
  template <class A>
  static param_pack<A, C - 1> natural_from_mean(const param_pack<A, C - 1>& m) {
    const A log_ref = ops::log(reference_prob(m));
    return transform(m, [&](const A& mc) { return A(ops::log(mc) - log_ref); });
  }
  template <class A>
  static A conjugate_dual(const param_pack<A, C - 1>& m) {
    A total = xlogx(reference_prob(m));
    for (std::size_t c = 0; c + 1 < C; ++c) total = total + xlogx(m[c]);
    return total;
  }
  template <class A, class G>
  static A sample(const param_pack<A, C - 1>& l, G& gen) {
    // Inverse CDF: z = number of cumulative probabilities of classes 0 … C−2 below u.
    const param_pack<A, C - 1> p = mean_params(l);
    const A u = ops::uniform_like(l[0], gen);
    A cdf = ops::zeros_like(u);
    A z = ops::zeros_like(u);
    const A one = ops::full_like(u, 1.0);
    for (std::size_t c = 0; c + 1 < C; ++c) {
      cdf = cdf + p[c];
      z = z + ops::where(u >= cdf, one, ops::zeros_like(u));
    }
    return z;
  }

 private:
  template <class A>
  static A reference_prob(const param_pack<A, C - 1>& m) {
    A rest = ops::full_like(m[0], 1.0);
    for (std::size_t c = 0; c + 1 < C; ++c) rest = rest - m[c];
    return rest;
  }
  template <class A>
  static A xlogx(const A& x) {
    using T = ops::scalar_t<A>;
    const A zero = ops::zeros_like(x);
    return ops::where(x > T(0), A(x * ops::log(ops::maximum(x, zero))), zero);
  }
};

}  // namespace cebm
