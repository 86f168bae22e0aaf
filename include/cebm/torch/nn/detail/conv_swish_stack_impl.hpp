#pragma once
/// @file
/// The definitions of conv_swish_stack.hpp's functions, with the direct oneDNN path (file comment
/// there): inline in a header-only build, compiled once in cebm::compiled when CEBM_COMPILED is
/// set (config.hpp).
#include <algorithm>
#include <cstdint>
#include <vector>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/autograd.h>

#include "cebm/config.hpp"
#include "cebm/torch/nn/detail/conv_swish_stack.hpp"
#include "cebm/torch/nn/conv.hpp"
#include "cebm/torch/precision/autocast_scope.hpp"
#if CEBM_WITH_ONEDNN
#include "cebm/torch/nn/detail/onednn_conv_swish.hpp"
#endif

namespace cebm::nn::detail {
inline namespace CEBM_ONEDNN_NAMESPACE {  // config.hpp: bodies that depend on CEBM_WITH_ONEDNN

CEBM_INLINE at::Tensor aten_conv_swish_stack(const at::Tensor& x, at::TensorList weights, at::TensorList biases,
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

/// The stack's output for x, run chunk by chunk (`images_per_chunk`); each chunk's
/// pre-activations are appended to `saved` (layer by layer, chunk after chunk) when it is not null.
inline at::Tensor onednn_stack_forward(const at::Tensor& x, at::TensorList weights, at::TensorList biases,
                                       const std::vector<std::int64_t>& strides,
                                       const std::vector<std::int64_t>& paddings, std::vector<at::Tensor>* saved) {
  const auto layers = layers_of(weights, strides, paddings);
  const std::int64_t batch = x.size(0), chunk = images_per_chunk(batch, x.size(2), layers);
  std::vector<at::Tensor> ys;
  for (std::int64_t start = 0; start < batch; start += chunk) {
    const std::int64_t n = std::min(chunk, batch - start);
    ys.push_back(onednn_conv_swish_plan_for(n, x.size(2), layers)
                     .forward(x.narrow(0, start, n), weights.vec(), biases.vec(), saved));
  }
  return ys.size() == 1 ? ys.front() : at::cat(ys);
}

/// ∂L/∂x from ∂L/∂(output) `grad` and the pre-activations `saved` by `onednn_stack_forward` of x.
inline at::Tensor onednn_stack_input_gradient(const at::Tensor& x, const at::Tensor& grad,
                                              const std::vector<at::Tensor>& weights,
                                              const std::vector<std::int64_t>& strides,
                                              const std::vector<std::int64_t>& paddings,
                                              const std::vector<at::Tensor>& saved) {
  const auto layers = layers_of(weights, strides, paddings);
  const std::int64_t batch = x.size(0), chunk = images_per_chunk(batch, x.size(2), layers);
  const std::size_t n_layers = layers.size();
  std::vector<at::Tensor> dxs;
  for (std::int64_t start = 0, k = 0; start < batch; start += chunk, ++k) {
    const std::int64_t n = std::min(chunk, batch - start);
    const std::vector<at::Tensor> pre(saved.begin() + k * n_layers, saved.begin() + (k + 1) * n_layers);
    dxs.push_back(onednn_conv_swish_plan_for(n, x.size(2), layers)
                      .input_gradient(grad.narrow(0, start, n), weights, pre));
  }
  return dxs.size() == 1 ? dxs.front() : at::cat(dxs);
}

/// oneDNN forward saving the pre-activations; backward on oneDNN for the input alone (file comment).
struct onednn_conv_swish_function : torch::autograd::Function<onednn_conv_swish_function> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, at::TensorList weights,
                            at::TensorList biases, std::vector<std::int64_t> strides,
                            std::vector<std::int64_t> paddings) {
    std::vector<at::Tensor> saved;
    const at::Tensor y = onednn_stack_forward(x, weights, biases, strides, paddings, &saved);
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
        out[0] = onednn_stack_input_gradient(x, grads[0], weights, strides, paddings, pre);
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

CEBM_INLINE at::Tensor conv_swish_stack(const at::Tensor& x, at::TensorList weights, at::TensorList biases,
                                        const std::vector<std::int64_t>& strides,
                                        const std::vector<std::int64_t>& paddings) {
#if CEBM_WITH_ONEDNN
  // Under CPU autocast (precision bf16, fp16) the ATen stack, which autocast casts: the direct
  // trunk's primitives are float32 ones.
  bool onednn = !cpu_autocast_enabled() && x.is_cpu() && x.scalar_type() == at::kFloat && x.dim() == 4 && x.size(2) == x.size(3) &&
                x.size(0) > 0 && x.is_contiguous();
  for (std::size_t i = 0; i < weights.size() && onednn; ++i)
    onednn = weights[i].is_cpu() && weights[i].scalar_type() == at::kFloat && weights[i].is_contiguous() &&
             weights[i].size(2) == weights[i].size(3) && biases[i].defined() && biases[i].is_cpu() &&
             biases[i].is_contiguous() && biases[i].scalar_type() == at::kFloat && biases[i].dim() == 1 &&
             biases[i].size(0) == weights[i].size(0);
  if (onednn) {
    bool grad = false;
    if (at::GradMode::is_enabled()) {
      grad = x.requires_grad();
      for (std::size_t i = 0; i < weights.size(); ++i) grad = grad || weights[i].requires_grad() || biases[i].requires_grad();
    }
    if (grad) return onednn_conv_swish_function::apply(x, weights, biases, strides, paddings);
    return onednn_stack_forward(x, weights, biases, strides, paddings, nullptr);
  }
#endif
  return aten_conv_swish_stack(x, weights, biases, strides, paddings);
}

}  // namespace CEBM_ONEDNN_NAMESPACE
}  // namespace cebm::nn::detail
