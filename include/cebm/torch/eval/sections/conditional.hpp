#pragma once
/// @file
/// Section 7 of `evaluate`, for models with `conditional_energy(conditions)` (CLEL, App. D of its
/// paper): chains from p(x | z̄) for z̄ = the encoder direction of one test image per class
/// (instance-conditional, `samples_instance_conditional.png`, the reference image first in each
/// row) and the mean direction of each class's training images (class-conditional,
/// `samples_class_conditional.png`); the agreement of h(samples) with z̄ and, with an external
/// classifier, the confusion matrix of the class-conditional samples. Report: `conditional`.
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "cebm/sampling/langevin.hpp"
#include "cebm/torch/clel/conditional_energy.hpp"
#include "cebm/torch/eval/evaluation_run.hpp"
#include "cebm/torch/eval/sections/samples.hpp"

namespace cebm::eval {

inline void conditional_section(evaluation_run& r, sampling_streams& streams) {
  if (r.model.conditional_energy) {
    const evaluation_options& o = r.o;
    const evaluation_context& ctx = r.ctx;
    if (o.conditional_chains() <= 0) return;
    r.announce("conditional samples: " + std::to_string(o.conditional_chains()) + " chains per condition, " +
               std::to_string(o.conditional_steps()) + " Langevin steps, beta " + std::to_string(o.conditional_beta()));
    const bool from_buffer = o.conditional_from_buffer() && r.has_buffer;
    const std::int64_t k = o.conditional_chains(), classes = r.classes;
    // Chains for each row of `directions` [n, d]: their start, the samples and report entries.
    auto sample = [&](const at::Tensor& directions, const std::string& label) {
      const std::int64_t n = directions.size(0);
      const at::Tensor start =
          from_buffer ? ctx.buffer.index_select(0, at::randint(ctx.buffer.size(0), {n * k}, streams.host, at::kLong).to(ctx.buffer.device())).cpu()
                      : ctx.fresh_chains(n * k, streams.host).cpu();
      const at::Tensor z = directions.repeat_interleave(k, 0).to(ctx.device);
      auto opts = langevin_options(o.long_run()).steps(o.conditional_steps()).hook([&](langevin_step& s) {
        r.progress(label, s.step + 1, o.conditional_steps());
      });
      const at::Tensor x =
          langevin(r.model.conditional_energy({{z, o.conditional_beta()}}), start.to(ctx.device), opts, streams.chains).samples.detach();
      // Cosine of h(x) with z̄ before and after: how much of the condition the chains took on.
      auto agreement = [&](const at::Tensor& images) {
        c10::NoGradGuard no_grad;
        return at::cosine_similarity(r.model.representation(images.to(ctx.device)), z, 1).mean().template item<double>();
      };
      return std::tuple{start, x.cpu(),
                        nlohmann::json{{"conditions", n}, {"chains_per_condition", k}, {"latent_cosine_start", agreement(start)},
                                       {"latent_cosine", agreement(x)}}};
    };
    // The external classifier's verdict on chains conditioned on `labels` (k chains each): the
    // fraction it labels as their condition, at the start and after, and the confusion matrix
    // (rows: the condition's label, columns: the classifier's).
    auto judge = [&](const at::Tensor& start, const at::Tensor& x, const std::vector<std::int64_t>& labels,
                     at::Tensor* confusion_out = nullptr) {
      const at::Tensor target = at::tensor(labels, at::kLong).repeat_interleave(k);
      auto confusion_of = [&](const at::Tensor& images) {
        c10::NoGradGuard no_grad;
        const at::Tensor predicted = ctx.classify(images.to(ctx.device)).cpu().to(at::kLong);
        at::Tensor m = at::zeros({classes, classes}, at::kDouble);
        m.index_put_({target, predicted}, at::ones({target.size(0)}, at::kDouble), /*accumulate=*/true);
        return m;
      };
      const at::Tensor m = confusion_of(x), m0 = confusion_of(start);
      auto agreement = [&](const at::Tensor& mm) { return mm.diagonal().sum().template item<double>() / target.size(0); };
      if (confusion_out) *confusion_out = m;
      return nlohmann::json{{"accuracy", agreement(m)}, {"accuracy_start", agreement(m0)}, {"confusion", detail::rows_of(m)}};
    };
    nlohmann::json& cond = r.report["conditional"];
    cond = {{"beta", o.conditional_beta()}, {"steps", o.conditional_steps()}, {"start", from_buffer ? "replay buffer" : "initialisation"}};

    // Instance-conditional: the first test image of each class, in its row before its chains.
    std::vector<std::int64_t> refs, ref_labels;
    for (std::int64_t c = 0; c < classes; ++c) {
      const at::Tensor hit = (r.test.labels == c).nonzero();
      if (hit.size(0) > 0) refs.push_back(hit[0][0].template item<std::int64_t>());
    }
    for (std::int64_t i : refs) ref_labels.push_back(r.test.labels[i].template item<std::int64_t>());
    const at::Tensor ref_idx = at::tensor(refs, at::kLong);
    auto [inst_start, inst, inst_json] = sample(clel::unit_directions(r.f_test.index_select(0, ref_idx)), "instance-conditional");
    const at::Tensor ref_images = r.model_input(r.test.images.index_select(0, ref_idx));
    const at::Tensor rows =
        at::cat({ref_images.unsqueeze(1), inst.view({ref_idx.size(0), k, inst.size(1), inst.size(2), inst.size(3)})}, 1);
    inst_json["image"] = r.grid(rows.flatten(0, 1), "samples_instance_conditional.png", k + 1);
    inst_json["reference_labels"] = ref_labels;
    if (ctx.classify) inst_json["classifier"] = judge(inst_start, inst, ref_labels);
    cond["instance"] = inst_json;

    // Class-conditional: z̄_c = the mean direction of class c's training representations.
    std::vector<at::Tensor> directions;
    std::vector<std::int64_t> present;
    for (std::int64_t c = 0; c < classes; ++c) {
      const at::Tensor members = (r.train.labels == c).nonzero().view(-1);
      if (members.size(0) == 0) continue;
      directions.push_back(clel::mean_direction(r.f_train.index_select(0, members)));
      present.push_back(c);
    }
    auto [cls_start, cls, cls_json] = sample(at::stack(directions), "class-conditional");
    cls_json["image"] = r.grid(cls, "samples_class_conditional.png", k);
    cls_json["classes"] = present;
    if (ctx.classify) {
      at::Tensor confusion;
      cls_json["classifier"] = judge(cls_start, cls, present, &confusion);
      cls_json["classifier"]["image"] =
          r.heat(confusion / confusion.sum(1, true).clamp_min(1), "confusion_class_conditional.png",
                 "Class-conditional samples as the classifier sees them", "condition (class)", "classifier's label");
    }
    cond["class"] = cls_json;
    r.timed("conditional");
  }
}

}  // namespace cebm::eval
