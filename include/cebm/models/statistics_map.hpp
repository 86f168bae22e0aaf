#pragma once
/// @file
/// Statistics maps: how an encoder's S raw outputs r = (r₁ … r_S) become the neural sufficient
/// statistics t(x) of a conjugate EBM with family F, and which fixed bias λ₀ they are added to,
/// so that the posterior parameters λ₀ + t(x) always lie in F's domain (CEBM appendix A: any
/// exponential family gives a conjugate EBM once t(x) is kept in the domain).
///
///   map                   family            bias λ₀           t(x)                      domain kept
///   gaussian_map<P>       gaussian          (0, −½)           (r₁, P(r₂)), P(r) ≤ 0     λ₂ < 0
///   identity_map          bernoulli,        0                 r                         ℝ
///                         categorical<C>,
///                         von_mises_fisher
///   gamma_map             gamma             (0, −1): α=β=1    (s(r₁), −s(r₂)),           λ₁ > −1, λ₂ < 0
///                                                             s(r) = softplus(r) − log 2
///   bounded_map<c>        poisson           0 (rate 1)        c·(2σ(r) − 1) ∈ (−c, c)   rate ∈ (e^−c, e^c)
///
/// `gaussian_map<neg_square>` is the published CEBM; the Poisson default bounds the log-rate (c = log 10)
/// because B(λ) = e^λ would let one coordinate's energy fall without limit.
///
/// A map is a struct with
///   static constexpr const char* name;
///   static double bias(std::size_t s);                             λ₀ of statistic s (every coordinate)
///   template <class A, std::size_t S> static param_pack<A, S> statistics(const param_pack<A, S>& raw);
/// and optionally
///   static constexpr std::size_t representation_stat = s;           the posterior mean statistic used as
///                                                                   the representation (default: all S)
/// `default_statistics_map_t<F>` names the map each shipped family trains with; a user's family
/// passes its own map (see examples/custom_family).
#include <cstddef>
#include <type_traits>

#include "cebm/core/ops.hpp"
#include "cebm/core/param_pack.hpp"
#include "cebm/core/parameterization.hpp"
#include "cebm/families/bernoulli.hpp"
#include "cebm/families/categorical.hpp"
#include "cebm/families/gamma.hpp"
#include "cebm/families/gaussian.hpp"
#include "cebm/families/poisson.hpp"
#include "cebm/families/von_mises_fisher.hpp"

namespace cebm {

/// The published CEBM map: t = (r₁, P(r₂)) on the bias N(0, 1); the representation is E[z | x].
template <class Second = neg_square>
struct gaussian_map {
  static constexpr const char* name = Second::name;
  static constexpr std::size_t representation_stat = 0;
  static double bias(std::size_t s) { return s == 0 ? 0.0 : -0.5; }
  template <class A, std::size_t S>
  static param_pack<A, S> statistics(const param_pack<A, S>& raw) {
    static_assert(S == 2, "cebm::gaussian_map: the Gaussian has two statistics");
    return gaussian_statistics<Second>(raw[0], raw[1]);
  }
};

/// t = r on the bias λ₀ = 0: for families whose natural parameters range over all of ℝ.
struct identity_map {
  static constexpr const char* name = "identity";
  static double bias(std::size_t) { return 0.0; }
  template <class A, std::size_t S>
  static param_pack<A, S> statistics(const param_pack<A, S>& raw) { return raw; }
};

/// Gamma: λ₀ = (0, −1) (shape 1, rate 1) and t = (s(r₁), −s(r₂)) with s(r) = softplus(r) − log 2,
/// so r = 0 gives the bias itself (E = 0) and the posterior has shape and rate above 1 − log 2.
struct gamma_map {
  static constexpr const char* name = "shifted_softplus";
  static double bias(std::size_t s) { return s == 0 ? 0.0 : -1.0; }
  template <class A, std::size_t S>
  static param_pack<A, S> statistics(const param_pack<A, S>& raw) {
    static_assert(S == 2, "cebm::gamma_map: the Gamma family has two statistics");
    using T = ops::scalar_t<A>;
    const T log2 = T(0.693147180559945309);
    return {{{A(ops::softplus(raw[0]) - log2), A(log2 - ops::softplus(raw[1]))}}};
  }
};

/// t = c·(2σ(r) − 1) = c·tanh(r/2) on λ₀ = 0, c = `Bound::value`: a log-rate kept within (−c, c).
struct log_ten {
  static constexpr double value = 2.302585092994045684;  // log 10
};
template <class Bound = log_ten>
struct bounded_map {
  static constexpr const char* name = "bounded";
  static double bias(std::size_t) { return 0.0; }
  template <class A, std::size_t S>
  static param_pack<A, S> statistics(const param_pack<A, S>& raw) {
    using T = ops::scalar_t<A>;
    return transform(raw, [](const A& r) { return A(T(2 * Bound::value) * ops::sigmoid(r) - T(Bound::value)); });
  }
};

/// The map each shipped family trains with by default (`type`); a family without one (a user's)
/// names its map explicitly, e.g. ConjugateEbm<F, my_map>.
template <class F>
struct default_statistics_map {};
template <>
struct default_statistics_map<gaussian> { using type = gaussian_map<neg_square>; };
template <>
struct default_statistics_map<bernoulli> { using type = identity_map; };
template <std::size_t C>
struct default_statistics_map<categorical<C>> { using type = identity_map; };
template <>
struct default_statistics_map<von_mises_fisher> { using type = identity_map; };
template <>
struct default_statistics_map<gamma> { using type = gamma_map; };
template <>
struct default_statistics_map<poisson> { using type = bounded_map<>; };
template <class F>
using default_statistics_map_t = typename default_statistics_map<F>::type;

/// Whether `Map` is F's default map (false for a family without one).
template <class F, class Map, class = void>
struct is_default_statistics_map : std::false_type {};
template <class F, class Map>
struct is_default_statistics_map<F, Map, std::void_t<typename default_statistics_map<F>::type>>
    : std::is_same<Map, typename default_statistics_map<F>::type> {};

}  // namespace cebm
