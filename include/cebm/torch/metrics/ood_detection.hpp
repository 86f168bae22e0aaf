#pragma once
/// @file
/// Out-of-distribution detection: the threshold-free metrics of the papers' OOD tables and the two
/// score functions of a model given by its energy.
///
/// Convention, everywhere: a HIGHER score means MORE in-distribution, and the in-distribution set is
/// the positive class (label 1), as the published code (sklearn `roc_auc_score` with in-dist = 1,
/// score −E or −‖∇ₓE‖). Flipping either convention turns AUROC into 1 − AUROC.
///
/// With in-scores a₁…a_m and OOD scores b₁…b_n:
///
///   AUROC      = (1/mn) Σᵢ Σⱼ ( [aᵢ > bⱼ] + ½ [aᵢ = bⱼ] )
///                the Mann–Whitney U / (m·n): the probability that a random in-sample outscores a
///                random OOD sample, ties counted ½. Computed by a sweep over sorted distinct scores,
///                O((m+n) log(m+n)), with U held exactly as a count of half-pairs.
///   AUPR       = Σ_k (R_k − R_{k−1}) P_k   (average precision, in-distribution positive)
///                over the distinct scores t_k taken as thresholds from the highest down, with
///                P_k = #{a ≥ t_k} / #{a, b ≥ t_k} and R_k = #{a ≥ t_k} / m: no interpolation, and all
///                samples sharing a score enter at one threshold
///                (sklearn.metrics.average_precision_score).
///   FPR@TPR    = #{ j : bⱼ ≥ τ } / n  with  τ = max{ t : #{ i : aᵢ ≥ t } / m ≥ tpr }
///                the fraction of OOD samples accepted when the threshold keeps at least `tpr` of the
///                in-distribution samples; τ is the ⌈tpr·m⌉-th largest in-score (the ratio is compared
///                in double, so tpr = 0.95 with m = 100 needs exactly 95 in-samples). This is the
///                first point of sklearn's `roc_curve` (drop_intermediate=False) whose TPR reaches tpr.
///
/// Scores may be any real dtype and device; they are read once into host doubles. ±∞ are ordinary
/// (extreme) scores; NaN is refused, always, with the count and the set named: a NaN energy must
/// never turn into a plausible-looking AUROC.
///
/// Score functions (`energy_scores`), from the CEBM evaluation (`old:cebm/eval.py`): each image is
/// mapped to the model's scale plus N(0, 0.01²) noise, then
///   s_logp(x) = −E(x)            (log p̃(x) up to the constant log Z)
///   s_grad(x) = −‖∇ₓE(x)‖₂       (over the flattened image)
/// Reference: Wu, Esmaeili et al., "Conjugate Energy-Based Models", ICML 2021, §5 (OOD); Grathwohl
/// et al., "Your classifier is secretly an energy based model", ICLR 2020 (the gradient-norm score).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>

#include "cebm/config.hpp"
#include "cebm/core/arg.hpp"
#include "cebm/torch/data/transforms.hpp"

