#pragma once
/// @file
/// log I_ν(κ) for arrays, written in `cebm::ops` so that it works (and differentiates) on Eigen
/// arrays and torch tensors alike. Internal: the public face is `von_mises_fisher`.
///
/// Both results are functions of q = κ², never of κ itself, so they are smooth at κ = 0 (autograd
/// through ‖θ‖ would give 0/0 there) and have no log κ to cancel:
///   g_ν(q) = log I_ν(κ) − ν log κ,      g_ν(0) = −ν log 2 − log Γ(ν + 1)
///   s_ν(q) = I_{ν+1}(κ) / (κ I_ν(κ)),    s_ν(0) = 1 / (2(ν + 1))
///
/// Method: Debye's uniform asymptotic expansion (DLMF 10.41.3, terms u₀…u₆ of 10.41.10) at an order
/// N = ν + m ≥ 50, where its relative error is below 1e-14 for every κ ≥ 0, then m steps of the
/// recurrence I_{n−1} = I_{n+1} + (2n/κ) I_n downwards, which is the stable direction for I.
/// In the scaled quantities the recurrence reads
///   d = q·s_n + 2n,   g_{n−1} = g_n + log d,   s_{n−1} = 1/d.
#include <cmath>

#include "cebm/core/ops.hpp"

namespace cebm::detail {

/// g_N(q) from Debye's expansion; accurate for N ≥ 50. The u_k sum at t = 1 reproduces Stirling's
/// series for 1/Γ(N+1) term by term, a check on the coefficients.
template <class A>
A debye_scaled_log_bessel(double order, const A& q) {
  using T = ops::scalar_t<A>;
  const double n = order;
  const A root = ops::sqrt(A(T(1) + q / T(n * n)));  // sqrt(1 + z²), z = κ/N
  const A t = T(1) / root;
  const A t2 = ops::square(t);
  // Σ u_k(t) / N^k, with u_k as polynomials in t (DLMF 10.41.10).
  const A u1 = t * (T(3) - T(5) * t2) / T(24);
  const A u2 = t2 * (T(81) + t2 * (T(-462) + t2 * T(385))) / T(1152);
  const A u3 = t * t2 * (T(30375) + t2 * (T(-369603) + t2 * (T(765765) + t2 * T(-425425)))) / T(414720);
  const A u4 = ops::square(t2) *
               (T(4465125) + t2 * (T(-94121676) + t2 * (T(349922430) + t2 * (T(-446185740) + t2 * T(185910725))))) /
               T(39813120);
  const A u5 = t * ops::square(t2) *
               (T(1519035525.0) +
                t2 * (T(-49286948607.0) +
                      t2 * (T(284499769554.0) + t2 * (T(-614135872350.0) + t2 * (T(566098157625.0) + t2 * T(-188699385875.0)))))) /
               T(6688604160.0);
  const A u6 = t2 * ops::square(t2) *
               (T(2757049477875.0) +
                t2 * (T(-127577298354750.0) +
                      t2 * (T(1050760774457901.0) +
                            t2 * (T(-3369032068261860.0) +
                                  t2 * (T(5104696716244125.0) + t2 * (T(-3685299006138750.0) + t2 * T(1023694168371875.0))))))) /
               T(4815794995200.0);
  const A series =
      T(1) + u1 / T(n) + u2 / T(n * n) + u3 / T(n * n * n) + u4 / T(n * n * n * n) + u5 / T(n * n * n * n * n) +
      u6 / T(n * n * n * n * n * n);
  // log I_N(Nz) − N log(Nz) = −½ log(2πN) + N(√(1+z²) − log N − log(1+√(1+z²))) − ¼ log(1+z²) + log Σ
  return T(-0.5 * std::log(2.0 * M_PI * n) - n * std::log(n)) + T(n) * (root - ops::log(A(T(1) + root))) -
         T(0.5) * ops::log(root) + ops::log(series);
}

/// g_ν(q) and s_ν(q) as defined above, for ν ≥ 0 and q = κ² ≥ 0.
template <class A>
struct scaled_bessel {
  A log_scaled;  ///< g_ν(q) = log I_ν(κ) − ν log κ
  A ratio;       ///< s_ν(q) = I_{ν+1}(κ) / (κ I_ν(κ))
};

template <class A>
scaled_bessel<A> scaled_log_bessel(double nu, const A& q) {
  using T = ops::scalar_t<A>;
  constexpr double min_debye_order = 50.0;
  const int steps = nu >= min_debye_order ? 0 : static_cast<int>(std::ceil(min_debye_order - nu));
  const double top = nu + steps;
  A g = debye_scaled_log_bessel(top, q);
  A s = ops::exp(A(debye_scaled_log_bessel(top + 1.0, q) - g));
  for (int k = 0; k < steps; ++k) {
    const double n = top - k;
    const A d = q * s + T(2 * n);
    g = g + ops::log(d);
    s = T(1) / d;
  }
  return {g, s};
}

}  // namespace cebm::detail
