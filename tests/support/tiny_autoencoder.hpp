#pragma once
// The model and options of a trainer written with only its step and its metrics: a linear
// autoencoder of 28×28×1 images, 784 -> 8 -> 784.
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "cebm/torch/train/run_options.hpp"

namespace cebm_test {

struct TinyAutoencoderImpl : torch::nn::Module {
  static constexpr const char* kind = "tiny_autoencoder";
  TinyAutoencoderImpl()
      : encode(register_module("encode", torch::nn::Linear(784, 8))), decode(register_module("decode", torch::nn::Linear(8, 784))) {}
  at::Tensor representation(const at::Tensor& x) { return encode(x.flatten(1)); }
  at::Tensor reconstruction(const at::Tensor& x) { return decode(representation(x)).view_as(x); }
  torch::nn::Linear encode, decode;
};
TORCH_MODULE(TinyAutoencoder);

struct autoencoder_options : cebm::train::run_options<autoencoder_options> {
  CEBM_ARG(double, lr) = 1e-2;
  CEBM_ARG(double, beta1) = 0.9;
  CEBM_ARG(double, beta2) = 0.999;
};

}  // namespace cebm_test
