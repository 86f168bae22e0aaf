#pragma once
/// @file
/// `evaluate(model, data, context, options, out_dir)`: the CEBM paper's evaluations of one trained
/// model, as a JSON report plus PNGs in `out_dir` (`report.hpp` turns the JSON into markdown), one
/// section after another, each in its own file under sections/ (the options, data, context and
/// the state the sections share are in evaluation_run.hpp):
///
///   1 representations      features of training and test images       sections/representations.hpp
///   2 few_label            logistic regression, 1/10/100/all labels     sections/few_label.hpp
///   3 nn1                  1-NN accuracy and confusion matrices          sections/nearest_neighbor.hpp
///   4 ood                  AUROC / AUPR / FPR@95 against each OOD set    sections/ood.hpp
///   5 aggregate_posterior  KL(q̂ ‖ bias) and I(x; z)                     sections/aggregate_posterior.hpp
///   6 samples, frechet     long-run / buffer / ancestral samples, FD     sections/samples.hpp, frechet_distance.hpp
///   7 conditional          CLEL's instance- and class-conditional chains sections/conditional.hpp
///   8 embedding            PCA of test representations                   sections/embedding.hpp
///
/// With `scope(evaluation_scope::learning_curve_point)` it runs 1, 2 and the replay buffer's stuck
/// fraction alone and writes nothing (learning_curve.hpp gathers such points).
///
/// The model needs `representation(x) -> [B, D]` and `energy(x) -> [B]` or `ood_score(x) -> [B]`
/// (BIGAN's discriminator score: its OOD section has the model score alone); a model with a
/// conjugate bias (`bias_family`, `bias()`, `statistics(x)`, and for a learned mixture `is_mixture()` and
/// `mixture_bias()`) also gets KL/MI.
#include <filesystem>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

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

/// Runs every evaluation; writes the PNGs into `out_dir` and returns the report (see report.hpp).
template <class Model>
nlohmann::json evaluate(Model& model, const evaluation_data& d, const evaluation_context& ctx,
                        const evaluation_options& o, const std::string& out_dir) {
  using run = evaluation_run<Model>;
  static_assert(run::has_energy || run::has_ood_score,
                "cebm::eval::evaluate: the model needs energy(x) or ood_score(x) (see cebm/torch/eval/evaluation.hpp)");
  static_assert(run::has_energy || run::ancestral,
                "cebm::eval::evaluate: a model without energy(x) needs sample(n, gen) for its samples section");
  d.train.validate();
  d.test.validate();
  if (d.train.size() == 0 || d.test.size() == 0)
    throw std::invalid_argument("cebm::eval::evaluate: the training and test sets must not be empty");
  std::filesystem::create_directories(out_dir);
  model->eval();
  run r(model, d, ctx, o, out_dir);
  try {  // one image first, so a model that cannot take this data says so in these terms
    c10::NoGradGuard no_grad;
    model->representation(r.model_input(r.test.images.narrow(0, 0, 1)).to(ctx.device));
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