namespace cebm::eval {

namespace detail {

/// One distinct score and how many samples of each set carry it.
struct score_level {
  double score;
  std::int64_t in, out;
};

/// Host copy of a 1-D score tensor, after the boundary checks.
CEBM_INLINE std::vector<double> host_scores(const at::Tensor& s, const char* where, const char* set);

/// The distinct scores of both sets, highest first, with their counts per set.
CEBM_INLINE std::vector<score_level> score_levels(const at::Tensor& in_scores, const at::Tensor& out_scores,
                                             const char* where);

CEBM_INLINE double auroc_of(const std::vector<score_level>& levels, std::int64_t n_in, std::int64_t n_out);

CEBM_INLINE double average_precision_of(const std::vector<score_level>& levels, std::int64_t n_in);

CEBM_INLINE double fpr_at_tpr_of(const std::vector<score_level>& levels, std::int64_t n_in, std::int64_t n_out, double tpr);

CEBM_INLINE void check_tpr(double tpr, const char* where);

}  // namespace detail

/// Area under the ROC curve, in-distribution positive: U / (n_in·n_out) with ties counted ½.
CEBM_INLINE double auroc(const at::Tensor& in_scores, const at::Tensor& out_scores);

/// Average precision (AUPR-in), with sklearn's `average_precision_score` semantics.
CEBM_INLINE double average_precision(const at::Tensor& in_scores, const at::Tensor& out_scores);

/// Fraction of OOD samples scored ≥ τ, where τ is the largest score such that at least `tpr` of the
/// in-distribution samples score ≥ τ (see the file comment). `tpr` ∈ (0, 1].
CEBM_INLINE double fpr_at_tpr(const at::Tensor& in_scores, const at::Tensor& out_scores, double tpr = 0.95);

struct detection_metrics {
  double auroc = 0, aupr = 0, fpr_at_95_tpr = 0;
  std::int64_t n_in = 0, n_out = 0;
};

/// AUROC, AUPR-in and FPR@95%TPR from one sort.
CEBM_INLINE detection_metrics detection_metrics_of(const at::Tensor& in_scores, const at::Tensor& out_scores);

struct ood_score_options {
  /// Std of the Gaussian noise added in the model's scale (CEBM's evaluation: 0.01 on [−1, 1]).
  CEBM_ARG(double, noise_std) = 0.01;
  CEBM_ARG(std::int64_t, batch_size) = 500;
  /// Seeds the CPU generator that draws the noise (and any dequantisation of the transform).
  CEBM_ARG(std::uint64_t, seed) = 0;
  /// Where the energy runs.
  CEBM_ARG(at::Device, device) = at::Device(at::kCPU);
};

struct ood_scores {
  at::Tensor neg_energy;     ///< [N] double, CPU: −E(x)
  at::Tensor neg_grad_norm;  ///< [N] double, CPU: −‖∇ₓE(x)‖₂
};

/// Both OOD scores of every image of `images_uint8` [N, C, H, W] under `energy`.
///
/// `Energy` must be callable as `energy(x) -> at::Tensor` with x [B, C', H', W'] floating (the
/// model's input: `input`'s geometry, scale and dtype, on `options.device()`) and the result [B],
/// one energy per image, differentiable in x. Sample i's energy must depend on image i only (no
/// batch-norm in train mode, no batch-level terms): the per-image gradients are then those of
/// ΣᵢE(xᵢ), taken with `torch::autograd::grad` with respect to x only, so parameter `.grad`s are
/// never touched. Train/eval mode is the caller's to set.
///
/// Batches are converted on the host by `data::to_model_input` with `input`'s options except its
/// noise, which is `options.noise_std()`, drawn from one CPU generator seeded with
/// `options.seed()` batch after batch: the scores are reproducible for a given seed and batch
/// size, and do not depend on the device. With noise 0 (and no dequantisation) they do not depend
/// on the batch size either. `on_batch(done, total)` is called after each batch.
///
/// Throws std::invalid_argument for an empty or malformed image set or energy output, and
/// std::domain_error naming the batch when an energy or a gradient is not finite.
template <class Energy>
ood_scores energy_scores(Energy&& energy, const at::Tensor& images_uint8, const data::image_transform_options& input,
                         const ood_score_options& options = {},
                         const std::function<void(std::int64_t done, std::int64_t total)>& on_batch = {}) {
  static_assert(std::is_invocable_r_v<at::Tensor, Energy&, const at::Tensor&>,
                "cebm::eval::energy_scores: Energy must be callable as energy(x) -> at::Tensor, one energy per "
                "image (see the documentation of energy_scores in cebm/torch/metrics/ood_detection.hpp)");
  constexpr const char* where = "cebm::eval::energy_scores";
  if (!images_uint8.defined() || images_uint8.dim() != 4 || images_uint8.scalar_type() != at::kByte)
    throw std::invalid_argument(std::string(where) + ": expected uint8 images [N, C, H, W], got " +
                                (images_uint8.defined() ? std::string(c10::str(images_uint8.sizes())) + " " +
                                                              c10::toString(images_uint8.scalar_type())
                                                        : std::string("an undefined tensor")));
  const std::int64_t n = images_uint8.size(0);
  if (n == 0) throw std::invalid_argument(std::string(where) + ": the image set is empty");
  if (options.batch_size() <= 0)
    throw std::invalid_argument(std::string(where) + ": batch_size must be positive, got " +
                                std::to_string(options.batch_size()));
  if (!(options.noise_std() >= 0))
    throw std::invalid_argument(std::string(where) + ": noise_std must be >= 0, got " +
                                std::to_string(options.noise_std()));

  c10::AutoGradMode grad_on(true);  // the gradient score needs autograd even under a caller's NoGradGuard
  at::Generator gen = at::detail::createCPUGenerator(options.seed());
  const data::image_transform_options transform = data::image_transform_options(input).noise_std(options.noise_std());
  const auto host = at::TensorOptions().dtype(at::kDouble).device(at::kCPU);
  ood_scores s{at::empty({n}, host), at::empty({n}, host)};

  for (std::int64_t start = 0, batch = 0; start < n; start += options.batch_size(), ++batch) {
    const std::int64_t b = std::min(options.batch_size(), n - start);
    const at::Tensor pixels = images_uint8.narrow(0, start, b).to(at::kCPU);
    const at::Tensor x = data::to_model_input(pixels, transform, gen).to(options.device()).detach().requires_grad_(true);
    const at::Tensor e = energy(x);
    if (!e.defined() || e.dim() != 1 || e.size(0) != b)
      throw std::invalid_argument(std::string(where) + ": the energy must return one value per image, shape [" +
                                  std::to_string(b) + "], got " +
                                  (e.defined() ? std::string(c10::str(e.sizes())) : std::string("an undefined tensor")));
    at::Tensor g = torch::autograd::grad({e.sum()}, {x}, /*grad_outputs=*/{}, /*retain_graph=*/false,
                                         /*create_graph=*/false, /*allow_unused=*/true)[0];
    const at::Tensor energies = e.detach().to(at::kCPU, at::kDouble);
    // The norm in double: a float norm of finite, very large gradients could overflow to ∞.
    const at::Tensor norms = g.defined() ? g.reshape({b, -1}).to(at::kDouble).norm(2, 1).to(at::kCPU)
                                         : at::zeros({b}, host);  // an energy that ignores x

    auto refuse_nonfinite = [&](const at::Tensor& v, const char* what) {
      const at::Tensor bad = at::isfinite(v).logical_not();
      const std::int64_t count = bad.sum().item<std::int64_t>();
      if (count == 0) return;
      const std::int64_t first = start + bad.nonzero().select(1, 0)[0].item<std::int64_t>();
      throw std::domain_error(std::string(where) + ": batch " + std::to_string(batch) + " (images " +
                              std::to_string(start) + " to " + std::to_string(start + b - 1) + "): " +
                              std::to_string(count) + " of " + std::to_string(b) + " " + what +
                              " not finite (first: image " + std::to_string(first) + ", value " +
                              std::to_string(v[first - start].item<double>()) + ")");
    };
    refuse_nonfinite(energies, "energies are");
    refuse_nonfinite(norms, "energy gradients are");

    s.neg_energy.narrow(0, start, b).copy_(-energies);
    s.neg_grad_norm.narrow(0, start, b).copy_(-norms);
    if (on_batch) on_batch(start + b, n);
  }
  return s;
}

}  // namespace cebm::eval

#if !defined(CEBM_COMPILED)  // header-only: the definitions here (config.hpp)
#include "cebm/torch/metrics/ood_detection_impl.hpp"
#endif
