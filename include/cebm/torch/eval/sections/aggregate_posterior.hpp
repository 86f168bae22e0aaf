#pragma once
/// @file
/// Section 5 of `evaluate`: KL(q̂ ‖ bias) and I(x; z) of the aggregate posterior, for a model with
/// a conjugate bias (`bias_family`, `bias()`, `statistics(x)`; a learned mixture through
/// `is_mixture()` and `mixture_bias()`). Report: `aggregate_posterior` (or why it was skipped).
#include <algorithm>
#include <string>

#include "cebm/torch/eval/aggregate_posterior.hpp"
#include "cebm/torch/eval/evaluation_run.hpp"

namespace cebm::eval {

namespace detail {
template <std::size_t S>
param_pack<at::Tensor, S> detached(const param_pack<at::Tensor, S>& p) {
  return transform(p, [](const at::Tensor& a) { return a.detach().cpu(); });
}
template <class F>
mixture<F, at::Tensor> detached(const mixture<F, at::Tensor>& m) {
  return {detached(m.components), m.log_weights.detach().cpu()};
}
}  // namespace detail

template <class Model>
void aggregate_posterior_section(evaluation_run<Model>& r) {
  using M = typename evaluation_run<Model>::M;
  if constexpr (detail::has_single_family_bias<M>::value) {
    using F = typename M::bias_family;
    // Fewer training images than one batch: one batch of all of them (the report gives its size).
    const std::int64_t kl_batch = std::min(r.o.kl_batch_size(), r.train.size());
    r.announce("aggregate posterior: KL and MI over batches of " + std::to_string(kl_batch));
    c10::NoGradGuard no_grad;
    auto rows = [&](std::int64_t start, std::int64_t count) {
      return r.model_input(r.train.images.narrow(0, start, count)).to(r.ctx.device);
    };
    auto stats = [&](const at::Tensor& x) {
      return transform(r.model->statistics(x), [](const at::Tensor& a) { return a.detach().cpu(); });
    };
    kl_mi_estimate e;
    bool mixed = false;
    if constexpr (detail::has_mixture_bias<M>::value) {
      mixed = r.model->is_mixture();
      if (mixed) e = aggregate_posterior<F>(detail::detached(r.model->mixture_bias()), stats, r.train.size(), rows, kl_batch, r.gen,
                                            r.o.kl_estimator());
    }
    if (!mixed)
      e = aggregate_posterior<F>(detail::detached(r.model->bias()), stats, r.train.size(), rows, kl_batch, r.gen,
                                 r.o.kl_estimator());
    r.report["aggregate_posterior"] = {{"kl", e.kl},         {"mi", e.mi},           {"kl_std", e.kl_std},
                                       {"mi_std", e.mi_std}, {"batches", e.batches}, {"batch_size", e.batch_size},
                                       {"dataset_size", e.dataset_size},
                                       {"estimator", to_string(r.o.kl_estimator())}};
    r.timed("aggregate_posterior");
  } else {
    r.skip_stage();
    r.report["aggregate_posterior"] = {{"skipped", r.ctx.model + " has no conjugate bias"}};
  }
}

}  // namespace cebm::eval
