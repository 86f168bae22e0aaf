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

namespace cebm::eval {

/// r(x) per image of a batch [N, C, H, W] (H, W >= 2): [N] double; a constant image counts as 1.
inline at::Tensor neighbour_correlation(const at::Tensor& images) {
  if (images.dim() != 4 || images.size(0) == 0 || images.size(2) < 2 || images.size(3) < 2)
    throw std::invalid_argument("cebm::eval::neighbour_correlation: expected images [N, C, H, W] with N >= 1 and H, W >= 2, got " +
                                std::string(c10::str(images.sizes())));
  const at::Tensor x = images.to(at::kDouble);
  const at::Tensor c = x - x.mean({1, 2, 3}, /*keepdim=*/true);
  const std::int64_t h = x.size(2), w = x.size(3);
  const at::Tensor right = (c.narrow(3, 1, w - 1) * c.narrow(3, 0, w - 1)).sum({1, 2, 3});
  const at::Tensor down = (c.narrow(2, 1, h - 1) * c.narrow(2, 0, h - 1)).sum({1, 2, 3});
  // The variance term over the same pixels that enter the pairs (each pair counted once per side).
  const at::Tensor sq = c * c;
  const at::Tensor var = 0.5 * (sq.narrow(3, 1, w - 1).sum({1, 2, 3}) + sq.narrow(3, 0, w - 1).sum({1, 2, 3}) +
                                sq.narrow(2, 1, h - 1).sum({1, 2, 3}) + sq.narrow(2, 0, h - 1).sum({1, 2, 3}));
  return at::where(var > 0, (right + down) / var.clamp_min(1e-300), at::ones_like(var));
}

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
inline stuck_chain_report stuck_chains(const at::Tensor& chains, const at::Tensor& noise_reference,
                                       const at::Tensor& data_reference) {
  const at::Tensor r = neighbour_correlation(chains);
  stuck_chain_report out;
  out.noise_correlation = neighbour_correlation(noise_reference).mean().item<double>();
  out.data_correlation = neighbour_correlation(data_reference).mean().item<double>();
  if (!(out.data_correlation > out.noise_correlation))
    throw std::invalid_argument("cebm::eval::stuck_chains: the initialisation's neighbour correlation (" +
                                std::to_string(out.noise_correlation) + ") is not below the data's (" +
                                std::to_string(out.data_correlation) + "): this criterion cannot tell them apart");
  if (!at::isfinite(r).all().item<bool>())
    throw std::domain_error("cebm::eval::stuck_chains: the chains hold non-finite pixels");
  out.threshold = 0.5 * (out.noise_correlation + out.data_correlation);
  out.total = r.size(0);
  out.stuck = (r < out.threshold).sum().item<std::int64_t>();
  out.fraction = static_cast<double>(out.stuck) / static_cast<double>(out.total);
  out.mean_correlation = r.mean().item<double>();
  return out;
}

}  // namespace cebm::eval
