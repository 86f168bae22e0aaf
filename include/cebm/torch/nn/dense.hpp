#pragma once
/// @file
/// Fully connected layers that run on oneDNN on the CPU.
///
/// libtorch's CPU `linear` multiplies through the system BLAS, which on Debian is the reference
/// implementation: the CEBM encoder's four head layers took 10% of an SGLD step (14.7 of 140 ms at
/// batch 128, one thread) for 0.5% of its FLOPs. The same product written as a 1×1 convolution of
/// the same weights, `[B, in, 1, 1] * [out, in, 1, 1]`, goes to oneDNN's JIT kernels forward and
/// backward (about 1 ms), with the same parameters, gradients and checkpoints.
///
///   `cebm::nn::linear(x, W, b)`  y = x Wᵀ + b: the convolution for float CPU batches [B, in] with
///                                B ≥ 16 (where libtorch picks oneDNN for it), `at::linear` otherwise
///                                (other devices and dtypes, small batches, inputs of other ranks)
///   `cebm::nn::Dense`            a drop-in `torch::nn::Linear` (same options, initialisation,
///                                parameter names and checkpoint entries) whose forward is that
#include <cmath>
#include <cstdint>
#include <ostream>

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/init.h>
#include <torch/nn/options/linear.h>
#include <torch/nn/pimpl.h>

#include "cebm/torch/nn/detail/default_init.hpp"
#include "cebm/torch/detail/shape_checks.hpp"

namespace cebm::nn {

/// y = x Wᵀ + b (W [out, in], b [out] or undefined), through oneDNN where it can (file comment).
inline at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias = {}) {
  const bool onednn = x.dim() == 2 && x.size(0) >= 16 && x.is_cpu() && x.scalar_type() == at::kFloat &&
                      weight.scalar_type() == at::kFloat && weight.dim() == 2 && x.size(1) == weight.size(1) &&
                      at::hasMKLDNN() && at::globalContext().userEnabledMkldnn();
  if (!onednn) return at::linear(x, weight, bias);
  const std::int64_t batch = x.size(0), in = weight.size(1), out = weight.size(0);
  return at::conv2d(x.reshape({batch, in, 1, 1}), weight.reshape({out, in, 1, 1}), bias).reshape({batch, out});
}

/// `torch::nn::Linear` computed by `cebm::nn::linear`.
class DenseImpl : public torch::nn::Cloneable<DenseImpl> {
 public:
  DenseImpl(std::int64_t in_features, std::int64_t out_features)
      : DenseImpl(torch::nn::LinearOptions(in_features, out_features)) {}
  explicit DenseImpl(torch::nn::LinearOptions options) : options_(std::move(options)) { reset(); }

  void reset() override {
    cebm::detail::require_positive("cebm::nn::Dense",
                             {{"in_features", options_.in_features()}, {"out_features", options_.out_features()}});
    weight = register_parameter("weight", at::empty({options_.out_features(), options_.in_features()}));
    bias = detail::register_bias(*this, options_.out_features(), options_.bias());
    reset_parameters();
  }

  /// libtorch's `Linear` initialisation: W ~ kaiming-uniform(a = √5), b ~ U(±1/√in).
  void reset_parameters() { detail::default_init(weight, bias); }

  /// x: [..., in_features] → [..., out_features].
  at::Tensor forward(const at::Tensor& x) {
    cebm::detail::require_last_dim("cebm::nn::Dense", x, options_.in_features(), "input");
    return linear(x, weight, bias);
  }

  void pretty_print(std::ostream& stream) const override {
    stream << "cebm::nn::Dense(in_features=" << options_.in_features() << ", out_features=" << options_.out_features()
           << ", bias=" << (options_.bias() ? "true" : "false") << ")";
  }

  const torch::nn::LinearOptions& options() const { return options_; }

  at::Tensor weight, bias;

 private:
  torch::nn::LinearOptions options_;
};
TORCH_MODULE(Dense);

}  // namespace cebm::nn
