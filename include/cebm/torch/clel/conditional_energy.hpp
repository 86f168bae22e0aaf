#pragma once
/// @file
/// Conditional and compositional CLEL energies for sampling (Lee et al., ICLR 2023, App. D and E):
///
///   E(x | z̄₁, …, z̄_J) = ½‖f(x)‖² − Σ_j β_j cos(g(f(x)), z̄_j),
///
/// a callable x ↦ [B] for `cebm::langevin`. One condition is the latent-conditional energy
/// E(x | z̄) = E(x, z̄) of p(x | z̄) ∝ exp(−E(x, z̄)); several are the product of experts
/// p(x | c₁ and c₂ …) ∝ exp(−Σ_j E(x | c_j)) up to the repeated ½‖f‖² (paper eq. (6), whose
/// "½‖f‖" is a typo for ½‖f‖², reference notes §3.8). No condition gives the marginal e(x).
///
/// Directions, from the latent encoder h (any scale: cos normalises):
///   instance-conditional  z̄ = h(x_ref)/‖h(x_ref)‖          `unit_directions(h(x_ref))`
///   class / attribute     z̄ = Σ_i ẑ_i / ‖Σ_i ẑ_i‖, ẑ_i = h(x_i)/‖h(x_i)‖ over the set's instances
///                                                           `mean_direction(h(x_set))`
/// App. D draws z_i ~ p_data(z | x_i), i.e. h of augmented instances; pass those rows to get that.
///
/// A direction is [d] (shared by all chains) or [B, d] (one per chain). The paper trains with
/// β = 0.01; conditional sampling usually needs a larger β_j for the condition to be visible.
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

#include "cebm/torch/clel/detail/rows.hpp"
#include "cebm/torch/precision/precision_policy.hpp"

namespace cebm::clel {

/// One condition of a conditional energy: the latent direction z̄ and its weight β.
struct condition {
  at::Tensor direction;  ///< z̄, [d] or [B, d]; normalised inside
  double beta = 0.01;    ///< β ≥ 0
};

/// ẑ_i = h_i/‖h_i‖ for the rows of h [n, d]: the instance-conditional directions.
inline at::Tensor unit_directions(const at::Tensor& h) {
  detail::require_rows(h, "cebm::clel::unit_directions", "h");
  return detail::unit_rows(h);
}

/// z̄ = Σ_i ẑ_i / ‖Σ_i ẑ_i‖ over the rows of h [n, d]: the direction a set of instances shares, [d].
inline at::Tensor mean_direction(const at::Tensor& h) {
  detail::require_rows(h, "cebm::clel::mean_direction", "h");
  return detail::unit_rows(detail::unit_rows(h).sum(0));
}

/// x ↦ ½‖f_net(x)‖² − Σ_j β_j cos(g_net(f_net(x)), z̄_j), one energy per row of x. `f_net` maps a
/// batch x [B, …] to f [B, d_f], `g_net` maps f to [B, d] (modules, module holders or lambdas; they
/// are copied into the callable, which holders share). The directions are checked against g's
/// output at every call.
template <class FNet, class GNet>
auto conditional_energy(FNet&& f_net, GNet&& g_net, std::vector<condition> conditions) {
  constexpr const char* where = "cebm::clel::conditional_energy";
  for (std::size_t j = 0; j < conditions.size(); ++j) {
    const condition& c = conditions[j];
    if (!c.direction.defined() || !at::isFloatingType(c.direction.scalar_type()) ||
        (c.direction.dim() != 1 && c.direction.dim() != 2) || c.direction.numel() == 0)
      throw std::invalid_argument(std::string(where) + ": the direction of condition " + std::to_string(j) +
                                  " must be a floating-point [d] or [B, d] tensor, got " +
                                  detail::shape_of(c.direction));
    if (!(c.beta >= 0) || !std::isfinite(c.beta))
      throw std::invalid_argument(std::string(where) + ": the beta of condition " + std::to_string(j) +
                                  " must be finite and non-negative, got " + std::to_string(c.beta));
  }
  return [f = std::forward<FNet>(f_net), g = std::forward<GNet>(g_net),
          conditions = std::move(conditions)](const at::Tensor& x) mutable -> at::Tensor {
    const at::Tensor fx = full_precision(f(x));  // the energy's maths in fp32 whatever f computes in
    detail::require_rows(fx, "cebm::clel::conditional_energy", "f(x)");
    at::Tensor energy = 0.5 * fx.pow(2).sum(1);
    if (conditions.empty()) return energy;
    const at::Tensor gx = full_precision(g(fx));
    detail::require_rows(gx, "cebm::clel::conditional_energy", "g(f(x))");
    detail::require_same_rows(fx, gx, "cebm::clel::conditional_energy", "f(x)", "g(f(x))");
    for (std::size_t j = 0; j < conditions.size(); ++j) {
      const std::string what = "the direction of condition " + std::to_string(j);
      detail::require_direction(conditions[j].direction, gx, "cebm::clel::conditional_energy", what.c_str());
      energy = energy - conditions[j].beta * detail::cosine(gx, conditions[j].direction);
    }
    return energy;
  };
}

}  // namespace cebm::clel
