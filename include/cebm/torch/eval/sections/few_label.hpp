#pragma once
/// @file
/// Section 2 of `evaluate`: few-label logistic regression (liblinear) on the representations, as
/// published and on standardised features, with the pixel baseline beside. Report: `few_label`.
#include <string>

#include "cebm/torch/eval/evaluation_run.hpp"
#include "cebm/torch/eval/few_label.hpp"

namespace cebm::eval {

inline void few_label_section(evaluation_run& r) {
  const evaluation_options& o = r.o;
  r.announce("few-label logistic regression (liblinear, C = " + std::to_string(o.few_label().classifier().C()) + ")");
  auto on_fit = [&](const std::string& what) { r.tell("  fit " + what); };
  nlohmann::json& few = r.report["few_label"];
  few["draws"] = o.few_label().draws();
  few["draw"] = o.few_label().draw() == label_draw::with_replacement ? "with replacement (published)" : "without replacement";
  auto table = [&](const at::Tensor& tr, const at::Tensor& te, const few_label_options& options) {
    return detail::to_json(few_label_classification(tr, r.train.labels, te, r.test.labels, options, on_fit));
  };
  few["representation"] = table(r.f_train, r.f_test, few_label_options(o.few_label()).standardize(false));
  few["representation_standardized"] = table(r.f_train, r.f_test, few_label_options(o.few_label()).standardize(true));
  if (o.pixel_baseline()) few["pixels"] = table(r.p_train, r.p_test, few_label_options(o.few_label()).full(o.pixel_full()));
  r.timed("few_label");
}

}  // namespace cebm::eval
