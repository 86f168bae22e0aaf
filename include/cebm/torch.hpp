#pragma once
/// @file
/// Umbrella header of `cebm::torch`: the torch backend of the core mathematics, the samplers,
/// the networks and the training losses.
#include "cebm/core.hpp"
#include "cebm/sampling.hpp"
#include "cebm/torch/nn/conv_encoder.hpp"
#include "cebm/torch/nn/swish.hpp"
#include "cebm/torch/ops.hpp"
#include "cebm/torch/losses/contrastive_divergence.hpp"
