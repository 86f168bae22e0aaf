#pragma once
/// @file
/// L2-regularised logistic regression through liblinear (Debian: liblinear-dev, link cebm::eval),
/// the classifier behind the published few-label numbers: sklearn's
/// LogisticRegression(solver='liblinear') with its defaults. For K > 2 classes it is one-vs-rest,
/// one binary problem per class k with y_i = +1 if label_i = k and −1 otherwise; each solves
///
///   min_{w,b}  ½‖[w; b]‖² + C Σ_i log(1 + exp(−y_i (w·x_i + b)))
///
/// by liblinear's trust-region Newton method (solver L2R_LR), stopping when
/// ‖∇f‖ ≤ tolerance · max(min(#pos, #neg), 1)/N · ‖∇f(0)‖. The bias is a constant feature of value 1
/// appended to every row (liblinear's problem.bias = 1, sklearn's intercept_scaling = 1), so it is
/// regularised like the weights; liblinear 2.3 has no switch to exempt it. The scores of class k
/// are w_k·x + b_k and the prediction is the arg-max, ties going to the smaller label (sklearn).
///
/// Reference: Fan, Chang, Hsieh, Wang, Lin (2008), "LIBLINEAR: A library for large linear
/// classification", JMLR 9; Lin, Weng, Keerthi (2008), "Trust region Newton method for large-scale
/// logistic regression", JMLR 9.
#include <linear.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "cebm/config.hpp"
#include "cebm/core/arg.hpp"

namespace cebm::eval {

struct logistic_regression_options {
  CEBM_ARG(double, C) = 1.0;            ///< inverse regularisation strength (sklearn's C)
  CEBM_ARG(double, tolerance) = 1e-4;   ///< liblinear's eps (sklearn's tol)
  CEBM_ARG(bool, fit_bias) = true;      ///< append the constant-1 feature (sklearn's fit_intercept)
};

namespace detail {

CEBM_INLINE void liblinear_print_nothing(const char*);

/// A dense matrix as liblinear rows: all nodes in one array, each row its non-zero entries
/// (1-based index; a zero contributes nothing to w·x, so leaving it out is exact), then the bias
/// node (index D + 1) when bias ≥ 0, then the terminator (index −1).
struct liblinear_rows {
  std::vector<feature_node> nodes;
  std::vector<feature_node*> rows;
};

template <class T>
liblinear_rows make_liblinear_rows(const T* x, std::int64_t n, std::int64_t d, double bias, std::int64_t row_offset,
                                   const char* where) {
  std::size_t count = 0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < d; ++j) {
      const double v = static_cast<double>(x[i * d + j]);
      if (!std::isfinite(v))
        throw std::invalid_argument(std::string(where) + ": features must be finite, got " + std::to_string(v) +
                                    " at [" + std::to_string(row_offset + i) + ", " + std::to_string(j) + "]");
      count += v != 0.0;
    }
  liblinear_rows r;
  r.nodes.resize(count + static_cast<std::size_t>(n) * (bias >= 0 ? 2 : 1));
  r.rows.resize(static_cast<std::size_t>(n));
  feature_node* p = r.nodes.data();
  for (std::int64_t i = 0; i < n; ++i) {
    r.rows[static_cast<std::size_t>(i)] = p;
    for (std::int64_t j = 0; j < d; ++j) {
      const double v = static_cast<double>(x[i * d + j]);
      if (v != 0.0) *p++ = feature_node{static_cast<int>(j + 1), v};
    }
    if (bias >= 0) *p++ = feature_node{static_cast<int>(d + 1), bias};
    *p++ = feature_node{-1, 0.0};
  }
  return r;
}

/// Rows [start, start + n) of a CPU-contiguous float or double matrix.
CEBM_INLINE liblinear_rows make_liblinear_rows(const at::Tensor& x, std::int64_t start, std::int64_t n, double bias,
                                          const char* where);

/// Floating features [N, D] → CPU, contiguous, float (or double, kept as is).
CEBM_INLINE at::Tensor liblinear_features(const at::Tensor& features, const char* where);

/// Integer labels [N] → CPU int64 values.
CEBM_INLINE std::vector<std::int64_t> label_values(const at::Tensor& labels, std::int64_t n, const char* where);

}  // namespace detail

