#pragma once
/// @file
/// The BIGAN discriminator D(x, z) of the CEBM paper's Table 8: an image branch, four convolutions
/// with batch norm and LeakyReLU(0.2) (3×3/1, then 4×4/2, padding 1; 64, 64, 32, 32 channels for
/// 28×28, 64, 128, 256, 512 for 32×32), spatial dropout 0.2 after each (the published code),
/// flattened into FC 128 LeakyReLU; its 128 features concatenated with z (128 + K), then FC 128
/// LeakyReLU and FC 1. `forward(x, z)` returns the logit [B] (the sigmoid is in the loss).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/dropout.h>

#include "cebm/core/arg.hpp"
#include "cebm/torch/nn/conv.hpp"
#include "cebm/torch/nn/dense.hpp"
#include "cebm/torch/nn/gaussian_encoder.hpp"
#include "cebm/torch/nn/trunk_options.hpp"

namespace cebm::nn {

struct joint_discriminator_options : trunk_options<joint_discriminator_options> {
  CEBM_ARG(double, dropout) = 0.2;

 public:
  static joint_discriminator_options mnist() { return {}; }
  static joint_discriminator_options cifar() {
    return joint_discriminator_options{}.in_channels(3).image_size(32).channels({64, 128, 256, 512});
  }
};

class JointDiscriminatorImpl : public torch::nn::Cloneable<JointDiscriminatorImpl> {
 public:
  explicit JointDiscriminatorImpl(joint_discriminator_options o = {}) : o_(std::move(o)) { reset(); }

  void reset() override {
    if (o_.channels().size() != 4 || o_.image_size() < 8 || o_.latent_dim() < 1 || o_.hidden() < 1 ||
        !(o_.dropout() >= 0 && o_.dropout() < 1))
      throw std::invalid_argument("cebm::nn::JointDiscriminator: expects 4 conv channel counts, image_size >= 8, positive "
                                  "hidden and latent_dim, dropout in [0, 1)");
    torch::nn::Sequential image, joint;
    const std::int64_t kernels[] = {3, 4, 4, 4}, strides[] = {1, 2, 2, 2};
    std::int64_t in = o_.in_channels();
    for (std::size_t i = 0; i < 4; ++i) {
      image->push_back(Conv2d(torch::nn::Conv2dOptions(in, o_.channels()[i], kernels[i]).stride(strides[i]).padding(1)));
      image->push_back(torch::nn::BatchNorm2d(o_.channels()[i]));
      image->push_back(activation_module(activation::leaky_relu));
      if (o_.dropout() > 0) image->push_back(torch::nn::Dropout2d(o_.dropout()));
      in = o_.channels()[i];
    }
    image->push_back(torch::nn::Flatten());
    const std::int64_t side = conv_trunk_side(o_.image_size());
    image->push_back(Dense(torch::nn::LinearOptions(in * side * side, o_.hidden())));
    image->push_back(activation_module(activation::leaky_relu));
    joint->push_back(Dense(torch::nn::LinearOptions(o_.hidden() + o_.latent_dim(), o_.hidden())));
    joint->push_back(activation_module(activation::leaky_relu));
    joint->push_back(Dense(torch::nn::LinearOptions(o_.hidden(), 1)));
    image_ = register_module("image", image);
    joint_ = register_module("joint", joint);
  }

  /// The logit of "x and z come from the data and the encoder" [B].
  at::Tensor forward(const at::Tensor& x, const at::Tensor& z) {
    if (x.dim() != 4 || x.size(1) != o_.in_channels() || x.size(2) != o_.image_size() || x.size(3) != o_.image_size() ||
        z.dim() != 2 || z.size(0) != x.size(0) || z.size(1) != o_.latent_dim())
      throw std::invalid_argument("cebm::nn::JointDiscriminator: expected x [B, " + std::to_string(o_.in_channels()) + ", " +
                                  std::to_string(o_.image_size()) + ", " + std::to_string(o_.image_size()) + "] and z [B, " +
                                  std::to_string(o_.latent_dim()) + "], got " + std::string(c10::str(x.sizes())) + " and " +
                                  std::string(c10::str(z.sizes())));
    return joint_->forward(at::cat({image_->forward(x), z}, 1)).squeeze(1);
  }

  const joint_discriminator_options& options() const { return o_; }

 private:
  joint_discriminator_options o_;
  torch::nn::Sequential image_{nullptr}, joint_{nullptr};
};
TORCH_MODULE(JointDiscriminator);

}  // namespace cebm::nn
