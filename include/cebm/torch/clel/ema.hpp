#pragma once
/// @file
/// `ema<M>`: an exponential moving average of a module's parameters, the copy the CLEL authors
/// evaluate (FID, OOD, nearest neighbours) for both the EBM and the encoder (reference notes §3.5,
/// authors' `train.py` / `models/base.py`).
///
/// At construction the average is a deep copy of the live module (`Module::clone()`, so the module
/// must be `torch::nn::Cloneable`, as every cebm module is). Call `update(live, s)` at the *start*
/// of training iteration s = 0, 1, 2, …, before that iteration's gradient step. It does
///
///   d = 0                                   while s < warmup_iterations (a plain copy),
///   d = 0.5^(batch / half_life_images)      afterwards (≈ 0.997784 for 64 and 20000),
///   θ_ema ← d · θ_ema + (1 − d) · θ_live    for every parameter, matched by name,
///   b_ema ← b_live                          for every buffer, matched by name,
///
/// so after k averaging updates against a live module frozen at θ, θ_ema = d^k θ₀ + (1 − d^k) θ.
/// The half-life is in images: after half_life_images / batch updates a past value's weight has
/// halved. The published warm-up is 312.5 iterations (= 20000 / 64): iterations 0 … 312 copy.
///
/// Buffers are copied, never averaged: spectral-norm power-iteration vectors u, v, batch-norm
/// running statistics and `num_batches_tracked` belong to the live weights of the same step, and
/// an average of unit vectors or of counters is meaningless (reference notes §6 item 9). For a
/// spectral-normalised convolution the *raw* weight is the parameter that gets averaged.
///
/// The copy's parameters do not require gradients (it is never trained); gradients with respect to
/// its inputs still flow, so SGLD with the averaged EBM works. `update` never changes the copy's
/// train/eval mode, which starts as the live module's: put it in eval mode for evaluation. The copy
/// lives on the live module's device; `update` expects the live module there too.
#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/serialize/archive.h>

#include "cebm/core/arg.hpp"

namespace cebm::clel {

struct ema_options {
  /// Images per training iteration.
  CEBM_ARG(std::int64_t, batch) = 64;
  /// Images after which an old value's weight has halved.
  CEBM_ARG(double, half_life_images) = 20000.0;
  /// Plain copies while the iteration is below this (the published 312.5: iterations 0 … 312).
  CEBM_ARG(double, warmup_iterations) = 312.5;

 public:
  /// d = 0.5^(batch / half_life_images), the decay once the warm-up is over.
  double decay() const { return std::pow(0.5, static_cast<double>(batch()) / half_life_images()); }
};

namespace detail {

// M is a module class (shared_ptr<M> handles) or a TORCH_MODULE holder (M handles).
template <class M, class = void>
struct module_handle {
  using impl = M;
  using type = std::shared_ptr<M>;
  static std::shared_ptr<impl> ptr(const type& h) { return h; }
  static type wrap(std::shared_ptr<impl> p) { return p; }
};
template <class M>
struct module_handle<M, std::void_t<typename M::ContainedType>> {
  using impl = typename M::ContainedType;
  using type = M;
  static std::shared_ptr<impl> ptr(const type& h) { return h.ptr(); }
  static type wrap(std::shared_ptr<impl> p) { return M(std::move(p)); }
};

}  // namespace detail

/// The moving average of a module. `M` is a torch module holder (`Foo` from `TORCH_MODULE(Foo)`)
/// or a module class (`FooImpl`, handled as `std::shared_ptr<FooImpl>`).
template <class M>
class ema {
  using handle_traits = detail::module_handle<M>;
  using impl = typename handle_traits::impl;
  static_assert(std::is_base_of_v<torch::nn::Module, impl>,
                "cebm::clel::ema<M>: M must be a torch module holder (TORCH_MODULE) or a class derived from "
                "torch::nn::Module (see cebm/torch/clel/ema.hpp)");

 public:
  /// `Foo` for a holder, `std::shared_ptr<FooImpl>` for a module class.
  using module_type = typename handle_traits::type;

  explicit ema(const module_type& live, ema_options o = {}) : o_(checked(std::move(o))), copy_(make_copy(live)) {}

  /// The decay used by `update` at `iteration`: 0 during the warm-up, `options().decay()` after.
  double decay_at(std::int64_t iteration) const {
    return static_cast<double>(iteration) < o_.warmup_iterations() ? 0.0 : o_.decay();
  }

