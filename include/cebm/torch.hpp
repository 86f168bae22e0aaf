#pragma once
/// @file
/// Umbrella header of `cebm::torch`: the torch backend of the core mathematics, the samplers and
/// the training losses.
#include "cebm/core.hpp"
#include "cebm/sampling.hpp"
#include "cebm/torch/ops.hpp"
#include "cebm/torch/train/contrastive_divergence.hpp"
