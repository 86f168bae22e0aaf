#pragma once
/// @file
/// Shared internals of the CLEL headers: shape checks that name the culprit, and row
/// normalisation with the published code's semantics (`F.normalize`: x / max(‖x‖, 1e-12)).
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

namespace cebm::clel::detail {

inline std::string shape_of(const at::Tensor& t) {
  return t.defined() ? std::string(c10::str(t.sizes())) : std::string("an undefined tensor");
}

/// `t` must be a floating-point [B, D] tensor with B ≥ 1 and D ≥ 1.
inline void require_rows(const at::Tensor& t, const char* where, const char* what) {
  if (!t.defined() || t.dim() != 2 || t.size(0) == 0 || t.size(1) == 0)
    throw std::invalid_argument(std::string(where) + ": " + what + " must be a non-empty [B, D] tensor, got " +
                                shape_of(t));
  if (!at::isFloatingType(t.scalar_type()))
    throw std::invalid_argument(std::string(where) + ": " + what + " must be a floating-point tensor, got " +
                                std::string(c10::toString(t.scalar_type())));
}

/// `a` and `b` must have the same number of rows.
inline void require_same_rows(const at::Tensor& a, const at::Tensor& b, const char* where, const char* what_a,
                              const char* what_b) {
  if (a.size(0) != b.size(0))
    throw std::invalid_argument(std::string(where) + ": " + what_a + " " + shape_of(a) + " and " + what_b + " " +
                                shape_of(b) + " differ in batch size");
}

/// A direction z must be [D] (one row for the whole batch) or [B, D] matching `like` = [B, D], of
/// `like`'s dtype.
inline void require_direction(const at::Tensor& z, const at::Tensor& like, const char* where, const char* what) {
  const bool ok = z.defined() && z.scalar_type() == like.scalar_type() &&
                  ((z.dim() == 1 && z.size(0) == like.size(1)) || (z.dim() == 2 && z.sizes() == like.sizes()));
  if (!ok)
    throw std::invalid_argument(std::string(where) + ": " + what + " must be a [" + std::to_string(like.size(1)) +
                                "] or " + shape_of(like) + " tensor of " + std::string(c10::toString(like.scalar_type())) +
                                " (the shape and dtype of g(f(x))), got " + shape_of(z) +
                                (z.defined() ? " of " + std::string(c10::toString(z.scalar_type())) : ""));
}

/// Rows scaled to unit L2 norm along the last axis; rows of norm < 1e-12 are divided by 1e-12.
inline at::Tensor unit_rows(const at::Tensor& x) { return x / x.norm(2, {-1}, /*keepdim=*/true).clamp_min(1e-12); }

/// cos(a_i, b_i) along the last axis, [B]; b may be one row [D] broadcast over a's batch.
inline at::Tensor cosine(const at::Tensor& a, const at::Tensor& b) { return (unit_rows(a) * unit_rows(b)).sum(-1); }

}  // namespace cebm::clel::detail
