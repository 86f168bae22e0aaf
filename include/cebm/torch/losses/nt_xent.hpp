#pragma once
/// @file
/// `nt_xent(views, extra_negatives, τ)`: the SimCLR NT-Xent loss with extra negatives, CLEL's
/// encoder loss L_LE (Lee et al., "Guiding Energy-based Models via Contrastive Latent Variables",
/// ICLR 2023, eq. (2) and (4); Chen et al., SimCLR, ICML 2020).
///
/// Rows i and i + n of `views` [2n, D] are the two augmented views of sample i; `extra_negatives`
/// [m, D] are further negatives for every row (in CLEL the EBM's projections g(f(x̃)) of the n
/// SGLD samples, m = n). With u the L2-normalised views and k the L2-normalised negatives,
///
///   logits = [u uᵀ, u kᵀ] / τ   ∈ ℝ^{2n × (2n + m)},   logits_ii = −∞ (a view is not its own negative),
///   L = −(1/2n) Σ_r log softmax(logits_r)_{t(r)},   t(i) = i + n, t(i + n) = i,
///
/// i.e. each view's positive is its partner and its negatives are the other 2n − 2 views and all m
/// extra rows. τ = 0.2 is the authors' value (missing from the paper; reference notes §3.5).
///
/// Gradients: the loss differentiates through `views`; `extra_negatives` are detached inside,
/// because CLEL treats them as constants (Algorithm 1, line 6: z̃ = sg(g(f(x̃)))) and a gradient
/// into them would couple the encoder loss to the EBM (reference notes §6 item 4). Pass both views
/// through the encoder as one batch so batch normalisation sees all 2n rows (notes §6 item 12).
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

#include "cebm/torch/clel/detail/rows.hpp"

namespace cebm::clel {

/// Mean NT-Xent over the 2n rows of `views` [2n, D], with `extra_negatives` [m, D] (m ≥ 0; an
/// empty [0, D] or an undefined tensor means none) as constants; a 0-dim tensor.
inline at::Tensor nt_xent(const at::Tensor& views, const at::Tensor& extra_negatives, double temperature = 0.2) {
  constexpr const char* where = "cebm::clel::nt_xent";
  detail::require_rows(views, where, "views");
  if (views.size(0) % 2 != 0)
    throw std::invalid_argument(std::string(where) + ": views must hold two views per sample, rows i and i + n, "
                                "so an even number of rows; got " + detail::shape_of(views));
  if (!(temperature > 0) || !std::isfinite(temperature))
    throw std::invalid_argument(std::string(where) + ": temperature must be positive and finite, got " +
                                std::to_string(temperature));
  const bool has_negatives = extra_negatives.defined() && extra_negatives.numel() > 0;
  if (extra_negatives.defined()) {
    if (extra_negatives.dim() != 2 || extra_negatives.size(1) != views.size(1))
      throw std::invalid_argument(std::string(where) + ": extra_negatives must be [m, " + std::to_string(views.size(1)) +
                                  "] like the views " + detail::shape_of(views) + ", got " +
                                  detail::shape_of(extra_negatives));
    if (has_negatives && extra_negatives.scalar_type() != views.scalar_type())
      throw std::invalid_argument(std::string(where) + ": extra_negatives are " +
                                  std::string(c10::toString(extra_negatives.scalar_type())) + " but the views are " +
                                  std::string(c10::toString(views.scalar_type())));
  }

  const std::int64_t two_n = views.size(0), n = two_n / 2;
  const at::Tensor u = detail::unit_rows(views);
  at::Tensor logits = at::matmul(u, u.t());
  if (has_negatives) logits = at::cat({logits, at::matmul(u, detail::unit_rows(extra_negatives.detach()).t())}, 1);
  logits = logits / temperature;
  // −∞ on the self-similarities; masked_fill's backward sends no gradient there.
  const at::Tensor self = at::eye(two_n, logits.size(1), views.options().dtype(at::kBool));
  logits = logits.masked_fill(self, -std::numeric_limits<double>::infinity());
  const at::Tensor target = at::arange(two_n, views.options().dtype(at::kLong)).add(n).remainder(two_n);
  return -at::log_softmax(logits, 1).gather(1, target.unsqueeze(1)).mean();
}

}  // namespace cebm::clel
