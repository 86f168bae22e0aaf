#pragma once
/// @file
/// 2-d transposed convolution written as an ordinary convolution, so that it runs on oneDNN.
///
/// libtorch 1.13's CPU `conv_transpose2d` takes the slow path (im2col/col2im around the system
/// BLAS, the reference implementation on Debian): the VAE decoder of Table 7 ran at about 6.5
/// GFLOP/s there (3.4 ms per image forward, two threads). The same map is
///
///   conv_transpose(x, W; stride s, padding p) = conv(x↑s, flip(Wᵀ); stride 1, padding k − 1 − p)
///
/// where x↑s puts s − 1 zeros between neighbouring pixels and flip(Wᵀ) swaps W's in/out channels
/// and rotates each kernel by 180°. The zeros cost (s² − 1)/s² of the multiply-adds, which oneDNN
/// more than repays (benchmarks/README.md). Output side (H − 1)·s − 2p + k, as torch's without
/// output_padding; gradients follow through autograd (the zero insertion's is a strided slice).
#include <cstdint>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

namespace cebm::nn {

/// y = conv_transpose2d(x, weight, bias, stride, padding), weight [C_in, C_out, k, k] (torch's layout).
inline at::Tensor conv_transpose2d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, std::int64_t stride,
                                   std::int64_t padding) {
  const std::int64_t k = weight.size(2);
  if (x.dim() != 4 || weight.dim() != 4 || weight.size(3) != k || x.size(1) != weight.size(0) || stride < 1 || padding < 0 ||
      padding > k - 1)
    throw std::invalid_argument("cebm::nn::conv_transpose2d: expected x [B, C, H, W] and a square weight [C, C_out, k, k] with "
                                "stride >= 1 and 0 <= padding <= k - 1, got x " + std::string(c10::str(x.sizes())) +
                                ", weight " + std::string(c10::str(weight.sizes())) + ", stride " + std::to_string(stride) +
                                ", padding " + std::to_string(padding));
  at::Tensor up = x;
  if (stride > 1) {
    up = at::zeros({x.size(0), x.size(1), (x.size(2) - 1) * stride + 1, (x.size(3) - 1) * stride + 1}, x.options());
    up.slice(2, 0, up.size(2), stride).slice(3, 0, up.size(3), stride).copy_(x);
  }
  const at::Tensor w = weight.transpose(0, 1).flip({2, 3}).contiguous();
  return at::conv2d(up, w, bias, /*stride=*/1, /*padding=*/k - 1 - padding);
}

}  // namespace cebm::nn
