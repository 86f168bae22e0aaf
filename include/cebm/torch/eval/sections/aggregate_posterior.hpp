#pragma once
/// @file
/// Section 5 of `evaluate`: KL(q̂ ‖ bias) and I(x; z) of the aggregate posterior, for a model with
/// a conjugate bias (evaluated_model::aggregate_posterior). Report: `aggregate_posterior` (or why
/// it was skipped).
#include <algorithm>
#include <string>

#include "cebm/torch/eval/aggregate_posterior.hpp"
#include "cebm/torch/eval/evaluation_run.hpp"

namespace cebm::eval {

inline void aggregate_posterior_section(evaluation_run& r) {
  if (!r.model.aggregate_posterior) {
    r.skip_stage();
    r.report["aggregate_posterior"] = {{"skipped", r.ctx.model + " has no conjugate bias"}};
    return;
  }
  // Fewer training images than one batch: one batch of all of them (the report gives its size).
  const std::int64_t kl_batch = std::min(r.o.kl_batch_size(), r.train.size());
  r.announce("aggregate posterior: KL and MI over batches of " + std::to_string(kl_batch));
  c10::NoGradGuard no_grad;
  const input_batches rows = [&](std::int64_t start, std::int64_t count) {
    return r.model_input(r.train.images.narrow(0, start, count)).to(r.ctx.device);
  };
  const kl_mi_estimate e = r.model.aggregate_posterior(rows, r.train.size(), kl_batch, r.gen, r.o.kl_estimator());
  r.report["aggregate_posterior"] = {{"kl", e.kl},         {"mi", e.mi},           {"kl_std", e.kl_std},
                                     {"mi_std", e.mi_std}, {"batches", e.batches}, {"batch_size", e.batch_size},
                                     {"dataset_size", e.dataset_size},
                                     {"estimator", to_string(r.o.kl_estimator())}};
  r.timed("aggregate_posterior");
}

}  // namespace cebm::eval
