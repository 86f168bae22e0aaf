#pragma once
/// @file
/// Univariate Gaussian per latent coordinate (a diagonal Gaussian over a vector z).
///
///   η(z) = (z, z²),  λ = (λ₁, λ₂) = (μ/σ², −1/(2σ²)),  λ₂ < 0,  log h(z) = −½ log 2π
///   B(λ)   = −λ₁²/(4λ₂) − ½ log(−2λ₂)
///   ∇B(λ)  = (−λ₁/(2λ₂),  λ₁²/(4λ₂²) − 1/(2λ₂)) = (E z, E z²)
///   B*(μ)  = −½ − ½ log(μ₂ − μ₁²)         (negative entropy less the base measure)
///
/// The CEBM bias is λ = (0, −½), i.e. N(0, 1), for which B(λ) = 0.
/// Reference: Wainwright & Jordan (2008), §3.2, example 3.3.
#include <cmath>

#include "cebm/core/ops.hpp"
#include "cebm/core/param_pack.hpp"

namespace cebm {

struct gaussian {
  static constexpr std::size_t num_stats = 2;
  static constexpr const char* name = "gaussian";

  template <class A>
  static param_pack<A, 2> sufficient_stats(const A& z) {
    return {{{z, ops::square(z)}}};
  }
  template <class A>
  static A log_base_measure(const A& z) {
    return ops::full_like(z, -0.5 * std::log(2.0 * M_PI));
  }
  template <class A>
  static A log_normalizer(const param_pack<A, 2>& l) {
    using T = ops::scalar_t<A>;
    // λ₁·λ₁ rather than ops::square(λ₁): the same numbers, without storing the square (on Eigen).
    return -(l[0] * l[0]) / (T(4) * l[1]) - T(0.5) * ops::log(T(-2) * l[1]);
  }
  template <class A>
  static param_pack<A, 2> mean_params(const param_pack<A, 2>& l) {
    using T = ops::scalar_t<A>;
    const A mean = -l[0] / (T(2) * l[1]);
    return {{{mean, mean * mean - T(0.5) / l[1]}}};
  }
  template <class A>
  static param_pack<A, 2> natural_from_mean(const param_pack<A, 2>& m) {
    using T = ops::scalar_t<A>;
    const A var = m[1] - ops::square(m[0]);
    return {{{m[0] / var, T(-0.5) / var}}};
  }
  template <class A>
  static A conjugate_dual(const param_pack<A, 2>& m) {
    using T = ops::scalar_t<A>;
    return T(-0.5) - T(0.5) * ops::log(m[1] - ops::square(m[0]));
  }
  template <class A>
  static auto in_domain(const param_pack<A, 2>& l) {
    return l[1] < ops::scalar_t<A>(0);
  }
  template <class A, class G>
  static A sample(const param_pack<A, 2>& l, G& gen) {
    using T = ops::scalar_t<A>;
    const A mean = -l[0] / (T(2) * l[1]);
    return mean + ops::sqrt(T(-0.5) / l[1]) * ops::normal_like(l[0], gen);
  }

  /// Natural parameters of N(mean, exp(log_std)²): the location–scale form that learned biases
  /// (GMM-CEBM components) are stored in, because it keeps λ₂ < 0 for any real log_std.
  template <class A>
  static param_pack<A, 2> natural_from_location_scale(const A& mean, const A& log_std) {
    using T = ops::scalar_t<A>;
    const A precision = ops::exp(T(-2) * log_std);
    return {{{mean * precision, T(-0.5) * precision}}};
  }
};

}  // namespace cebm
