#pragma once
/// @file
/// The CLEL EBM loss (Lee et al., ICLR 2023, eq. (3) and Algorithm 1 line 8; authors'
/// `models/ebm.py`, reference notes §3.5):
///
///   L_EBM = mean e⁺ − mean e⁻ + α (mean e⁺² + mean e⁻²) − β mean cos(g⁺, sg(y⁺)),
///
/// with e± = ½‖f(x±)‖² the marginal energies of the data x⁺ and the SGLD samples x⁻, g⁺ = g(f(x⁺)),
/// and y⁺ = h(t(x⁺)) the encoder's latent for an augmented copy of the data. mean e⁺ − β mean cos
/// is the mean joint energy E(x⁺, y⁺) of eq. (3). The regulariser is on the *marginal* energies
/// (notes §6 item 6) and is the mean of squares (equal to the published mean(e⁺² + e⁻²) when both
/// batches have the same size). Published α = 1, β = 0.01. β is the joint energy's
/// (`models::clel_options::beta`, the one setting of it), passed by the caller.
///
/// y⁺ is detached inside (the published code computes it under no_grad): no gradient reaches the
/// encoder from this loss. f⁻ should come from detached samples; the loss differentiates through
/// f⁺, f⁻ and g⁺.
#include <cmath>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

#include "cebm/core/arg.hpp"
#include "cebm/torch/clel/energy.hpp"
#include "cebm/torch/losses/contrastive_divergence.hpp"

namespace cebm::clel {

struct ebm_loss_options {
  /// α, the factor of the L2 energy regulariser.
  CEBM_ARG(double, l2) = 1.0;
};

/// The loss and its parts, 0-dim tensors; `loss` carries the graph, the parts are detached.
struct ebm_loss_terms {
  at::Tensor loss;
  at::Tensor energy_pos;   ///< mean e(x⁺)
  at::Tensor energy_neg;   ///< mean e(x⁻)
  at::Tensor regularizer;  ///< mean e⁺² + mean e⁻² (before the factor α)
  at::Tensor alignment;    ///< mean cos(g⁺, y⁺)
};

/// L_EBM from f⁺ = f(x⁺) [B, d_f], f⁻ = f(x⁻) [B', d_f], g⁺ = g(f⁺) [B, d], y⁺ [B, d] and the
/// joint energy's β.
inline ebm_loss_terms ebm_loss(const at::Tensor& f_pos, const at::Tensor& f_neg, const at::Tensor& g_pos,
                               const at::Tensor& y_pos, double beta, const ebm_loss_options& o = {}) {
  constexpr const char* where = "cebm::clel::ebm_loss";
  detail::require_rows(f_pos, where, "f_pos");
  detail::require_rows(f_neg, where, "f_neg");
  detail::require_rows(g_pos, where, "g_pos");
  detail::require_rows(y_pos, where, "y_pos");
  if (f_neg.size(1) != f_pos.size(1))
    throw std::invalid_argument(std::string(where) + ": f_pos " + detail::shape_of(f_pos) + " and f_neg " +
                                detail::shape_of(f_neg) + " differ in feature dimension");
  detail::require_same_rows(f_pos, g_pos, where, "f_pos", "g_pos");
  if (y_pos.sizes() != g_pos.sizes())
    throw std::invalid_argument(std::string(where) + ": y_pos must have g_pos's shape " + detail::shape_of(g_pos) +
                                ", got " + detail::shape_of(y_pos));
  if (!(o.l2() >= 0) || !std::isfinite(o.l2()))
    throw std::invalid_argument(std::string(where) + ": l2 (alpha) must be finite and non-negative, got " +
                                std::to_string(o.l2()));
  detail::require_beta(beta, where);

  const cd_loss cd = contrastive_divergence(marginal_energy(f_pos), marginal_energy(f_neg),
                                            cd_options{}.l2(o.l2()).regularize(cd_regularizer::both));
  const at::Tensor alignment = detail::cosine(g_pos, y_pos.detach()).mean();
  return {cd.loss - beta * alignment, cd.energy_pos, cd.energy_neg, cd.regularizer, alignment.detach()};
}

}  // namespace cebm::clel
