#pragma once
/// @file
/// `loss_scaler`: dynamic loss scaling for float16 training (Micikevicius et al., "Mixed Precision
/// Training", ICLR 2018; `torch.amp.GradScaler`). Gradients below float16's smallest normal number
/// (6.1e-5) flush to zero in a float16 backward; the loss is multiplied by S before backward and
/// the float32 gradients divided by S before the step:
///
///   backward(S · L);  g ← g / S;  finite(g) ? step, and S ← S · growth after `growth_interval`
///                                              finite steps in a row
///                                            : no step, S ← S · backoff
///
/// A disabled scaler (every mode but fp16) passes the loss through and never touches a gradient.
/// In a data-parallel run the gradients are averaged before `unscale`, so every rank finds the
/// same answer and skips the same steps.
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <torch/serialize/archive.h>

#include "cebm/core/arg.hpp"

namespace cebm {

struct loss_scaler_options {
  CEBM_ARG(double, initial_scale) = 65536.0;  ///< S at the start (2^16, GradScaler's)
  CEBM_ARG(double, growth) = 2.0;             ///< S's factor after `growth_interval` finite steps
  CEBM_ARG(double, backoff) = 0.5;            ///< S's factor after a non-finite gradient
  CEBM_ARG(std::int64_t, growth_interval) = 2000;

 public:
  void validate() const {
    if (!(initial_scale_ > 0) || !std::isfinite(initial_scale_))
      throw std::invalid_argument("cebm::loss_scaler: initial_scale must be positive and finite, got " + std::to_string(initial_scale_));
    if (!(growth_ > 1)) throw std::invalid_argument("cebm::loss_scaler: growth must be > 1, got " + std::to_string(growth_));
    if (!(backoff_ > 0 && backoff_ < 1))
      throw std::invalid_argument("cebm::loss_scaler: backoff must be in (0, 1), got " + std::to_string(backoff_));
    if (growth_interval_ <= 0)
      throw std::invalid_argument("cebm::loss_scaler: growth_interval must be positive, got " + std::to_string(growth_interval_));
  }
};

class loss_scaler {
 public:
  explicit loss_scaler(bool enabled = false, loss_scaler_options o = {}) : enabled_(enabled), o_(o), scale_(o.initial_scale()) {
    o_.validate();
  }

  bool enabled() const { return enabled_; }
  /// S (1 when disabled).
  double scale() const { return enabled_ ? scale_ : 1.0; }
  /// Steps skipped for a non-finite gradient so far.
  std::int64_t skipped_steps() const { return skipped_; }

  /// S · loss (the loss itself when disabled): what backward is called on.
  at::Tensor scaled(const at::Tensor& loss) const { return enabled_ ? loss * scale_ : loss; }

  /// Divides every defined gradient of `parameters` by S; true when every one is finite (one
  /// device read). Always true, touching nothing, when disabled.
  bool unscale(const std::vector<at::Tensor>& parameters) const {
    if (!enabled_) return true;
    std::vector<at::Tensor> finite;
    for (const at::Tensor& p : parameters) {
      at::Tensor g = p.grad();
      if (!g.defined()) continue;
      g.mul_(1.0 / scale_);
      finite.push_back(at::isfinite(g).all().reshape({1}));
    }
    return finite.empty() || at::cat(finite).all().item<bool>();
  }

  /// After an iteration whose gradients were (`finite`) or were not finite: S grows after
  /// `growth_interval` finite iterations in a row and shrinks at once after a non-finite one.
  void update(bool finite) {
    if (!enabled_) return;
    if (!finite) {
      scale_ *= o_.backoff();
      good_ = 0;
      ++skipped_;
      return;
    }
    if (++good_ == o_.growth_interval()) {
      scale_ *= o_.growth();
      good_ = 0;
    }
  }

  void save(torch::serialize::OutputArchive& a) const {
    a.write("scale", at::tensor(scale_, at::kDouble), true);
    a.write("finite_steps", at::tensor(good_, at::kLong), true);
    a.write("skipped_steps", at::tensor(skipped_, at::kLong), true);
  }
  void load(torch::serialize::InputArchive& a) {
    at::Tensor s, g, k;
    a.read("scale", s, true);
    a.read("finite_steps", g, true);
    a.read("skipped_steps", k, true);
    scale_ = s.item<double>();
    good_ = g.item<std::int64_t>();
    skipped_ = k.item<std::int64_t>();
  }

 private:
  bool enabled_;
  loss_scaler_options o_;
  double scale_;
  std::int64_t good_ = 0, skipped_ = 0;
};

}  // namespace cebm
