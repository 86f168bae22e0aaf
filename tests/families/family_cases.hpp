#pragma once
// Valid (and invalid) natural parameters for every bundled family, shared by the Eigen and torch
// tests. Rows are batch entries, columns latent coordinates; values come from a fixed seed.
#include <cstdint>
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

template <>
struct family_case<cebm::gaussian> {
  static constexpr std::int64_t cols = 4;
  static cebm::param_pack<array, 2> lambda(std::int64_t rows, std::uint64_t seed) {
    return cebm::make_pack(uniform(rows, cols, -2, 2, seed), uniform(rows, cols, -2, -0.1, seed + 7));
  }
  static std::optional<cebm::param_pack<array, 2>> invalid() {
    return cebm::make_pack(array(array::Zero(1, cols)), array(array::Constant(1, cols, 0.25)));
  }
};
template <>
struct family_case<cebm::bernoulli> {
  static constexpr std::int64_t cols = 4;
  static cebm::param_pack<array, 1> lambda(std::int64_t rows, std::uint64_t seed) {
    return cebm::make_pack(uniform(rows, cols, -3, 3, seed));
  }
  static std::optional<cebm::param_pack<array, 1>> invalid() {
    return cebm::make_pack(array(array::Constant(1, cols, std::nan(""))));
  }
};
template <>
struct family_case<cebm::poisson> {
  static constexpr std::int64_t cols = 4;
  static cebm::param_pack<array, 1> lambda(std::int64_t rows, std::uint64_t seed) {
    return cebm::make_pack(uniform(rows, cols, -1, 2, seed));
  }
  static std::optional<cebm::param_pack<array, 1>> invalid() {
    return cebm::make_pack(array(array::Constant(1, cols, INFINITY)));
  }
};
template <>
struct family_case<cebm::gamma> {
  static constexpr std::int64_t cols = 4;
  static cebm::param_pack<array, 2> lambda(std::int64_t rows, std::uint64_t seed) {
    return cebm::make_pack(uniform(rows, cols, -0.5, 3, seed), uniform(rows, cols, -3, -0.3, seed + 7));
  }
  static std::optional<cebm::param_pack<array, 2>> invalid() {
    return cebm::make_pack(array(array::Constant(1, cols, -1.5)), array(array::Constant(1, cols, -1.0)));
  }
};
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
template <>
struct family_case<cebm::von_mises_fisher> {
  static constexpr std::int64_t cols = 5;
  static cebm::param_pack<array, 1> lambda(std::int64_t rows, std::uint64_t seed) {
    return cebm::make_pack(uniform(rows, cols, -3, 3, seed));
  }
  static std::optional<cebm::param_pack<array, 1>> invalid() {
    return cebm::make_pack(array(array::Constant(1, cols, std::nan(""))));
  }
};

}  // namespace cebm_test
