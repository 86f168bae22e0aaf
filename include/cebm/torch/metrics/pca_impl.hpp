#pragma once
/// @file
/// The definitions of pca.hpp's functions: inline in a header-only build, compiled once in
/// cebm::compiled when CEBM_COMPILED is set (config.hpp).
#include "cebm/torch/metrics/pca.hpp"

namespace cebm::eval {

CEBM_INLINE pca_result pca(const at::Tensor& features, std::int64_t k) {
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
