#pragma once
/// @file
/// Section 1 of `evaluate`: the representations of the training and test images (and, with the
/// pixel baseline, their [0, 1] pixels), which the later sections classify, match and embed.
/// Report: `representation_dim`.
#include <stdexcept>
#include <string>

#include "cebm/torch/eval/evaluation_run.hpp"

namespace cebm::eval {

inline void representations_section(evaluation_run& r) {
  r.announce("representations of " + std::to_string(r.train.size()) + " training and " + std::to_string(r.test.size()) +
             " test images");
  auto representation = [&](const at::Tensor& x) { return r.model.representation(x); };
  r.f_train = r.batched(r.train.images, "features", representation).to(at::kFloat);
  r.f_test = r.batched(r.test.images, "features", representation).to(at::kFloat);
  if (!at::isfinite(r.f_train).all().template item<bool>() || !at::isfinite(r.f_test).all().template item<bool>())
    throw std::domain_error("cebm::eval::evaluate: the model's representations hold non-finite values");
  if (r.o.pixel_baseline()) {
    r.p_train = r.train.images.flatten(1).to(at::kFloat) / 255;
    r.p_test = r.test.images.flatten(1).to(at::kFloat) / 255;
  }
  r.report["representation_dim"] = r.f_train.size(1);
  if (r.ctx.reporter.representations) r.ctx.reporter.representations(r.f_test, r.test.labels, r.test.images);
  r.timed("representations");
}

}  // namespace cebm::eval
