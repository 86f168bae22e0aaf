#pragma once
/// @file
/// The GMM-VAE prior (Tomczak & Welling 2018 as the CEBM paper's baseline, reference notes §4): a
/// uniform mixture of L diagonal Gaussians whose means and log-stds are learned with the VAE,
///
///   p(z) = (1/L) Σ_l N(z; μ_l, diag σ_l²),   λ_l = `gaussian::natural_from_location_scale(μ_l, log σ_l)`
///
/// held as the library's `mixture<gaussian>`: log p(z) is `log_density(mixture, z)` and draws are
/// `sample(mixture, n, gen)`. KL(q ‖ p) has no closed form, so the prior provides none and the
/// ELBO estimates it from its posterior draw (elbo.hpp). Initialisation as the published runs:
/// μ ~ 0.31·N(0, 1), σ ~ U[1, 6) (from torch's default generator, like every module's).
#include <cstdint>

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/nn/cloneable.h>

#include "cebm/core.hpp"
#include "cebm/torch/ops.hpp"
#include "cebm/families/mixture.hpp"
#include "cebm/models/mixture_energy.hpp"
#include "cebm/torch/detail/shape_checks.hpp"

namespace cebm::variational {

class MixturePriorImpl : public torch::nn::Cloneable<MixturePriorImpl> {
 public:
  using family = gaussian;
  static constexpr const char* vae_kind = "gmm_vae";

  explicit MixturePriorImpl(std::int64_t latent_dim = 128, std::int64_t components = 50)
      : latent_dim_(latent_dim), components_(components) {
    reset();
  }
  void reset() override {
    cebm::detail::require_positive("cebm::variational::MixturePrior", {{"latent_dim", latent_dim_}, {"components", components_}});
    mean_ = register_parameter("component_mean", 0.31 * at::randn({components_, latent_dim_}));
    log_std_ = register_parameter("component_log_std", (at::rand({components_, latent_dim_}) * 5 + 1).log());
    log_weights_ = register_buffer("log_weights", at::zeros({components_}));
  }

  std::int64_t latent_dim() const { return latent_dim_; }
  std::int64_t components() const { return components_; }

  /// The mixture, differentiable in the component means and log-stds.
  mixture<gaussian, at::Tensor> distribution() const {
    return mixture<gaussian, at::Tensor>(gaussian::natural_from_location_scale(mean_, log_std_), log_weights_);
  }
  /// log p(z) for z [N, K]: [N].
  at::Tensor log_density(const at::Tensor& z) const {
    cebm::detail::require_last_dim("cebm::variational::MixturePrior::log_density", z, latent_dim_, "z", 2);
    return cebm::log_density(distribution(), z);
  }
  /// n draws z ~ p(z): [n, K] (no gradient).
  at::Tensor sample(std::int64_t n, at::Generator& gen, const at::TensorOptions& = {}) const {
    c10::NoGradGuard no_grad;
    return cebm::sample(distribution(), n, gen);
  }

 private:
  std::int64_t latent_dim_, components_;
  at::Tensor mean_, log_std_, log_weights_;
};
TORCH_MODULE(MixturePrior);

}  // namespace cebm::variational
