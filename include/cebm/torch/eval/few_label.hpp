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
inline at::Tensor draw_labelled(const at::Tensor& labels, std::int64_t n, const at::Tensor& classes, label_draw draw,
                                at::Generator& gen) {
  constexpr const char* where = "cebm::eval::few_label_classification";
  if (labels.dim() != 1 || classes.dim() != 1)
    throw std::invalid_argument(std::string(where) + ": labels and classes must be vectors, got " +
                                std::string(c10::str(labels.sizes())) + " and " + std::string(c10::str(classes.sizes())));
  if (n < 1) throw std::invalid_argument(std::string(where) + ": labels per class must be >= 1, got " + std::to_string(n));
  const at::Tensor l = labels.detach().cpu().to(at::kLong), c = classes.detach().cpu().to(at::kLong);
  const auto index = at::TensorOptions().dtype(at::kLong);
  std::vector<at::Tensor> picked;
  for (std::int64_t k = 0; k < c.size(0); ++k) {
    const std::int64_t cls = c[k].item<std::int64_t>();
    const at::Tensor members = at::nonzero(l == cls).view({-1});
    const std::int64_t size = members.size(0);
    if (size == 0)
      throw std::invalid_argument(std::string(where) + ": class " + std::to_string(cls) + " has no training examples");
    if (draw == label_draw::without_replacement && size < n)
      throw std::invalid_argument(std::string(where) + ": class " + std::to_string(cls) + " has " +
                                  std::to_string(size) + " training examples, fewer than the " + std::to_string(n) +
                                  " to draw without replacement");
    const at::Tensor pos = draw == label_draw::with_replacement ? at::randint(size, {n}, gen, index)
                                                                : at::randperm(size, gen, index).narrow(0, 0, n);
    picked.push_back(members.index_select(0, pos));
  }
  return at::cat(picked);
}

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
inline std::pair<double, double> mean_and_std(const std::vector<double>& a) {
  if (a.empty()) return {0.0, 0.0};
  double m = 0, v = 0;
  for (const double x : a) m += x;
  m /= static_cast<double>(a.size());
  for (const double x : a) v += (x - m) * (x - m);
  return {m, std::sqrt(v / static_cast<double>(a.size()))};
}

}  // namespace detail

