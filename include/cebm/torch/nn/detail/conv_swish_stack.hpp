#pragma once
/// @file
/// y = φ(conv_L(… φ(conv_1(x)) …)), φ = Swish, with the input gradient that Langevin sampling takes
/// computed without layout conversions between the layers.
///
/// `conv_swish_stack` runs the stack on oneDNN directly (onednn_conv_swish.hpp) for float32 CPU
/// inputs when cebm is built with oneDNN (`CEBM_WITH_ONEDNN`), and on ATen operations otherwise,
/// and also under CPU autocast (a bf16 or fp16 precision policy), whose casts the ATen operations take.
/// Its backward computes ∂L/∂x on oneDNN when only the input gradient is asked for (the sampler's
/// `torch::autograd::grad` with respect to x); when a weight or bias gradient is asked for (a
/// training update), it recomputes the stack with ATen operations and differentiates that, one
/// extra forward of the update's batch. (Running the update on ATen from the start instead measured
/// no faster and took 60 MB more memory: both energies' ATen graphs stay alive until backward.)
///
/// With CEBM_COMPILED (config.hpp) this header declares the two functions and cebm::compiled holds
/// their definitions (conv_swish_stack_impl.hpp, with the oneDNN plan): a unit that runs an encoder
/// does not compile oneDNN's primitives. A unit that sets CEBM_WITH_ONEDNN differently from the
/// library then names the functions of the other inline namespace, which the library does not
/// define: a link error, not the other body.
#include <cstdint>
#include <vector>

#include <ATen/ATen.h>

#include "cebm/config.hpp"

namespace cebm::nn::detail {
inline namespace CEBM_ONEDNN_NAMESPACE {  // config.hpp: bodies that depend on CEBM_WITH_ONEDNN

/// The stack on ATen operations; `strides[i]` and `paddings[i]` belong to `weights[i]`.
CEBM_INLINE at::Tensor aten_conv_swish_stack(const at::Tensor& x, at::TensorList weights, at::TensorList biases,
                                             const std::vector<std::int64_t>& strides,
                                             const std::vector<std::int64_t>& paddings);

/// φ(conv_L(… φ(conv_1(x)) …)) for x [B, C, H, H]: square kernels, with biases, stride `strides[i]`
/// and zero padding `paddings[i]` on both axes (file comment).
CEBM_INLINE at::Tensor conv_swish_stack(const at::Tensor& x, at::TensorList weights, at::TensorList biases,
                                        const std::vector<std::int64_t>& strides,
                                        const std::vector<std::int64_t>& paddings);

}  // namespace CEBM_ONEDNN_NAMESPACE
}  // namespace cebm::nn::detail

#if !defined(CEBM_COMPILED)  // header-only: the definitions here (config.hpp)
#include "cebm/torch/nn/detail/conv_swish_stack_impl.hpp"
#endif
