#pragma once
/// @file
/// IGEBM baseline (reference notes §4): the CEBM conv trunk, an MLP and a scalar energy,
///   trunk → Linear(flat → H) → Swish → Linear(H → 128) → Swish → Linear(128 → 1) = E(x);
/// its representation is the 128-d pre-activation output of the second-to-last Linear.
#include <string>

#include <torch/nn/module.h>

#include "cebm/torch/models/energy_model.hpp"
#include "cebm/torch/precision/precision_policy.hpp"
#include "cebm/torch/nn/conv_encoder.hpp"

namespace cebm::models {

struct igebm_options {
  CEBM_ARG(nn::conv_encoder_options, trunk) = nn::conv_encoder_options::mnist();
};

class IgebmImpl : public EnergyModelImpl {
 public:
  std::string kind() const override { return "igebm"; }
  explicit IgebmImpl(igebm_options o = {}) : o_(std::move(o)) { reset(); }

  void reset() {
    trunk_ = register_module("trunk", nn::ConvTrunk(o_.trunk()));
    fc1_ = register_module("fc1", nn::Dense(trunk_->flat_features(), o_.trunk().hidden()));
    fc2_ = register_module("fc2", nn::Dense(o_.trunk().hidden(), o_.trunk().latent_dim()));
    out_ = register_module("out", nn::Dense(o_.trunk().latent_dim(), 1));
  }

  at::Tensor representation(const at::Tensor& x) override { return fc2_->forward(at::silu(fc1_->forward(trunk_->forward(x)))); }
  at::Tensor energy(const at::Tensor& x) override { return full_precision(out_->forward(at::silu(representation(x)))).squeeze(1); }

  const igebm_options& options() const { return o_; }

 private:
  igebm_options o_;
  nn::ConvTrunk trunk_{nullptr};
  nn::Dense fc1_{nullptr}, fc2_{nullptr}, out_{nullptr};
};
TORCH_MODULE(Igebm);

}  // namespace cebm::models
