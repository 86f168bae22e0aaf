#pragma once
/// @file
/// The CEBM paper's VAE and GMM-VAE baselines (Table 7; reference notes §4): a Gaussian encoder
/// q(z | x), a convolutional decoder whose outputs are the natural parameters (logits) of a
/// `bernoulli` likelihood per pixel on [0, 1] images, and a prior that is either N(0, I) (`Vae`)
/// or a learned uniform mixture of diagonal Gaussians (`GmmVae`, 50 components in the paper):
///
///   training      −ELBO = −log p(x | z) + KL(q ‖ p), one reparameterised draw (variational/elbo.hpp;
///                 KL in closed form for N(0, I), at the draw for the mixture)
///   representation the encoder mean μ(x)
///   energy(x)     −log p̂(x), importance sampling with S = 1000 draws from q (variational/
///                 importance_log_likelihood.hpp): the OOD score of the paper's Table 1
///   sample(n)     ancestral samples: z ~ p(z), then the Bernoulli means σ(decoder(z))
///   N(0, I) prior: q(z | x) = p_gaussian(z | λ + t(x)) with t(x) = λ_q(x) − λ (`bias()`,
///                 `statistics(x)`), so `evaluate` reports KL(q̂ ‖ p) and I(x; z) (Table 3)
///
/// `VaeImpl<PriorImpl>` takes any prior module with `family`, `vae_kind`, `log_density(z)`,
/// `sample(n, gen, options)` and optionally `kl(λ_q)`; its kind is the prior's `vae_kind`.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <torch/nn/module.h>

#include "cebm/core.hpp"
#include "cebm/torch/ops.hpp"
#include "cebm/core/arg.hpp"
#include "cebm/sampling/generator.hpp"
#include "cebm/torch/nn/conv_decoder.hpp"
#include "cebm/torch/nn/gaussian_encoder.hpp"
#include "cebm/torch/precision/precision_policy.hpp"
#include "cebm/torch/variational/elbo.hpp"
#include "cebm/torch/variational/importance_log_likelihood.hpp"
#include "cebm/torch/variational/mixture_prior.hpp"
#include "cebm/torch/variational/standard_normal_prior.hpp"

namespace cebm::models {

struct vae_options {
  CEBM_ARG(nn::gaussian_encoder_options, encoder) = nn::gaussian_encoder_options::vae_mnist();
  CEBM_ARG(nn::conv_decoder_options, decoder) = nn::conv_decoder_options::vae_mnist();
  CEBM_ARG(std::int64_t, components) = 50;  ///< mixture components of a GMM prior (paper: 50)
  /// The importance sampler of energy(x).
  CEBM_ARG(variational::importance_options, importance) = variational::importance_options{};
  CEBM_ARG(std::uint64_t, seed) = 0;  ///< seeds energy(x)'s draws on the CPU

