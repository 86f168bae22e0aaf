#pragma once
/// @file
/// Everything: the core mathematics and the torch layer.
#include "cebm/core.hpp"
#include "cebm/torch.hpp"
