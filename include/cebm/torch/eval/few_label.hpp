#pragma once
/// @file
/// The few-label classification protocol of the CEBM paper (Wu, Esmaeili et al., ICML 2021,
/// Tables 1–2; reference notes §2): a representation is scored by how well a linear classifier
/// trained on a few labelled examples predicts the test labels.
///
///   for n in labels_per_class (paper: 1, 10, 100):
///     for d in 1..draws (paper: 10):
///       S_d ← n training indices per class                      (detail::draw_labelled)
///       a_d ← accuracy on the whole test set of logistic_regression::fit(features[S_d], labels[S_d])
///     report mean_d a_d and the population std (ddof 0, numpy's default)
///   "full": one fit on every training example.
///
/// The classifier is liblinear's one-vs-rest logistic regression with C = 1 (logistic_regression.hpp).
/// Subsets come from one CPU generator seeded with `seed`, consumed in the order above. The
/// paper-era code drew each class's n indices with np.random.choice(class_size, n), i.e. *with
/// replacement* (label_draw::with_replacement, the default), so a subset may repeat an example;
/// the later refactor took a per-class randperm (label_draw::without_replacement). numpy's draws
/// themselves cannot be reproduced here, only their distribution.
///
/// Optional standardisation (off by default, as in the paper): z-score every feature dimension with
/// the mean and population std of ALL training features, the unlabelled pool a semi-supervised
/// user holds, and apply the same map to the training and test features; constant dimensions are
/// only centred. Why: the penalty ½‖w‖² with C = 1 is not scale invariant. CEBM's posterior means
/// μ = t₁/(1 + 2r²) are small, so with n·K labelled points the data term is weak next to the
/// penalty and the fitted classifier is nearly the prior; rescaling the features changes the
/// accuracy without changing the representation. Standardising reports a number that is
/// invariant to per-dimension scale; leave it off to compare with the published tables.
#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "cebm/config.hpp"
#include "cebm/core/arg.hpp"
#include "cebm/torch/eval/logistic_regression.hpp"

namespace cebm::eval {

enum class label_draw {
  with_replacement,     ///< paper-era code: np.random.choice(class_size, n) per class
  without_replacement,  ///< later code: the first n of a per-class randperm
};

struct few_label_options {
  CEBM_ARG(std::vector<std::int64_t>, labels_per_class) = {1, 10, 100};
  CEBM_ARG(std::int64_t, draws) = 10;  ///< subsets per n
  CEBM_ARG(bool, full) = true;         ///< add the fit on every training example
  CEBM_ARG(label_draw, draw) = label_draw::with_replacement;
  CEBM_ARG(std::uint64_t, seed) = 0;
  CEBM_ARG(bool, standardize) = false;
  CEBM_ARG(logistic_regression_options, classifier) = {};
};

struct few_label_row {
  std::string setting;                ///< "1", "10", "100", …, "full"
  std::int64_t labels_per_class = 0;  ///< 0 for "full"
  std::vector<double> accuracies;     ///< one per draw ("full": one)
  double mean = 0, std = 0;           ///< std is the population std (ddof 0)
};

struct few_label_result {
  bool standardized = false;
  std::vector<few_label_row> rows;
};

namespace detail {

/// Training indices [n · K] (int64): n for each of classes [K] in the given order, taken uniformly
/// from that class's rows of labels [N] (ascending row order, as np.where) with or without
/// replacement.
CEBM_INLINE at::Tensor draw_labelled(const at::Tensor& labels, std::int64_t n, const at::Tensor& classes, label_draw draw,
                                at::Generator& gen);

/// x ↦ (x − mean) / scale per dimension, with the mean and population std of the features it was
/// made from; scale = 1 where a dimension is constant (max = min), so those are only centred.
struct standardization {
  at::Tensor mean, scale;  ///< [D], double

  static standardization of(const at::Tensor& features) {
    const at::Tensor x = features.detach().to(at::kDouble);
    standardization s;
    s.mean = x.mean(0);
    const at::Tensor std = (x - s.mean).pow(2).mean(0).sqrt();
    s.scale = at::where(x.amax(0) > x.amin(0), std, at::ones_like(std));
    return s;
  }
  /// Keeps the floating type of the input.
  at::Tensor apply(const at::Tensor& features) const {
    const at::ScalarType t = features.scalar_type();
    return (features - mean.to(features.device(), t)) / scale.to(features.device(), t);
  }
};

/// Population (ddof 0) mean and std.
CEBM_INLINE std::pair<double, double> mean_and_std(const std::vector<double>& a);

}  // namespace detail

/// Runs the protocol on precomputed features: train [N, D] with integer labels [N] (the pool the
/// subsets come from) and test [M, D] with labels [M]. Classes are the distinct training labels;
/// every test label must be one of them. on_fit, if given, receives a short description before
/// each fit (for a progress display).
CEBM_INLINE few_label_result few_label_classification(const at::Tensor& train_features, const at::Tensor& train_labels,
                                                 const at::Tensor& test_features, const at::Tensor& test_labels,
                                                 const few_label_options& options = {},
                                                 const std::function<void(const std::string&)>& on_fit = {});

}  // namespace cebm::eval

#if !defined(CEBM_COMPILED)  // header-only: the definitions here (config.hpp)
#include "cebm/torch/eval/few_label_impl.hpp"
#endif
