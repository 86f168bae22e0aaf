#pragma once
// The exponential distribution as a cebm exponential family (a family cebm does not ship):
//
//   z > 0,  η(z) = z,  λ = −rate < 0,  B(λ) = −log(−λ),  ∇B(λ) = −1/λ = E z,  (∇B)⁻¹(μ) = −1/μ
//
// and the statistics map that trains it in a conjugate EBM: the bias rate 1 (λ₀ = −1) and
// t(x) = log 2 − softplus(r) < log 2, so the posterior rate 1 − log 2 + softplus(r) stays positive
// and r = 0 gives the bias itself.
#include <cstddef>

#include <cebm/core.hpp>

struct exponential_rate {
  static constexpr std::size_t num_stats = 1;
  static constexpr const char* name = "exponential_rate";

  template <class A>
  static cebm::param_pack<A, 1> sufficient_stats(const A& z) { return {{{z}}}; }
  template <class A>
  static A log_normalizer(const cebm::param_pack<A, 1>& l) { return -cebm::ops::log(A(-l[0])); }
  template <class A>
  static cebm::param_pack<A, 1> mean_params(const cebm::param_pack<A, 1>& l) { return {{{A(-1.0 / l[0])}}}; }
  template <class A, class G>
  static A sample(const cebm::param_pack<A, 1>& l, G& gen) {
    return -cebm::ops::log(A(1.0 - cebm::ops::uniform_like(l[0], gen))) / (-l[0]);
  }
  // Optional members: the inverse map (which gives the conjugate dual) and the domain.
  template <class A>
  static cebm::param_pack<A, 1> natural_from_mean(const cebm::param_pack<A, 1>& m) { return {{{A(-1.0 / m[0])}}}; }
  template <class A>
  static auto in_domain(const cebm::param_pack<A, 1>& l) { return l[0] < 0.0; }
};


struct exponential_map {
  static constexpr const char* name = "shifted_softplus";
  static double bias(std::size_t) { return -1.0; }
  template <class A, std::size_t S>
  static cebm::param_pack<A, S> statistics(const cebm::param_pack<A, S>& raw) {
    return {{{A(0.693147180559945309 - cebm::ops::softplus(raw[0]))}}};
  }
};
