#pragma once
/// @file
/// `evaluate(model, data, context, options, out_dir)`: the CEBM paper's evaluations of one trained
/// model, as a JSON report plus PNGs in `out_dir` (`report.hpp` turns the JSON into markdown).
///
///   few_label   liblinear logistic regression on representations, 1/10/100 labels per class and
///               the full set, 10 draws, as published and on standardised features; pixels beside
///   nn1         1-NN test accuracy against all training representations, confusion matrices
///               (table + `confusion_representation.png`, `confusion_pixels.png`)
///   ood         AUROC / AUPR / FPR@95%TPR of −E(x) and −‖∇ₓE(x)‖ on noisy test inputs against
///               each named OOD set (in-distribution positive); models with `ood_score(x)` (CLEL's
///               s(x) with a test-time β) also get −s(x) on clean inputs ("model_score")
///   aggregate_posterior  KL(q̂ ‖ bias) and I(x; z) (models with a conjugate bias)
///   samples     long-run chains from the initialisation (`samples_long_run.png`) and the replay
///               buffer (`samples_buffer.png`), each with the fraction of chains still stuck; a
///               model with an ancestral sampler `sample(n, gen)` (VAE, BIGAN) gets its draws
///               instead (`samples_ancestral.png`)
///   conditional models with `conditional_energy(conditions)` (CLEL): chains from p(x | z̄) for
///               z̄ = the encoder direction of one test image per class (instance-conditional,
///               `samples_instance_conditional.png`, reference image first in each row) and the
///               mean direction of each class's training images (class-conditional,
///               `samples_class_conditional.png`); the agreement of h(samples) with z̄ and, with
///               an external classifier, the confusion matrix of the class-conditional samples
///   embedding   PCA of test representations coloured by class (`embedding_pca.png`)
///   frechet     Fréchet distance of sample vs test-image features, with the extractor's name
///
/// The model needs `representation(x) -> [B, D]` and `energy(x) -> [B]` or `ood_score(x) -> [B]`
/// (BIGAN's discriminator score: its OOD section has the model score alone); a model with a
/// conjugate bias (`bias_family`, `bias()`, `statistics(x)`, and for a learned mixture `is_mixture()` and
/// `mixture_bias()`) also gets KL/MI.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/grad_mode.h>

#include "cebm/sampling/generator.hpp"
#include "cebm/sampling/langevin.hpp"
#include "cebm/torch/clel/conditional_energy.hpp"
#include "cebm/torch/data/image_dataset.hpp"
#include "cebm/torch/data/image_folder.hpp"
#include "cebm/torch/data/transforms.hpp"
#include "cebm/torch/eval/aggregate_posterior.hpp"
#include "cebm/torch/eval/few_label.hpp"
#include "cebm/torch/eval/frechet.hpp"
#include "cebm/torch/io/image_grid.hpp"
#include "cebm/torch/metrics/nearest_neighbor.hpp"
#include "cebm/torch/metrics/ood_detection.hpp"
#include "cebm/torch/metrics/pca.hpp"
#include "cebm/torch/eval/plot.hpp"
#include "cebm/torch/eval/stuck_chains.hpp"
#include "cebm/torch/io/progress.hpp"

