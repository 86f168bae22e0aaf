#pragma once
/// @file
/// One step of persistent contrastive divergence's sampler: draw n chains from a replay buffer
/// (restarts, augmentation), run Langevin on them, write them back, and return the samples with
/// their diagnostics (including the restart fraction). This is what the trainers call.
#include "cebm/sampling/langevin.hpp"
#include "cebm/sampling/replay_buffer.hpp"

namespace cebm {

template <class Energy>
langevin_result persistent_langevin(replay_buffer& buffer, Energy&& energy, std::int64_t n,
                                     const langevin_options& o, at::Generator& gen) {
  replay_buffer::batch start = buffer.draw(n, gen);
  langevin_result run = langevin(std::forward<Energy>(energy), start.samples, o, gen);
  buffer.write_back(start.indices, run.samples);
  run.diagnostics.reinit_fraction = start.reinit_fraction;
  return run;
}

}  // namespace cebm
