#pragma once
/// @file
/// The contrastive-divergence loss of the EBM papers with the L2 energy regulariser:
///
///   L = mean E(x⁺) − mean E(x⁻) + c · R,
///   R = mean E(x⁺)² + mean E(x⁻)²     (`cd_regularizer::both`: CEBM, IGEBM, CLEL)
///   R = mean E(x⁺)²                   (`cd_regularizer::data_only`: the published GMM-CEBM)
///
/// Mean of squares, never the square of the mean (a transient bug of one reference version).
/// E(x⁻) should come from detached samples; the loss backpropagates into both energies' graphs.
/// Published c: 0.1 (CEBM), 0.1 or 5e-3 data-only (GMM-CEBM), 1 (CLEL).
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

#include "cebm/config.hpp"
#include "cebm/core/arg.hpp"

namespace cebm {

enum class cd_regularizer { both, data_only, none };

struct cd_options {
  CEBM_ARG(double, l2) = 0.1;
  CEBM_ARG(cd_regularizer, regularize) = cd_regularizer::both;
};

/// The loss and its parts, 0-dim tensors; `loss` carries the graph, the parts are detached.
struct cd_loss {
  at::Tensor loss;
  at::Tensor energy_pos;   ///< mean E(x⁺)
  at::Tensor energy_neg;   ///< mean E(x⁻)
  at::Tensor gap;          ///< mean E(x⁺) − mean E(x⁻)
  at::Tensor regularizer;  ///< R (before the factor c)
};

inline cd_loss contrastive_divergence(const at::Tensor& energy_pos, const at::Tensor& energy_neg,
                                      const cd_options& o = {}) {
  if (!energy_pos.defined() || !energy_neg.defined() || energy_pos.dim() != 1 || energy_neg.dim() != 1 ||
      energy_pos.numel() == 0 || energy_neg.numel() == 0)
    throw std::invalid_argument("cebm::contrastive_divergence: energies must be non-empty [B] tensors, got " +
                                (energy_pos.defined() ? std::string(c10::str(energy_pos.sizes())) : "undefined") + " and " +
                                (energy_neg.defined() ? std::string(c10::str(energy_neg.sizes())) : "undefined"));
  if (o.l2() < 0) throw std::invalid_argument("cebm::contrastive_divergence: l2 must be non-negative");
#if CEBM_ENABLE_CHECKS
  if (!at::isfinite(energy_pos).all().item<bool>() || !at::isfinite(energy_neg).all().item<bool>())
    throw std::domain_error(std::string("cebm::contrastive_divergence: non-finite energy for the ") +
                            (at::isfinite(energy_pos).all().item<bool>() ? "samples E(x-)" : "data E(x+)") +
                            " (a diverging EBM: lower the learning rate or raise the L2 coefficient)");
#endif
  const at::Tensor pos = energy_pos.mean(), neg = energy_neg.mean();
  at::Tensor reg;
  switch (o.regularize()) {
    case cd_regularizer::both: reg = energy_pos.pow(2).mean() + energy_neg.pow(2).mean(); break;
    case cd_regularizer::data_only: reg = energy_pos.pow(2).mean(); break;
    case cd_regularizer::none: reg = at::zeros({}, energy_pos.options()); break;
  }
  const at::Tensor gap = pos - neg;
  return {gap + o.l2() * reg, pos.detach(), neg.detach(), gap.detach(), reg.detach()};
}

}  // namespace cebm
