#pragma once
/// @file
/// `cebm::ops`: the array operations that families and generic algorithms are written in, so that
/// one source serves Eigen arrays and torch tensors.
///
/// Each free function forwards to `ops::backend<A>`, a class template specialised once per array
/// type. Specialisations are found at instantiation time, so the torch backend
/// (`cebm/torch/ops.hpp`) can be included after the families. This file provides the Eigen backend
/// for `Eigen::Array<T, Dynamic, Dynamic>` with T = float or double.
///
/// Shape conventions (batch-shaped, latent coordinates on the last axis):
///   Eigen: an array is [rows, cols]; reductions over the last axis give a [rows, 1] column.
///   torch: any rank; `sum_last` drops the last axis, `sum_last_keep` keeps it with size 1.
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <Eigen/Core>
#include <unsupported/Eigen/SpecialFunctions>

namespace cebm::ops {

/// Specialised per array type; see the Eigen specialisation below for the full member list.
template <class A, class Enable = void>
struct backend;

namespace detail {
template <class X, class = void>
struct plain_of {
  using type = std::decay_t<X>;
};
template <class X>
struct plain_of<X, std::void_t<typename std::decay_t<X>::PlainObject>> {
  using type = typename std::decay_t<X>::PlainObject;
};
}  // namespace detail

/// The concrete array type an expression evaluates to (Eigen expression → Eigen array).
template <class X>
using plain_t = typename detail::plain_of<X>::type;

/// The scalar type used for literals in generic code: the element type for Eigen, double for torch
/// (a double literal keeps a float tensor float).
template <class A>
using scalar_t = typename backend<plain_t<A>>::scalar;

#define CEBM_OPS_FORWARD_UNARY(name) \
  template <class X>                 \
  auto name(const X& x) {            \
    return backend<plain_t<X>>::name(x); \
  }
CEBM_OPS_FORWARD_UNARY(log)
CEBM_OPS_FORWARD_UNARY(log1p)
CEBM_OPS_FORWARD_UNARY(exp)
CEBM_OPS_FORWARD_UNARY(expm1)
CEBM_OPS_FORWARD_UNARY(sqrt)
CEBM_OPS_FORWARD_UNARY(square)
CEBM_OPS_FORWARD_UNARY(abs)
CEBM_OPS_FORWARD_UNARY(softplus)
CEBM_OPS_FORWARD_UNARY(sigmoid)
CEBM_OPS_FORWARD_UNARY(lgamma)
CEBM_OPS_FORWARD_UNARY(digamma)
CEBM_OPS_FORWARD_UNARY(trigamma)
CEBM_OPS_FORWARD_UNARY(sum_last)
CEBM_OPS_FORWARD_UNARY(sum_last_keep)
CEBM_OPS_FORWARD_UNARY(logsumexp_last)
CEBM_OPS_FORWARD_UNARY(log_softmax_last)
CEBM_OPS_FORWARD_UNARY(zeros_like)
CEBM_OPS_FORWARD_UNARY(all_finite)
CEBM_OPS_FORWARD_UNARY(shape_string)
#undef CEBM_OPS_FORWARD_UNARY

namespace detail {
template <class X>
inline constexpr bool is_eigen_v = std::is_base_of_v<Eigen::ArrayBase<std::decay_t<X>>, std::decay_t<X>> ||
                                   std::is_base_of_v<Eigen::DenseBase<std::decay_t<X>>, std::decay_t<X>>;
}  // namespace detail

/// True when every element of a mask (a bool Eigen expression or a bool tensor) is true.
template <class M>
bool all(const M& mask) {
  if constexpr (detail::is_eigen_v<M>) return mask.all();
  else return backend<plain_t<M>>::all(mask);
}

/// Elementwise `a and b` of two masks, evaluated (an Eigen bool array, or a bool tensor).
template <class M1, class M2>
auto logical_and(const M1& a, const M2& b) {
  if constexpr (detail::is_eigen_v<M1>) return Eigen::Array<bool, Eigen::Dynamic, Eigen::Dynamic>(a && b);
  else return a & b;
}

/// Elementwise max / min of two arrays of the same shape.
template <class X, class Y>
auto maximum(const X& a, const Y& b) { return backend<plain_t<X>>::maximum(a, b); }
template <class X, class Y>
auto minimum(const X& a, const Y& b) { return backend<plain_t<X>>::minimum(a, b); }
/// `mask ? a : b`, elementwise; `a` and `b` are arrays of the mask's shape.
template <class M, class X, class Y>
auto where(const M& mask, const X& a, const Y& b) { return backend<plain_t<X>>::where(mask, a, b); }
template <class X>
auto full_like(const X& a, double v) { return backend<plain_t<X>>::full_like(a, v); }
/// Broadcasts a [..., 1] column over the last axis of `like`.
template <class X, class Y>
auto broadcast_last(const X& col, const Y& like) { return backend<plain_t<X>>::broadcast_last(col, like); }
namespace detail {
// Optional backend members: fused forms of two compositions, which a backend without them gets
// computed as written from the required members. Eigen provides both, because each step of the
// written form would store a full-size array.
template <class B, class X, class Y, class = void>
struct has_mul_broadcast_last : std::false_type {};
template <class B, class X, class Y>
struct has_mul_broadcast_last<
    B, X, Y, std::void_t<decltype(B::mul_broadcast_last(std::declval<const X&>(), std::declval<const Y&>()))>>
    : std::true_type {};
template <class B, class X, class Y, class = void>
struct has_add_expanded : std::false_type {};
template <class B, class X, class Y>
struct has_add_expanded<
    B, X, Y,
    std::void_t<decltype(B::add_expanded(std::declval<const X&>(), std::declval<const Y&>(), std::declval<const char*>()))>>
    : std::true_type {};
}  // namespace detail
/// `broadcast_last(col, x) * x`: every row of `x` times its entry of the [..., 1] column `col`.
template <class X, class Y>
auto mul_broadcast_last(const X& col, const Y& x) {
  using B = backend<plain_t<X>>;
  if constexpr (detail::has_mul_broadcast_last<B, X, Y>::value) return B::mul_broadcast_last(col, x);
  else return plain_t<X>(broadcast_last(col, x) * x);
}
/// Row `i` of a [L, K] array (torch: `a[i]`, shape [K]; Eigen: a [1, K] array).
template <class X>
auto row(const X& a, std::int64_t i) { return backend<plain_t<X>>::row(a, i); }
/// Column `i` of the last axis (torch: `a.select(-1, i)`; Eigen: a [rows, 1] column).
template <class X>
auto column(const X& a, std::int64_t i) { return backend<plain_t<X>>::column(a, i); }
/// Stacks equally shaped reductions (torch [B] each, Eigen [B, 1] each) along a new last axis.
template <class X>
auto stack_last(const std::vector<X>& cols) { return backend<X>::stack_last(cols); }
/// `a` broadcast to `like`'s shape: `a` has that shape already, or is a single row (Eigen [1, K],
/// torch [K]) or a single element. `where` names the caller in the error thrown otherwise.
template <class X, class Y>
auto expand_as(const X& a, const Y& like, const char* where) {
  return backend<plain_t<X>>::expand_as(a, like, where);
}
/// `expand_as(a, like, where) + like`, without storing the expansion where the backend can.
template <class X, class Y>
auto add_expanded(const X& a, const Y& like, const char* where) {
  using B = backend<plain_t<X>>;
  if constexpr (detail::has_add_expanded<B, X, Y>::value) return B::add_expanded(a, like, where);
  else return plain_t<X>(expand_as(a, like, where) + like);
}
/// Throws (naming `where`) unless `a` broadcasts to `like`'s shape as `expand_as` allows; copies nothing.
template <class X, class Y>
void check_broadcast(const X& a, const Y& like, const char* where) {
  backend<plain_t<X>>::check_broadcast(a, like, where);
}
/// Number of entries along the first axis.
template <class X>
std::int64_t rows(const X& a) { return backend<plain_t<X>>::rows(a); }
/// A row of `n` zeros (Eigen [1, n], torch [n]) with `like`'s dtype and device.
template <class X>
auto zeros_row(const X& like, std::int64_t n) { return backend<plain_t<X>>::zeros_row(like, n); }
/// A single row (Eigen [1, K], torch [K]) repeated into `n` rows.
template <class X>
auto repeat_rows(const X& row, std::int64_t n) { return backend<plain_t<X>>::repeat_rows(row, n); }
template <class X, class Y>
bool same_shape(const X& a, const Y& b) { return backend<plain_t<X>>::same_shape(a, b); }
/// Text naming the first index where `mask` is false and the value of `a` there.
template <class M, class X>
std::string first_violation(const M& mask, const X& a) { return backend<plain_t<X>>::first_violation(mask, a); }

/// Random arrays shaped like `a`, drawn from `gen` (a URBG for Eigen, a torch::Generator for torch).
template <class X, class G>
auto uniform_like(const X& a, G& gen) { return backend<plain_t<X>>::uniform_like(a, gen); }
template <class X, class G>
auto normal_like(const X& a, G& gen) { return backend<plain_t<X>>::normal_like(a, gen); }
/// Gamma(alpha, 1) draws, elementwise in alpha.
template <class X, class G>
auto standard_gamma(const X& alpha, G& gen) { return backend<plain_t<X>>::standard_gamma(alpha, gen); }
/// Poisson(rate) draws, elementwise in rate.
template <class X, class G>
auto poisson(const X& rate, G& gen) { return backend<plain_t<X>>::poisson(rate, gen); }

/// Eigen backend: `Eigen::Array<T, Dynamic, Dynamic>`.
template <class T>
struct backend<Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic>> {
  static_assert(std::is_floating_point_v<T>, "cebm: Eigen arrays must hold float or double");
  using A = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic>;
  using scalar = T;
  /// The random-number generator `sample` members take for this backend.
  using generator = std::mt19937_64;

