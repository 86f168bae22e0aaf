#pragma once
/// @file
/// The definitions of aggregate_posterior.hpp's functions: inline in a header-only build, compiled once in
/// cebm::compiled when CEBM_COMPILED is set (config.hpp).
#include "cebm/torch/eval/aggregate_posterior.hpp"

namespace cebm::eval {

CEBM_INLINE const char* to_string(aggregate_estimator e) { return e == aggregate_estimator::stratified ? "stratified" : "batch"; }

CEBM_INLINE kl_mi_estimate average_encoding_estimate(const at::Tensor& log_q, const at::Tensor& log_prior,
                                                std::int64_t dataset_size) {
  if (log_q.dim() != 2 || log_q.size(0) != log_q.size(1) || log_q.size(0) < 2 || log_prior.dim() != 1 ||
      log_prior.size(0) != log_q.size(0))
    throw std::invalid_argument("cebm::eval::average_encoding_estimate: expected log q [B, B] (B >= 2) and log p [B], got " +
                                std::string(c10::str(log_q.sizes())) + " and " + std::string(c10::str(log_prior.sizes())));
  const std::int64_t batch = log_q.size(0), n = dataset_size == 0 ? batch : dataset_size;
  if (n < batch)
    throw std::invalid_argument("cebm::eval::average_encoding_estimate: the dataset size N must be at least the batch size " +
                                std::to_string(batch) + ", got " + std::to_string(n));
  const at::Tensor lq = log_q.to(at::kDouble), lp = log_prior.to(at::kDouble);
  if (!at::isfinite(lq).all().item<bool>() || !at::isfinite(lp).all().item<bool>())
    throw std::domain_error("cebm::eval::average_encoding_estimate: non-finite log densities (an encoder output outside the "
                            "family's domain?)");
  // log weights: −log N on the diagonal, log((N − 1)/(N (B − 1))) off it (both −log B when N = B).
  const double nd = static_cast<double>(n), bd = static_cast<double>(batch);
  const double own = -std::log(nd), other = std::log(nd - 1) - std::log(nd) - std::log(bd - 1);
  const at::Tensor log_w = at::full({batch, batch}, other, lq.options()).fill_diagonal_(own);
  const at::Tensor log_qhat = at::logsumexp(lq + log_w, 1);
  kl_mi_estimate e;
  e.kl = (log_qhat - lp).mean().item<double>();
  e.mi = (lq.diagonal() - log_qhat).mean().item<double>();
  e.batches = 1;
  e.batch_size = batch;
  e.dataset_size = n;
  return e;
}

CEBM_INLINE kl_mi_estimate average_batches(const std::vector<kl_mi_estimate>& per_batch) {
  if (per_batch.empty()) throw std::invalid_argument("cebm::eval::average_batches: no batches");
  kl_mi_estimate out;
  for (const auto& e : per_batch) {
    out.kl += e.kl;
    out.mi += e.mi;
  }
  const double n = static_cast<double>(per_batch.size());
  out.kl /= n;
  out.mi /= n;
  for (const auto& e : per_batch) {
    out.kl_std += (e.kl - out.kl) * (e.kl - out.kl);
    out.mi_std += (e.mi - out.mi) * (e.mi - out.mi);
  }
  out.kl_std = std::sqrt(out.kl_std / n);
  out.mi_std = std::sqrt(out.mi_std / n);
  out.batches = static_cast<std::int64_t>(per_batch.size());
  out.batch_size = per_batch.front().batch_size;
  out.dataset_size = per_batch.front().dataset_size;
  return out;
}

}  // namespace cebm::eval
