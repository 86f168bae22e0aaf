#pragma once
/// @file
/// The CEBM paper's BIGAN baseline (Donahue et al. 2017; Table 8; reference notes §4): a
/// generator G(z) (tanh output in [−1, 1]), a Gaussian encoder E(x) and a discriminator D(x, z)
/// on the joint space. Training is `train::bigan_trainer`'s.
///
///   representation  the encoder mean μ(x)
///   sample(n)       G(z), z ~ N(0, I)
///   ood_score(x)    −D(x, μ(x)), the discriminator's logit negated (lower = judged more like the
///                   training pairs), a reading of the discriminator as an anomaly score (Zenati et
///                   al. 2018 use its features); the paper reports no BIGAN OOD numbers.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include "cebm/core.hpp"
#include "cebm/torch/ops.hpp"
#include "cebm/core/arg.hpp"
#include "cebm/torch/nn/conv_decoder.hpp"
#include "cebm/torch/nn/gaussian_encoder.hpp"
#include "cebm/torch/nn/joint_discriminator.hpp"

namespace cebm::models {

struct bigan_options {
  CEBM_ARG(nn::gaussian_encoder_options, encoder) = nn::gaussian_encoder_options::bigan_mnist();
  CEBM_ARG(nn::conv_decoder_options, generator) = nn::conv_decoder_options::bigan_mnist();
  CEBM_ARG(nn::joint_discriminator_options, discriminator) = nn::joint_discriminator_options::mnist();

 public:
  static bigan_options mnist(std::int64_t latent_dim = 128) {
    return bigan_options{}
        .encoder(nn::gaussian_encoder_options::bigan_mnist().latent_dim(latent_dim))
        .generator(nn::conv_decoder_options::bigan_mnist().latent_dim(latent_dim))
        .discriminator(nn::joint_discriminator_options::mnist().latent_dim(latent_dim));
  }
  static bigan_options cifar(std::int64_t latent_dim = 128) {
    return bigan_options{}
        .encoder(nn::gaussian_encoder_options::bigan_cifar().latent_dim(latent_dim))
        .generator(nn::conv_decoder_options::bigan_cifar().latent_dim(latent_dim))
        .discriminator(nn::joint_discriminator_options::cifar().latent_dim(latent_dim));
  }
};

class BiganImpl : public torch::nn::Cloneable<BiganImpl> {
 public:
  static constexpr const char* kind = "bigan";
  explicit BiganImpl(bigan_options o = {}) : o_(std::move(o)) { reset(); }

  void reset() override {
    const std::int64_t k = o_.encoder().latent_dim();
    if (o_.generator().latent_dim() != k || o_.discriminator().latent_dim() != k)
      throw std::invalid_argument("cebm::models::Bigan: encoder, generator and discriminator latent_dim differ (" +
                                  std::to_string(k) + ", " + std::to_string(o_.generator().latent_dim()) + ", " +
                                  std::to_string(o_.discriminator().latent_dim()) + ")");
    encoder_ = register_module("encoder", nn::GaussianEncoder(o_.encoder()));
    generator_ = register_module("generator", nn::ConvDecoder(o_.generator()));
    discriminator_ = register_module("discriminator", nn::JointDiscriminator(o_.discriminator()));
  }

  std::int64_t latent_dim() const { return o_.encoder().latent_dim(); }
  /// E(x): a reparameterised draw from N(μ(x), σ(x)²), [B, K].
  at::Tensor encode(const at::Tensor& x, at::Generator& gen) { return gaussian::sample(encoder_->posterior(x), gen); }
  /// G(z) in [−1, 1], [B, C, H, W].
  at::Tensor generate(const at::Tensor& z) { return at::tanh(generator_->forward(z)); }
  /// The discriminator's logit for (x, z), [B].
  at::Tensor discriminate(const at::Tensor& x, const at::Tensor& z) { return discriminator_->forward(x, z); }
  at::Tensor representation(const at::Tensor& x) { return std::get<0>(encoder_->forward(x)); }
  at::Tensor sample(std::int64_t n, at::Generator& gen) {
    return generate(at::normal(0.0, 1.0, {n, latent_dim()}, gen, generator_->parameters().front().options()));
  }
  at::Tensor ood_score(const at::Tensor& x) { return -discriminate(x, representation(x)); }

  nn::GaussianEncoder& encoder() { return encoder_; }
  nn::ConvDecoder& generator() { return generator_; }
  nn::JointDiscriminator& discriminator() { return discriminator_; }
  const bigan_options& options() const { return o_; }

 private:
  bigan_options o_;
  nn::GaussianEncoder encoder_{nullptr};
  nn::ConvDecoder generator_{nullptr};
  nn::JointDiscriminator discriminator_{nullptr};
};
TORCH_MODULE(Bigan);

}  // namespace cebm::models
