#pragma once
/// @file
/// Small pack helpers shared by the generic algorithms (internal).
#include "cebm/core/checks.hpp"

namespace cebm::detail {

/// Σ_s Σ_last a_s · b_s: the inner product ⟨a, b⟩ summed over latent coordinates.
template <class A, std::size_t S>
A inner_sum(const param_pack<A, S>& a, const param_pack<A, S>& b) {
  A total = ops::sum_last(A(a[0] * b[0]));
  for (std::size_t s = 1; s < S; ++s) total = total + ops::sum_last(A(a[s] * b[s]));
  return total;
}

/// Each statistic of `p` broadcast to the shape of `like`.
template <class A, std::size_t S>
param_pack<A, S> expand_pack(const param_pack<A, S>& p, const A& like, const char* where) {
  check_pack_shapes(p, where, "the natural parameters");
  return transform(p, [&](const A& ps) { return A(ops::expand_as(ps, like, where)); });
}

template <class A, std::size_t S>
param_pack<A, S> add_packs(const param_pack<A, S>& a, const param_pack<A, S>& b) {
  param_pack<A, S> out;
  for (std::size_t s = 0; s < S; ++s) out[s] = a[s] + b[s];
  return out;
}

/// Σ_last log h(z) (zero for families without a base measure), shaped like a reduction of z.
template <class F, class A>
A sum_log_base_measure(const A& z) {
  if constexpr (has_log_base_measure<F, A>::value) return ops::sum_last(F::log_base_measure(z));
  else return ops::sum_last(ops::zeros_like(z));
}

template <class F, std::size_t S>
constexpr void require_num_stats() {
  static_assert(S == F::num_stats, "cebm: the parameter pack has a different number of statistics than the family's num_stats");
}

}  // namespace cebm::detail
