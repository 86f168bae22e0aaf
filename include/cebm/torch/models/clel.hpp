#pragma once
/// @file
/// CLEL (Lee et al., "Guiding Energy-based Models via Contrastive Latent Variables", ICLR 2023): the
/// spherical latent-variable EBM (f_θ, g_θ) and the latent encoder h_φ as one module, with the
/// energies of clel/energy.hpp (reference notes §3.2–3.3, §3.7):
///
///   marginal   e(x)    = ½‖f(x)‖²                                 `energy(x)`, what Langevin samples
///   joint      E(x, z) = ½‖f(x)‖² − β cos(g(f(x)), z)             `joint_energy(x, z)`, β = 0.01
///   OOD score  s(x)    = ½‖f(x)‖² − β_test cos(g(f(x)), h(x))     `ood_score(x)`, β_test = 0.1;
///                                                                 detect with −s (higher = in-distribution)
///   conditional E(x | z̄₁…) = ½‖f(x)‖² − Σ_j β_j cos(g(f(x)), z̄_j)  `conditional_energy(conditions)`,
///                                                                 a callable for `cebm::langevin`
///
/// `representation(x)` is the latent encoder's output h(x) (128-d, not normalised): the CLEL paper
/// evaluates the encoder (its 1-NN monitor and linear probes use h), not f or g. Like every cebm
/// model, `energy` and `representation` take images in the model's scale, here [0, 1].
///
/// θ = (f, g) and φ = h are trained by different optimisers (Adam and SGD), hence
/// `ebm_parameters()` and `encoder_parameters()`. h has batch norm: train mode uses batch
/// statistics, so evaluate (`representation`, `ood_score`) in eval mode, as the published code does
/// with its EMA copies. f's spectral norm power-iterates in train mode only.
/// Submodules: `ebm_f` (SphericalEbm), `ebm_g` (ProjectionHead), `encoder` (LatentEncoder).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include "cebm/core/arg.hpp"
#include "cebm/torch/clel/conditional_energy.hpp"
#include "cebm/torch/clel/energy.hpp"
#include "cebm/torch/clel/ood_score.hpp"
#include "cebm/torch/nn/latent_encoder.hpp"
#include "cebm/torch/nn/projection_head.hpp"
#include "cebm/torch/nn/spherical_ebm.hpp"
#include "cebm/torch/precision/precision_policy.hpp"

namespace cebm::models {

struct clel_options {
  /// f's ResNet: small (the paper's ablations), base (CIFAR-10 results) or large.
  CEBM_ARG(nn::spherical_ebm_size, size) = nn::spherical_ebm_size::base;
  /// Image channels (3 for CIFAR-10, 1 for Fashion-MNIST) and side (32, 28).
  CEBM_ARG(std::int64_t, in_channels) = 3;
  CEBM_ARG(std::int64_t, image_size) = 32;
  /// β of the joint energy E(x, z), and so of L_EBM's alignment term in training (the paper's 0.01).
  CEBM_ARG(double, beta) = 0.01;
  /// β of the OOD score (the authors' README runs 0.1; a knob separate from β).
  CEBM_ARG(double, beta_test) = 0.1;
};

class ClelImpl : public torch::nn::Cloneable<ClelImpl> {
 public:
  static constexpr const char* kind = "clel";
  explicit ClelImpl(clel_options o = {}) : o_(std::move(o)) { reset(); }

  void reset() override {
    clel::detail::require_beta(o_.beta(), "cebm::models::Clel (beta)");
    clel::detail::require_beta(o_.beta_test(), "cebm::models::Clel (beta_test)");
    f_ = register_module("ebm_f", nn::SphericalEbm(nn::spherical_ebm_options{}
                                                       .size(o_.size())
                                                       .in_channels(o_.in_channels())
                                                       .image_size(o_.image_size())));
    g_ = register_module("ebm_g", nn::ProjectionHead(nn::projection_head_options{}.in_features(
                                      f_->options().feature_dim())));
    h_ = register_module("encoder", nn::LatentEncoder(nn::latent_encoder_options{}
                                                          .in_channels(o_.in_channels())
                                                          .out_dim(g_->options().out_features())));
  }

  /// f(x), [B, 128].
  at::Tensor features(const at::Tensor& x) { return f_->forward(x); }
  /// e(x) = ½‖f(x)‖², [B]: the marginal energy (Langevin's target, −e the OOD "log p" score).
  at::Tensor energy(const at::Tensor& x) { return clel::marginal_energy(full_precision(f_->forward(x))); }
  /// E(x, z) = ½‖f(x)‖² − β cos(g(f(x)), z), [B], z [B, 128] or [128] (any scale).
  at::Tensor joint_energy(const at::Tensor& x, const at::Tensor& z) {
    const at::Tensor f = full_precision(f_->forward(x));
    return clel::joint_energy(f, full_precision(g_->forward(f)), z, o_.beta());
  }
  /// h(x), [B, 128]: the encoder's latent, the representation CLEL evaluates.
  at::Tensor representation(const at::Tensor& x) { return h_->forward(x); }
  /// s(x) = ½‖f(x)‖² − β_test cos(g(f(x)), h(x)), [B]; in-distribution data scores low.
  at::Tensor ood_score(const at::Tensor& x) {
    const at::Tensor f = full_precision(f_->forward(x));
    return clel::ood_score(f, full_precision(g_->forward(f)), full_precision(h_->forward(x)), o_.beta_test());
  }

  /// x ↦ ½‖f(x)‖² − Σ_j β_j cos(g(f(x)), z̄_j) on this model's f and g (clel/conditional_energy.hpp):
  /// instance-, class- and composed-condition sampling from p(x | z̄). The callable shares f and g.
  auto conditional_energy(std::vector<clel::condition> conditions) {
    return clel::conditional_energy(f_, g_, std::move(conditions));
  }

  /// θ: the parameters of f and g (Adam in training).
  std::vector<at::Tensor> ebm_parameters() const {
    std::vector<at::Tensor> p = f_->parameters();
    for (const at::Tensor& t : g_->parameters()) p.push_back(t);
    return p;
  }
  /// φ: the parameters of h (SGD in training).
  std::vector<at::Tensor> encoder_parameters() const { return h_->parameters(); }

  nn::SphericalEbm& ebm_f() { return f_; }
  nn::ProjectionHead& ebm_g() { return g_; }
  nn::LatentEncoder& encoder() { return h_; }
  const clel_options& options() const { return o_; }

 private:
  clel_options o_;
  nn::SphericalEbm f_{nullptr};
  nn::ProjectionHead g_{nullptr};
  nn::LatentEncoder h_{nullptr};
};
TORCH_MODULE(Clel);

}  // namespace cebm::models
