#pragma once
/// @file
/// Maps from raw network outputs into the natural-parameter domain of the Gaussian's second
/// statistic (which must be < 0 after the bias λ₂ = −½ is added, i.e. t₂ ≤ 0):
///
///   neg_square    t₂ = −r²           the published CEBM (default); the authors' later softplus and
///                                    exp variants did not train (reference notes §1.1)
///   neg_softplus  t₂ = −softplus(r)
///   neg_exp       t₂ = −exp(r)
///
/// `gaussian_statistics<P>(t1, r)` packs (t₁, P(r)) as the neural sufficient statistics t(x).
#include "cebm/core/ops.hpp"
#include "cebm/core/param_pack.hpp"

namespace cebm {

struct neg_square {
  static constexpr const char* name = "neg_square";
  template <class A>
  static A apply(const A& r) { return -ops::square(r); }
};
struct neg_softplus {
  static constexpr const char* name = "neg_softplus";
  template <class A>
  static A apply(const A& r) { return -ops::softplus(r); }
};
struct neg_exp {
  static constexpr const char* name = "neg_exp";
  template <class A>
  static A apply(const A& r) { return -ops::exp(r); }
};

template <class Second = neg_square, class A>
param_pack<A, 2> gaussian_statistics(const A& t1, const A& r) {
  return {{{t1, A(Second::apply(r))}}};
}

}  // namespace cebm
