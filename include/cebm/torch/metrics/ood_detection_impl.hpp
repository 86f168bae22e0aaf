#pragma once
/// @file
/// The definitions of ood_detection.hpp's functions: inline in a header-only build, compiled once in
/// cebm::compiled when CEBM_COMPILED is set (config.hpp).
#include "cebm/torch/metrics/ood_detection.hpp"

namespace cebm::eval::detail {

CEBM_INLINE std::vector<double> host_scores(const at::Tensor& s, const char* where, const char* set) {
  if (!s.defined())
    throw std::invalid_argument(std::string(where) + ": the " + set + " scores are an undefined tensor");
  if (s.dim() != 1)
    throw std::invalid_argument(std::string(where) + ": expected 1-D " + set + " scores [N], got shape " +
                                std::string(c10::str(s.sizes())));
  if (s.size(0) == 0) throw std::invalid_argument(std::string(where) + ": the " + set + " set is empty");
  if (s.is_complex())
    throw std::invalid_argument(std::string(where) + ": the " + set + " scores must be real, got " +
                                c10::toString(s.scalar_type()));
  const at::Tensor h = s.detach().to(at::kCPU, at::kDouble).contiguous();
  std::vector<double> v(h.data_ptr<double>(), h.data_ptr<double>() + h.numel());
  std::int64_t nan = 0, first = -1;
  for (std::size_t i = 0; i < v.size(); ++i)
    if (std::isnan(v[i]) && nan++ == 0) first = static_cast<std::int64_t>(i);
  if (nan > 0)
    throw std::invalid_argument(std::string(where) + ": " + std::to_string(nan) + " of the " +
                                std::to_string(v.size()) + " " + set + " scores are NaN (first at index " +
                                std::to_string(first) + ")");
  return v;
}

CEBM_INLINE std::vector<score_level> score_levels(const at::Tensor& in_scores, const at::Tensor& out_scores,
                                             const char* where) {
  std::vector<double> a = host_scores(in_scores, where, "in-distribution");
  std::vector<double> b = host_scores(out_scores, where, "OOD");
  std::sort(a.begin(), a.end(), std::greater<>());
  std::sort(b.begin(), b.end(), std::greater<>());
  std::vector<score_level> levels;
  levels.reserve(a.size() + b.size());
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    const double t = j == b.size() || (i < a.size() && a[i] > b[j]) ? a[i] : b[j];
    score_level l{t, 0, 0};
    for (; i < a.size() && a[i] == t; ++i) ++l.in;
    for (; j < b.size() && b[j] == t; ++j) ++l.out;
    levels.push_back(l);
  }
  return levels;
}

CEBM_INLINE double auroc_of(const std::vector<score_level>& levels, std::int64_t n_in, std::int64_t n_out) {
  // 2U = Σ over levels of in·(2·#OOD strictly below + #OOD at the level): exact in integers.
  std::int64_t out_at_or_above = 0, twice_u = 0;
  for (const score_level& l : levels) {
    out_at_or_above += l.out;
    twice_u += l.in * (2 * (n_out - out_at_or_above) + l.out);
  }
  return static_cast<double>(twice_u) / (2.0 * static_cast<double>(n_in) * static_cast<double>(n_out));
}

CEBM_INLINE double average_precision_of(const std::vector<score_level>& levels, std::int64_t n_in) {
  std::int64_t tp = 0, fp = 0;
  double ap = 0;
  for (const score_level& l : levels) {
    tp += l.in;
    fp += l.out;
    if (l.in > 0)
      ap += (static_cast<double>(l.in) / static_cast<double>(n_in)) *
            (static_cast<double>(tp) / static_cast<double>(tp + fp));
  }
  return ap;
}

CEBM_INLINE double fpr_at_tpr_of(const std::vector<score_level>& levels, std::int64_t n_in, std::int64_t n_out, double tpr) {
  // Going down the thresholds, the first level where the TPR reaches `tpr` is τ (TPR only rises at
  // levels holding in-samples, and every higher level fell short).
  std::int64_t tp = 0, fp = 0;
  for (const score_level& l : levels) {
    tp += l.in;
    fp += l.out;
    if (static_cast<double>(tp) / static_cast<double>(n_in) >= tpr)
      return static_cast<double>(fp) / static_cast<double>(n_out);
  }
  return 1.0;  // unreachable for tpr <= 1: the lowest level has TPR 1
}

CEBM_INLINE void check_tpr(double tpr, const char* where) {
  if (!(tpr > 0.0 && tpr <= 1.0))
    throw std::invalid_argument(std::string(where) + ": tpr must be in (0, 1], got " + std::to_string(tpr));
}

}  // namespace cebm::eval::detail

namespace cebm::eval {

CEBM_INLINE double auroc(const at::Tensor& in_scores, const at::Tensor& out_scores) {
  const auto levels = detail::score_levels(in_scores, out_scores, "cebm::eval::auroc");
  return detail::auroc_of(levels, in_scores.size(0), out_scores.size(0));
}

CEBM_INLINE double average_precision(const at::Tensor& in_scores, const at::Tensor& out_scores) {
  const auto levels = detail::score_levels(in_scores, out_scores, "cebm::eval::average_precision");
  return detail::average_precision_of(levels, in_scores.size(0));
}

CEBM_INLINE double fpr_at_tpr(const at::Tensor& in_scores, const at::Tensor& out_scores, double tpr) {
  detail::check_tpr(tpr, "cebm::eval::fpr_at_tpr");
  const auto levels = detail::score_levels(in_scores, out_scores, "cebm::eval::fpr_at_tpr");
  return detail::fpr_at_tpr_of(levels, in_scores.size(0), out_scores.size(0), tpr);
}

CEBM_INLINE detection_metrics detection_metrics_of(const at::Tensor& in_scores, const at::Tensor& out_scores) {
  const auto levels = detail::score_levels(in_scores, out_scores, "cebm::eval::detection_metrics_of");
  detection_metrics m;
  m.n_in = in_scores.size(0);
  m.n_out = out_scores.size(0);
  m.auroc = detail::auroc_of(levels, m.n_in, m.n_out);
  m.aupr = detail::average_precision_of(levels, m.n_in);
  m.fpr_at_95_tpr = detail::fpr_at_tpr_of(levels, m.n_in, m.n_out, 0.95);
  return m;
}

}  // namespace cebm::eval
