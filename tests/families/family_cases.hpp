#pragma once
// Valid (and invalid) natural parameters for every bundled family, shared by the Eigen and torch
// tests. Rows are batch entries, columns latent coordinates; values come from a fixed seed.
#include <cmath>
#include <cstdint>
#include <iterator>
#include <optional>
#include <random>

#include "cebm/core.hpp"

namespace cebm_test {

using array = Eigen::ArrayXXd;

inline array uniform(std::int64_t rows, std::int64_t cols, double lo, double hi, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  array a(rows, cols);
  for (Eigen::Index j = 0; j < a.cols(); ++j)
    for (Eigen::Index i = 0; i < a.rows(); ++i) a(i, j) = d(gen);
  return a;
}

template <class F>
struct family_case;

/// A case from a table of ranges: statistic s of λ uniform in [lo[s], hi[s]) (stream seed + 7s),
/// and the constant bad[s] as the invalid parameter.
template <class Table>
struct ranged_case {
  static constexpr std::int64_t cols = Table::cols;
  static constexpr std::size_t S = std::size(Table::lo);
  static cebm::param_pack<array, S> lambda(std::int64_t rows, std::uint64_t seed) {
    cebm::param_pack<array, S> p;
    for (std::size_t s = 0; s < S; ++s) p[s] = uniform(rows, cols, Table::lo[s], Table::hi[s], seed + 7 * s);
    return p;
  }
  static std::optional<cebm::param_pack<array, S>> invalid() {
    cebm::param_pack<array, S> p;
    for (std::size_t s = 0; s < S; ++s) p[s] = array::Constant(1, cols, Table::bad[s]);
    return p;
  }
};

struct gaussian_table {  // λ₂ < 0; λ₂ = 0.25 is outside the domain
  static constexpr std::int64_t cols = 4;
  static constexpr double lo[] = {-2, -2}, hi[] = {2, -0.1}, bad[] = {0, 0.25};
};
struct bernoulli_table {  // logits on all of R
  static constexpr std::int64_t cols = 4;
  static constexpr double lo[] = {-3}, hi[] = {3}, bad[] = {NAN};
};
struct poisson_table {  // log-rates on all of R
  static constexpr std::int64_t cols = 4;
  static constexpr double lo[] = {-1}, hi[] = {2}, bad[] = {INFINITY};
};
struct gamma_table {  // λ₁ > −1, λ₂ < 0
  static constexpr std::int64_t cols = 4;
  static constexpr double lo[] = {-0.5, -3}, hi[] = {3, -0.3}, bad[] = {-1.5, -1.0};
};
struct von_mises_fisher_table {  // κμ on all of R^5
  static constexpr std::int64_t cols = 5;
  static constexpr double lo[] = {-3}, hi[] = {3}, bad[] = {NAN};
};

template <>
struct family_case<cebm::gaussian> : ranged_case<gaussian_table> {};
template <>
struct family_case<cebm::bernoulli> : ranged_case<bernoulli_table> {};
template <>
struct family_case<cebm::poisson> : ranged_case<poisson_table> {};
template <>
struct family_case<cebm::gamma> : ranged_case<gamma_table> {};
template <>
struct family_case<cebm::von_mises_fisher> : ranged_case<von_mises_fisher_table> {};
template <>
struct family_case<cebm::categorical<4>> {
  static constexpr std::int64_t cols = 3;
  static cebm::param_pack<array, 3> lambda(std::int64_t rows, std::uint64_t seed) {
    return cebm::make_pack(uniform(rows, cols, -2, 2, seed), uniform(rows, cols, -2, 2, seed + 7),
                           uniform(rows, cols, -2, 2, seed + 13));
  }
  static std::optional<cebm::param_pack<array, 3>> invalid() {
    const array nan = array::Constant(1, cols, std::nan(""));
    return cebm::make_pack(nan, nan, nan);
  }
};

}  // namespace cebm_test
