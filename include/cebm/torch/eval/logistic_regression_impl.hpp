#pragma once
/// @file
/// The definitions of logistic_regression.hpp's functions: inline in a header-only build, compiled once in
/// cebm::compiled when CEBM_COMPILED is set (config.hpp).
#include "cebm/torch/eval/logistic_regression.hpp"

namespace cebm::eval::detail {

CEBM_INLINE void liblinear_print_nothing(const char*) {}

CEBM_INLINE liblinear_rows make_liblinear_rows(const at::Tensor& x, std::int64_t start, std::int64_t n, double bias,
                                          const char* where) {
  const std::int64_t d = x.size(1);
  if (x.scalar_type() == at::kDouble)
    return make_liblinear_rows(x.data_ptr<double>() + start * d, n, d, bias, start, where);
  return make_liblinear_rows(x.data_ptr<float>() + start * d, n, d, bias, start, where);
}

CEBM_INLINE at::Tensor liblinear_features(const at::Tensor& features, const char* where) {
  if (features.dim() != 2)
    throw std::invalid_argument(std::string(where) + ": features must be [N, D], got " +
                                std::string(c10::str(features.sizes())));
  if (!at::isFloatingType(features.scalar_type()))
    throw std::invalid_argument(std::string(where) + ": features must be floating point, got " +
                                c10::toString(features.scalar_type()));
  if (features.size(0) > std::numeric_limits<int>::max() || features.size(1) >= std::numeric_limits<int>::max())
    throw std::invalid_argument(std::string(where) + ": liblinear indexes rows and features with int, got " +
                                std::string(c10::str(features.sizes())));
  const at::Tensor x = features.detach().cpu();
  return (x.scalar_type() == at::kDouble ? x : x.to(at::kFloat)).contiguous();
}

CEBM_INLINE std::vector<std::int64_t> label_values(const at::Tensor& labels, std::int64_t n, const char* where) {
  if (labels.dim() != 1 || !at::isIntegralType(labels.scalar_type(), /*includeBool=*/false))
    throw std::invalid_argument(std::string(where) + ": labels must be an integer vector [N], got " +
                                std::string(c10::str(labels.sizes())) + " " + c10::toString(labels.scalar_type()));
  if (labels.size(0) != n)
    throw std::invalid_argument(std::string(where) + ": " + std::to_string(n) + " feature rows but " +
                                std::to_string(labels.size(0)) + " labels");
  const at::Tensor l = labels.detach().cpu().to(at::kLong).contiguous();
  return std::vector<std::int64_t>(l.data_ptr<std::int64_t>(), l.data_ptr<std::int64_t>() + n);
}

}  // namespace cebm::eval::detail
