#pragma once
/// @file
/// Section 6b of `evaluate` (with a feature extractor in the context): the Fréchet distance of the
/// samples section's draws, and of the replay buffer, against clean test images in the same
/// scale, with the extractor's name. Report: `frechet`; the time of 6a and 6b as `samples`.
#include <string>

#include "cebm/torch/eval/evaluation_run.hpp"
#include "cebm/torch/eval/frechet.hpp"

namespace cebm::eval {

inline void frechet_distance_section(evaluation_run& r) {
  if (r.ctx.frechet_extractor) {
    feature_extractor& extractor = *r.ctx.frechet_extractor;
    const data::image_dataset reference = detail::first(r.test, r.o.frechet_images());
    const at::Tensor real = extract_features(extractor, r.model_input(reference.images), r.o.batch_size());
    const gaussian_fit real_fit = fit_gaussian(real);
    nlohmann::json& fd = r.report["frechet"];
    fd = {{"extractor", extractor.name()}, {"reference_images", reference.size()}};
    auto distance = [&](const at::Tensor& x, const std::string& name) {
      if (x.size(0) < 2) return;
      fd["samples"][name] = {{"count", x.size(0)},
                             {"distance", frechet_distance(fit_gaussian(extract_features(extractor, x, r.o.batch_size())), real_fit)}};
    };
    distance(r.samples, r.samples_name);
    if (r.has_buffer) distance(r.ctx.buffer.cpu(), "replay buffer");
    if (r.samples.size(0) <= real.size(1))
      fd["note"] = "with " + std::to_string(r.samples.size(0)) + " " + r.samples_name + " samples and " +
                   std::to_string(real.size(1)) + "-d features their covariance is rank-deficient, so that distance is biased upwards";
  }
  r.timed("samples");
}

}  // namespace cebm::eval
