#pragma once
/// @file
/// The exponential-family contract, checked at compile time.
///
/// A family is a stateless struct of static function templates over an array type `A`
/// (Eigen array or torch tensor). With S = `num_stats` and packs `param_pack<A, S>`:
///
/// | member                       | required | meaning                                              |
/// |------------------------------|----------|------------------------------------------------------|
/// | `num_stats`                  | yes      | S, sufficient statistics per latent coordinate        |
/// | `sufficient_stats(z)`        | yes      | η(z), a pack of S arrays                              |
/// | `log_normalizer(λ)`          | yes      | B(λ) per latent coordinate                            |
/// | `mean_params(λ)`             | yes      | ∇B(λ) = E[η(z)], a pack                               |
/// | `sample(λ, gen)`             | yes      | z ~ p(z | λ), from the generator `gen`               |
/// | `log_base_measure(z)`        | no       | log h(z); default 0                                   |
/// | `natural_from_mean(μ)`       | no       | (∇B)⁻¹(μ) = ∇B*(μ); enables the default conjugate dual |
/// | `conjugate_dual(μ)`          | no       | B*(μ); default ⟨λ(μ), μ⟩ − B(λ(μ))                    |
/// | `bregman_divergence(λ₁, λ₂)` | no       | D_B per coordinate, λ₁ and λ₂ of one shape; default   |
/// |                              |          | B(λ₁) − B(λ₂) − ⟨λ₁ − λ₂, ∇B(λ₂)⟩                     |
/// | `in_domain(λ)`               | no       | elementwise validity mask of natural parameters       |
/// | `name`                       | no       | `static constexpr const char* name`, used in errors   |
///
/// The density is p(z | λ) = h(z) exp(⟨λ, η(z)⟩ − B(λ)), per latent coordinate. Operations are
/// elementwise over the batch shape; a family whose coordinate is itself a vector (the
/// von Mises–Fisher direction) reduces over the last axis and returns a [..., 1] array. Sums over
/// latent coordinates belong to the generic code (`ops::sum_last`).
#include <cstddef>
#include <type_traits>
#include <utility>

#include "cebm/core/ops.hpp"
#include "cebm/core/param_pack.hpp"

namespace cebm {
namespace detail {

template <class F, class = void>
struct has_num_stats : std::false_type {};
template <class F>
struct has_num_stats<F, std::void_t<decltype(F::num_stats)>>
    : std::bool_constant<std::is_integral_v<std::decay_t<decltype(F::num_stats)>>> {};

template <class F, class A>
using pack_of = param_pack<A, static_cast<std::size_t>(F::num_stats)>;
template <class A>
using generator_of = typename ops::backend<A>::generator;

#define CEBM_DETECT_MEMBER(trait, expr)                                     \
  template <class F, class A, class = void>                                 \
  struct trait : std::false_type {};                                        \
  template <class F, class A>                                               \
  struct trait<F, A, std::void_t<decltype(expr)>> : std::true_type {}
CEBM_DETECT_MEMBER(has_sufficient_stats, F::sufficient_stats(std::declval<const A&>()));
CEBM_DETECT_MEMBER(has_log_normalizer, F::log_normalizer(std::declval<const pack_of<F, A>&>()));
CEBM_DETECT_MEMBER(has_mean_params, F::mean_params(std::declval<const pack_of<F, A>&>()));
CEBM_DETECT_MEMBER(has_sample,
                   F::sample(std::declval<const pack_of<F, A>&>(), std::declval<generator_of<A>&>()));
CEBM_DETECT_MEMBER(has_log_base_measure, F::log_base_measure(std::declval<const A&>()));
CEBM_DETECT_MEMBER(has_natural_from_mean, F::natural_from_mean(std::declval<const pack_of<F, A>&>()));
CEBM_DETECT_MEMBER(has_conjugate_dual, F::conjugate_dual(std::declval<const pack_of<F, A>&>()));
CEBM_DETECT_MEMBER(has_bregman_divergence, F::bregman_divergence(std::declval<const pack_of<F, A>&>(),
                                                                  std::declval<const pack_of<F, A>&>()));
CEBM_DETECT_MEMBER(has_in_domain, F::in_domain(std::declval<const pack_of<F, A>&>()));
#undef CEBM_DETECT_MEMBER

template <class F, class = void>
struct has_name : std::false_type {};
template <class F>
struct has_name<F, std::void_t<decltype(F::name)>> : std::true_type {};

/// Fails one static_assert naming the first missing member; returns whether F satisfies the
/// contract for arrays A. Used as `if constexpr (require_family<F, A>())` so that a bad family
/// produces this one message and nothing after it.
template <class F, class A>
constexpr bool require_family() {
  if constexpr (!has_num_stats<F>::value) {
    static_assert(has_num_stats<F>::value,
                  "cebm: the exponential family lacks `static constexpr std::size_t num_stats` "
                  "(see the contract in cebm/core/exponential_family.hpp)");
    return false;
  } else if constexpr (!has_sufficient_stats<F, A>::value) {
    static_assert(has_sufficient_stats<F, A>::value,
                  "cebm: the exponential family lacks `static param_pack<A, num_stats> sufficient_stats(const A& z)` "
                  "(see the contract in cebm/core/exponential_family.hpp)");
    return false;
  } else if constexpr (!has_log_normalizer<F, A>::value) {
    static_assert(has_log_normalizer<F, A>::value,
                  "cebm: the exponential family lacks `static A log_normalizer(const param_pack<A, num_stats>& lambda)` "
                  "(see the contract in cebm/core/exponential_family.hpp)");
    return false;
  } else if constexpr (!has_mean_params<F, A>::value) {
    static_assert(has_mean_params<F, A>::value,
                  "cebm: the exponential family lacks `static param_pack<A, num_stats> mean_params(const "
                  "param_pack<A, num_stats>& lambda)` (see the contract in cebm/core/exponential_family.hpp)");
    return false;
  } else if constexpr (!has_sample<F, A>::value) {
    static_assert(has_sample<F, A>::value,
                  "cebm: the exponential family lacks `template <class G> static A sample(const param_pack<A, "
                  "num_stats>& lambda, G& gen)` (see the contract in cebm/core/exponential_family.hpp)");
    return false;
  } else {
    return true;
  }
}

}  // namespace detail

/// C++17 detection trait: F satisfies the exponential-family contract for arrays A.
template <class F, class A>
struct is_exponential_family
    : std::bool_constant<detail::has_num_stats<F>::value && detail::has_sufficient_stats<F, A>::value &&
                         detail::has_log_normalizer<F, A>::value && detail::has_mean_params<F, A>::value &&
                         detail::has_sample<F, A>::value> {};
template <class F, class A>
inline constexpr bool is_exponential_family_v = is_exponential_family<F, A>::value;

#if defined(__cpp_concepts) && __cpp_concepts >= 201907L
/// C++20 concept for the same contract.
template <class F, class A>
concept exponential_family = is_exponential_family_v<F, A>;
#endif

/// The family's name for messages (`F::name` if it has one).
template <class F>
constexpr const char* family_name() {
  if constexpr (detail::has_name<F>::value) return F::name;
  else return "user family";
}

}  // namespace cebm
