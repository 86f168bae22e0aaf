#pragma once
/// @file
/// The torch backend of `cebm::ops`: `ops::backend<at::Tensor>`. Include it (or `cebm/torch.hpp`)
/// and every family and generic algorithm accepts `torch::Tensor` with autograd, any dtype and any
/// device. Tensors broadcast as in torch; `sum_last` drops the last axis.
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "cebm/core/ops.hpp"

namespace cebm::ops {

template <>
struct backend<at::Tensor> {
  using A = at::Tensor;
  using scalar = double;
  using generator = at::Generator;

  static A log(const A& x) { return x.log(); }
  static A log1p(const A& x) { return x.log1p(); }
  static A exp(const A& x) { return x.exp(); }
  static A expm1(const A& x) { return x.expm1(); }
  static A sqrt(const A& x) { return x.sqrt(); }
  static A square(const A& x) { return x * x; }
  static A abs(const A& x) { return x.abs(); }
  static A softplus(const A& x) { return at::softplus(x); }
  static A sigmoid(const A& x) { return x.sigmoid(); }
  static A lgamma(const A& x) { return x.lgamma(); }
  static A digamma(const A& x) { return x.digamma(); }
  static A trigamma(const A& x) { return at::polygamma(1, x); }

  static A sum_last(const A& x) { return x.sum(-1); }
  static A sum_last_keep(const A& x) { return x.sum(-1, /*keepdim=*/true); }
  static A logsumexp_last(const A& x) { return at::logsumexp(x, {-1}); }
  static A log_softmax_last(const A& x) { return at::log_softmax(x, -1); }

  static A maximum(const A& a, const A& b) { return at::maximum(a, b); }
  static A minimum(const A& a, const A& b) { return at::minimum(a, b); }
  static A where(const A& mask, const A& a, const A& b) { return at::where(mask, a, b); }
  static A full_like(const A& a, double v) { return at::full_like(a, v); }
  static A zeros_like(const A& a) { return at::zeros_like(a); }
  static A broadcast_last(const A& col, const A& like) {
    if (col.dim() == 0 || col.size(-1) != 1)
      throw std::invalid_argument("cebm::ops::broadcast_last: expected a [..., 1] tensor, got " + shape_string(col));
    return col.expand_as(like);
  }
  static A row(const A& a, std::int64_t i) { return a.select(0, i); }
  static A column(const A& a, std::int64_t i) { return a.select(-1, i); }
  static A stack_last(const std::vector<A>& cols) {
    if (cols.empty()) throw std::invalid_argument("cebm::ops::stack_last: nothing to stack");
    return at::stack(cols, -1);
  }
  static void check_broadcast(const A& a, const A& like, const char* where) {
    // Broadcasting right-aligns the axes: every axis of `a` must be 1 or match.
    bool ok = a.dim() <= like.dim();
    for (std::int64_t i = 1; ok && i <= a.dim(); ++i) ok = a.size(-i) == 1 || a.size(-i) == like.size(-i);
    if (!ok)
      throw std::invalid_argument(std::string(where) + ": shape " + shape_string(a) + " does not broadcast to " +
                                  shape_string(like));
  }
  static A expand_as(const A& a, const A& like, const char* where) {
    if (a.sizes() == like.sizes()) return a;
    check_broadcast(a, like, where);
    return a.expand_as(like);
  }
  static std::int64_t rows(const A& a) { return a.dim() == 0 ? 1 : a.size(0); }
  static std::int64_t last_dim(const A& a) { return a.dim() == 0 ? 1 : a.size(-1); }
  static A zeros_row(const A& like, std::int64_t n) { return at::zeros({n}, like.options()); }
  static A repeat_rows(const A& row, std::int64_t n) {
    std::vector<std::int64_t> sizes{n};
    for (auto s : row.sizes()) sizes.push_back(s);
    return row.unsqueeze(0).expand(sizes);
  }
  static A set_first_of_last_axis(A a, double v) {
    a = a.clone();
    a.select(-1, 0).fill_(v);
    return a;
  }
  static bool same_shape(const A& a, const A& b) { return a.sizes() == b.sizes(); }
  static bool all(const A& mask) { return mask.all().item<bool>(); }
  static bool all_finite(const A& a) { return at::isfinite(a).all().item<bool>(); }
  static std::string shape_string(const A& a) {
    std::ostringstream os;
    os << a.sizes();
    return os.str();
  }
  static std::string first_violation(const A& mask, const A& a) {
    const A bad = mask.logical_not().reshape({-1}).nonzero();
    if (bad.numel() == 0) return "no violation";
    const std::int64_t flat = bad[0][0].item<std::int64_t>();
    std::ostringstream os;
    os << a.reshape({-1})[flat].item<double>() << " at flat index " << flat << " of shape " << a.sizes();
    return os.str();
  }

  static A uniform_like(const A& a, at::Generator& gen) { return at::rand(a.sizes(), gen, a.options()); }
  static A normal_like(const A& a, at::Generator& gen) {
    return at::normal(0.0, 1.0, a.sizes(), gen, a.options());
  }
  static A standard_gamma(const A& alpha, at::Generator& gen) { return at::_standard_gamma(alpha, gen); }
  static A poisson(const A& rate, at::Generator& gen) { return at::poisson(rate, gen); }
};

}  // namespace cebm::ops
