#pragma once
/// @file
/// The CLEL out-of-distribution score (authors' `test_ood.py`, reference notes §3.7):
///
///   s(x) = ½‖f(x)‖² − β_test cos(g(f(x)), h(x)),
///
/// the joint energy at the encoder's own latent z = h(x)/‖h(x)‖ (energy.hpp). Higher s = less
/// likely; in-distribution data should score *low*, so the detection score (labelled 1 for
/// in-distribution, as for AUROC) is −s(x) (notes §6 item 1). The published evaluation uses the EMA
/// networks in eval mode, no augmentation for h, and β_test = 0.1 — a knob separate from the
/// training β = 0.01.
#include <ATen/ATen.h>

#include "cebm/torch/clel/energy.hpp"

namespace cebm::clel {

/// s(x), [B], from f [B, d_f], g = g(f) [B, d] and the encoder output h [B, d] (any scale).
inline at::Tensor ood_score(const at::Tensor& f, const at::Tensor& g, const at::Tensor& h, double beta_test = 0.1) {
  constexpr const char* where = "cebm::clel::ood_score";
  detail::require_rows(f, where, "f");
  detail::require_rows(g, where, "g");
  detail::require_rows(h, where, "h");
  detail::require_same_rows(f, g, where, "f", "g");
  detail::require_direction(h, g, where, "h");
  detail::require_beta(beta_test, where);
  return joint_energy(f, g, h, beta_test);
}

}  // namespace cebm::clel