  static A log(const A& x) { return x.log(); }
  static A log1p(const A& x) { return x.log1p(); }
  static A exp(const A& x) { return x.exp(); }
  static A expm1(const A& x) { return x.expm1(); }
  static A sqrt(const A& x) { return x.sqrt(); }
  static A square(const A& x) { return x.square(); }
  static A abs(const A& x) { return x.abs(); }
  // log(1 + e^x) without overflow: max(x, 0) + log1p(e^{-|x|}).
  static A softplus(const A& x) { return x.max(T(0)) + (-x.abs()).exp().log1p(); }
  static A sigmoid(const A& x) {
    return (x >= T(0)).select(T(1) / (T(1) + (-x).exp()), x.exp() / (T(1) + x.exp()));
  }
  static A lgamma(const A& x) { return x.lgamma(); }
  static A digamma(const A& x) { return x.digamma(); }
  static A trigamma(const A& x) { return Eigen::polygamma(A::Constant(x.rows(), x.cols(), T(1)), x); }

  // Reductions take any array expression, so that `sum_last(a * b)` reads a and b once and
  // stores no [rows, cols] product.
  template <class X>
  static A sum_last(const Eigen::ArrayBase<X>& x) { return sum_columns(x); }
  template <class X>
  static A sum_last_keep(const Eigen::ArrayBase<X>& x) { return sum_columns(x); }
  static A logsumexp_last(const A& x) {
    const A m = x.rowwise().maxCoeff();
    const A safe = m.isFinite().select(m, T(0));
    return safe + (x.colwise() - safe.col(0)).exp().rowwise().sum().log();
  }
  static A log_softmax_last(const A& x) { return x.colwise() - logsumexp_last(x).col(0); }

