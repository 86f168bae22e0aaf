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
/// (BIGAN's discriminator score: its OOD section has the model score alone); a model without
/// `energy` needs `sample(n, gen)` (ancestral samples); a model with a conjugate bias
/// (`bias_family`, `bias()`, `statistics(x)`, and for a learned mixture `is_mixture()` and
/// `mixture_bias()`) also gets KL/MI, and one with `conditional_energy(conditions)` conditional
/// samples. `evaluate(model, …)` reads them into an `evaluated_model` (evaluation_run.hpp) and
/// runs `evaluate(evaluated_model, …)`, which is not a template: with cebm::compiled it is
/// compiled once for every model (config.hpp, CEBM_COMPILED).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "cebm/config.hpp"
#include "cebm/torch/clel/conditional_energy.hpp"
#include "cebm/torch/eval/aggregate_posterior.hpp"
#include "cebm/torch/eval/evaluation_run.hpp"

namespace cebm::eval {

/// Runs every evaluation of `model`; writes the PNGs into `out_dir` and returns the report (see
/// report.hpp). The model's modules should be in evaluation mode.
CEBM_INLINE nlohmann::json evaluate(const evaluated_model& model, const evaluation_data& d, const evaluation_context& ctx,
                                    const evaluation_options& o, const std::string& out_dir);

/// What the evaluation reads of a model (a torch module holder): its member functions, as far as
/// it has them.
template <class Model>
evaluated_model evaluated_model_of(Model& model) {
  using M = typename Model::ContainedType;
  static_assert(detail::has_energy<M>::value || detail::has_ood_score<M>::value,
                "cebm::eval::evaluate: the model needs energy(x) or ood_score(x) (see cebm/torch/eval/evaluation.hpp)");
  static_assert(detail::has_energy<M>::value || detail::has_ancestral_sampler<M>::value,
                "cebm::eval::evaluate: a model without energy(x) needs sample(n, gen) for its samples section");
  const std::shared_ptr<M> m = model.ptr();
  evaluated_model e;
  e.representation = [m](const at::Tensor& x) { return m->representation(x); };
  if constexpr (detail::has_energy<M>::value) e.energy = [m](const at::Tensor& x) { return m->energy(x); };
  if constexpr (detail::has_ood_score<M>::value) e.ood_score = [m](const at::Tensor& x) { return m->ood_score(x); };
  if constexpr (detail::has_ancestral_sampler<M>::value)
    e.sample = [m](std::int64_t n, at::Generator& gen) { return m->sample(n, gen); };
  if constexpr (detail::has_conditional_energy<M>::value)
    e.conditional_energy = [m](const std::vector<clel::condition>& c) {
      return std::function<at::Tensor(const at::Tensor&)>(m->conditional_energy(c));
    };
  e.aggregate_posterior = aggregate_posterior_of(m);
  return e;
}

/// Runs every evaluation of `model` (in evaluation mode from here on); writes the PNGs into
/// `out_dir` and returns the report (see report.hpp).
template <class Model, class = typename Model::ContainedType>
nlohmann::json evaluate(Model& model, const evaluation_data& d, const evaluation_context& ctx, const evaluation_options& o,
                        const std::string& out_dir) {
  model->eval();
  return evaluate(evaluated_model_of(model), d, ctx, o, out_dir);
}

}  // namespace cebm::eval

#if !defined(CEBM_COMPILED)  // header-only: the definitions here (config.hpp)
#include "cebm/torch/eval/evaluation_impl.hpp"
#endif