  /// One averaging step at the start of training iteration `iteration` (see the file comment).
  void update(const torch::nn::Module& live, std::int64_t iteration) {
    constexpr const char* where = "cebm::clel::ema::update";
    if (iteration < 0)
      throw std::invalid_argument(std::string(where) + ": iteration must be non-negative, got " +
                                  std::to_string(iteration));
    const double d = decay_at(iteration);
    c10::NoGradGuard no_grad;
    const auto live_params = live.named_parameters(/*recurse=*/true);
    const auto live_buffers = live.named_buffers(/*recurse=*/true);
    const auto own_params = handle_traits::ptr(copy_)->named_parameters(/*recurse=*/true);
    const auto own_buffers = handle_traits::ptr(copy_)->named_buffers(/*recurse=*/true);
    check_match(own_params, live_params, "parameter");
    check_match(own_buffers, live_buffers, "buffer");
    for (const auto& item : own_params) {
      at::Tensor mine = item.value();
      const at::Tensor& theirs = *live_params.find(item.key());
      if (d == 0.0)
        mine.copy_(theirs);
      else
        mine.lerp_(theirs.to(mine.options()), 1.0 - d);  // d · mine + (1 − d) · theirs
    }
    for (const auto& item : own_buffers) {
      at::Tensor mine = item.value();
      mine.copy_(*live_buffers.find(item.key()));
    }
  }
  void update(const module_type& live, std::int64_t iteration) {
    const auto p = handle_traits::ptr(live);
    if (!p) throw std::invalid_argument("cebm::clel::ema::update: the live module is empty (a null holder)");
    update(static_cast<const torch::nn::Module&>(*p), iteration);
  }

  /// The averaged module (a handle sharing the copy): use it for evaluation.
  module_type module() const { return copy_; }
  const ema_options& options() const { return o_; }

  /// The averaged module's parameters and buffers, under the module's own names.
  void save(torch::serialize::OutputArchive& archive) const { handle_traits::ptr(copy_)->save(archive); }
  void load(torch::serialize::InputArchive& archive) { handle_traits::ptr(copy_)->load(archive); }

 private:
  static ema_options checked(ema_options o) {
    if (o.batch() <= 0 || !(o.half_life_images() > 0) || !std::isfinite(o.half_life_images()))
      throw std::invalid_argument("cebm::clel::ema: batch and half_life_images must be positive, got batch " +
                                  std::to_string(o.batch()) + " and half_life_images " +
                                  std::to_string(o.half_life_images()));
    if (!(o.warmup_iterations() >= 0))
      throw std::invalid_argument("cebm::clel::ema: warmup_iterations must be non-negative, got " +
                                  std::to_string(o.warmup_iterations()));
    return o;
  }

  static module_type make_copy(const module_type& live) {
    const std::shared_ptr<impl> p = handle_traits::ptr(live);
    if (!p) throw std::invalid_argument("cebm::clel::ema: the live module is empty (a null holder)");
    std::shared_ptr<impl> copy = std::dynamic_pointer_cast<impl>(p->clone());
    if (!copy) throw std::invalid_argument("cebm::clel::ema: clone() of the live module did not return its own type");
    for (auto& param : copy->parameters(/*recurse=*/true)) param.set_requires_grad(false);
    return handle_traits::wrap(std::move(copy));
  }

  template <class Dict>
  static void check_match(const Dict& own, const Dict& live, const char* what) {
    if (own.size() != live.size())
      throw std::invalid_argument(std::string("cebm::clel::ema::update: the live module has ") +
                                  std::to_string(live.size()) + " " + what + "s, the average " +
                                  std::to_string(own.size()) + " (a different architecture?)");
    for (const auto& item : own) {
      const at::Tensor* theirs = live.find(item.key());
      if (theirs == nullptr)
        throw std::invalid_argument(std::string("cebm::clel::ema::update: the live module has no ") + what + " '" +
                                    item.key() + "'");
      if (theirs->sizes() != item.value().sizes())
        throw std::invalid_argument(std::string("cebm::clel::ema::update: ") + what + " '" + item.key() +
                                    "' has shape " + std::string(c10::str(theirs->sizes())) +
                                    " in the live module but " + std::string(c10::str(item.value().sizes())) +
                                    " in the average");
    }
  }

  ema_options o_;
  module_type copy_;
};

}  // namespace cebm::clel
