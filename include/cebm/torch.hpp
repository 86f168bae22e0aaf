#pragma once
/// @file
/// Umbrella header of `cebm::torch`: the torch backend of the core mathematics.
#include "cebm/core.hpp"
#include "cebm/torch/ops.hpp"
