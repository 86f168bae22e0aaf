#pragma once
/// @file
/// y = φ(conv_L(… φ(conv_1(x)) …)), φ = Swish, with the input gradient that Langevin sampling takes
/// computed without layout conversions between the layers.
///
/// `conv_swish_stack` runs the stack on oneDNN directly (onednn_conv_swish.hpp) for float32 CPU
/// inputs when cebm is built with oneDNN (`CEBM_WITH_ONEDNN`), and on ATen operations otherwise.
/// Its backward computes ∂L/∂x on oneDNN when only the input gradient is asked for (the sampler's
/// `torch::autograd::grad` with respect to x); when a weight or bias gradient is asked for (a
/// training update), it recomputes the stack with ATen operations and differentiates that, one
/// extra forward of the update's batch. (Running the update on ATen from the start instead measured
/// no faster and took 60 MB more memory: both energies' ATen graphs stay alive until backward.)
#include <algorithm>
#include <cstdint>
#include <vector>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/autograd.h>

#include "cebm/config.hpp"
#include "cebm/torch/nn/conv.hpp"
#if CEBM_WITH_ONEDNN
#include "cebm/torch/nn/detail/onednn_conv_swish.hpp"
#endif

#ifndef CEBM_ONEDNN_CHUNK_KB
#define CEBM_ONEDNN_CHUNK_KB 8192
#endif

namespace cebm::nn::detail {
inline namespace CEBM_ONEDNN_NAMESPACE {  // config.hpp: bodies that depend on CEBM_WITH_ONEDNN

/// The stack on ATen operations; `strides[i]` and `paddings[i]` belong to `weights[i]`.
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

/// Images per oneDNN call. The batch runs in chunks small enough that the first layer's
/// pre-activation and activation of a chunk (the largest tensors) stay in the last-level cache from
/// one primitive to the next: on the CEBM encoder (batch 128, 64×28×28 activations, 26 MB each)
/// a convolution whose input comes from memory instead runs about 1.5x slower, and 8 MB chunks
/// make an SGLD step ~20% faster than one call for the batch. CEBM_ONEDNN_CHUNK_KB sets the budget.
inline std::int64_t images_per_chunk(std::int64_t batch, std::int64_t size, const std::vector<conv_swish_layer>& layers) {
  constexpr std::int64_t budget_bytes = std::int64_t{CEBM_ONEDNN_CHUNK_KB} * 1024;
  const conv_swish_layer& l = layers.front();
  const std::int64_t oh = (size + 2 * l.padding - l.kernel) / l.stride + 1;
  const std::int64_t per_image = 2 * l.out * oh * oh * static_cast<std::int64_t>(sizeof(float));
  const std::int64_t chunks = std::max<std::int64_t>(1, (batch * per_image + budget_bytes - 1) / budget_bytes);
  return (batch + chunks - 1) / chunks;  // balanced: at most two chunk sizes, so two cached plans
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

/// φ(conv_L(… φ(conv_1(x)) …)) for x [B, C, H, H]: square kernels, with biases, stride `strides[i]`
/// and zero padding `paddings[i]` on both axes (file comment).
inline at::Tensor conv_swish_stack(const at::Tensor& x, at::TensorList weights, at::TensorList biases,
                                   const std::vector<std::int64_t>& strides, const std::vector<std::int64_t>& paddings) {
#if CEBM_WITH_ONEDNN
  bool onednn = x.is_cpu() && x.scalar_type() == at::kFloat && x.dim() == 4 && x.size(2) == x.size(3) &&
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
