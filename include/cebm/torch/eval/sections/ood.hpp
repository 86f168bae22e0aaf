#pragma once
/// @file
/// Section 4 of `evaluate`: OOD detection. AUROC / AUPR / FPR@95%TPR of −E(x) and −‖∇ₓE(x)‖ on
/// noisy test inputs against each named OOD set (in-distribution positive); a model with its own
/// score `ood_score(x)` (CLEL's s(x) with a test-time β; BIGAN's discriminator) also gets −s(x) on
/// clean inputs ("model_score"). OOD sets of another geometry are brought to the test set's.
/// Histograms of the scores, the in-distribution test set's beside each OOD set's:
/// `ood_scores_logp.png` (−E(x)) and `ood_scores_model_score.png` (−s(x)). Report: `ood`.
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cebm/torch/eval/evaluation_run.hpp"
#include "cebm/torch/eval/plot.hpp"
#include "cebm/torch/io/png.hpp"
#include "cebm/torch/metrics/ood_detection.hpp"

namespace cebm::eval {

inline void ood_section(evaluation_run& r) {
  const evaluation_options& o = r.o;
  const bool has_energy = static_cast<bool>(r.model.energy), has_ood_score = static_cast<bool>(r.model.ood_score);
  r.announce(has_energy ? "OOD detection: -E(x) and -|grad E(x)| with input noise " + std::to_string(o.ood().noise_std())
                             : std::string("OOD detection: the model's score s(x)"));
  const std::function<at::Tensor(const at::Tensor&)>& energy = r.model.energy;
  const std::function<at::Tensor(const at::Tensor&)>& own_score = r.model.ood_score;
  // Images per set, the in-distribution test set's included: ood_images, else as many as the test
  // images in use, so that a smaller evaluation scores smaller OOD sets too.
  const std::int64_t per_set = o.ood_images() > 0 ? o.ood_images() : r.test.size();
  auto scores_of = [&](const data::image_dataset& set, const std::string& name, auto&& score, double noise) {
    const data::image_dataset s = detail::first(set, per_set);
    if (s.size() == 0) throw std::invalid_argument("cebm::eval::evaluate: the OOD set '" + name + "' is empty");
    // Grey <-> RGB, zero padding up, bilinear down.
    const at::Tensor images = data::reshape_images(
        s.images, data::image_transform_options{}
                      .channels(r.test.channels())
                      .size(r.test.height() == r.test.width() ? r.test.height() : 0)
                      .resize(s.height() > r.test.height() ? data::resize_mode::bilinear : data::resize_mode::pad));
    return energy_scores(score, images, r.clean, ood_score_options(o.ood()).device(r.ctx.device).noise_std(noise),
                         [&](std::int64_t done, std::int64_t total) { r.progress("scores " + name, done, total); });
  };
  ood_scores in_scores, in_own;
  if (has_energy) in_scores = scores_of(r.test, "in-distribution test", energy, o.ood().noise_std());
  if (has_ood_score) in_own = scores_of(r.test, "in-distribution test, s(x)", own_score, 0.0);
  nlohmann::json& report = r.report["ood"];
  report = {{"noise_std", o.ood().noise_std()},
            {"in_distribution_images", (has_energy ? in_scores : in_own).neg_energy.size(0)}};
  if (!has_energy) report["note"] = r.ctx.model + " defines no density: only its own score s(x)";
  for (const auto& [name, why] : r.data.skipped_ood) report["skipped"][name] = why;
  // The scores of every set, the in-distribution test set's first, for the histograms.
  std::vector<histogram_series> logp, model_score;
  if (has_energy) logp.push_back({"in-distribution test (" + r.data.dataset + ")", in_scores.neg_energy, 0});
  if (has_ood_score) model_score.push_back({"in-distribution test (" + r.data.dataset + ")", in_own.neg_energy, 0});
  for (const auto& [name, set] : r.data.ood) {
    nlohmann::json& entry = report["sets"][name];
    entry = {{"source", set.source}};
    const auto colour = static_cast<std::int64_t>(std::max(logp.size(), model_score.size()));
    if (has_energy) {
      const ood_scores out = scores_of(set, name, energy, o.ood().noise_std());
      entry["images"] = out.neg_energy.size(0);
      entry["logp"] = detail::to_json(detection_metrics_of(in_scores.neg_energy, out.neg_energy));
      entry["grad"] = detail::to_json(detection_metrics_of(in_scores.neg_grad_norm, out.neg_grad_norm));
      logp.push_back({name, out.neg_energy, colour});
      if (r.ctx.reporter.ood_scores) r.ctx.reporter.ood_scores("logp", name, in_scores.neg_energy, out.neg_energy);
    }
    if (has_ood_score) {
      const at::Tensor own = scores_of(set, name + ", s(x)", own_score, 0.0).neg_energy;
      entry["model_score"] = detail::to_json(detection_metrics_of(in_own.neg_energy, own));
      model_score.push_back({name, own, colour});
      if (r.ctx.reporter.ood_scores) r.ctx.reporter.ood_scores("model_score", name, in_own.neg_energy, own);
    }
  }
  // Shown where there is something to compare: the test set and at least one OOD set. Scores that
  // are not finite (a diverged model's) are left out of the picture, and counted in the legend.
  auto draw = [&](std::vector<histogram_series> sets, const std::string& key, const std::string& score) {
    std::vector<histogram_series> shown;
    for (auto& set : sets) {
      const at::Tensor finite = set.values.isfinite();
      const std::int64_t dropped = finite.numel() - finite.sum().template item<std::int64_t>();
      if (dropped > 0) {
        set.values = set.values.masked_select(finite);
        set.name += " (" + std::to_string(dropped) + " not finite, left out)";
      }
      if (set.values.numel() > 0) shown.push_back(std::move(set));
    }
    if (shown.size() < 2) return;
    const std::string file = "ood_scores_" + key + ".png";
    data::write_png((r.dir / file).string(), histogram(shown, histogram_options{}
                                                              .title("OOD detection: " + score + " of each set")
                                                              .x_title(score)
                                                              .y_title("density")
                                                              .tail(0.002)));
    report["images"][key] = file;
  };
  draw(logp, "logp", "-E(x)");
  draw(model_score, "model_score", "-s(x)");
  r.timed("ood");
}

}  // namespace cebm::eval
