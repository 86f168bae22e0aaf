#pragma once
/// @file
/// Section 3 of `evaluate`: 1-NN test accuracy against all training representations (and pixels),
/// with confusion matrices as tables and heat maps. Report: `nn1`.
#include <string>

#include "cebm/torch/eval/evaluation_run.hpp"
#include "cebm/torch/metrics/nearest_neighbor.hpp"

namespace cebm::eval {

inline void nearest_neighbor_section(evaluation_run& r) {
  r.announce("1-NN of " + std::to_string(r.test.size()) + " test against " + std::to_string(r.train.size()) + " training images");
  auto entry = [&](const at::Tensor& tr, const at::Tensor& te, const std::string& name) {
    const nearest_neighbor_result nn = nearest_neighbor(tr, r.train.labels, te, r.test.labels, r.classes);
    nlohmann::json j = detail::to_json(nn);
    j["image"] = r.heat(nn.confusion, "confusion_" + name + ".png",
                        "1-NN confusion, " + name + " (accuracy " + detail::percent_fixed(nn.accuracy) + ")");
    r.report["nn1"][name] = j;
  };
  entry(r.f_train, r.f_test, "representation");
  if (r.o.pixel_baseline()) entry(r.p_train, r.p_test, "pixels");
  r.timed("nn1");
}

}  // namespace cebm::eval
