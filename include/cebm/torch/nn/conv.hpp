#pragma once
/// @file
/// 2-d convolutions whose input gradient stays cheap when the input has few channels.
///
/// oneDNN pads the channels of the tensor it differentiates to a multiple of 16, so the input
/// gradient of a first layer over 1-channel images does 16× the work: on the CEBM encoder's
/// 1 → 64, 3×3 convolution at 28×28 it took 19 ms of a 140 ms SGLD step (batch 128, one thread),
/// against 4 ms for its forward. Written out, that gradient is
///
///   ∂L/∂x = col2im(Ŵᵀ ∂L/∂y),   Ŵ = W as [out, in·kh·kw],
///
/// a 1×1 convolution of ∂L/∂y into in·kh·kw maps followed by the sum of the shifted maps (col2im),
/// about a third of that time. `cebm::nn::conv2d` computes the forward as `at::conv2d` and, for
/// float CPU inputs with fewer than 16 channels that require a gradient, that input gradient
/// (weight and bias gradients come from `at::convolution_backward`, as libtorch's). Everything else
/// is `at::conv2d`. `cebm::nn::Conv2d` is `torch::nn::Conv2d` (zero padding) computed by it, with
/// the same options, initialisation and checkpoint entries.
///
/// With CEBM_COMPILED (config.hpp), `conv2d` and its autograd function are compiled once in
/// cebm::compiled (conv_impl.hpp).
#include <cmath>
#include <cstdint>
#include <ostream>
#include <stdexcept>
#include <utility>
#include <variant>
#include <vector>

#include <ATen/ATen.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/init.h>
#include <torch/nn/options/conv.h>
#include <torch/nn/pimpl.h>

#include "cebm/config.hpp"
#include "cebm/torch/nn/detail/default_init.hpp"
#include "cebm/torch/detail/shape_checks.hpp"

namespace cebm::nn {

/// y = W ⋆ x + b (zero padding, one group); the input gradient by col2im for float CPU inputs with
/// fewer than 16 channels (file comment).
CEBM_INLINE at::Tensor conv2d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias = {},
                              at::IntArrayRef stride = {1, 1}, at::IntArrayRef padding = {0, 0},
                              at::IntArrayRef dilation = {1, 1});

/// `torch::nn::Conv2d` (zero padding) computed by `cebm::nn::conv2d`.
class Conv2dImpl : public torch::nn::Cloneable<Conv2dImpl> {
 public:
  explicit Conv2dImpl(torch::nn::Conv2dOptions options) : options_(std::move(options)) { reset(); }

  void reset() override {
    const auto& k = *options_.kernel_size();
    cebm::detail::require_positive("cebm::nn::Conv2d", {{"in_channels", options_.in_channels()},
                                                  {"out_channels", options_.out_channels()},
                                                  {"kernel height", k[0]},
                                                  {"kernel width", k[1]}});
    using std::get_if;  // c10::variant in libtorch 1.13, std::variant in 2.x: found by ADL
    if (options_.groups() != 1 || get_if<torch::ExpandingArray<2>>(&options_.padding()) == nullptr ||
        get_if<torch::enumtype::kZeros>(&options_.padding_mode()) == nullptr)
      throw std::invalid_argument("cebm::nn::Conv2d: supports one group and explicit zero padding only");
    weight = register_parameter("weight", at::empty({options_.out_channels(), options_.in_channels(), k[0], k[1]}));
    bias = detail::register_bias(*this, options_.out_channels(), options_.bias());
    reset_parameters();
  }

  /// libtorch's `Conv2d` initialisation: W ~ kaiming-uniform(a = √5), b ~ U(±1/√fan_in).
  void reset_parameters() { detail::default_init(weight, bias); }

  /// x: [B, in_channels, H, W] → [B, out_channels, H', W'].
  at::Tensor forward(const at::Tensor& x) {
    cebm::detail::require_images("cebm::nn::Conv2d", x, options_.in_channels());
    using std::get_if;
    return conv2d(x, weight, bias, *options_.stride(), **get_if<torch::ExpandingArray<2>>(&options_.padding()),
                  *options_.dilation());
  }

  void pretty_print(std::ostream& stream) const override {
    stream << "cebm::nn::Conv2d(" << options_.in_channels() << ", " << options_.out_channels()
           << ", kernel_size=" << options_.kernel_size() << ", stride=" << options_.stride() << ")";
  }

  const torch::nn::Conv2dOptions& options() const { return options_; }

  at::Tensor weight, bias;

 private:
  torch::nn::Conv2dOptions options_;
};
TORCH_MODULE(Conv2d);

}  // namespace cebm::nn

#if !defined(CEBM_COMPILED)  // header-only: the definitions here (config.hpp)
#include "cebm/torch/nn/conv_impl.hpp"
#endif
