#pragma once
/// @file
/// `sampling_convention`: how a trainer fed and sampled its model, which is what evaluating a
/// checkpoint needs besides the weights (programs/evaluate_checkpoint.hpp).
#include <cstdint>
#include <string>

#include "cebm/sampling/langevin_options.hpp"
#include "cebm/torch/data/transforms.hpp"
#include "cebm/sampling/replay_buffer.hpp"

namespace cebm::programs {

struct sampling_convention {
  data::image_transform_options input;
  replay_buffer_options buffer;
  langevin_options sgld;
  std::string weights = "model";  ///< the checkpoint entry evaluated ("ema" for CLEL's averaged networks)
  bool langevin = true;           ///< sampled by Langevin chains from a replay buffer (else ancestrally)
  /// The long-run chains for samples and the Fréchet distance: 0, one run; R > 0, R rounds of
  /// (restarts, `augmentation`, the training sampler's steps): CLEL's published protocol.
  std::int64_t rounds = 0;
  replay_buffer::augmentation augmentation = {};
};

}  // namespace cebm::programs
