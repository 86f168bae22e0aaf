#pragma once
/// @file
/// log p(x) of a latent-variable model by importance sampling from its posterior (Burda et al.
/// 2016; the CEBM paper's VAE OOD score, S = 1000, reference notes §2):
///
///   z_s ~ q(z | x),  log w_s = log p(x | z_s) + log p(z_s) − log q(z_s | x),  s = 1..S
///   log p̂(x) = logsumexp_s log w_s − log S                    (a lower bound in expectation,
///                                                              → log p(x) as S grows)
///
/// The S draws are taken a few per image at a time (about `rows` decoder rows per pass) with a
/// running logsumexp, so memory does not grow with S. When x requires a gradient (under grad mode) the result
/// carries the exact input gradient of the estimate for the drawn ε, computed chunk by chunk:
///
///   ∇ₓ log p̂(x) = Σ_s w̃_s ∇ₓ log w_s,   w̃ = softmax_s(log w)    (ε_s fixed, z_s = z(x, ε_s))
///
/// and attached as `value + ⟨x − x̄, g⟩` (x̄ = x detached): autograd gives ∇ₓ, no gradient reaches
/// the parameters (this is an evaluation score, not a training objective).
///
/// `Encoder`: `encode(x) -> param_pack<at::Tensor, Q::num_stats>` ([B, K] each); `Decoder` and
/// `Prior` as for `elbo` (elbo.hpp). x is [B, ...]; the likelihood sees it flattened to [B, D].
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>

#include "cebm/core.hpp"
#include "cebm/torch/ops.hpp"
#include "cebm/core/arg.hpp"

namespace cebm::variational {

struct importance_options {
  CEBM_ARG(std::int64_t, samples) = 1000;  ///< S
  /// Decoder rows per pass: ⌊rows / B⌋ draws of each of the B images at a time (at least one).
  CEBM_ARG(std::int64_t, rows) = 2048;
};

template <class L, class Q, class Encoder, class Decoder, class Prior>
at::Tensor importance_log_likelihood(const at::Tensor& x, Encoder&& encode, Decoder&& decode, const Prior& prior,
                                     const importance_options& o, at::Generator& gen) {
  if (o.samples() < 1 || o.rows() < 1)
    throw std::invalid_argument("cebm::variational::importance_log_likelihood: samples and rows must be >= 1, got " +
                                std::to_string(o.samples()) + " and " + std::to_string(o.rows()));
  if (x.dim() < 2 || x.size(0) == 0)
    throw std::invalid_argument("cebm::variational::importance_log_likelihood: expected a batch [B, ...], got " +
                                std::string(c10::str(x.sizes())));
  const bool with_grad = c10::GradMode::is_enabled() && x.requires_grad();
  const std::int64_t b = x.size(0);
  const at::Tensor leaf = x.detach().requires_grad_(with_grad);
  std::vector<std::int64_t> per_image(static_cast<std::size_t>(x.dim()), 1);  // [B, 1, ...]: broadcasts over x
  per_image[0] = b;
  at::Tensor running_max, running_sum, running_grad;  // [B], [B], x's shape
  const std::int64_t per_pass = std::max<std::int64_t>(1, o.rows() / b);
  for (std::int64_t done = 0; done < o.samples(); done += per_pass) {
    const std::int64_t c = std::min(per_pass, o.samples() - done);
    c10::AutoGradMode mode(with_grad);
    const auto q = encode(leaf);
    // Row s·B + i is draw s of image i.
    const auto qc = transform(q, [&](const at::Tensor& t) { return t.repeat({c, 1}); });
    const at::Tensor z = Q::sample(qc, gen);
    const at::Tensor xc = leaf.flatten(1).repeat({c, 1});
    const at::Tensor log_w =
        (log_density<L>(decode(z), xc) + prior.log_density(z) - log_density<Q>(qc, z)).view({c, b});
    const at::Tensor chunk_max = std::get<0>(log_w.detach().max(0));
    const at::Tensor new_max = running_max.defined() ? at::maximum(running_max, chunk_max) : chunk_max;
    const at::Tensor weights = (log_w.detach() - new_max).exp();  // [c, B]
    const at::Tensor rescale = running_max.defined() ? (running_max - new_max).exp() : at::Tensor();
    running_sum = rescale.defined() ? running_sum * rescale + weights.sum(0) : weights.sum(0);
    if (with_grad) {
      const at::Tensor g = torch::autograd::grad({(weights * log_w).sum()}, {leaf})[0];
      running_grad = rescale.defined() ? running_grad * rescale.view(per_image) + g : g;
    }
    running_max = new_max;
  }
  const at::Tensor value = running_max + running_sum.log() - std::log(static_cast<double>(o.samples()));
  if (!with_grad) return value;
  const at::Tensor grad = running_grad / running_sum.view(per_image);
  return value + ((x - x.detach()) * grad).flatten(1).sum(1);
}

}  // namespace cebm::variational
