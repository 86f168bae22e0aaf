#pragma once
/// @file
/// The definitions of nearest_neighbor.hpp's functions: inline in a header-only build, compiled once in
/// cebm::compiled when CEBM_COMPILED is set (config.hpp).
#include "cebm/torch/metrics/nearest_neighbor.hpp"

namespace cebm::eval::detail {

CEBM_INLINE at::Tensor matmul_nt(const at::Tensor& a, const at::Tensor& b) {
  if (!a.is_cpu() || !b.is_cpu()) return at::matmul(a, b.t());
  using rows = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const at::Tensor ac = a.to(at::kFloat).contiguous(), bc = b.to(at::kFloat).contiguous();
  at::Tensor out = at::empty({a.size(0), b.size(0)}, ac.options());
  Eigen::Map<const rows> ea(ac.data_ptr<float>(), ac.size(0), ac.size(1)), eb(bc.data_ptr<float>(), bc.size(0), bc.size(1));
  Eigen::Map<rows> eo(out.data_ptr<float>(), out.size(0), out.size(1));
  eo.noalias() = ea * eb.transpose();
  return out;
}

}  // namespace cebm::eval::detail

namespace cebm::eval {

CEBM_INLINE nearest_neighbor_result nearest_neighbor(const at::Tensor& reference, const at::Tensor& reference_labels,
                                                const at::Tensor& query, const at::Tensor& query_labels,
                                                std::int64_t classes, std::int64_t chunk) {
  if (reference.dim() != 2 || query.dim() != 2 || reference.size(1) != query.size(1) || reference.size(0) == 0 ||
      query.size(0) == 0 || reference_labels.size(0) != reference.size(0) || query_labels.size(0) != query.size(0))
    throw std::invalid_argument("cebm::eval::nearest_neighbor: expected features [R, D] and [Q, D] with matching labels, got " +
                                std::string(c10::str(reference.sizes())) + " and " + std::string(c10::str(query.sizes())));
  const at::Tensor ref = reference.to(at::kFloat), ref_sq = ref.pow(2).sum(1);
  std::vector<at::Tensor> preds;
  for (std::int64_t start = 0; start < query.size(0); start += chunk) {
    const at::Tensor q = query.narrow(0, start, std::min(chunk, query.size(0) - start)).to(at::kFloat);
    const at::Tensor d = q.pow(2).sum(1, true) + ref_sq.unsqueeze(0) - 2 * detail::matmul_nt(q, ref);
    preds.push_back(reference_labels.index_select(0, d.argmin(1).to(reference_labels.device())));
  }
  nearest_neighbor_result r;
  r.predicted = at::cat(preds);
  // The confusion matrix is built in host memory, whichever device the features were on.
  const at::Tensor truth = query_labels.to(at::kCPU, at::kLong), pred = r.predicted.to(at::kCPU, at::kLong);
  r.accuracy = (truth == pred).to(at::kDouble).mean().item<double>();
  r.confusion = at::zeros({classes, classes}, at::kDouble);
  r.confusion.index_put_({truth, pred}, at::ones({truth.size(0)}, at::kDouble), /*accumulate=*/true);
  r.confusion = r.confusion / r.confusion.sum(1, true).clamp_min(1);
  return r;
}

}  // namespace cebm::eval
