#pragma once
/// @file
/// `trunk_options<Self>`: the options of every convolutional network in the CEBM paper's tables 5
/// and 7 (the CEBM encoder, the VAE encoder, the BIGAN discriminator). A network's options derive
/// from it: `conv_encoder_options{}.image_size(32).heads(3)`.
#include <cstdint>
#include <vector>

#include "cebm/core/arg.hpp"

namespace cebm::nn {

template <class Self>
struct trunk_options {
  CEBM_SELF_ARG(std::int64_t, in_channels) = 1;   ///< input channels
  CEBM_SELF_ARG(std::int64_t, image_size) = 28;   ///< input height = width
  CEBM_SELF_ARG(std::vector<std::int64_t>, channels) = std::vector<std::int64_t>{64, 64, 32, 32};  ///< per convolution
  CEBM_SELF_ARG(std::int64_t, hidden) = 128;      ///< the fully connected layer after the convolutions
  CEBM_SELF_ARG(std::int64_t, latent_dim) = 128;  ///< the latent or representation size
};

}  // namespace cebm::nn
