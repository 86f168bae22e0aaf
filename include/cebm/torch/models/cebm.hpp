#pragma once
/// @file
/// CEBM (Wu et al., ICML 2021): the conv encoder's statistics t(x) = (t₁, −r²) with the fixed
/// Gaussian bias λ = (0, −½) per latent coordinate, assembled from the generic templates:
///   E(x) = Σ_k B(λ) − B(λ + t_k(x)) = `marginal_energy<gaussian>`;
///   representation = posterior mean E[z | x] = `posterior_mean<gaussian>(…)[0]`.
#include <stdexcept>

#include <torch/nn/module.h>

#include "cebm/core/parameterization.hpp"
#include "cebm/families/gaussian.hpp"
#include "cebm/models/conjugate_energy.hpp"
#include "cebm/torch/nn/conv_encoder.hpp"
#include "cebm/torch/ops.hpp"

namespace cebm::models {

/// How the second head's raw output r becomes t₂ ≤ 0 (see core/parameterization.hpp).
enum class second_statistic { neg_square, neg_softplus, neg_exp };

/// t(x) = (t₁, P(r)) for the chosen P.
inline param_pack<at::Tensor, 2> gaussian_statistics_of(const at::Tensor& t1, const at::Tensor& r, second_statistic p) {
  switch (p) {
    case second_statistic::neg_square: return gaussian_statistics<neg_square>(t1, r);
    case second_statistic::neg_softplus: return gaussian_statistics<neg_softplus>(t1, r);
    case second_statistic::neg_exp: return gaussian_statistics<neg_exp>(t1, r);
  }
  throw std::invalid_argument("cebm::models: unknown second_statistic");
}

struct cebm_options {
  CEBM_ARG(nn::conv_encoder_options, encoder) = nn::conv_encoder_options::mnist();
  CEBM_ARG(second_statistic, parameterization) = second_statistic::neg_square;
};

class CebmImpl : public torch::nn::Cloneable<CebmImpl> {
 public:
  static constexpr const char* kind = "cebm";
  using bias_family = gaussian;  ///< the family of bias() and of the posterior
  explicit CebmImpl(cebm_options o = {}) : o_(std::move(o)) { reset(); }

  void reset() override {
    encoder_ = register_module("encoder", nn::ConvEncoder(o_.encoder()));
    const std::int64_t k = o_.encoder().latent_dim();
    bias1_ = register_buffer("bias_1", at::zeros({k}));
    bias2_ = register_buffer("bias_2", at::full({k}, -0.5));
  }

  param_pack<at::Tensor, 2> bias() const { return make_pack(bias1_, bias2_); }
  param_pack<at::Tensor, 2> statistics(const at::Tensor& x) {
    const auto [t1, r] = encoder_->forward(x);
    return gaussian_statistics_of(t1, r, o_.parameterization());
  }
  /// E(x), [B].
  at::Tensor energy(const at::Tensor& x) { return marginal_energy<gaussian>(bias(), statistics(x)); }
  /// Posterior mean of z, [B, K]: the representation the paper evaluates.
  at::Tensor representation(const at::Tensor& x) { return posterior_mean<gaussian>(bias(), statistics(x))[0]; }

  const cebm_options& options() const { return o_; }

 private:
  cebm_options o_;
  nn::ConvEncoder encoder_{nullptr};
  at::Tensor bias1_, bias2_;
};
TORCH_MODULE(Cebm);

}  // namespace cebm::models
