#pragma once
/// @file
/// A finite mixture of one family F over a discrete component y ∈ {0, …, L−1}:
///
///   p(z) = Σ_l π_l p_F(z | λ_l),   π = softmax(log_weights)
///
/// It is the bias of GMM-CEBM (F = gaussian). The pair (y, z) is an exponential family, z alone is
/// not, so a mixture carries state (the component parameters) and has its own overloads of the
/// energies in `models/mixture_energy.hpp`. Component parameters are stored as one pack whose
/// statistics are [L, K] (L components of K latent coordinates); log_weights is a row of L
/// unnormalised log weights (torch [L], Eigen [1, L]). Learnable weights and components are tensors
/// with requires_grad; uniform weights are zeros.
#include <stdexcept>
#include <string>

#include "cebm/core/checks.hpp"
#include "cebm/core/exponential_family.hpp"

namespace cebm {

template <class F, class A>
struct mixture {
  using family = F;
  static constexpr std::size_t num_stats = F::num_stats;

  param_pack<A, F::num_stats> components;
  A log_weights;

  mixture(param_pack<A, F::num_stats> components_, A log_weights_)
      : components(std::move(components_)), log_weights(std::move(log_weights_)) {
    static_assert(is_exponential_family_v<F, A>, "cebm::mixture<F, A>: F must satisfy the exponential-family contract");
    detail::check_pack_shapes(components, "cebm::mixture", "the component parameters");
    const std::int64_t count = ops::rows(components[0]);
    if (ops::backend<A>::last_dim(log_weights) != count || (ops::rows(log_weights) != 1 && ops::rows(log_weights) != count))
      throw std::invalid_argument("cebm::mixture: log_weights has shape " + ops::shape_string(log_weights) +
                                  ", expected a row of " + std::to_string(count) + " weights (one per component)");
  }

  /// Equal weights 1/L.
  static mixture uniform(param_pack<A, F::num_stats> components_) {
    A w = ops::zeros_row(components_[0], ops::rows(components_[0]));
    return mixture(std::move(components_), std::move(w));
  }

  std::int64_t num_components() const { return ops::rows(components[0]); }

  /// λ_l, each statistic one row (Eigen [1, K], torch [K]).
  param_pack<A, F::num_stats> component(std::int64_t l) const {
    return transform(components, [&](const A& c) { return A(ops::row(c, l)); });
  }

  /// log π, normalised (a row of L).
  A log_mixing_weights() const { return ops::log_softmax_last(log_weights); }
};

}  // namespace cebm