/// A fitted classifier; owns the liblinear model (move-only).
class logistic_regression {
 public:
  /// Fits on features [N, D] (any floating type, any device; copied to the CPU) and integer labels
  /// [N] with at least two distinct values. Classes are the sorted distinct labels.
  static logistic_regression fit(const at::Tensor& features, const at::Tensor& labels,
                                 const logistic_regression_options& options = {}) {
    constexpr const char* where = "cebm::eval::logistic_regression::fit";
    const at::Tensor x = detail::liblinear_features(features, where);
    const std::int64_t n = x.size(0), d = x.size(1);
    if (n == 0 || d == 0)
      throw std::invalid_argument(std::string(where) + ": features are empty, got " + std::string(c10::str(x.sizes())));
    const std::vector<std::int64_t> y = detail::label_values(labels, n, where);
    if (!(options.C() > 0) || !std::isfinite(options.C()))
      throw std::invalid_argument(std::string(where) + ": C must be finite and > 0, got " + std::to_string(options.C()));
    if (!(options.tolerance() > 0) || !std::isfinite(options.tolerance()))
      throw std::invalid_argument(std::string(where) + ": tolerance must be finite and > 0, got " +
                                  std::to_string(options.tolerance()));

    logistic_regression r;
    r.options_ = options;
    r.dimension_ = d;
    r.classes_ = y;
    std::sort(r.classes_.begin(), r.classes_.end());
    r.classes_.erase(std::unique(r.classes_.begin(), r.classes_.end()), r.classes_.end());
    if (r.classes_.size() < 2)
      throw std::invalid_argument(std::string(where) + ": needs at least two classes, but every label is " +
                                  std::to_string(r.classes_.front()));
    if (r.classes_.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
      throw std::invalid_argument(std::string(where) + ": too many classes for liblinear");

    // liblinear sees the class index (0..K−1 in sorted order), so labels need not fit in an int.
    std::vector<double> target(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < target.size(); ++i)
      target[i] = static_cast<double>(std::lower_bound(r.classes_.begin(), r.classes_.end(), y[i]) - r.classes_.begin());

    const double bias = options.fit_bias() ? 1.0 : -1.0;
    detail::liblinear_rows rows = detail::make_liblinear_rows(x, 0, n, bias, where);
    problem prob{};
    prob.l = static_cast<int>(n);
    prob.n = static_cast<int>(options.fit_bias() ? d + 1 : d);
    prob.y = target.data();
    prob.x = rows.rows.data();
    prob.bias = bias;
    parameter param{};
    param.solver_type = L2R_LR;
    param.eps = options.tolerance();
    param.C = options.C();
    param.nr_weight = 0;
    param.weight_label = nullptr;
    param.weight = nullptr;
    param.p = 0.1;  // used by the regression solvers only
    param.init_sol = nullptr;
    if (const char* error = check_parameter(&prob, &param))
      throw std::invalid_argument(std::string(where) + ": liblinear rejected the parameters: " + error);

    set_print_string_function(&detail::liblinear_print_nothing);
    r.model_.reset(::train(&prob, &param));  // liblinear's, not namespace cebm::train
    if (!r.model_) throw std::runtime_error(std::string(where) + ": liblinear's train returned no model");

    // liblinear orders classes by first appearance; column_[j] is the sorted column of its j-th.
    const int k = get_nr_class(r.model_.get());
    std::vector<int> order(static_cast<std::size_t>(k));
    get_labels(r.model_.get(), order.data());
    r.column_.assign(order.begin(), order.end());
    return r;
  }

  /// Scores [M, K] (double) of features [M, D]; column k belongs to classes()[k]. With two classes
  /// column 1 is sklearn's decision_function (positive favours classes()[1]) and column 0 its
  /// negation, so predict is the arg-max for any K.
  at::Tensor decision_function(const at::Tensor& features) const {
    constexpr const char* where = "cebm::eval::logistic_regression::decision_function";
    check_fitted(where);
    const at::Tensor x = detail::liblinear_features(features, where);
    if (x.size(1) != dimension_)
      throw std::invalid_argument(std::string(where) + ": the classifier was fitted on " + std::to_string(dimension_) +
                                  " features, got " + std::string(c10::str(x.sizes())));
    const std::int64_t m = x.size(0), k = num_classes();
    at::Tensor out = at::empty({m, k}, at::TensorOptions().dtype(at::kDouble));
    double* o = out.data_ptr<double>();
    std::vector<double> dec(static_cast<std::size_t>(k));
    constexpr std::int64_t chunk = 4096;  // bounds the node array at chunk · (D + 2) nodes
    for (std::int64_t start = 0; start < m; start += chunk) {
      const std::int64_t rows_here = std::min(chunk, m - start);
      const detail::liblinear_rows rows = detail::make_liblinear_rows(x, start, rows_here, model_->bias, where);
      for (std::int64_t i = 0; i < rows_here; ++i) {
        predict_values(model_.get(), rows.rows[static_cast<std::size_t>(i)], dec.data());
        double* oi = o + (start + i) * k;
        if (k == 2) {  // liblinear keeps one score, for its first class
          oi[column_[0]] = dec[0];
          oi[column_[1]] = -dec[0];
        } else {
          for (std::int64_t j = 0; j < k; ++j) oi[column_[static_cast<std::size_t>(j)]] = dec[static_cast<std::size_t>(j)];
        }
      }
    }
    return out;
  }

  /// Predicted labels [M] (int64, the original label values).
  at::Tensor predict(const at::Tensor& features) const {
    return classes().index_select(0, decision_function(features).argmax(1));
  }

  /// Fraction of rows of features [M, D] whose predicted label equals labels [M].
  double accuracy(const at::Tensor& features, const at::Tensor& labels) const {
    constexpr const char* where = "cebm::eval::logistic_regression::accuracy";
    if (features.dim() != 2)
      throw std::invalid_argument(std::string(where) + ": features must be [M, D], got " +
                                  std::string(c10::str(features.sizes())));
    const std::vector<std::int64_t> truth = detail::label_values(labels, features.size(0), where);
    if (truth.empty()) throw std::invalid_argument(std::string(where) + ": no rows to score");
    const at::Tensor pred = predict(features);
    const std::int64_t* p = pred.data_ptr<std::int64_t>();
    std::int64_t right = 0;
    for (std::size_t i = 0; i < truth.size(); ++i) right += p[i] == truth[i];
    return static_cast<double>(right) / static_cast<double>(truth.size());
  }

  /// Weights in sklearn's coef_ layout (double): [K, D] one row per sorted class for K > 2; [1, D]
  /// for two classes, the row scoring classes()[1].
  at::Tensor coefficients() const {
    check_fitted("cebm::eval::logistic_regression::coefficients");
    const std::vector<int> js = sklearn_rows();
    at::Tensor w = at::empty({static_cast<std::int64_t>(js.size()), dimension_}, at::TensorOptions().dtype(at::kDouble));
    double* p = w.data_ptr<double>();
    for (const int j : js)
      for (std::int64_t f = 0; f < dimension_; ++f) *p++ = get_decfun_coef(model_.get(), static_cast<int>(f + 1), j);
    return w;
  }

  /// Biases in sklearn's intercept_ layout (double): [K], or [1] for two classes; zeros without a bias.
  at::Tensor intercepts() const {
    check_fitted("cebm::eval::logistic_regression::intercepts");
    const std::vector<int> js = sklearn_rows();
    at::Tensor b = at::empty({static_cast<std::int64_t>(js.size())}, at::TensorOptions().dtype(at::kDouble));
    for (std::size_t i = 0; i < js.size(); ++i) b.data_ptr<double>()[i] = get_decfun_bias(model_.get(), js[i]);
    return b;
  }

  /// The sorted distinct training labels [K] (int64).
  at::Tensor classes() const {
    return at::tensor(at::ArrayRef<std::int64_t>(classes_), at::TensorOptions().dtype(at::kLong));
  }
  std::int64_t num_classes() const noexcept { return static_cast<std::int64_t>(classes_.size()); }
  std::int64_t dimension() const noexcept { return dimension_; }
  const logistic_regression_options& options() const noexcept { return options_; }

 private:
  logistic_regression() = default;

  struct model_deleter {
    void operator()(model* m) const noexcept { free_and_destroy_model(&m); }
  };

  void check_fitted(const char* where) const {
    if (!model_) throw std::logic_error(std::string(where) + ": the classifier was moved from");
  }

  /// liblinear's class index of each sklearn row (the binary row scores sorted class 1).
  std::vector<int> sklearn_rows() const {
    const std::size_t k = column_.size();
    std::vector<int> js(k == 2 ? 1 : k);
    for (std::size_t j = 0; j < k; ++j) {
      if (k == 2) {
        if (column_[j] == 1) js[0] = static_cast<int>(j);
      } else {
        js[static_cast<std::size_t>(column_[j])] = static_cast<int>(j);
      }
    }
    return js;
  }

  std::unique_ptr<model, model_deleter> model_;
  std::vector<std::int64_t> classes_;
  std::vector<int> column_;
  std::int64_t dimension_ = 0;
  logistic_regression_options options_;
};

}  // namespace cebm::eval

#if !defined(CEBM_COMPILED)  // header-only: the definitions here (config.hpp)
#include "cebm/torch/eval/logistic_regression_impl.hpp"
#endif