namespace cebm::eval {

struct evaluation_options {
  CEBM_ARG(std::int64_t, train_images) = 0;  ///< training images used (features, few-label, 1-NN, KL/MI); 0 = all
  CEBM_ARG(std::int64_t, test_images) = 0;   ///< test images used; 0 = all
  CEBM_ARG(std::int64_t, ood_images) = 0;    ///< images per OOD set and of the in-distribution test set; 0 = all
  CEBM_ARG(few_label_options, few_label) = {};
  CEBM_ARG(bool, pixel_baseline) = true;     ///< few-label and 1-NN on [0, 1] pixels too
  CEBM_ARG(bool, pixel_full) = true;         ///< the pixel baseline's full-set fit (about 2 min for 60000x784)
  CEBM_ARG(ood_score_options, ood) = {};
  CEBM_ARG(std::int64_t, kl_batch_size) = 1000;
  CEBM_ARG(std::int64_t, long_run_chains) = 64;
  CEBM_ARG(langevin_options, long_run) = langevin_options::cebm().steps(500);
  CEBM_ARG(std::int64_t, frechet_images) = 10000;  ///< test images the sample features are compared with
  /// Conditional sampling (models with `conditional_energy`): chains per condition (0 = skip),
  /// Langevin steps (the long run's sampler otherwise), the condition's weight β, and whether
  /// chains start from replay-buffer samples (when there is a buffer) or from the initialisation.
  CEBM_ARG(std::int64_t, conditional_chains) = 8;
  CEBM_ARG(std::int64_t, conditional_steps) = 100;
  CEBM_ARG(double, conditional_beta) = 1.0;
  CEBM_ARG(bool, conditional_from_buffer) = true;
  CEBM_ARG(std::int64_t, batch_size) = 500;  ///< feature-extraction batch
  CEBM_ARG(std::uint64_t, seed) = 0;
};

/// The data: a training and a test split of one dataset, and named OOD sets (reshaped to the
/// test set's geometry, so MNIST digits can face a 32-pixel RGB model).
struct evaluation_data {
  std::string dataset;  ///< "fashion_mnist", "mnist", "cifar10", "svhn": the published-number lookup key
  data::image_dataset train, test;
  std::vector<std::pair<std::string, data::image_dataset>> ood;
  /// OOD sets asked for but not available (an optional download that is absent): name, and why.
  /// The report lists them, so a missing set is visible rather than silently dropped.
  std::vector<std::pair<std::string, std::string>> skipped_ood;
};

/// What the evaluation needs to know about how the model was trained.
struct evaluation_context {
  std::string model;                       ///< kind, e.g. "cebm"
  data::image_transform_options input;     ///< the model's input scale (noise is set per use)
  /// n draws from the sampler's initialisation, on the CPU from the CPU generator it is given (the
  /// evaluation moves them to `device`).
  std::function<at::Tensor(std::int64_t, at::Generator&)> fresh_chains;
  at::Tensor buffer;                       ///< replay-buffer contents in the model's scale (may be undefined)
  std::shared_ptr<feature_extractor> frechet_extractor;  ///< null: no Fréchet distance
  /// An external classifier of model-scale images -> labels [B] (null: no confusion matrix of
  /// class-conditional samples).
  std::function<at::Tensor(const at::Tensor&)> classify;
  at::Device device = at::kCPU;
};

namespace detail {

template <class M, class = void>
struct has_single_family_bias : std::false_type {};
template <class M>
struct has_single_family_bias<M, std::void_t<typename M::bias_family>> : std::true_type {};

/// A model whose bias may be a learned mixture (`ConjugateEbm` with components): `is_mixture()`
/// says which, `mixture_bias()` gives it.
template <class M, class = void>
struct has_mixture_bias : std::false_type {};
template <class M>
struct has_mixture_bias<M, std::void_t<decltype(std::declval<M&>().mixture_bias()), decltype(std::declval<M&>().is_mixture())>>
    : std::true_type {};

template <class M, class = void>
struct has_conditional_energy : std::false_type {};
template <class M>
struct has_conditional_energy<
    M, std::void_t<decltype(std::declval<M&>().conditional_energy(std::declval<std::vector<clel::condition>>()))>>
    : std::true_type {};

template <class M, class = void>
struct has_energy : std::false_type {};
template <class M>
struct has_energy<M, std::void_t<decltype(std::declval<M&>().energy(std::declval<const at::Tensor&>()))>> : std::true_type {};

template <class M, class = void>
struct has_ancestral_sampler : std::false_type {};
template <class M>
struct has_ancestral_sampler<M, std::void_t<decltype(std::declval<M&>().sample(std::int64_t{1}, std::declval<at::Generator&>()))>>
    : std::true_type {};

template <class M, class = void>
struct has_ood_score : std::false_type {};
template <class M>
struct has_ood_score<M, std::void_t<decltype(std::declval<M&>().ood_score(std::declval<const at::Tensor&>()))>>
    : std::true_type {};

/// Seconds since `t0`, and reset `t0`.
inline double lap(std::chrono::steady_clock::time_point& t0) {
  const auto now = std::chrono::steady_clock::now();
  const double s = std::chrono::duration<double>(now - t0).count();
  t0 = now;
  return s;
}

inline data::image_dataset first(const data::image_dataset& d, std::int64_t n) {
  return n > 0 && n < d.size() ? d.subset(at::arange(n)) : d;
}

template <std::size_t S>
param_pack<at::Tensor, S> detached(const param_pack<at::Tensor, S>& p) {
  return transform(p, [](const at::Tensor& a) { return a.detach().cpu(); });
}
template <class F>
mixture<F, at::Tensor> detached(const mixture<F, at::Tensor>& m) {
  return {detached(m.components), m.log_weights.detach().cpu()};
}

inline nlohmann::json to_json(const few_label_result& r) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : r.rows)
    rows.push_back({{"setting", row.setting}, {"labels_per_class", row.labels_per_class}, {"mean", row.mean},
                    {"std", row.std}, {"accuracies", row.accuracies}});
  return {{"standardized", r.standardized}, {"rows", rows}};
}

