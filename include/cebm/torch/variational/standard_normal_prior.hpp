#pragma once
/// @file
/// The VAE prior p(z) = N(0, I) over K latent coordinates, as the diagonal-Gaussian member of the
/// library's `gaussian` family with natural parameters λ = (0, −½) per coordinate (B(λ) = 0):
///
///   log p(z)   = `log_density<gaussian>(λ, z)`
///   KL(q ‖ p)  = `kl<gaussian>(λ_q, λ)` = D_B(λ, λ_q), in closed form (the ELBO uses it when a
///                prior provides `kl(q)`; see elbo.hpp)
///
/// A module without parameters, so `Vae` and `GmmVae` hold their priors the same way.
#include <cstdint>

#include <ATen/ATen.h>
#include <torch/nn/cloneable.h>

#include "cebm/core.hpp"
#include "cebm/torch/ops.hpp"
#include "cebm/torch/detail/shape_checks.hpp"

namespace cebm::variational {

class StandardNormalPriorImpl : public torch::nn::Cloneable<StandardNormalPriorImpl> {
 public:
  using family = gaussian;
  /// The model kind of a VAE with this prior (checkpoints, `evaluate`).
  static constexpr const char* vae_kind = "vae";

  explicit StandardNormalPriorImpl(std::int64_t latent_dim = 128) : latent_dim_(latent_dim) { reset(); }
  void reset() override {
    cebm::detail::require_positive("cebm::variational::StandardNormalPrior", {{"latent_dim", latent_dim_}});
  }

  std::int64_t latent_dim() const { return latent_dim_; }

  /// λ = (0, −½), one row [K] per statistic, with `like`'s dtype and device.
  param_pack<at::Tensor, 2> natural_params(const at::Tensor& like) const {
    const at::Tensor zero = at::zeros({latent_dim_}, like.options());
    return {{{zero, zero - 0.5}}};
  }
  /// log p(z) for z [N, K]: [N].
  at::Tensor log_density(const at::Tensor& z) const {
    cebm::detail::require_last_dim("cebm::variational::StandardNormalPrior::log_density", z, latent_dim_, "z", 2);
    return cebm::log_density<gaussian>(natural_params(z), z);
  }
  /// KL(q ‖ p) for a diagonal-Gaussian posterior with natural parameters q ([B, K] each): [B].
  at::Tensor kl(const param_pack<at::Tensor, 2>& q) const { return cebm::kl<gaussian>(q, natural_params(q[0])); }
  /// n draws z ~ p(z): [n, K].
  at::Tensor sample(std::int64_t n, at::Generator& gen, const at::TensorOptions& options = {}) const {
    return at::normal(0.0, 1.0, {n, latent_dim_}, gen, options);
  }

 private:
  std::int64_t latent_dim_;
};
TORCH_MODULE(StandardNormalPrior);

}  // namespace cebm::variational
