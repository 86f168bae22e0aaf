#pragma once
/// @file
/// The definitions of few_label.hpp's functions: inline in a header-only build, compiled once in
/// cebm::compiled when CEBM_COMPILED is set (config.hpp).
#include "cebm/torch/eval/few_label.hpp"

namespace cebm::eval::detail {

CEBM_INLINE at::Tensor draw_labelled(const at::Tensor& labels, std::int64_t n, const at::Tensor& classes, label_draw draw,
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

CEBM_INLINE std::pair<double, double> mean_and_std(const std::vector<double>& a) {
  if (a.empty()) return {0.0, 0.0};
  double m = 0, v = 0;
  for (const double x : a) m += x;
  m /= static_cast<double>(a.size());
  for (const double x : a) v += (x - m) * (x - m);
  return {m, std::sqrt(v / static_cast<double>(a.size()))};
}

}  // namespace cebm::eval::detail

namespace cebm::eval {

CEBM_INLINE few_label_result few_label_classification(const at::Tensor& train_features, const at::Tensor& train_labels,
                                                 const at::Tensor& test_features, const at::Tensor& test_labels,
                                                 const few_label_options& options,
                                                 const std::function<void(const std::string&)>& on_fit) {
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