/// Runs the protocol on precomputed features: train [N, D] with integer labels [N] (the pool the
/// subsets come from) and test [M, D] with labels [M]. Classes are the distinct training labels;
/// every test label must be one of them. on_fit, if given, receives a short description before
/// each fit (for a progress display).
inline few_label_result few_label_classification(const at::Tensor& train_features, const at::Tensor& train_labels,
                                                 const at::Tensor& test_features, const at::Tensor& test_labels,
                                                 const few_label_options& options = {},
                                                 const std::function<void(const std::string&)>& on_fit = {}) {
  constexpr const char* where = "cebm::eval::few_label_classification";
  auto shape = [](const at::Tensor& t) { return std::string(c10::str(t.sizes())); };
  if (train_features.dim() != 2 || test_features.dim() != 2)
    throw std::invalid_argument(std::string(where) + ": features must be [N, D], got train " + shape(train_features) +
                                " and test " + shape(test_features));
  if (train_features.size(1) != test_features.size(1))
    throw std::invalid_argument(std::string(where) + ": train and test features differ in dimension: " +
                                shape(train_features) + " and " + shape(test_features));
  if (train_features.size(0) == 0 || test_features.size(0) == 0 || train_features.size(1) == 0)
    throw std::invalid_argument(std::string(where) + ": empty features: train " + shape(train_features) + ", test " +
                                shape(test_features));
  if (!at::isFloatingType(train_features.scalar_type()) || !at::isFloatingType(test_features.scalar_type()))
    throw std::invalid_argument(std::string(where) + ": features must be floating point");
  for (const auto& [l, f, name] : {std::tuple{&train_labels, &train_features, "train"},
                                   std::tuple{&test_labels, &test_features, "test"}}) {
    if (l->dim() != 1 || !at::isIntegralType(l->scalar_type(), /*includeBool=*/false))
      throw std::invalid_argument(std::string(where) + ": " + name + " labels must be an integer vector, got " +
                                  shape(*l) + " " + c10::toString(l->scalar_type()));
    if (l->size(0) != f->size(0))
      throw std::invalid_argument(std::string(where) + ": " + std::to_string(f->size(0)) + " " + name +
                                  " feature rows but " + std::to_string(l->size(0)) + " " + name + " labels");
  }
  if (options.draws() < 1)
    throw std::invalid_argument(std::string(where) + ": draws must be >= 1, got " + std::to_string(options.draws()));
  for (const std::int64_t n : options.labels_per_class())
    if (n < 1)
      throw std::invalid_argument(std::string(where) + ": labels per class must be >= 1, got " + std::to_string(n));

  const at::Tensor ytrain = train_labels.detach().cpu().to(at::kLong), ytest = test_labels.detach().cpu().to(at::kLong);
  const at::Tensor classes = std::get<0>(at::_unique(ytrain, /*sorted=*/true));
  const at::Tensor unknown = at::logical_not(at::isin(ytest, classes));
  if (unknown.any().item<bool>())
    throw std::invalid_argument(std::string(where) + ": test label " +
                                std::to_string(ytest.masked_select(unknown)[0].item<std::int64_t>()) +
                                " is missing from the training labels");
  if (classes.size(0) < 2)
    throw std::invalid_argument(std::string(where) + ": needs at least two classes, but every training label is " +
                                std::to_string(classes[0].item<std::int64_t>()));

  at::Tensor xtrain = train_features.detach().cpu(), xtest = test_features.detach().cpu();
  for (const auto& [x, name] : {std::pair{&xtrain, "train"}, std::pair{&xtest, "test"}})
    if (!at::isfinite(*x).all().item<bool>())
      throw std::invalid_argument(std::string(where) + ": " + name + " features must be finite, got " +
                                  std::to_string(x->masked_select(at::logical_not(at::isfinite(*x)))[0].item<double>()));
  if (options.standardize()) {
    const detail::standardization s = detail::standardization::of(xtrain);
    xtrain = s.apply(xtrain);
    xtest = s.apply(xtest);
  }

  few_label_result result;
  result.standardized = options.standardize();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(options.seed());
  const std::string k = std::to_string(classes.size(0));
  for (const std::int64_t n : options.labels_per_class()) {
    few_label_row row;
    row.setting = std::to_string(n);
    row.labels_per_class = n;
    for (std::int64_t d = 0; d < options.draws(); ++d) {
      const at::Tensor idx = detail::draw_labelled(ytrain, n, classes, options.draw(), gen);
      if (on_fit)
        on_fit(std::to_string(n) + " labels per class (" + std::to_string(idx.size(0)) + " examples), draw " +
               std::to_string(d + 1) + "/" + std::to_string(options.draws()));
      const logistic_regression clf =
          logistic_regression::fit(xtrain.index_select(0, idx), ytrain.index_select(0, idx), options.classifier());
      row.accuracies.push_back(clf.accuracy(xtest, ytest));
    }
    std::tie(row.mean, row.std) = detail::mean_and_std(row.accuracies);
    result.rows.push_back(std::move(row));
  }
  if (options.full()) {
    few_label_row row;
    row.setting = "full";
    if (on_fit) on_fit("full: all " + std::to_string(xtrain.size(0)) + " training labels, " + k + " classes");
    row.accuracies.push_back(logistic_regression::fit(xtrain, ytrain, options.classifier()).accuracy(xtest, ytest));
    std::tie(row.mean, row.std) = detail::mean_and_std(row.accuracies);
    result.rows.push_back(std::move(row));
  }
  return result;
}

}  // namespace cebm::eval
