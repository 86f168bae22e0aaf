#pragma once
/// @file
/// Principal component analysis, to look at representations in two dimensions.
///
/// With features x₁…x_N ∈ ℝᴰ, mean μ = (1/N) Σ xᵢ and sample covariance
///
///   S = (1/(N−1)) Σᵢ (xᵢ − μ)(xᵢ − μ)ᵀ,
///
/// the components are the unit eigenvectors v₁…v_k of S for its k largest eigenvalues
/// λ₁ ≥ … ≥ λ_k (the explained variances: λⱼ is the sample variance of the projections onto vⱼ),
/// and the projection of xᵢ is ((xᵢ − μ)·v₁, …, (xᵢ − μ)·v_k).
///
/// Computed in double with Eigen's SelfAdjointEigenSolver: on the D×D covariance when D ≤ N, else
/// on the N×N Gram matrix G = X̃X̃ᵀ/(N−1) of the centred data X̃ (same non-zero eigenvalues;
/// vⱼ = X̃ᵀuⱼ / √((N−1)λⱼ)), which then needs k ≤ rank. Eigenvectors have no intrinsic sign; here
/// each component's largest-magnitude entry is positive (the first such entry on a tie), so results
/// do not flip between runs, libraries or platforms.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>
#include <Eigen/Core>
#include <Eigen/Eigenvalues>

#include "cebm/config.hpp"

namespace cebm::eval {

struct pca_result {
  at::Tensor mean;                ///< double [D]
  at::Tensor components;          ///< double [k, D], orthonormal rows, by decreasing variance
  at::Tensor explained_variance;  ///< double [k], λ₁ ≥ … ≥ λ_k (divisor N − 1)
  at::Tensor projection;          ///< float [N, k] = (x − mean) · componentsᵀ
};

/// `features` [N, D] (any real dtype and device; N ≥ 2, 1 ≤ k ≤ D, finite). Results are on the
/// features' device. The features are copied to host doubles, so the finiteness check costs nothing
/// extra and always runs.
CEBM_INLINE pca_result pca(const at::Tensor& features, std::int64_t k = 2);

}  // namespace cebm::eval

#if !defined(CEBM_COMPILED)  // header-only: the definitions here (config.hpp)
#include "cebm/torch/metrics/pca_impl.hpp"
#endif