  static A maximum(const A& a, const A& b) { return a.max(b); }
  static A minimum(const A& a, const A& b) { return a.min(b); }
  template <class M>
  static A where(const M& mask, const A& a, const A& b) { return mask.select(a, b); }
  static A full_like(const A& a, double v) { return A::Constant(a.rows(), a.cols(), T(v)); }
  static A zeros_like(const A& a) { return A::Zero(a.rows(), a.cols()); }
  static A broadcast_last(const A& col, const A& like) {
    check_column(col, like);
    A out(like.rows(), like.cols());
    out.colwise() = col.col(0);  // a compile-time single column: no index arithmetic per element
    return out;
  }
  static A mul_broadcast_last(const A& col, const A& x) {
    check_column(col, x);
    A out(x.rows(), x.cols());
    for (Eigen::Index k = 0; k < x.cols(); ++k) out.col(k) = col.col(0) * x.col(k);
    return out;
  }
  static A row(const A& a, std::int64_t i) { return a.row(i); }
  static A column(const A& a, std::int64_t i) { return a.col(i); }
  static A stack_last(const std::vector<A>& cols) {
    if (cols.empty()) throw std::invalid_argument("cebm::ops::stack_last: nothing to stack");
    A out(cols.front().rows(), static_cast<Eigen::Index>(cols.size()));
    for (std::size_t i = 0; i < cols.size(); ++i) out.col(static_cast<Eigen::Index>(i)) = cols[i].col(0);
    return out;
  }
  static void check_broadcast(const A& a, const A& like, const char* where) {
    const bool same = a.rows() == like.rows() && a.cols() == like.cols();
    const bool row = a.rows() == 1 && (a.cols() == like.cols() || a.cols() == 1);
    if (!same && !row)
      throw std::invalid_argument(std::string(where) + ": shape " + shape_string(a) + " does not broadcast to " +
                                  shape_string(like) + " (expected the same shape or a single row)");
  }
  static A expand_as(const A& a, const A& like, const char* where) {
    check_broadcast(a, like, where);
    if (a.rows() == like.rows() && a.cols() == like.cols()) return a;
    if (a.cols() == like.cols()) return repeat_rows(a, like.rows());
    return A::Constant(like.rows(), like.cols(), a(0, 0));
  }
  static A add_expanded(const A& a, const A& like, const char* where) {
    check_broadcast(a, like, where);
    if (a.rows() == like.rows() && a.cols() == like.cols()) return a + like;
    if (a.cols() != like.cols()) return a(0, 0) + like;
    A out(like.rows(), like.cols());
    for (Eigen::Index k = 0; k < like.cols(); ++k) out.col(k) = a(0, k) + like.col(k);
    return out;
  }
  static std::int64_t rows(const A& a) { return a.rows(); }
  static A zeros_row(const A&, std::int64_t n) { return A::Zero(1, n); }
  static std::int64_t last_dim(const A& a) { return a.cols(); }
  static A set_first_of_last_axis(A a, double v) {
    a.col(0).setConstant(T(v));
    return a;
  }
  static A repeat_rows(const A& row, std::int64_t n) {
    // Column by column: `replicate(n, 1)` with a run-time n takes an integer modulo per element.
    A out(n, row.cols());
    for (Eigen::Index k = 0; k < row.cols(); ++k) out.col(k).setConstant(row(0, k));
    return out;
  }
  static bool same_shape(const A& a, const A& b) { return a.rows() == b.rows() && a.cols() == b.cols(); }
  static bool all_finite(const A& a) { return a.allFinite(); }
  static std::string shape_string(const A& a) {
    return "[" + std::to_string(a.rows()) + ", " + std::to_string(a.cols()) + "]";
  }
  template <class M>
  static std::string first_violation(const M& mask, const A& a) {
    for (Eigen::Index i = 0; i < a.rows(); ++i)
      for (Eigen::Index j = 0; j < a.cols(); ++j)
        if (!mask(i, j)) {
          std::ostringstream os;
          os << a(i, j) << " at index (" << i << ", " << j << ")";
          return os.str();
        }
    return "no violation";
  }

