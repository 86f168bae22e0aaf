#pragma once
/// @file
/// The evidence lower bound of a latent-variable model with an amortised posterior, from the
/// library's families (Kingma & Welling 2014):
///
///   z ~ q(z | x) = p_Q(z | λ_q(x))                 one reparameterised draw (Q::sample)
///   log p(x | z) = `log_density<L>(η(z), x)`        the likelihood family L at the decoder's output
///   KL(q ‖ p)    = prior.kl(λ_q)                    when the prior has a closed form (N(0, I))
///                = log q(z | x) − log p(z)          otherwise, at the same draw (GMM prior)
///   ELBO(x)      = log p(x | z) − KL(q ‖ p)         one value per image
///
/// With L = `bernoulli` and pixels in [0, 1] the likelihood is the published VAE's binary
/// cross-entropy on continuous pixels (not a normalised density over [0, 1]); with L = `gaussian`
/// and fixed variance it is the linear-Gaussian model the tests check against its closed form.
///
/// `Decoder` must be callable as `decode(z) -> param_pack<at::Tensor, L::num_stats>`, natural
/// parameters [B, D] of L per data coordinate. `Prior` must provide `log_density(z) -> [B]` and may
/// provide `kl(λ_q) -> [B]`. Q::sample must be differentiable in λ_q (the Gaussian's is).
#include <type_traits>
#include <utility>

#include <ATen/ATen.h>

#include "cebm/core.hpp"
#include "cebm/torch/ops.hpp"

namespace cebm::variational {

/// One value per image [B] of each term of the bound.
struct elbo_terms {
  at::Tensor elbo, log_likelihood, kl;
};

namespace detail {
template <class P, class Q, class = void>
struct has_closed_form_kl : std::false_type {};
template <class P, class Q>
struct has_closed_form_kl<P, Q, std::void_t<decltype(std::declval<const P&>().kl(std::declval<const Q&>()))>>
    : std::true_type {};
}  // namespace detail

/// The single-draw ELBO of x [B, D] (flattened data) under the posterior λ_q ([B, K] per statistic).
template <class L, class Q, class Decoder, class Prior>
elbo_terms elbo(const at::Tensor& x, const param_pack<at::Tensor, Q::num_stats>& posterior, Decoder&& decode,
                const Prior& prior, at::Generator& gen) {
  if (x.dim() != 2 || posterior[0].dim() != 2 || posterior[0].size(0) != x.size(0))
    throw std::invalid_argument("cebm::variational::elbo: expected data [B, D] and posterior parameters [B, K], got " +
                                std::string(c10::str(x.sizes())) + " and " + std::string(c10::str(posterior[0].sizes())));
  const at::Tensor z = Q::sample(posterior, gen);
  elbo_terms t;
  t.log_likelihood = log_density<L>(decode(z), x);
  if constexpr (detail::has_closed_form_kl<Prior, param_pack<at::Tensor, Q::num_stats>>::value)
    t.kl = prior.kl(posterior);
  else
    t.kl = log_density<Q>(posterior, z) - prior.log_density(z);
  t.elbo = t.log_likelihood - t.kl;
  return t;
}

}  // namespace cebm::variational
