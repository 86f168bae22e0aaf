#pragma once
/// @file
/// Which Langevin chains are still stuck near their noise initialisation. Short runs leave many
/// replay-buffer chains looking like the uniform noise they started from; the fraction tells how
/// much of a sample grid is the model and how much is the initialisation.
///
/// Criterion (it needs no knowledge of each chain's start, so it applies to buffers too): the
/// roughness of an image, the mean absolute difference between horizontally and vertically
/// adjacent pixels,
///   ρ(x) = ½ mean|x[h, w+1] − x[h, w]| + ½ mean|x[h+1, w] − x[h, w]|,
/// is far higher for noise (U[−1, 1]: E|u − v| = 2/3) than for images (Fashion-MNIST in [−1, 1]:
/// about 0.1). A chain is stuck when its roughness is above the midpoint between the mean roughness
/// of fresh draws from the initialisation and that of real data in the same scale.
#include <cstdint>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

namespace cebm::eval {

/// ρ(x) per image of a batch [N, C, H, W] (H, W >= 2): [N] double.
inline at::Tensor roughness(const at::Tensor& images) {
  if (images.dim() != 4 || images.size(0) == 0 || images.size(2) < 2 || images.size(3) < 2)
    throw std::invalid_argument("cebm::eval::roughness: expected images [N, C, H, W] with N >= 1 and H, W >= 2, got " +
                                std::string(c10::str(images.sizes())));
  const at::Tensor x = images.to(at::kDouble);
  const at::Tensor dw = (x.narrow(3, 1, x.size(3) - 1) - x.narrow(3, 0, x.size(3) - 1)).abs().flatten(1).mean(1);
  const at::Tensor dh = (x.narrow(2, 1, x.size(2) - 1) - x.narrow(2, 0, x.size(2) - 1)).abs().flatten(1).mean(1);
  return 0.5 * (dw + dh);
}

struct stuck_chain_report {
  double fraction = 0;          ///< stuck / total
  std::int64_t stuck = 0, total = 0;
  double threshold = 0;         ///< midpoint of the two reference roughnesses
  double noise_roughness = 0;   ///< mean ρ of fresh draws from the initialisation
  double data_roughness = 0;    ///< mean ρ of real images in the model's scale
  double mean_roughness = 0;    ///< mean ρ of the chains
};

/// The fraction of `chains` still stuck near the initialisation whose fresh draws are
/// `noise_reference`; `data_reference` are real images in the same scale as the chains.
inline stuck_chain_report stuck_chains(const at::Tensor& chains, const at::Tensor& noise_reference,
                                       const at::Tensor& data_reference) {
  const at::Tensor r = roughness(chains);
  stuck_chain_report out;
  out.noise_roughness = roughness(noise_reference).mean().item<double>();
  out.data_roughness = roughness(data_reference).mean().item<double>();
  if (!(out.noise_roughness > out.data_roughness))
    throw std::invalid_argument("cebm::eval::stuck_chains: the initialisation's roughness (" + std::to_string(out.noise_roughness) +
                                ") is not above the data's (" + std::to_string(out.data_roughness) +
                                "): this criterion cannot tell them apart");
  if (!at::isfinite(r).all().item<bool>())
    throw std::domain_error("cebm::eval::stuck_chains: the chains hold non-finite pixels");
  out.threshold = 0.5 * (out.noise_roughness + out.data_roughness);
  out.total = r.size(0);
  out.stuck = (r > out.threshold).sum().item<std::int64_t>();
  out.fraction = static_cast<double>(out.stuck) / static_cast<double>(out.total);
  out.mean_roughness = r.mean().item<double>();
  return out;
}

}  // namespace cebm::eval
