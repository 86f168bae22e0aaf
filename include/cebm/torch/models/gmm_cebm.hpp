#pragma once
/// @file
/// GMM-CEBM (Wu et al., ICML 2021): the CEBM encoder with a bias that is a uniform mixture of L
/// diagonal Gaussians whose means and log-stds are learned with the encoder (reference notes §1.3):
///   E(x) = log L − logsumexp_l Σ_k [B(λ_lk + t_k(x)) − B(λ_lk)]  = `marginal_energy(mixture, t)`;
///   representation = posterior mean of the most responsible component.
/// Initialisation as the published runs: μ ~ 0.31·N(0, 1), σ ~ U[1, 6), drawn from torch's default
/// generator like every torch::nn module's initialisation.
#include <cmath>

#include <torch/nn/module.h>

#include "cebm/families/mixture.hpp"
#include "cebm/models/mixture_energy.hpp"
#include "cebm/torch/models/cebm.hpp"

namespace cebm::models {

struct gmm_cebm_options {
  CEBM_ARG(nn::conv_encoder_options, encoder) = nn::conv_encoder_options::mnist();
  CEBM_ARG(second_statistic, parameterization) = second_statistic::neg_square;
  CEBM_ARG(std::int64_t, components) = 10;
};

class GmmCebmImpl : public torch::nn::Cloneable<GmmCebmImpl> {
 public:
  static constexpr const char* kind = "gmm_cebm";
  explicit GmmCebmImpl(gmm_cebm_options o = {}) : o_(std::move(o)) { reset(); }

  void reset() override {
    if (o_.components() < 1) throw std::invalid_argument("cebm::models::GmmCebm: components must be >= 1");
    encoder_ = register_module("encoder", nn::ConvEncoder(o_.encoder()));
    const std::int64_t l = o_.components(), k = o_.encoder().latent_dim();
    mean_ = register_parameter("component_mean", 0.31 * at::randn({l, k}));
    log_std_ = register_parameter("component_log_std", (at::rand({l, k}) * 5 + 1).log());
    log_weights_ = register_buffer("log_weights", at::zeros({l}));
  }

  mixture<gaussian, at::Tensor> bias() const {
    return mixture<gaussian, at::Tensor>(gaussian::natural_from_location_scale(mean_, log_std_), log_weights_);
  }
  param_pack<at::Tensor, 2> statistics(const at::Tensor& x) {
    const auto [t1, r] = encoder_->forward(x);
    return gaussian_statistics_of(t1, r, o_.parameterization());
  }
  at::Tensor energy(const at::Tensor& x) { return marginal_energy(bias(), statistics(x)); }
  /// p(y = l | x), [B, L].
  at::Tensor responsibilities(const at::Tensor& x) { return cebm::responsibilities(bias(), statistics(x)); }
  /// Posterior mean of z under the most responsible component, [B, K].
  at::Tensor representation(const at::Tensor& x) {
    const auto mix = bias();
    const auto t = statistics(x);
    const at::Tensor best = cebm::responsibilities(mix, t).argmax(1);
    std::vector<at::Tensor> means;
    for (std::int64_t l = 0; l < mix.num_components(); ++l)
      means.push_back(posterior_mean<gaussian>(mix.component(l), t)[0]);
    const at::Tensor all = at::stack(means, 1);  // [B, L, K]
    return all.gather(1, best.view({-1, 1, 1}).expand({all.size(0), 1, all.size(2)})).squeeze(1);
  }

  const gmm_cebm_options& options() const { return o_; }

 private:
  gmm_cebm_options o_;
  nn::ConvEncoder encoder_{nullptr};
  at::Tensor mean_, log_std_, log_weights_;
};
TORCH_MODULE(GmmCebm);

}  // namespace cebm::models