 public:
  /// Table 7(a) with K latent dimensions (paper: 128; the published run commands: 50).
  static vae_options mnist(std::int64_t latent_dim = 128) {
    return vae_options{}
        .encoder(nn::gaussian_encoder_options::vae_mnist().latent_dim(latent_dim))
        .decoder(nn::conv_decoder_options::vae_mnist().latent_dim(latent_dim));
  }
  /// Table 7(b) (see conv_decoder.hpp for the decoder's repaired widths).
  static vae_options cifar(std::int64_t latent_dim = 128) {
    return vae_options{}
        .encoder(nn::gaussian_encoder_options::vae_cifar().latent_dim(latent_dim))
        .decoder(nn::conv_decoder_options::vae_cifar().latent_dim(latent_dim));
  }
};

namespace detail {
/// With the N(0, I) prior the posterior is the prior's family at λ + t(x), t(x) = λ_q(x) − λ: the
/// VAE then offers the conjugate view (`bias_family`, `bias()`, `statistics(x)`) under which
/// `evaluate` estimates KL(q̂ ‖ p) and I(x; z) as for a CEBM (the paper's Table 3 has the VAE).
/// A mixture prior is not the posterior's family, so the GMM-VAE has no such view.
template <class Self, class PriorImpl>
struct vae_conjugate_view {};
template <class Self>
struct vae_conjugate_view<Self, variational::StandardNormalPriorImpl> {
  using bias_family = gaussian;
  param_pack<at::Tensor, 2> bias() {
    auto& self = static_cast<Self&>(*this);
    return self.prior()->natural_params(self.parameters().front());
  }
  param_pack<at::Tensor, 2> statistics(const at::Tensor& x) {
    const auto q = static_cast<Self&>(*this).posterior(x);
    const auto l = bias();
    return {{{q[0] - l[0], q[1] - l[1]}}};
  }
};
}  // namespace detail

template <class PriorImpl>
class VaeImpl : public torch::nn::Cloneable<VaeImpl<PriorImpl>>,
                public detail::vae_conjugate_view<VaeImpl<PriorImpl>, PriorImpl> {
 public:
  using prior_type = PriorImpl;
  using posterior_family = gaussian;
  using likelihood_family = bernoulli;
  static constexpr const char* kind = PriorImpl::vae_kind;

  explicit VaeImpl(vae_options o = {}) : o_(std::move(o)) { reset(); }

  void reset() override {
    const std::int64_t k = o_.encoder().latent_dim();
    if (o_.decoder().latent_dim() != k)
      throw std::invalid_argument("cebm::models::Vae: the encoder has " + std::to_string(k) + " latent dimensions, the decoder " +
                                  std::to_string(o_.decoder().latent_dim()));
    encoder_ = this->register_module("encoder", nn::GaussianEncoder(o_.encoder()));
    decoder_ = this->register_module("decoder", nn::ConvDecoder(o_.decoder()));
    if constexpr (std::is_constructible_v<PriorImpl, std::int64_t, std::int64_t>)
      prior_ = this->register_module("prior", std::make_shared<PriorImpl>(k, o_.components()));
    else
      prior_ = this->register_module("prior", std::make_shared<PriorImpl>(k));
    energy_gen_ = at::detail::createCPUGenerator(o_.seed());
    device_energy_gen_ = at::Generator();
  }

  /// λ_q(x), the posterior's `gaussian` natural parameters, [B, K] each.
  param_pack<at::Tensor, 2> posterior(const at::Tensor& x) { return encoder_->posterior(x); }
  /// The likelihood's natural parameters (Bernoulli logits) at z, flattened: [B, C·H·W].
  param_pack<at::Tensor, 1> likelihood(const at::Tensor& z) { return {{{full_precision(decoder_->forward(z)).flatten(1)}}}; }
  /// The single-draw ELBO of x in [0, 1] and its two terms, [B] each.
  variational::elbo_terms elbo(const at::Tensor& x, at::Generator& gen) {
    return variational::elbo<bernoulli, gaussian>(
        x.flatten(1), posterior(x), [this](const at::Tensor& z) { return likelihood(z); }, *prior_, gen);
  }
  /// log p̂(x) by importance sampling, [B] (differentiable in x, see importance_log_likelihood.hpp).
  at::Tensor log_likelihood(const at::Tensor& x, const variational::importance_options& o, at::Generator& gen) {
    return variational::importance_log_likelihood<bernoulli, gaussian>(
        x, [this](const at::Tensor& v) { return posterior(v); }, [this](const at::Tensor& z) { return likelihood(z); },
        *prior_, o, gen);
  }
  /// −log p̂(x) with `options().importance()`; draws from the model's own generator of x's device,
  /// seeded by `options().seed()` (one for the CPU, one for the last other device used).
  at::Tensor energy(const at::Tensor& x) {
    if (x.device().is_cpu()) return -log_likelihood(x, o_.importance(), energy_gen_);
    if (!device_energy_gen_.defined() || device_energy_gen_.device() != x.device())
      device_energy_gen_ = make_generator(x.device(), o_.seed());
    return -log_likelihood(x, o_.importance(), device_energy_gen_);
  }
  /// The encoder mean μ(x), [B, K].
  at::Tensor representation(const at::Tensor& x) { return std::get<0>(encoder_->forward(x)); }
  /// n ancestral samples in [0, 1]: the Bernoulli means σ(decoder(z)), z ~ p(z).
  at::Tensor sample(std::int64_t n, at::Generator& gen) {
    const at::Tensor z = prior_->sample(n, gen, decoder_->parameters().front().options());
    return at::sigmoid(decoder_->forward(z));
  }

  std::shared_ptr<PriorImpl> prior() const { return prior_; }
  const vae_options& options() const { return o_; }

 private:
  vae_options o_;
  nn::GaussianEncoder encoder_{nullptr};
  nn::ConvDecoder decoder_{nullptr};
  std::shared_ptr<PriorImpl> prior_;
  at::Generator energy_gen_, device_energy_gen_;
};

/// N(0, I) prior.
class Vae : public torch::nn::ModuleHolder<VaeImpl<variational::StandardNormalPriorImpl>> {
 public:
  using torch::nn::ModuleHolder<VaeImpl<variational::StandardNormalPriorImpl>>::ModuleHolder;
};
/// Learned uniform mixture prior.
class GmmVae : public torch::nn::ModuleHolder<VaeImpl<variational::MixturePriorImpl>> {
 public:
  using torch::nn::ModuleHolder<VaeImpl<variational::MixturePriorImpl>>::ModuleHolder;
};

}  // namespace cebm::models
