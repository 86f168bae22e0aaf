#pragma once
/// @file
/// y = φ(conv_L(… φ(conv_1(x)) …)), φ = Swish, with the input gradient that Langevin sampling takes
/// computed without layout conversions between the layers.
///
/// `conv_swish_stack` runs the stack on oneDNN directly (onednn_conv_swish.hpp) for float32 CPU
/// inputs when cebm is built with oneDNN (`CEBM_WITH_ONEDNN`), and on ATen operations otherwise.
/// Its backward computes ∂L/∂x on oneDNN when only the input gradient is asked for (the sampler's
/// `torch::autograd::grad` with respect to x); when a weight or bias gradient is asked for (a
/// training update), it recomputes the stack with ATen operations and differentiates that, which
/// costs one extra forward of the update's batch.
#include <cstdint>
#include <vector>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/autograd.h>

#include "cebm/torch/nn/conv.hpp"
#if CEBM_WITH_ONEDNN
#include "cebm/torch/nn/detail/onednn_conv_swish.hpp"
#endif

namespace cebm::nn::detail {

/// The stack on ATen operations; `layers[i]` gives stride and padding of `weights[i]`.
inline at::Tensor aten_conv_swish_stack(const at::Tensor& x, at::TensorList weights, at::TensorList biases,
                                        const std::vector<std::int64_t>& strides,
                                        const std::vector<std::int64_t>& paddings) {
  at::Tensor h = x;
  for (std::size_t i = 0; i < weights.size(); ++i)
    h = at::silu(nn::conv2d(h, weights[i], biases[i], {strides[i], strides[i]}, {paddings[i], paddings[i]}));
  return h;
}

#if CEBM_WITH_ONEDNN
inline std::vector<conv_swish_layer> layers_of(at::TensorList weights, const std::vector<std::int64_t>& strides,
                                               const std::vector<std::int64_t>& paddings) {
  std::vector<conv_swish_layer> layers;
  for (std::size_t i = 0; i < weights.size(); ++i)
    layers.push_back({weights[i].size(1), weights[i].size(0), weights[i].size(2), strides[i], paddings[i]});
  return layers;
}

/// oneDNN forward saving the pre-activations; backward on oneDNN for the input alone (file comment).
struct onednn_conv_swish_function : torch::autograd::Function<onednn_conv_swish_function> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, at::TensorList weights,
                            at::TensorList biases, std::vector<std::int64_t> strides,
                            std::vector<std::int64_t> paddings) {
    std::vector<at::Tensor> saved;
    const at::Tensor y = onednn_conv_swish_plan_for(x.size(0), x.size(2), layers_of(weights, strides, paddings))
                             .forward(x, weights.vec(), biases.vec(), &saved);
    std::vector<at::Tensor> keep{x};
    keep.insert(keep.end(), weights.begin(), weights.end());
    keep.insert(keep.end(), biases.begin(), biases.end());
    keep.insert(keep.end(), saved.begin(), saved.end());
    ctx->save_for_backward(keep);
    ctx->saved_data["strides"] = strides;
    ctx->saved_data["paddings"] = paddings;
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const std::vector<std::int64_t> strides = ctx->saved_data["strides"].toIntVector(),
                                    paddings = ctx->saved_data["paddings"].toIntVector();
    const std::size_t n = strides.size();
    const at::Tensor& x = saved[0];
    const std::vector<at::Tensor> weights(saved.begin() + 1, saved.begin() + 1 + n),
        biases(saved.begin() + 1 + n, saved.begin() + 1 + 2 * n), pre(saved.begin() + 1 + 2 * n, saved.end());
    torch::autograd::variable_list out(1 + 2 * n + 2);  // x, weights, biases, strides, paddings
    bool parameters_needed = false;
    for (std::size_t i = 1; i <= 2 * n; ++i) parameters_needed = parameters_needed || ctx->needs_input_grad(i);
    if (!parameters_needed) {
      if (ctx->needs_input_grad(0))
        out[0] = onednn_conv_swish_plan_for(x.size(0), x.size(2), layers_of(weights, strides, paddings))
                     .input_gradient(grads[0], weights, pre);
      return out;
    }
    // A training update: differentiate the ATen recomputation for what is asked.
    c10::AutoGradMode grad_on(true);
    std::vector<at::Tensor> inputs{x.detach().requires_grad_(ctx->needs_input_grad(0))};
    for (const at::Tensor& w : weights) inputs.push_back(w.detach().requires_grad_(true));
    for (const at::Tensor& b : biases) inputs.push_back(b.detach().requires_grad_(true));
    const at::Tensor y = aten_conv_swish_stack(inputs[0], at::TensorList(inputs).slice(1, n),
                                               at::TensorList(inputs).slice(1 + n, n), strides, paddings);
    std::vector<at::Tensor> wanted;
    std::vector<std::size_t> where;
    for (std::size_t i = 0; i <= 2 * n; ++i)
      if (ctx->needs_input_grad(i)) wanted.push_back(inputs[i]), where.push_back(i);
    const auto g = torch::autograd::grad({y}, wanted, {grads[0]});
    for (std::size_t k = 0; k < where.size(); ++k) out[where[k]] = g[k];
    return out;
  }
};
#endif

/// φ(conv_L(… φ(conv_1(x)) …)) for x [B, C, H, H]: square kernels, with biases, stride `strides[i]`
/// and zero padding `paddings[i]` on both axes (file comment).
inline at::Tensor conv_swish_stack(const at::Tensor& x, at::TensorList weights, at::TensorList biases,
                                   const std::vector<std::int64_t>& strides, const std::vector<std::int64_t>& paddings) {
#if CEBM_WITH_ONEDNN
  bool onednn = x.is_cpu() && x.scalar_type() == at::kFloat && x.dim() == 4 && x.size(2) == x.size(3) &&
                x.size(0) > 0 && x.is_contiguous();
  for (std::size_t i = 0; i < weights.size() && onednn; ++i)
    onednn = weights[i].is_cpu() && weights[i].scalar_type() == at::kFloat && weights[i].is_contiguous() &&
             weights[i].size(2) == weights[i].size(3) && biases[i].defined() && biases[i].is_contiguous() &&
             biases[i].scalar_type() == at::kFloat;
  if (onednn) {
    bool grad = false;
    if (at::GradMode::is_enabled()) {
      grad = x.requires_grad();
      for (std::size_t i = 0; i < weights.size(); ++i) grad = grad || weights[i].requires_grad() || biases[i].requires_grad();
    }
    if (grad) return onednn_conv_swish_function::apply(x, weights, biases, strides, paddings);
    return onednn_conv_swish_plan_for(x.size(0), x.size(2), layers_of(weights, strides, paddings))
        .forward(x, weights.vec(), biases.vec(), nullptr);
  }
#endif
  return aten_conv_swish_stack(x, weights, biases, strides, paddings);
}

}  // namespace cebm::nn::detail
