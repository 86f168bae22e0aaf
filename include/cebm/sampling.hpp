#pragma once
/// @file
/// Umbrella header of the samplers: Langevin (SGLD, MALA) and replay buffers (needs libtorch).
#include "cebm/sampling/diagnostics.hpp"
#include "cebm/sampling/langevin.hpp"
#include "cebm/sampling/langevin_options.hpp"
#include "cebm/sampling/persistent_langevin.hpp"
#include "cebm/sampling/replay_buffer.hpp"
