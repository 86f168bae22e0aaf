#pragma once
/// @file
/// Boundary checks shared by the generic algorithms. Shape checks always run; value checks (which
/// read values and so synchronise a GPU) run when CEBM_ENABLE_CHECKS is 1.
#include <stdexcept>
#include <string>

#include "cebm/config.hpp"
#include "cebm/core/exponential_family.hpp"

namespace cebm::detail {

/// Every statistic of a pack must have the same shape.
template <class A, std::size_t S>
void check_pack_shapes(const param_pack<A, S>& p, const char* where, const char* what) {
  for (std::size_t s = 1; s < S; ++s)
    if (!ops::same_shape(p[0], p[s]))
      throw std::invalid_argument(std::string(where) + ": the statistics of " + what + " differ in shape: " +
                                  ops::shape_string(p[0]) + " for statistic 0 and " + ops::shape_string(p[s]) +
                                  " for statistic " + std::to_string(s));
}

/// Natural parameters must be finite and, where the family says so, inside its domain.
template <class F, class A, std::size_t S>
void check_natural_params(const param_pack<A, S>& lambda, const char* where) {
  check_pack_shapes(lambda, where, "the natural parameters");
#if CEBM_ENABLE_CHECKS
  for (std::size_t s = 0; s < S; ++s)
    if (!ops::all_finite(lambda[s]))
      throw std::domain_error(std::string(where) + ": natural parameter " + std::to_string(s) + " of the " +
                              family_name<F>() + " family is not finite: " +
                              ops::first_violation(ops::abs(lambda[s]) < ops::scalar_t<A>(INFINITY), lambda[s]));
  if constexpr (has_in_domain<F, A>::value) {
    const auto mask = F::in_domain(lambda);
    if (!ops::all(mask)) {
      std::string values;
      for (std::size_t s = 0; s < S; ++s)
        values += (s ? ", " : "") + std::string("statistic ") + std::to_string(s) + " = " +
                  ops::first_violation(mask, lambda[s]);
      throw std::domain_error(std::string(where) + ": natural parameters outside the domain of the " +
                              family_name<F>() + " family (" + values + ")");
    }
  }
#endif
}

/// An energy (or any computed array) must be finite.
template <class A>
void check_finite(const A& a, const char* where, const char* what) {
#if CEBM_ENABLE_CHECKS
  if (!ops::all_finite(a))
    throw std::domain_error(std::string(where) + ": " + what + " is not finite: " +
                            ops::first_violation(ops::abs(a) < ops::scalar_t<A>(INFINITY), a));
#else
  (void)a, (void)where, (void)what;
#endif
}

}  // namespace cebm::detail
