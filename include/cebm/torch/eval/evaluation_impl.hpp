#pragma once
/// @file
/// The definition of `evaluate(evaluated_model, …)` (evaluation.hpp): inline in a header-only
/// build, compiled once in cebm::compiled otherwise (config.hpp, CEBM_COMPILED). The sections run
/// in the order evaluation.hpp lists.
#include <filesystem>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "cebm/torch/eval/evaluation.hpp"
#include "cebm/torch/eval/evaluation_run.hpp"
#include "cebm/torch/eval/sections/aggregate_posterior.hpp"
#include "cebm/torch/eval/sections/conditional.hpp"
#include "cebm/torch/eval/sections/embedding.hpp"
#include "cebm/torch/eval/sections/few_label.hpp"
#include "cebm/torch/eval/sections/frechet_distance.hpp"
#include "cebm/torch/eval/sections/nearest_neighbor.hpp"
#include "cebm/torch/eval/sections/ood.hpp"
#include "cebm/torch/eval/sections/representations.hpp"
#include "cebm/torch/eval/sections/samples.hpp"

namespace cebm::eval {

CEBM_INLINE nlohmann::json evaluate(const evaluated_model& model, const evaluation_data& d, const evaluation_context& ctx,
                                    const evaluation_options& o, const std::string& out_dir) {
  if (!model.representation) throw std::invalid_argument("cebm::eval::evaluate: the model has no representation function");
  if (!model.energy && !model.ood_score)
    throw std::invalid_argument("cebm::eval::evaluate: the model needs an energy or an OOD score function");
  if (!model.energy && !model.sample)
    throw std::invalid_argument("cebm::eval::evaluate: a model without an energy needs an ancestral sampler");
  d.train.validate();
  d.test.validate();
  if (d.train.size() == 0 || d.test.size() == 0)
    throw std::invalid_argument("cebm::eval::evaluate: the training and test sets must not be empty");
  std::filesystem::create_directories(out_dir);
  evaluation_run r(model, d, ctx, o, out_dir);
  try {  // one image first, so a model that cannot take this data says so in these terms
    c10::NoGradGuard no_grad;
    r.model.representation(r.model_input(r.test.images.narrow(0, 0, 1)).to(ctx.device));
  } catch (const std::exception& e) {
    const c10::Error* c = dynamic_cast<const c10::Error*>(&e);
    if (!c && !dynamic_cast<const std::invalid_argument*>(&e)) throw;
    throw std::invalid_argument("cebm::eval::evaluate: the " + ctx.model + " model cannot take the " + d.dataset + " images " +
                                std::string(c10::str(r.test.images.sizes().slice(1))) + ": " +
                                (c ? c->what_without_backtrace() : e.what()));
  }
  representations_section(r);
  few_label_section(r);
  sampling_streams streams(o.seed() + 1, ctx.device);
  if (o.scope() == evaluation_scope::learning_curve_point) {
    r.announce("the replay buffer's stuck chains");
    if (ctx.buffer.defined() && ctx.buffer.size(0) > 0) buffer_samples(r, stuck_references(r, streams), false);
    return r.report;
  }
  nearest_neighbor_section(r);
  ood_section(r);
  aggregate_posterior_section(r);
  samples_section(r, streams);
  frechet_distance_section(r);
  conditional_section(r, streams);
  embedding_section(r);
  return r.report;
}

}  // namespace cebm::eval
