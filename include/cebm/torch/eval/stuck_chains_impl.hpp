#pragma once
/// @file
/// The definitions of stuck_chains.hpp's functions: inline in a header-only build, compiled once in
/// cebm::compiled when CEBM_COMPILED is set (config.hpp).
#include "cebm/torch/eval/stuck_chains.hpp"

namespace cebm::eval {

CEBM_INLINE at::Tensor neighbour_correlation(const at::Tensor& images) {
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

CEBM_INLINE stuck_chain_report stuck_chains(const at::Tensor& chains, const at::Tensor& noise_reference,
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
