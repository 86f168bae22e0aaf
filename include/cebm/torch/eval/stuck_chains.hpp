#pragma once
/// @file
/// Which Langevin chains are still stuck near their noise initialisation. Short runs leave many
/// replay-buffer chains looking like the uniform noise they started from; the fraction tells how
/// much of a sample grid is the model and how much is the initialisation.
///
/// Criterion (it needs no knowledge of each chain's start, so it applies to buffers too): the
/// neighbour correlation of an image, the correlation between each pixel and its right and lower
/// neighbours about the image's own mean,
///   r(x) = Σ (x_p − m)(x_q − m) / Σ (x_p − m)²   over neighbouring pairs (p, q), both directions,
/// is about 0 for independent noise and high for images (Fashion-MNIST: about 0.8), and unlike a
/// pixel-difference measure it does not depend on the scale, so chains that drift far outside the
/// data range but have formed shapes are not counted as noise. A chain is stuck when r is below the
/// midpoint between the mean r of fresh draws from the initialisation and that of real images.
#include <cstdint>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

#include "cebm/config.hpp"

namespace cebm::eval {

/// r(x) per image of a batch [N, C, H, W] (H, W >= 2): [N] double; a constant image counts as 1.
CEBM_INLINE at::Tensor neighbour_correlation(const at::Tensor& images);

struct stuck_chain_report {
  double fraction = 0;          ///< stuck / total
  std::int64_t stuck = 0, total = 0;
  double threshold = 0;           ///< midpoint of the two reference correlations
  double noise_correlation = 0;   ///< mean r of fresh draws from the initialisation
  double data_correlation = 0;    ///< mean r of real images
  double mean_correlation = 0;    ///< mean r of the chains
};

/// The fraction of `chains` still stuck near the initialisation whose fresh draws are
/// `noise_reference`; `data_reference` are real images in the same scale as the chains.
CEBM_INLINE stuck_chain_report stuck_chains(const at::Tensor& chains, const at::Tensor& noise_reference,
                                       const at::Tensor& data_reference);

}  // namespace cebm::eval

#if !defined(CEBM_COMPILED)  // header-only: the definitions here (config.hpp)
#include "cebm/torch/eval/stuck_chains_impl.hpp"
#endif
