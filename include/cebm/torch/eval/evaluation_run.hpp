#pragma once
/// @file
/// What the sections of `evaluate` (evaluation.hpp) share: the options, the data, what the
/// evaluation knows of the training (context), the model as functions (`evaluated_model`) and
/// `evaluation_run`, the state one evaluation carries from section to section (the images used,
/// features, samples, the report). Each section (sections/*.hpp) is one function
/// `section(evaluation_run&)` that adds its keys to the report.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/grad_mode.h>

#include "cebm/core/arg.hpp"
#include "cebm/sampling/langevin_options.hpp"
#include "cebm/torch/clel/conditional_energy.hpp"
#include "cebm/torch/data/class_names.hpp"
#include "cebm/torch/data/image_dataset.hpp"
#include "cebm/torch/io/png.hpp"
#include "cebm/torch/data/transforms.hpp"
#include "cebm/torch/eval/aggregate_posterior.hpp"
#include "cebm/torch/eval/few_label.hpp"
#include "cebm/torch/eval/frechet.hpp"
#include "cebm/torch/eval/plot.hpp"
#include "cebm/torch/eval/stuck_chains.hpp"
#include "cebm/torch/io/image_grid.hpp"
#include "cebm/torch/metrics/nearest_neighbor.hpp"
#include "cebm/torch/metrics/ood_detection.hpp"
#include "cebm/torch/precision/precision_policy.hpp"

namespace cebm::eval {

/// What `evaluate` runs: every section, or a point of a learning curve (representations, few-label
/// and the replay buffer's stuck fraction, writing no files).
enum class evaluation_scope { full, learning_curve_point };

struct evaluation_options {
  CEBM_ARG(evaluation_scope, scope) = evaluation_scope::full;
  CEBM_ARG(std::int64_t, train_images) = 0;  ///< training images used (features, few-label, 1-NN, KL/MI); 0 = all
  CEBM_ARG(std::int64_t, test_images) = 0;   ///< test images used; 0 = all
  CEBM_ARG(std::int64_t, ood_images) = 0;    ///< images per OOD set and of the in-distribution test set; 0 = as many as the test images used
  CEBM_ARG(few_label_options, few_label) = {};
  CEBM_ARG(bool, pixel_baseline) = true;     ///< few-label and 1-NN on [0, 1] pixels too
  CEBM_ARG(bool, pixel_full) = true;         ///< the pixel baseline's full-set fit (about 2 min for 60000x784)
  CEBM_ARG(ood_score_options, ood) = {};
  CEBM_ARG(std::int64_t, kl_batch_size) = 1000;
  /// KL/MI of the aggregate posterior: stratified (MI up to log N, the default) or batch (up to log B).
  CEBM_ARG(aggregate_estimator, kl_estimator) = aggregate_estimator::stratified;
  CEBM_ARG(std::int64_t, long_run_chains) = 64;
  CEBM_ARG(langevin_options, long_run) = langevin_options::cebm().steps(500);
  /// 0: one long run of `long_run` from the initialisation. R > 0: R rounds, each restarting every
  /// chain from the initialisation with probability `round_restart`, applying the context's
  /// augmentation (if any), then `long_run` (CLEL's published sampling for FID: 10 rounds of 0.1%
  /// restarts, the strong augmentation and 60 steps, from U[0, 1]).
  CEBM_ARG(std::int64_t, long_run_rounds) = 0;
  CEBM_ARG(double, round_restart) = 0.001;
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
  /// What labels 0, 1, … stand for, in the plots; empty: `data::class_names(dataset, classes)`.
  std::vector<std::string> class_names;
};

/// What an evaluation tells its caller while it runs (any may be empty; the library prints
/// nothing): lines such as each stage as it starts ("[evaluate 2/7] few-label …") or each
/// classifier fit, the progress of its long loops, and what it computed on the way that a caller
/// may log (TensorBoard's projector and PR curves): the test images' representations (CPU float
/// [N, D]) with their labels and uint8 images, and each OOD set's scores beside the
/// in-distribution test set's (higher = more in-distribution) under each score's name.
struct evaluation_reporter {
  std::function<void(const std::string& line)> message;
  std::function<void(const std::string& label, std::int64_t done, std::int64_t total)> progress;
  std::function<void(const at::Tensor& features, const at::Tensor& labels, const at::Tensor& images)> representations;
  std::function<void(const std::string& score, const std::string& set, const at::Tensor& in, const at::Tensor& out)> ood_scores;
};

/// What the evaluation needs to know about how the model was trained.
struct evaluation_context {
  std::string model;                       ///< kind, e.g. "cebm"
  data::image_transform_options input;     ///< the model's input scale (noise is set per use)
  /// n draws from the sampler's initialisation, on the CPU from the CPU generator it is given (the
  /// evaluation moves them to `device`).
  std::function<at::Tensor(std::int64_t, at::Generator&)> fresh_chains;
  at::Tensor buffer;                       ///< replay-buffer contents in the model's scale (may be undefined)
  /// Applied to the chains at the start of every round of a long run in rounds (CLEL's
  /// augmentation; may be empty).
  std::function<at::Tensor(const at::Tensor&, at::Generator&)> augmentation;
  std::shared_ptr<feature_extractor> frechet_extractor;  ///< null: no Fréchet distance
  /// An external classifier of model-scale images -> labels [B] (null: no confusion matrix of
  /// class-conditional samples).
  std::function<at::Tensor(const at::Tensor&)> classify;
  at::Device device = at::kCPU;
  /// What the model's networks compute in (precision/precision_policy.hpp): representations,
  /// energies, scores and samples; the fits, distances and metrics stay float32.
  precision_mode precision = precision_mode::fp32;
  evaluation_reporter reporter;            ///< where stages and progress go (nowhere by default)
};

namespace detail {

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

/// "73.2%" of 0.732 (one decimal, unlike samples.hpp's "%g%%").
inline std::string percent_fixed(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * fraction);
  return buf;
}

inline data::image_dataset first(const data::image_dataset& d, std::int64_t n) {
  return n > 0 && n < d.size() ? d.subset(at::arange(n)) : d;
}

inline nlohmann::json to_json(const few_label_result& r) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : r.rows)
    rows.push_back({{"setting", row.setting}, {"labels_per_class", row.labels_per_class}, {"mean", row.mean},
                    {"std", row.std}, {"accuracies", row.accuracies}});
  return {{"standardized", r.standardized}, {"rows", rows}};
}

