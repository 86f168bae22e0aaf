#pragma once
/// @file
/// CEBM and GMM-CEBM (Wu et al., ICML 2021) as instances of `ConjugateEbm<F, Map>`:
///   CEBM      ConjugateEbm<gaussian>: t(x) = (t₁, −r²) on the fixed bias λ = (0, −½) per latent
///             coordinate, E(x) = Σ_k B(λ) − B(λ + t_k(x)), representation E[z | x];
///   GMM-CEBM  the same encoder on a learned uniform mixture of L = 10 Gaussians (20 on CIFAR-10 and
///             SVHN), `gmm_cebm_options()`.
/// The other published second statistics are `ConjugateEbm<gaussian, gaussian_map<neg_softplus>>`
/// and `gaussian_map<neg_exp>` (cebm/core/parameterization.hpp).
#include <cstdint>

#include "cebm/torch/models/conjugate_ebm.hpp"

namespace cebm::models {

using Cebm = ConjugateEbm<gaussian>;
using CebmImpl = ConjugateEbmImpl<gaussian>;

/// GMM-CEBM's options: the Table 5 encoder on a learned mixture of `components` Gaussians.
inline conjugate_ebm_options gmm_cebm_options(std::int64_t components = 10) {
  return conjugate_ebm_options{}.components(components);
}

}  // namespace cebm::models
