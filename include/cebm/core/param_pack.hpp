#pragma once
/// @file
/// `param_pack<A, S>`: the S arrays that make up natural parameters λ, mean parameters μ = ∇B(λ),
/// or sufficient statistics η(z) of an S-statistic exponential family.
///
/// Each array has the batch shape of the latent variable (e.g. [B, K] for B samples of K latent
/// coordinates); entry s of the pack holds statistic s for every coordinate. A is an Eigen array
/// (`Eigen::ArrayXXd`, `Eigen::ArrayXXf`) or a `torch::Tensor`.
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

namespace cebm {

template <class A, std::size_t S>
struct param_pack {
  static constexpr std::size_t size = S;
  std::array<A, S> stats;

  A& operator[](std::size_t s) { return stats[s]; }
  const A& operator[](std::size_t s) const { return stats[s]; }
};

/// Builds a pack from S arrays: `make_pack(t1, t2)`.
template <class A, class... More>
param_pack<A, 1 + sizeof...(More)> make_pack(A first, More... more) {
  return param_pack<A, 1 + sizeof...(More)>{{{std::move(first), A(std::move(more))...}}};
}

/// Applies `f` to every statistic and packs the results (which may be of another array type).
template <class A, std::size_t S, class Fn>
auto transform(const param_pack<A, S>& p, Fn&& f) {
  param_pack<std::decay_t<decltype(f(p[0]))>, S> out;
  for (std::size_t s = 0; s < S; ++s) out[s] = f(p[s]);
  return out;
}

}  // namespace cebm
