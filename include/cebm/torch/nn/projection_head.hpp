#pragma once
/// @file
/// g_θ, CLEL's projection of the EBM features onto the latent sphere (Lee et al., ICLR 2023,
/// App. B; authors' `get_mlp(projection_layers, LeakyReLU(0.2), bias=False)`, notes §3.2):
///
///   g(u) = W₂ φ(W₁ u),   φ = LeakyReLU(0.2),   W₁: 128 → 2048,   W₂: 2048 → 128,   no biases.
///
/// Without biases g is positively homogeneous, g(c·u) = c·g(u) for c > 0, because φ(c·t) = c·φ(t).
/// So cos(g(f), z) = cos(g(f/‖f‖), z): the authors apply g to f itself and the result equals the
/// paper's g on the normalised f. A bias would break that (notes §6 item 11), so there is no option
/// for one. Initialisation W ~ N(0, 0.01²) (the authors' init loop covers the projection too).
/// Submodule: `mlp` (Sequential of Linear, LeakyReLU, Linear).
#include <cstdint>
#include <utility>

#include <ATen/ATen.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "cebm/core/arg.hpp"
#include "cebm/torch/nn/dense.hpp"
#include "cebm/torch/nn/detail/clel_init.hpp"
#include "cebm/torch/detail/shape_checks.hpp"

namespace cebm::nn {

struct projection_head_options {
  CEBM_ARG(std::int64_t, in_features) = 128;
  CEBM_ARG(std::int64_t, hidden) = 2048;
  CEBM_ARG(std::int64_t, out_features) = 128;
};

class ProjectionHeadImpl : public torch::nn::Cloneable<ProjectionHeadImpl> {
 public:
  explicit ProjectionHeadImpl(projection_head_options o = {}) : o_(std::move(o)) { reset(); }

  void reset() override {
    cebm::detail::require_positive("cebm::nn::ProjectionHead", {{"in_features", o_.in_features()},
                                                          {"hidden", o_.hidden()},
                                                          {"out_features", o_.out_features()}});
    mlp_ = register_module("mlp", detail::clel_mlp(o_.in_features(), o_.hidden(), o_.out_features(), /*bias=*/false));
  }

  /// u: [..., in_features] → g(u), [..., out_features].
  at::Tensor forward(const at::Tensor& u) {
    cebm::detail::require_last_dim("cebm::nn::ProjectionHead", u, o_.in_features(), "features");
    return mlp_->forward(u);
  }

  const projection_head_options& options() const { return o_; }

 private:
  projection_head_options o_;
  torch::nn::Sequential mlp_{nullptr};
};
TORCH_MODULE(ProjectionHead);

}  // namespace cebm::nn