inline nlohmann::json to_json(const nearest_neighbor_result& r) {
  const at::Tensor c = r.confusion.to(at::kDouble).contiguous();
  std::vector<std::vector<double>> rows(c.size(0));
  for (std::int64_t i = 0; i < c.size(0); ++i)
    for (std::int64_t j = 0; j < c.size(1); ++j) rows[i].push_back(c[i][j].item<double>());
  return {{"accuracy", r.accuracy}, {"mean_diagonal", c.diagonal().mean().item<double>()}, {"confusion", rows}};
}

inline nlohmann::json to_json(const detection_metrics& m) {
  return {{"auroc", m.auroc}, {"aupr", m.aupr}, {"fpr_at_95_tpr", m.fpr_at_95_tpr}, {"n_in", m.n_in}, {"n_out", m.n_out}};
}

inline nlohmann::json to_json(const stuck_chain_report& r) {
  return {{"fraction", r.fraction},
          {"stuck", r.stuck},
          {"total", r.total},
          {"threshold", r.threshold},
          {"noise_correlation", r.noise_correlation},
          {"data_correlation", r.data_correlation},
          {"mean_correlation", r.mean_correlation}};
}

}  // namespace detail

/// Runs every evaluation; writes the PNGs into `out_dir` and returns the report (see report.hpp).
template <class Model>
nlohmann::json evaluate(Model& model, const evaluation_data& d, const evaluation_context& ctx,
                        const evaluation_options& o, const std::string& out_dir) {
  namespace fs = std::filesystem;
  d.train.validate();
  d.test.validate();
  if (d.train.size() == 0 || d.test.size() == 0)
    throw std::invalid_argument("cebm::eval::evaluate: the training and test sets must not be empty");
  fs::create_directories(out_dir);
  const fs::path dir(out_dir);
  model->eval();
  const data::image_dataset train = detail::first(d.train, o.train_images());
  const data::image_dataset test = detail::first(d.test, o.test_images());
  const std::int64_t classes = std::max(train.labels.max().item<std::int64_t>(), test.labels.max().item<std::int64_t>()) + 1;
  auto clean = ctx.input;
  clean.noise_std(0.0);
  auto gen = at::detail::createCPUGenerator(o.seed());
  auto t0 = std::chrono::steady_clock::now();
  nlohmann::json report = {{"model", ctx.model},
                           {"dataset", d.dataset},
                           {"images", {{"train", train.size()}, {"test", test.size()}, {"classes", classes}}}};
  nlohmann::json& timing = report["seconds"];
  using M = typename Model::ContainedType;
  constexpr bool conditional = detail::has_conditional_energy<M>::value;
  constexpr bool has_energy = detail::has_energy<M>::value, ancestral = detail::has_ancestral_sampler<M>::value;
  static_assert(has_energy || detail::has_ood_score<M>::value,
                "cebm::eval::evaluate: the model needs energy(x) or ood_score(x) (see cebm/torch/eval/evaluation.hpp)");
  static_assert(has_energy || ancestral,
                "cebm::eval::evaluate: a model without energy(x) needs sample(n, gen) for its samples section");
  const int stages = conditional ? 8 : 7;
  int stage = 0;
  auto announce = [&](const std::string& what) { std::fprintf(stderr, "[evaluate %d/%d] %s\n", ++stage, stages, what.c_str()); };

  // Batched model calls over uint8 images, with a progress display.
  auto batched = [&](const at::Tensor& images, const std::string& label, auto&& fn) {
    const std::int64_t batches = (images.size(0) + o.batch_size() - 1) / o.batch_size();
    train::progress bar(batches, std::max<std::int64_t>(1, batches / 10), label);
    std::vector<at::Tensor> out;
    c10::NoGradGuard no_grad;
    for (std::int64_t s = 0, b = 0; s < images.size(0); s += o.batch_size(), ++b) {
      const at::Tensor x = data::to_model_input(images.narrow(0, s, std::min(o.batch_size(), images.size(0) - s)), clean, gen);
      out.push_back(fn(x.to(ctx.device)).detach().cpu());
      bar.update(b + 1, b + 1, "");
    }
    return at::cat(out);
  };
  auto representation = [&](const at::Tensor& x) { return model->representation(x); };
  auto cannot_take = [&](const std::string& why) {
    return std::invalid_argument("cebm::eval::evaluate: the " + ctx.model + " model cannot take the " + d.dataset + " images " +
                                 std::string(c10::str(test.images.sizes().slice(1))) + ": " + why);
  };
  try {  // one image first, so a model that cannot take this data says so in these terms
    c10::NoGradGuard no_grad;
    model->representation(data::to_model_input(test.images.narrow(0, 0, 1), clean, gen).to(ctx.device));
  } catch (const c10::Error& e) {
    throw cannot_take(e.what_without_backtrace());
  } catch (const std::invalid_argument& e) {
    throw cannot_take(e.what());
  }

  // 1. Representations.
  announce("representations of " + std::to_string(train.size()) + " training and " + std::to_string(test.size()) +
           " test images");
  const at::Tensor f_train = batched(train.images, "features", representation).to(at::kFloat);
  const at::Tensor f_test = batched(test.images, "features", representation).to(at::kFloat);
  if (!at::isfinite(f_train).all().item<bool>() || !at::isfinite(f_test).all().item<bool>())
    throw std::domain_error("cebm::eval::evaluate: the model's representations hold non-finite values");
  report["representation_dim"] = f_train.size(1);
  timing["representations"] = detail::lap(t0);

  // 2. Few-label classification.
  announce("few-label logistic regression (liblinear, C = " + std::to_string(o.few_label().classifier().C()) + ")");
  auto on_fit = [](const std::string& what) { std::fprintf(stderr, "  fit %s\n", what.c_str()); };
  nlohmann::json& few = report["few_label"];
  few["draws"] = o.few_label().draws();
  few["draw"] = o.few_label().draw() == label_draw::with_replacement ? "with replacement (published)" : "without replacement";
  auto table = [&](const at::Tensor& tr, const at::Tensor& te, bool standardize) {
    return detail::to_json(few_label_classification(tr, train.labels, te, test.labels,
                                                    few_label_options(o.few_label()).standardize(standardize), on_fit));
  };
  few["representation"] = table(f_train, f_test, false);
  few["representation_standardized"] = table(f_train, f_test, true);
  at::Tensor p_train, p_test;
  if (o.pixel_baseline()) {
    p_train = train.images.flatten(1).to(at::kFloat) / 255;
    p_test = test.images.flatten(1).to(at::kFloat) / 255;
    few["pixels"] = detail::to_json(few_label_classification(
        p_train, train.labels, p_test, test.labels, few_label_options(o.few_label()).full(o.pixel_full()), on_fit));
  }
  timing["few_label"] = detail::lap(t0);

  // 3. 1-NN with confusion matrices.
  announce("1-NN of " + std::to_string(test.size()) + " test against " + std::to_string(train.size()) + " training images");
  auto heat = [&](const nearest_neighbor_result& r, const std::string& file) {
    data::write_png((dir / file).string(), heatmap(r.confusion.to(at::kDouble)));
    return file;
  };
  const auto nn = nearest_neighbor(f_train, train.labels, f_test, test.labels, classes);
  report["nn1"]["representation"] = detail::to_json(nn);
  report["nn1"]["representation"]["image"] = heat(nn, "confusion_representation.png");
  if (o.pixel_baseline()) {
    const auto nnp = nearest_neighbor(p_train, train.labels, p_test, test.labels, classes);
    report["nn1"]["pixels"] = detail::to_json(nnp);
    report["nn1"]["pixels"]["image"] = heat(nnp, "confusion_pixels.png");
  }
  timing["nn1"] = detail::lap(t0);

  // 4. OOD detection.
  announce(has_energy ? "OOD detection: -E(x) and -|grad E(x)| with input noise " + std::to_string(o.ood().noise_std())
                      : std::string("OOD detection: the model's score s(x)"));
  auto energy = [&](const at::Tensor& x) {
    if constexpr (has_energy) return model->energy(x);
    else return model->ood_score(x);
  };
  auto scores_of = [&](const data::image_dataset& set, const std::string& name, auto&& score_energy, double noise) {
    const data::image_dataset s = detail::first(set, o.ood_images());
    if (s.size() == 0) throw std::invalid_argument("cebm::eval::evaluate: the OOD set '" + name + "' is empty");
    // Another geometry is brought to the test set's: grey <-> RGB, zero padding up, bilinear down.
    const at::Tensor images = data::reshape_images(
        s.images, data::image_transform_options{}
                      .channels(test.channels())
                      .size(test.height() == test.width() ? test.height() : 0)
                      .resize(s.height() > test.height() ? data::resize_mode::bilinear : data::resize_mode::pad));
    train::progress bar(images.size(0), o.ood().batch_size(), "scores " + name);
    return energy_scores(score_energy, images, clean, ood_score_options(o.ood()).device(ctx.device).noise_std(noise),
                         [&](std::int64_t done, std::int64_t) { bar.update(done, done, "images"); });
  };
  // Models with their own OOD score (CLEL's s(x) with a test-time β) get it too, on clean inputs.
  auto own_score = [&](const at::Tensor& x) {
    if constexpr (detail::has_ood_score<M>::value) return model->ood_score(x);
    else return model->energy(x);
  };
  ood_scores in_scores, in_own;
  if constexpr (has_energy) in_scores = scores_of(test, "in-distribution test", energy, o.ood().noise_std());
  if constexpr (detail::has_ood_score<M>::value) in_own = scores_of(test, "in-distribution test, s(x)", own_score, 0.0);
  report["ood"] = {{"noise_std", o.ood().noise_std()},
                   {"in_distribution_images", (has_energy ? in_scores : in_own).neg_energy.size(0)}};
  if constexpr (!has_energy) report["ood"]["note"] = ctx.model + " defines no density: only its own score s(x)";
  for (const auto& [name, why] : d.skipped_ood) report["ood"]["skipped"][name] = why;
  for (const auto& [name, set] : d.ood) {
    nlohmann::json& r = report["ood"]["sets"][name];
    r = {{"source", set.source}};
    if constexpr (has_energy) {
      const ood_scores out = scores_of(set, name, energy, o.ood().noise_std());
      r["images"] = out.neg_energy.size(0);
      r["logp"] = detail::to_json(detection_metrics_of(in_scores.neg_energy, out.neg_energy));
      r["grad"] = detail::to_json(detection_metrics_of(in_scores.neg_grad_norm, out.neg_grad_norm));
    }
    if constexpr (detail::has_ood_score<M>::value)
      r["model_score"] = detail::to_json(detection_metrics_of(in_own.neg_energy, scores_of(set, name + ", s(x)", own_score, 0.0).neg_energy));
  }
  timing["ood"] = detail::lap(t0);

  // 5. Aggregate posterior.
  if constexpr (detail::has_single_family_bias<M>::value) {
    using F = typename M::bias_family;
    // Fewer training images than one batch: one batch of all of them (the report gives its size).
    const std::int64_t kl_batch = std::min(o.kl_batch_size(), train.size());
    announce("aggregate posterior: KL and MI over batches of " + std::to_string(kl_batch));
    c10::NoGradGuard no_grad;
    auto rows = [&](std::int64_t start, std::int64_t count) {
      return data::to_model_input(train.images.narrow(0, start, count), clean, gen).to(ctx.device);
    };
    auto stats = [&](const at::Tensor& x) {
      return transform(model->statistics(x), [](const at::Tensor& a) { return a.detach().cpu(); });
    };
    kl_mi_estimate e;
    bool mixed = false;
    if constexpr (detail::has_mixture_bias<M>::value) {
      mixed = model->is_mixture();
      if (mixed) e = aggregate_posterior<F>(detail::detached(model->mixture_bias()), stats, train.size(), rows, kl_batch, gen);
    }
    if (!mixed) e = aggregate_posterior<F>(detail::detached(model->bias()), stats, train.size(), rows, kl_batch, gen);
    report["aggregate_posterior"] = {{"kl", e.kl},           {"mi", e.mi},       {"kl_std", e.kl_std},
                                     {"mi_std", e.mi_std},   {"batches", e.batches}, {"batch_size", e.batch_size},
                                     {"estimator", "average encoding (Esmaeili et al. 2019), one z per image"}};
    timing["aggregate_posterior"] = detail::lap(t0);
  } else {
    ++stage;
    report["aggregate_posterior"] = {{"skipped", ctx.model + " has no conjugate bias"}};
  }

  // 6. Samples: ancestral draws, or long-run chains from the initialisation and the replay buffer
  // with stuck fractions; the Fréchet distance of either.
  const auto scale = ctx.input.scale();
  // Host draws (fresh starts, buffer rows) from sample_gen; the chains' noise from a generator of
  // the model's device (the same stream on the CPU).
  auto sample_gen = at::detail::createCPUGenerator(o.seed() + 1);
  at::Generator chain_gen = ctx.device.is_cpu() ? sample_gen : make_generator(ctx.device, o.seed() + 1);
  nlohmann::json& samples = report["samples"];
  auto grid = [&](const at::Tensor& x, const std::string& file) {
    data::write_png((dir / file).string(), make_grid(data::to_pixels(x.narrow(0, 0, std::min<std::int64_t>(64, x.size(0))), scale)));
    return file;
  };
  at::Tensor long_run;
  std::string drawn = "long run";
  bool has_buffer = false;
  if constexpr (ancestral) {
    announce("samples: " + std::to_string(o.long_run_chains()) + " ancestral draws");
    c10::NoGradGuard no_grad;
    long_run = model->sample(o.long_run_chains(), chain_gen).cpu();
    drawn = "ancestral";
    samples["ancestral"] = {{"count", long_run.size(0)}, {"image", grid(long_run, "samples_ancestral.png")}};
  } else {
    announce("samples: " + std::to_string(o.long_run_chains()) + " chains, " + std::to_string(o.long_run().steps()) +
             " Langevin steps from the initialisation");
    const at::Tensor data_reference = data::to_model_input(detail::first(test, 500).images, clean, gen);
    const at::Tensor noise_reference = ctx.fresh_chains(500, sample_gen).cpu();
    {
      train::progress bar(o.long_run().steps(), std::max<std::int64_t>(1, o.long_run().steps() / 10), "long run");
      auto opts = langevin_options(o.long_run()).hook([&](langevin_step& s) { bar.update(s.step + 1, s.step + 1, ""); });
      const at::Tensor start = ctx.fresh_chains(o.long_run_chains(), sample_gen).to(ctx.device);
      long_run = langevin(energy, start, opts, chain_gen).samples.cpu();
    }
    samples["long_run"] = {{"chains", long_run.size(0)},
                           {"steps", o.long_run().steps()},
                           {"image", grid(long_run, "samples_long_run.png")},
                           {"stuck", detail::to_json(stuck_chains(long_run, noise_reference, data_reference))}};
    has_buffer = ctx.buffer.defined() && ctx.buffer.size(0) > 0;
    if (has_buffer)
      samples["buffer"] = {{"chains", ctx.buffer.size(0)},
                           {"image", grid(ctx.buffer.cpu(), "samples_buffer.png")},
                           {"stuck", detail::to_json(stuck_chains(ctx.buffer.cpu(), noise_reference, data_reference))}};
    samples["stuck_criterion"] =
        "a chain is stuck when its neighbour correlation (correlation of each pixel with its right and lower "
        "neighbours, about the image mean) is below the midpoint between that of fresh draws from the "
        "initialisation and that of test images";
  }
  if (ctx.frechet_extractor) {
    // Features of samples (model scale) and of clean test images in the same scale.
    const data::image_dataset reference = detail::first(test, o.frechet_images());
    const at::Tensor real =
        extract_features(*ctx.frechet_extractor, data::to_model_input(reference.images, clean, gen), o.batch_size());
    const gaussian_fit real_fit = fit_gaussian(real);
    nlohmann::json& fd = report["frechet"];
    fd = {{"extractor", ctx.frechet_extractor->name()}, {"reference_images", reference.size()}};
    auto distance = [&](const at::Tensor& x, const std::string& name) {
      if (x.size(0) < 2) return;
      fd["samples"][name] = {{"count", x.size(0)},
                             {"distance", frechet_distance(fit_gaussian(extract_features(*ctx.frechet_extractor, x, o.batch_size())), real_fit)}};
    };
    distance(long_run, drawn);
    if (has_buffer) distance(ctx.buffer.cpu(), "replay buffer");
    if (long_run.size(0) <= real.size(1))
      fd["note"] = "with " + std::to_string(long_run.size(0)) + " " + drawn + " samples and " + std::to_string(real.size(1)) +
                   "-d features their covariance is rank-deficient, so that distance is biased upwards";
  }
  timing["samples"] = detail::lap(t0);

  // 7. Conditional samples (App. D of the CLEL paper).
  if constexpr (conditional) {
    if (o.conditional_chains() > 0) {
      announce("conditional samples: " + std::to_string(o.conditional_chains()) + " chains per condition, " +
               std::to_string(o.conditional_steps()) + " Langevin steps, beta " + std::to_string(o.conditional_beta()));
      const bool from_buffer = o.conditional_from_buffer() && has_buffer;
      // Chains for each row of `directions` [n, d], their start, and report entries.
      auto sample = [&](const at::Tensor& directions, const std::string& label) {
        const std::int64_t k = o.conditional_chains(), n = directions.size(0);
        const at::Tensor start =
            from_buffer ? ctx.buffer.index_select(0, at::randint(ctx.buffer.size(0), {n * k}, sample_gen, at::kLong).to(ctx.buffer.device())).cpu()
                        : ctx.fresh_chains(n * k, sample_gen).cpu();
        const at::Tensor z = directions.repeat_interleave(k, 0).to(ctx.device);
        train::progress bar(o.conditional_steps(), std::max<std::int64_t>(1, o.conditional_steps() / 10), label);
        auto opts = langevin_options(o.long_run()).steps(o.conditional_steps()).hook([&](langevin_step& s) {
          bar.update(s.step + 1, s.step + 1, "");
        });
        const at::Tensor x = langevin(model->conditional_energy({{z, o.conditional_beta()}}), start.to(ctx.device), opts, chain_gen)
                                 .samples.detach();
        // Cosine of h(x) with z̄ before and after: how much of the condition the chains took on.
        auto agreement = [&](const at::Tensor& images) {
          c10::NoGradGuard no_grad;
          return at::cosine_similarity(model->representation(images.to(ctx.device)), z, 1).mean().template item<double>();
        };
        return std::tuple{start, x.cpu(), nlohmann::json{{"conditions", n},
                                                        {"chains_per_condition", k},
                                                        {"latent_cosine_start", agreement(start)},
                                                        {"latent_cosine", agreement(x)}}};
      };
      nlohmann::json& cond = report["conditional"];
      cond = {{"beta", o.conditional_beta()},
              {"steps", o.conditional_steps()},
              {"start", from_buffer ? "replay buffer" : "initialisation"}};
      // The external classifier's verdict on chains conditioned on `labels` (k chains each): the
      // fraction it labels as their condition, at the start and after, and the confusion matrix
      // (rows: the condition's label, columns: the classifier's).
      auto judge = [&](const at::Tensor& start, const at::Tensor& x, const std::vector<std::int64_t>& labels,
                       at::Tensor* confusion_out = nullptr) {
        const at::Tensor target = at::tensor(labels, at::kLong).repeat_interleave(o.conditional_chains());
        auto confusion_of = [&](const at::Tensor& images) {
          c10::NoGradGuard no_grad;
          const at::Tensor predicted = ctx.classify(images.to(ctx.device)).cpu().to(at::kLong);
          at::Tensor m = at::zeros({classes, classes}, at::kDouble);
          m.index_put_({target, predicted}, at::ones({target.size(0)}, at::kDouble), /*accumulate=*/true);
          return m;
        };
        const at::Tensor m = confusion_of(x), m0 = confusion_of(start);
        auto agreement = [&](const at::Tensor& mm) { return mm.diagonal().sum().item<double>() / target.size(0); };
        std::vector<std::vector<double>> table(classes);
        for (std::int64_t i = 0; i < classes; ++i)
          for (std::int64_t j = 0; j < classes; ++j) table[i].push_back(m[i][j].item<double>());
        if (confusion_out) *confusion_out = m;
        return nlohmann::json{{"accuracy", agreement(m)}, {"accuracy_start", agreement(m0)}, {"confusion", table}};
      };
      // Instance-conditional: the first test image of each class, in its row before its chains.
      std::vector<std::int64_t> refs;
      for (std::int64_t c = 0; c < classes; ++c) {
        const at::Tensor hit = (test.labels == c).nonzero();
        if (hit.size(0) > 0) refs.push_back(hit[0][0].item<std::int64_t>());
      }
      const at::Tensor ref_idx = at::tensor(refs, at::kLong);
      auto [inst_start, inst, inst_json] = sample(clel::unit_directions(f_test.index_select(0, ref_idx)), "instance-conditional");
      const std::int64_t k = o.conditional_chains();
      const at::Tensor ref_images = data::to_model_input(test.images.index_select(0, ref_idx), clean, gen);
      const at::Tensor rows = at::cat({ref_images.unsqueeze(1), inst.view({ref_idx.size(0), k, inst.size(1), inst.size(2), inst.size(3)})}, 1);
      data::write_png((dir / "samples_instance_conditional.png").string(), make_grid(data::to_pixels(rows.flatten(0, 1), scale), k + 1));
      inst_json["image"] = "samples_instance_conditional.png";
      std::vector<std::int64_t> ref_labels;
      for (std::int64_t r : refs) ref_labels.push_back(test.labels[r].item<std::int64_t>());
      inst_json["reference_labels"] = ref_labels;
      if (ctx.classify) inst_json["classifier"] = judge(inst_start, inst, ref_labels);
      cond["instance"] = inst_json;

      // Class-conditional: z̄_c = the mean direction of class c's training representations.
      std::vector<at::Tensor> directions;
      std::vector<std::int64_t> present;
      for (std::int64_t c = 0; c < classes; ++c) {
        const at::Tensor members = (train.labels == c).nonzero().view(-1);
        if (members.size(0) == 0) continue;
        directions.push_back(clel::mean_direction(f_train.index_select(0, members)));
        present.push_back(c);
      }
      auto [cls_start, cls, cls_json] = sample(at::stack(directions), "class-conditional");
      data::write_png((dir / "samples_class_conditional.png").string(), make_grid(data::to_pixels(cls, scale), k));
      cls_json["image"] = "samples_class_conditional.png";
      cls_json["classes"] = present;
      if (ctx.classify) {
        at::Tensor confusion;
        cls_json["classifier"] = judge(cls_start, cls, present, &confusion);
        data::write_png((dir / "confusion_class_conditional.png").string(), heatmap(confusion / confusion.sum(1, true).clamp_min(1)));
        cls_json["classifier"]["image"] = "confusion_class_conditional.png";
      }
      cond["class"] = cls_json;
      timing["conditional"] = detail::lap(t0);
    }
  }

  // 8. Embedding.
  announce("PCA embedding of test representations");
  const pca_result p = pca(f_test, 2);
  data::write_png((dir / "embedding_pca.png").string(), scatter(p.projection, test.labels));
  const at::Tensor variance = p.explained_variance.to(at::kCPU, at::kDouble).contiguous();
  report["embedding"] = {{"method", "pca"}, {"image", "embedding_pca.png"},
                         {"explained_variance", std::vector<double>(variance.data_ptr<double>(),
                                                                    variance.data_ptr<double>() + variance.numel())}};
  timing["embedding"] = detail::lap(t0);
  return report;
}

}  // namespace cebm::eval
