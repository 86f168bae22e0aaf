#pragma once
/// @file
/// Swish, x·σ(x) (SiLU), the activation of the CEBM networks.
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

namespace cebm::nn {

class SwishImpl : public torch::nn::Cloneable<SwishImpl> {
 public:
  void reset() override {}
  at::Tensor forward(const at::Tensor& x) { return at::silu(x); }  // fused kernel and backward
};
TORCH_MODULE(Swish);

}  // namespace cebm::nn