  template <class G>
  static A uniform_like(const A& a, G& gen) {
    std::uniform_real_distribution<T> d(T(0), T(1));
    return fill(a, [&] { return d(gen); });
  }
  template <class G>
  static A normal_like(const A& a, G& gen) {
    std::normal_distribution<T> d(T(0), T(1));
    return fill(a, [&] { return d(gen); });
  }
  template <class G>
  static A standard_gamma(const A& alpha, G& gen) {
    A out(alpha.rows(), alpha.cols());
    for (Eigen::Index j = 0; j < alpha.cols(); ++j)
      for (Eigen::Index i = 0; i < alpha.rows(); ++i) out(i, j) = std::gamma_distribution<T>(alpha(i, j))(gen);
    return out;
  }
  template <class G>
  static A poisson(const A& rate, G& gen) {
    A out(rate.rows(), rate.cols());
    for (Eigen::Index j = 0; j < rate.cols(); ++j)
      for (Eigen::Index i = 0; i < rate.rows(); ++i)
        out(i, j) = static_cast<T>(std::poisson_distribution<long long>(static_cast<double>(rate(i, j)))(gen));
    return out;
  }

 private:
  static void check_column(const A& col, const A& like) {
    if (col.cols() != 1 || col.rows() != like.rows())
      throw std::invalid_argument("cebm::ops::broadcast_last: expected a [" + std::to_string(like.rows()) +
                                  ", 1] column, got " + shape_string(col));
  }

  // Σ over columns, left to right: streams the column-major storage, where `rowwise().sum()`
  // strides across it (2–6× slower for hundreds of columns). Four columns a statement, added in
  // order, to spread the per-statement cost over short columns.
  template <class X>
  static A sum_columns(const Eigen::ArrayBase<X>& x) {
    if (x.cols() == 0) return A::Zero(x.rows(), 1);
    A out = x.col(0);
    auto acc = out.col(0);  // a block destination, never resized (and so never reallocated)
    Eigen::Index k = 1;
    for (; k + 4 <= x.cols(); k += 4) acc = acc + x.col(k) + x.col(k + 1) + x.col(k + 2) + x.col(k + 3);
    for (; k < x.cols(); ++k) acc += x.col(k);
    return out;
  }

  template <class Draw>
  static A fill(const A& like, Draw&& draw) {
    A out(like.rows(), like.cols());
    for (Eigen::Index j = 0; j < out.cols(); ++j)
      for (Eigen::Index i = 0; i < out.rows(); ++i) out(i, j) = draw();
    return out;
  }
};

}  // namespace cebm::ops
