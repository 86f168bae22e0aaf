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
inline pca_result pca(const at::Tensor& features, std::int64_t k = 2) {
  constexpr const char* where = "cebm::eval::pca";
  if (!features.defined() || features.dim() != 2)
    throw std::invalid_argument(std::string(where) + ": features must be [N, D], got " +
                                (features.defined() ? std::string(c10::str(features.sizes())) : std::string("undefined")));
  if (features.is_complex())
    throw std::invalid_argument(std::string(where) + ": features must be real, got " + c10::toString(features.scalar_type()));
  const std::int64_t n = features.size(0), d = features.size(1);
  if (n < 2) throw std::invalid_argument(std::string(where) + ": needs N >= 2 points for a covariance, got N = " + std::to_string(n));
  if (k < 1 || k > d)
    throw std::invalid_argument(std::string(where) + ": k must be in [1, D = " + std::to_string(d) + "], got " + std::to_string(k));

  using row_major = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const at::Tensor host = features.detach().to(at::kCPU, at::kDouble).contiguous();
  const Eigen::Map<const row_major> x(host.data_ptr<double>(), n, d);
  if (!x.allFinite()) {
    Eigen::Index i = 0;
    for (; i < x.size(); ++i)
      if (!std::isfinite(x.data()[i])) break;
    throw std::invalid_argument(std::string(where) + ": features must be finite, element [" + std::to_string(i / d) + ", " +
                                std::to_string(i % d) + "] is " + std::to_string(x.data()[i]));
  }
  const Eigen::RowVectorXd mu = x.colwise().mean();
  const row_major centred = x.rowwise() - mu;

  Eigen::MatrixXd v(d, k);  // components as columns
  Eigen::VectorXd lambda(k);
  if (d <= n) {
    Eigen::MatrixXd cov = Eigen::MatrixXd::Zero(d, d);
    cov.selfadjointView<Eigen::Lower>().rankUpdate(centred.transpose(), 1.0 / (n - 1));
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(cov.selfadjointView<Eigen::Lower>());
    for (std::int64_t j = 0; j < k; ++j) {  // ascending → descending
      v.col(j) = eig.eigenvectors().col(d - 1 - j);
      lambda(j) = std::max(0.0, eig.eigenvalues()(d - 1 - j));
    }
  } else {
    Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(n, n);
    gram.selfadjointView<Eigen::Lower>().rankUpdate(centred, 1.0 / (n - 1));
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(gram.selfadjointView<Eigen::Lower>());
    const double largest = std::max(eig.eigenvalues()(n - 1), 0.0);
    for (std::int64_t j = 0; j < k; ++j) {
      const double l = j < n ? eig.eigenvalues()(n - 1 - j) : 0.0;
      if (j >= n || !(l > 1e-12 * largest) || !(l > 0))
        throw std::invalid_argument(std::string(where) + ": k = " + std::to_string(k) + " exceeds the rank (" +
                                    std::to_string(j) + ") of the centred data with D = " + std::to_string(d) + " > N = " +
                                    std::to_string(n) + "; its further components are not determined");
      v.col(j) = centred.transpose() * eig.eigenvectors().col(n - 1 - j) / std::sqrt((n - 1) * l);
      v.col(j).normalize();
      lambda(j) = l;
    }
  }
  for (std::int64_t j = 0; j < k; ++j) {
    Eigen::Index top = 0;
    v.col(j).cwiseAbs().maxCoeff(&top);  // the first maximum on a tie
    if (v(top, j) < 0) v.col(j) = -v.col(j);
  }

  const auto dopts = at::TensorOptions().dtype(at::kDouble);
  pca_result r;
  r.mean = at::empty({d}, dopts);
  Eigen::Map<Eigen::RowVectorXd>(r.mean.data_ptr<double>(), d) = mu;
  r.components = at::empty({k, d}, dopts);
  Eigen::Map<row_major>(r.components.data_ptr<double>(), k, d) = v.transpose();
  r.explained_variance = at::empty({k}, dopts);
  Eigen::Map<Eigen::VectorXd>(r.explained_variance.data_ptr<double>(), k) = lambda;
  at::Tensor proj = at::empty({n, k}, dopts);
  Eigen::Map<row_major>(proj.data_ptr<double>(), n, k).noalias() = centred * v;
  r.projection = proj.to(at::kFloat);

  const at::Device device = features.device();
  if (!device.is_cpu()) {
    r.mean = r.mean.to(device), r.components = r.components.to(device);
    r.explained_variance = r.explained_variance.to(device), r.projection = r.projection.to(device);
  }
  return r;
}

}  // namespace cebm::eval