/// The rows of a matrix (any device and dtype), for JSON.
inline std::vector<std::vector<double>> rows_of(const at::Tensor& m) {
  const at::Tensor c = m.to(at::kCPU, at::kDouble).contiguous();
  std::vector<std::vector<double>> rows(c.size(0));
  for (std::int64_t i = 0; i < c.size(0); ++i) rows[i].assign(c[i].data_ptr<double>(), c[i].data_ptr<double>() + c.size(1));
  return rows;
}

inline nlohmann::json to_json(const nearest_neighbor_result& r) {
  return {{"accuracy", r.accuracy},
          {"mean_diagonal", r.confusion.to(at::kCPU, at::kDouble).diagonal().mean().item<double>()},
          {"confusion", rows_of(r.confusion)}};
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


/// The model as the evaluation sees it: what it computes, as functions; an empty one is what the
/// model does not have. `evaluate` (evaluation.hpp) builds it from a model's member functions, so
/// the evaluation itself is compiled once for every model.
struct evaluated_model {
  std::function<at::Tensor(const at::Tensor& x)> representation;  ///< φ(x), [B, D] (required)
  std::function<at::Tensor(const at::Tensor& x)> energy;          ///< E(x), [B]
  std::function<at::Tensor(const at::Tensor& x)> ood_score;       ///< the model's own OOD score s(x), [B]
  std::function<at::Tensor(std::int64_t n, at::Generator& gen)> sample;  ///< n ancestral draws (VAE, BIGAN)
  /// x ↦ E(x | conditions) of a latent-variable EBM (CLEL's spherical EBM).
  std::function<std::function<at::Tensor(const at::Tensor&)>(const std::vector<clel::condition>&)> conditional_energy;
  aggregate_posterior_function aggregate_posterior;  ///< KL/MI of a conjugate bias
};

/// `m` with every network call (representation, energy, OOD score, samples, conditional energies)
/// under `policy`, its outputs in float32; `m` itself in fp32 mode. The aggregate posterior's KL/MI
/// stays float32.
inline evaluated_model under_precision(evaluated_model m, const precision_policy& policy) {
  if (policy.mode() == precision_mode::fp32) return m;
  using function = std::function<at::Tensor(const at::Tensor&)>;
  auto wrap = [policy](function f) -> function {
    if (!f) return f;
    return [policy, f](const at::Tensor& x) { return policy.forward([&] { return f(x); }); };
  };
  m.representation = wrap(m.representation);
  m.energy = wrap(m.energy);
  m.ood_score = wrap(m.ood_score);
  if (m.sample)
    m.sample = [policy, s = m.sample](std::int64_t n, at::Generator& gen) { return policy.forward([&] { return s(n, gen); }); };
  if (m.conditional_energy)
    m.conditional_energy = [wrap, c = m.conditional_energy](const std::vector<clel::condition>& conditions) {
      return wrap(c(conditions));
    };
  return m;
}

/// One evaluation in progress: what every section reads and what earlier sections leave for later
/// ones.
struct evaluation_run {
  evaluation_run(const evaluated_model& m, const evaluation_data& d, const evaluation_context& c,
                 const evaluation_options& opts, const std::string& out_dir)
      : model(under_precision(m, precision_policy(c.precision, c.device))), data(d), ctx(c), o(opts), dir(out_dir),
        train(detail::first(d.train, opts.train_images())), test(detail::first(d.test, opts.test_images())),
        clean(c.input), gen(at::detail::createCPUGenerator(opts.seed())),
        stages(opts.scope() == evaluation_scope::learning_curve_point ? 3 : m.conditional_energy ? 8 : 7) {
    clean.noise_std(0.0);
    classes = std::max(train.labels.max().template item<std::int64_t>(), test.labels.max().template item<std::int64_t>()) + 1;
    if (!d.class_names.empty() && static_cast<std::int64_t>(d.class_names.size()) != classes)
      throw std::invalid_argument("cebm::eval::evaluate: evaluation_data::class_names has " +
                                  std::to_string(d.class_names.size()) + " names, the labels have " + std::to_string(classes) +
                                  " classes");
    class_names = d.class_names.empty() ? data::class_names(d.dataset, classes) : d.class_names;
    report = {{"model", ctx.model},
              {"dataset", d.dataset},
              {"images", {{"train", train.size()}, {"test", test.size()}, {"classes", classes}}}};
  }

  const evaluated_model model;  ///< the model's functions under the context's precision (under_precision)
  const evaluation_data& data;
  const evaluation_context& ctx;
  const evaluation_options& o;
  std::filesystem::path dir;
  data::image_dataset train, test;       ///< the images used (the options' first N)
  std::int64_t classes = 0;
  std::vector<std::string> class_names;  ///< of labels 0 … classes − 1, for the plots
  data::image_transform_options clean;   ///< the model's input convention without noise
  at::Generator gen;                     ///< CPU: dequantisation and host draws
  at::Tensor f_train, f_test;            ///< representations (float, CPU)
  at::Tensor p_train, p_test;            ///< [0, 1] pixels, with the pixel baseline
  at::Tensor samples;                    ///< the samples section's draws (CPU, model scale)
  std::string samples_name = "long run";
  bool has_buffer = false;               ///< a non-empty replay buffer was evaluated
  nlohmann::json report;

  /// Model inputs (CPU) of uint8 images, without noise.
  at::Tensor model_input(const at::Tensor& images) { return data::to_model_input(images, clean, gen); }

  /// The next stage starts: told to the reporter as "[evaluate i/n] what".
  void announce(const std::string& what) {
    ++stage;
    tell("[evaluate " + std::to_string(stage) + "/" + std::to_string(stages) + "] " + what);
  }
  void tell(const std::string& line) const {
    if (ctx.reporter.message) ctx.reporter.message(line);
  }
  /// A stage that does not apply to this model still counts.
  void skip_stage() { ++stage; }
  void progress(const std::string& label, std::int64_t done, std::int64_t total) const {
    if (ctx.reporter.progress) ctx.reporter.progress(label, done, total);
  }
  /// The seconds since the last call (or the start) as report["seconds"][section].
  void timed(const std::string& section) {
    const auto now = std::chrono::steady_clock::now();
    report["seconds"][section] = std::chrono::duration<double>(now - t0).count();
    t0 = now;
  }

  /// `fn` over uint8 images in batches of the options' size (no grad; results on the CPU).
  template <class Fn>
  at::Tensor batched(const at::Tensor& images, const std::string& label, Fn&& fn) {
    const std::int64_t batches = (images.size(0) + o.batch_size() - 1) / o.batch_size();
    std::vector<at::Tensor> out;
    c10::NoGradGuard no_grad;
    for (std::int64_t s = 0, b = 0; s < images.size(0); s += o.batch_size(), ++b) {
      const at::Tensor x = model_input(images.narrow(0, s, std::min(o.batch_size(), images.size(0) - s)));
      out.push_back(fn(x.to(ctx.device)).detach().cpu());
      progress(label, b + 1, batches);
    }
    return at::cat(out);
  }

  /// A PNG grid of the first 64 images (model scale) in the output folder; returns its file name.
  std::string grid(const at::Tensor& x, const std::string& file, std::int64_t columns = 0) {
    const at::Tensor shown = columns > 0 ? x : x.narrow(0, 0, std::min<std::int64_t>(64, x.size(0)));
    const at::Tensor pixels = data::to_pixels(shown, ctx.input.scale());
    data::write_png((dir / file).string(), columns > 0 ? make_grid(pixels, columns) : make_grid(pixels));
    return file;
  }
  /// A heat map of a classes × classes matrix (rows: what the images are, columns: what they were
  /// taken for) in the output folder, its rows and columns named by class; returns its file name.
  std::string heat(const at::Tensor& matrix, const std::string& file, const std::string& title,
                   const std::string& row_title = "true class", const std::string& column_title = "predicted class") {
    data::write_png((dir / file).string(), heatmap(matrix.to(at::kDouble), heatmap_options{}
                                                                                .title(title)
                                                                                .row_title(row_title)
                                                                                .column_title(column_title)
                                                                                .class_names(class_names)));
    return file;
  }

 private:
  int stage = 0, stages;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
};

}  // namespace cebm::eval
