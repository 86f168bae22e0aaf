#pragma once
/// @file
/// Poisson per latent coordinate, z ∈ {0, 1, 2, …}.
///
///   η(z) = z,  λ = log rate ∈ ℝ,  log h(z) = −log z!
///   B(λ)  = e^λ
///   ∇B(λ) = e^λ
///   B*(μ) = μ log μ − μ
/// Reference: Wainwright & Jordan (2008), §3.2.
#include "cebm/core/ops.hpp"
#include "cebm/core/param_pack.hpp"

namespace cebm {

struct poisson {
  static constexpr std::size_t num_stats = 1;
  static constexpr const char* name = "poisson";

  template <class A>
  static param_pack<A, 1> sufficient_stats(const A& z) {
    return {{{z}}};
  }
  template <class A>
  static A log_base_measure(const A& z) {
    return -ops::lgamma(A(z + ops::scalar_t<A>(1)));
  }
  template <class A>
  static A log_normalizer(const param_pack<A, 1>& l) {
    return ops::exp(l[0]);
  }
  template <class A>
  static param_pack<A, 1> mean_params(const param_pack<A, 1>& l) {
    return {{{ops::exp(l[0])}}};
  }
  template <class A>
  static param_pack<A, 1> natural_from_mean(const param_pack<A, 1>& m) {
    return {{{ops::log(m[0])}}};
  }
  template <class A>
  static A conjugate_dual(const param_pack<A, 1>& m) {
    return m[0] * ops::log(m[0]) - m[0];
  }
  template <class A, class G>
  static A sample(const param_pack<A, 1>& l, G& gen) {
    return ops::poisson(ops::exp(l[0]), gen);
  }
};

}  // namespace cebm
