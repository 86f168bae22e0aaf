#pragma once
/// @file
/// von Mises–Fisher on the unit sphere S^{d−1} ⊂ ℝ^d. One latent "coordinate" is the whole
/// direction z, so arrays are [..., d] and the normaliser reduces over the last axis ([..., 1]).
///
///   η(z) = z,  λ = θ = κ·m ∈ ℝ^d (κ = ‖θ‖ ≥ 0, ‖m‖ = 1),  h = 1 w.r.t. the surface measure
///   B(θ)  = (d/2) log 2π + log I_ν(κ) − ν log κ,   ν = d/2 − 1
///   ∇B(θ) = A_d(κ) θ/κ,  A_d(κ) = I_{d/2}(κ) / I_{d/2−1}(κ)
/// B(0) = log|S^{d−1}| = log(2π^{d/2}/Γ(d/2)); ∇B(0) = 0. Both are computed from κ² through
/// `detail::scaled_log_bessel`, stable for d = 128 from κ = 0 to κ ≫ d.
/// With g_ν(κ²) = log I_ν(κ) − ν log κ and s_ν(κ²) = A_d(κ)/κ, the Bregman divergence takes one
/// Bessel evaluation per argument (the generic route evaluates θ₂'s twice, for B and for ∇B):
///   D_B(θ₁, θ₂) = g_ν(‖θ₁‖²) − g_ν(‖θ₂‖²) − s_ν(‖θ₂‖²) ⟨θ₁ − θ₂, θ₂⟩.
/// Sampling: Wood (1994), "Simulation of the von Mises Fisher distribution".
/// In CLEL the bias is uniform (θ = 0) and the energy is spherical; see models/.
#include <cmath>

#include "cebm/core/ops.hpp"
#include "cebm/core/param_pack.hpp"
#include "cebm/detail/log_bessel.hpp"

namespace cebm {

struct von_mises_fisher {
  static constexpr std::size_t num_stats = 1;
  static constexpr const char* name = "von_mises_fisher";

  template <class A>
  static param_pack<A, 1> sufficient_stats(const A& z) {
    return {{{z}}};
  }
  template <class A>
  static A log_normalizer(const param_pack<A, 1>& l) {
    using T = ops::scalar_t<A>;
    const double d = static_cast<double>(dimension(l[0]));
    const A q = ops::sum_last_keep(l[0] * l[0]);  // ‖θ‖², reduced without storing the squares
    return T(0.5 * d * std::log(2.0 * M_PI)) + detail::scaled_log_bessel(0.5 * d - 1.0, q).log_scaled;
  }
  template <class A>
  static param_pack<A, 1> mean_params(const param_pack<A, 1>& l) {
    const double d = static_cast<double>(dimension(l[0]));
    const A q = ops::sum_last_keep(l[0] * l[0]);  // ‖θ‖², reduced without storing the squares
    const A s = detail::scaled_log_bessel(0.5 * d - 1.0, q).ratio;  // A_d(κ)/κ
    return {{{ops::mul_broadcast_last(s, l[0])}}};
  }
  template <class A>
  static A bregman_divergence(const param_pack<A, 1>& l1, const param_pack<A, 1>& l2) {
    const double nu = 0.5 * static_cast<double>(dimension(l1[0])) - 1.0;
    const auto b1 = detail::scaled_log_bessel(nu, ops::sum_last_keep(l1[0] * l1[0]));
    const auto b2 = detail::scaled_log_bessel(nu, ops::sum_last_keep(l2[0] * l2[0]));
    return b1.log_scaled - b2.log_scaled - b2.ratio * ops::sum_last_keep((l1[0] - l2[0]) * l2[0]);
  }
  template <class A, class G>
  static A sample(const param_pack<A, 1>& l, G& gen) {
    using T = ops::scalar_t<A>;
    const A& theta = l[0];
    const double d = static_cast<double>(dimension(theta));
    const A kappa = ops::sqrt(ops::sum_last_keep(ops::square(theta)));
    const A one = ops::full_like(kappa, 1.0);
    // Wood's envelope: b = (d−1) / (2κ + √(4κ² + (d−1)²)) (the cancellation-free form).
    const A b = T(d - 1) / (T(2) * kappa + ops::sqrt(A(T(4) * ops::square(kappa) + T((d - 1) * (d - 1)))));
    const A x0 = (one - b) / (one + b);
    const A c = kappa * x0 + T(d - 1) * ops::log(A(one - ops::square(x0)));
    const A half = ops::full_like(kappa, 0.5 * (d - 1));
    A w = ops::zeros_like(kappa);
    A done = ops::zeros_like(kappa);  // 1 where row's w is accepted
    while (!ops::all(done > T(0.5))) {
      const A g1 = ops::standard_gamma(half, gen);
      const A g2 = ops::standard_gamma(half, gen);
      const A beta = g1 / (g1 + g2);
      const A u = ops::uniform_like(kappa, gen);
      const A w_new = (one - (one + b) * beta) / (one - (one - b) * beta);
      const A accept_log = kappa * w_new + T(d - 1) * ops::log(A(one - x0 * w_new)) - c;
      const auto fresh = ops::logical_and(done < T(0.5), accept_log >= ops::log(u));
      w = ops::where(fresh, w_new, w);
      done = ops::where(fresh, one, done);
    }
    // Direction m = θ/κ (e₀ where κ = 0: any direction will do, the law is then uniform).
    const A safe_kappa = ops::where(kappa > T(0), kappa, one);
    A m = theta / ops::broadcast_last(safe_kappa, theta);
    m = ops::where(ops::broadcast_last(kappa, theta) > T(0), m, first_axis(theta));
    // A uniform direction orthogonal to m, then z = w m + √(1 − w²) v.
    A v = ops::normal_like(theta, gen);
    v = v - ops::broadcast_last(ops::sum_last_keep(A(v * m)), theta) * m;
    v = v / ops::broadcast_last(ops::sqrt(ops::sum_last_keep(ops::square(v))), theta);
    const A tangent = ops::sqrt(ops::maximum(A(one - ops::square(w)), ops::zeros_like(w)));
    return ops::broadcast_last(w, theta) * m + ops::broadcast_last(tangent, theta) * v;
  }

  template <class A>
  static std::int64_t dimension(const A& theta) {
    return ops::backend<ops::plain_t<A>>::last_dim(theta);
  }

 private:
  template <class A>
  static A first_axis(const A& like) {
    A e = ops::zeros_like(like);
    return ops::backend<ops::plain_t<A>>::set_first_of_last_axis(e, 1.0);
  }
};

}  // namespace cebm
