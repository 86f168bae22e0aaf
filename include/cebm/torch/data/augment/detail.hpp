#pragma once
/// @file
/// Internals shared by the augmentations: boundary checks on image batches, probabilities and
/// generators, per-sample broadcasting and Bernoulli masks. No stability promise.
#include <cstdint>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

namespace cebm::data::detail {

inline std::string describe_tensor(const at::Tensor& x) {
  if (!x.defined()) return "an undefined tensor";
  return "a " + std::string(c10::toString(x.scalar_type())) + " tensor of rank " + std::to_string(x.dim()) +
         " and shape " + std::string(c10::str(x.sizes()));
}

/// A batch of images: floating-point [N, C, H, W] with C = 1 or 3 and H, W ≥ 1.
inline void check_images(const at::Tensor& x, const char* where) {
  const std::string expected = ": images must be a floating-point tensor [N, C, H, W] with C = 1 or 3, got ";
  if (!x.defined() || x.dim() != 4 || !at::isFloatingType(x.scalar_type()))
    throw std::invalid_argument(std::string(where) + expected + describe_tensor(x));
  if (x.size(1) != 1 && x.size(1) != 3)
    throw std::invalid_argument(std::string(where) + expected + std::to_string(x.size(1)) + " channels (shape " +
                                std::string(c10::str(x.sizes())) + ")");
  if (x.size(2) < 1 || x.size(3) < 1)
    throw std::invalid_argument(std::string(where) + ": images must have H, W >= 1, got shape " +
                                std::string(c10::str(x.sizes())));
}

/// The generator must exist and live on the images' device type (a CPU generator for CPU images).
inline void check_generator(const at::Generator& gen, const at::Tensor& x, const char* where) {
  if (!gen.defined()) throw std::invalid_argument(std::string(where) + ": gen is an undefined generator");
  if (gen.device().type() != x.device().type())
    throw std::invalid_argument(std::string(where) + ": gen must be a generator of the images' device (" +
                                x.device().str() + "), got one of " + gen.device().str());
}

inline void check_probability(double p, const char* where, const char* name) {
  if (!(p >= 0.0 && p <= 1.0))
    throw std::invalid_argument(std::string(where) + ": " + name + " must be a probability in [0, 1], got " +
                                std::to_string(p));
}

/// A per-sample factor: a 0-dim tensor (same for the whole batch) or a vector [N].
inline at::Tensor per_sample(const at::Tensor& factor, const at::Tensor& x, const char* where, const char* name) {
  if (!factor.defined() || !(factor.dim() == 0 || (factor.dim() == 1 && factor.size(0) == x.size(0))))
    throw std::invalid_argument(std::string(where) + ": " + name + " must be a 0-dim tensor or a vector [" +
                                std::to_string(x.size(0)) + "], got " + describe_tensor(factor));
  const at::Tensor f = factor.to(x.device(), x.scalar_type());
  return f.dim() == 0 ? f : f.reshape({-1, 1, 1, 1});
}

/// dtype in which random parameters are drawn: double for double images, float otherwise (half
/// and bfloat16 images get float parameters, cast when applied).
inline at::TensorOptions param_options(const at::Tensor& x) {
  return at::TensorOptions().device(x.device()).dtype(x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat);
}

/// [n] bool, each true with probability p, independently.
inline at::Tensor bernoulli_mask(std::int64_t n, double p, at::Generator& gen, const at::Tensor& x) {
  return at::rand({n}, gen, param_options(x)) < p;
}

/// Per sample: `when[i] ? a[i] : b[i]`.
inline at::Tensor where_samples(const at::Tensor& when, const at::Tensor& a, const at::Tensor& b) {
  return at::where(when.reshape({-1, 1, 1, 1}), a, b);
}

}  // namespace cebm::data::detail
