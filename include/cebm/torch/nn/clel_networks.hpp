#pragma once
/// @file
/// The networks of CLEL (Lee et al., ICLR 2023; reference notes §3.2): the EBM feature network
/// f_θ (`SphericalEbm`, small/base/large, spectrally normalised pre-activation ResNets), the
/// bias-free projection g_θ (`ProjectionHead`), the latent encoder h_φ (`LatentEncoder`, a CIFAR
/// ResNet-18), and their parts.
#include "cebm/torch/nn/basic_block.hpp"
#include "cebm/torch/nn/latent_encoder.hpp"
#include "cebm/torch/nn/normalize.hpp"
#include "cebm/torch/nn/projection_head.hpp"
#include "cebm/torch/nn/res_block.hpp"
#include "cebm/torch/nn/spectral_norm.hpp"
#include "cebm/torch/nn/spherical_ebm.hpp"
