#pragma once
/// @file
/// The definition of conv.hpp's `conv2d`, with its autograd function: inline in a header-only
/// build, compiled once in cebm::compiled when CEBM_COMPILED is set (config.hpp).
#include <cstdint>
#include <tuple>
#include <vector>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include "cebm/torch/nn/conv.hpp"
#include "cebm/torch/precision/autocast_scope.hpp"

namespace cebm::nn {

namespace detail {

/// at::conv2d forward; backward with the col2im input gradient (file comment).
struct few_channel_conv2d : torch::autograd::Function<few_channel_conv2d> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const at::Tensor& bias, std::vector<std::int64_t> stride, std::vector<std::int64_t> padding,
                            std::vector<std::int64_t> dilation) {
    ctx->save_for_backward({x, weight});
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    ctx->saved_data["dilation"] = dilation;
    ctx->saved_data["has_bias"] = bias.defined();
    return at::conv2d(x, weight, bias, stride, padding, dilation);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &weight = saved[1];
    const at::Tensor g = grads[0].contiguous();
    const auto stride = ctx->saved_data["stride"].toIntVector(), padding = ctx->saved_data["padding"].toIntVector(),
               dilation = ctx->saved_data["dilation"].toIntVector();
    const bool has_bias = ctx->saved_data["has_bias"].toBool();
    at::Tensor grad_x, grad_w, grad_b;
    if (ctx->needs_input_grad(0)) {
      const std::int64_t out = weight.size(0), taps = weight[0].numel(), kh = weight.size(2), kw = weight.size(3);
      // Ŵᵀ ∂L/∂y as a 1×1 convolution: [B, in·kh·kw, oh, ow], then the shifted sum.
      const at::Tensor columns = at::conv2d(g, weight.reshape({out, taps}).t().contiguous().view({taps, out, 1, 1}));
      grad_x = at::col2im(columns.flatten(2), {x.size(2), x.size(3)}, {kh, kw}, dilation, padding, stride);
    }
    if (ctx->needs_input_grad(1) || (has_bias && ctx->needs_input_grad(2))) {
      const auto parts = at::convolution_backward(
          g, x, weight, has_bias ? c10::optional<at::IntArrayRef>(at::IntArrayRef{weight.size(0)}) : c10::nullopt, stride,
          padding, dilation, /*transposed=*/false, /*output_padding=*/{0, 0}, /*groups=*/1,
          {false, ctx->needs_input_grad(1), has_bias && ctx->needs_input_grad(2)});
      grad_w = std::get<1>(parts);
      grad_b = std::get<2>(parts);
    }
    return {grad_x, grad_w, grad_b, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace detail

CEBM_INLINE at::Tensor conv2d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                              at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation) {
  // Under CPU autocast (precision bf16, fp16) libtorch's convolution, whose inputs autocast casts.
  const bool few_channels = !cpu_autocast_enabled() && x.dim() == 4 && weight.dim() == 4 && x.size(1) < 16 &&
                            x.size(1) == weight.size(1) &&
                            x.is_cpu() && x.scalar_type() == at::kFloat && weight.scalar_type() == at::kFloat &&
                            x.requires_grad() && stride.size() == 2 && padding.size() == 2 && dilation.size() == 2;
  if (!few_channels) return at::conv2d(x, weight, bias, stride, padding, dilation);
  return detail::few_channel_conv2d::apply(x, weight, bias, stride.vec(), padding.vec(), dilation.vec());
}

}  // namespace cebm::nn
