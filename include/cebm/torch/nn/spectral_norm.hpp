#pragma once
/// @file
/// Spectral normalisation (Miyato et al., ICLR 2018) as `torch.nn.utils.parametrizations.
/// spectral_norm` does it, which the CLEL networks use on every convolution (reference notes §3.2,
/// §6 item 10); the libtorch C++ frontend has no equivalent.
///
/// The raw weight W (out × in × k × k, or out × in) is read as the matrix W̄ = W.flatten(1) of
/// shape (out, in·k·k) (dim 0). The layer uses
///
///   W_SN = W / σ,   σ = uᵀ W̄ v,
///
/// where u ∈ ℝ^out and v ∈ ℝ^(in·k·k) are unit estimates of the top left/right singular vectors of
/// W̄, so σ ≈ σ_max(W̄) and the normalised matrix has spectral norm ≈ 1. One step of the power
/// method, in this order (torch's `_SpectralNorm._power_method`):
///
///   u ← normalize(W̄ v),   v ← normalize(W̄ᵀ u),   normalize(x) = x / max(‖x‖₂, eps),
///
/// runs without gradient, in place on u and v:
///   - at creation (and on `reset_singular_vectors()`): u, v ~ N(0, I) from the global generator
///     (as module initialisation draws), normalised, then `init_iterations` (15) steps;
///   - on every forward in training mode: `power_iterations` (1) steps before σ is computed;
///   - in evaluation mode: none; u and v stay as they are.
/// σ itself is computed *with* gradient through W, from copies of u and v (so two forwards may
/// share one backward, as in L = E(x⁺) − E(x⁻)); the gradient of W_SN therefore contains the
/// −(⟨G, W⟩/σ²) u vᵀ term of d(W/σ).
///
/// Registered state (and so what a checkpoint holds, `clone()` copies and an EMA sees):
///   parameter `weight_orig`  W, the raw weight the optimiser updates and an EMA averages;
///   parameter `bias`         (if enabled);
///   buffer    `weight_u`     u, [out];
///   buffer    `weight_v`     v, [in·k·k] — buffers, so an EMA copies rather than averages them.
/// The names follow torch's earlier hook-based `spectral_norm` (`weight_orig`, `weight_u`,
/// `weight_v`); `weight()` returns W_SN with the current u, v and no iteration.
///
/// Default initialisation of W and the bias is libtorch's (`Conv2d` / `Linear`: kaiming-uniform
/// with a = √5, bias U(±1/√fan_in)). A network that re-initialises W must call
/// `reset_singular_vectors()` afterwards: torch's spectral norm is registered after the init.
#include <cmath>
#include <cstdint>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/functional/conv.h>
#include <torch/nn/functional/padding.h>
#include <torch/nn/init.h>
#include <torch/nn/options/conv.h>
#include <torch/nn/options/linear.h>
#include <torch/nn/pimpl.h>

#include "cebm/core/arg.hpp"
#include "cebm/torch/nn/conv.hpp"
#include "cebm/torch/nn/dense.hpp"
#include "cebm/torch/nn/detail/default_init.hpp"
#include "cebm/torch/detail/shape_checks.hpp"

namespace cebm::nn {

struct spectral_norm_options {
  /// Power-method steps per training-mode forward (torch's `n_power_iterations`).
  CEBM_ARG(std::int64_t, power_iterations) = 1;
  /// Power-method steps from the random start, at creation and on `reset_singular_vectors()`.
  CEBM_ARG(std::int64_t, init_iterations) = 15;
  /// Floor of the norm in normalize(x) = x / max(‖x‖, eps).
  CEBM_ARG(double, eps) = 1e-12;
};

namespace detail {

/// W (or the triple W, u, v) of one spectrally normalised layer; the module that owns it registers
/// the tensors, so `clone()`, `to()` and serialisation see them as its own.
struct spectral_weight {
  spectral_norm_options options;
  at::Tensor weight_orig, u, v;

  static void check(const spectral_norm_options& o, const char* where) {
    if (o.power_iterations() < 1)
      throw std::invalid_argument(std::string(where) + ": spectral_norm_options::power_iterations must be >= 1, got " +
                                  std::to_string(o.power_iterations()));
    if (o.init_iterations() < 0)
      throw std::invalid_argument(std::string(where) + ": spectral_norm_options::init_iterations must be >= 0, got " +
                                  std::to_string(o.init_iterations()));
    if (!(o.eps() > 0))
      throw std::invalid_argument(std::string(where) + ": spectral_norm_options::eps must be > 0, got " +
                                  std::to_string(o.eps()));
  }

  /// Registers `weight_orig` (uninitialised, `sizes`), `weight_u`, `weight_v` on `m`.
  void register_on(torch::nn::Module& m, const std::vector<std::int64_t>& sizes) {
    weight_orig = m.register_parameter("weight_orig", at::empty(sizes));
    std::int64_t cols = 1;
    for (std::size_t i = 1; i < sizes.size(); ++i) cols *= sizes[i];
    u = m.register_buffer("weight_u", at::empty({sizes[0]}));
    v = m.register_buffer("weight_v", at::empty({cols}));
  }

  at::Tensor matrix() const { return weight_orig.flatten(1); }

  static at::Tensor normalize(const at::Tensor& x, double eps) { return x / x.norm().clamp_min(eps); }

  void power_iterate(std::int64_t steps) {
    at::NoGradGuard no_grad;
    const at::Tensor w = matrix().detach();
    for (std::int64_t i = 0; i < steps; ++i) {
      u.copy_(normalize(at::mv(w, v), options.eps()));
      v.copy_(normalize(at::mv(w.t(), u), options.eps()));
    }
  }

  void reset_singular_vectors() {
    {
      at::NoGradGuard no_grad;
      u.copy_(normalize(at::randn(u.sizes(), u.options()), options.eps()));
      v.copy_(normalize(at::randn(v.sizes(), v.options()), options.eps()));
    }
    power_iterate(options.init_iterations());
  }

  /// σ = uᵀ W̄ v, differentiable in W; u, v enter as constants.
  at::Tensor sigma() const { return at::dot(u.clone(), at::mv(matrix(), v.clone())); }

  /// W / σ, after `power_iterations` steps when `training`.
  at::Tensor normalized(bool training) {
    if (training) power_iterate(options.power_iterations());
    return weight_orig / sigma();
  }
};

}  // namespace detail

/// What both spectrally normalised layers share: the weight triple (W, u, v), the bias, their
/// registration and initialisation, and the accessors. `Derived` supplies `reset()` (checks and
/// `register_weight(sizes, out, with_bias)`) and `forward`.
template <class Derived>
class spectral_layer : public torch::nn::Cloneable<Derived> {
 public:
  /// libtorch's default initialisation of W and the bias, then fresh singular vectors.
  void reset_parameters() {
    detail::default_init(sn_.weight_orig, bias_);
    sn_.reset_singular_vectors();
  }
  /// Redraws u, v and runs `init_iterations` power steps on the current W (call after changing W).
  void reset_singular_vectors() { sn_.reset_singular_vectors(); }
  /// Runs `steps` power steps now, whatever the mode.
  void power_iterate(std::int64_t steps) { sn_.power_iterate(steps); }

  /// σ = uᵀ W̄ v from the current u, v (no iteration), differentiable in W; a 0-dim tensor.
  at::Tensor sigma() const { return sn_.sigma(); }
  /// W / σ from the current u, v (no iteration).
  at::Tensor weight() const { return sn_.weight_orig / sn_.sigma(); }
  const at::Tensor& weight_orig() const { return sn_.weight_orig; }
  const at::Tensor& bias() const { return bias_; }
  const at::Tensor& u() const { return sn_.u; }
  const at::Tensor& v() const { return sn_.v; }
  const spectral_norm_options& spectral_options() const { return sn_.options; }

 protected:
  explicit spectral_layer(spectral_norm_options sn) { sn_.options = std::move(sn); }

  /// Registers W (`sizes`), u, v and the bias [sizes[0]], and initialises them.
  void register_weight(const std::vector<std::int64_t>& sizes, bool with_bias) {
    sn_.register_on(*this, sizes);
    bias_ = detail::register_bias(*this, sizes[0], with_bias);
    reset_parameters();
  }

  detail::spectral_weight sn_;
  at::Tensor bias_;
};

/// A 2-D convolution whose weight is spectrally normalised (see the file comment). Takes the same
/// `torch::nn::Conv2dOptions` as `torch::nn::Conv2d` (every padding and padding mode).
class SpectralConv2dImpl : public spectral_layer<SpectralConv2dImpl> {
 public:
  SpectralConv2dImpl(std::int64_t in_channels, std::int64_t out_channels, torch::ExpandingArray<2> kernel_size)
      : SpectralConv2dImpl(torch::nn::Conv2dOptions(in_channels, out_channels, kernel_size)) {}
  explicit SpectralConv2dImpl(torch::nn::Conv2dOptions options, spectral_norm_options sn = {})
      : spectral_layer(std::move(sn)), options_(std::move(options)) {
    reset();
  }

  void reset() override {
    static constexpr const char* where = "cebm::nn::SpectralConv2d";
    detail::spectral_weight::check(sn_.options, where);
    const auto& o = options_;
    if (o.in_channels() <= 0 || o.out_channels() <= 0 || o.groups() <= 0 || o.in_channels() % o.groups() != 0 ||
        o.out_channels() % o.groups() != 0)
      throw std::invalid_argument(std::string(where) + ": need positive channels divisible by groups, got in_channels " +
                                  std::to_string(o.in_channels()) + ", out_channels " + std::to_string(o.out_channels()) +
                                  ", groups " + std::to_string(o.groups()));
    using std::get_if;  // libtorch 1.x options hold c10::variant: argument-dependent lookup finds c10::get_if
    if (get_if<torch::enumtype::kSame>(&o.padding()) != nullptr)
      for (const auto s : *o.stride())
        if (s != 1) throw std::invalid_argument(std::string(where) + ": padding 'same' needs stride 1");
    std::vector<std::int64_t> sizes{o.out_channels(), o.in_channels() / o.groups()};
    sizes.insert(sizes.end(), o.kernel_size()->begin(), o.kernel_size()->end());
    register_weight(sizes, o.bias());
  }

  /// x: [B, in_channels, H, W] → [B, out_channels, H', W'] with the weight W / σ.
  at::Tensor forward(const at::Tensor& x) {
    cebm::detail::require_images("cebm::nn::SpectralConv2d", x, options_.in_channels());
    return convolve(x, sn_.normalized(is_training()));
  }

  void pretty_print(std::ostream& stream) const override {
    stream << "cebm::nn::SpectralConv2d(" << options_.in_channels() << ", " << options_.out_channels()
           << ", kernel_size=" << options_.kernel_size() << ", stride=" << options_.stride()
           << ", bias=" << (options_.bias() ? "true" : "false") << ")";
  }

  const torch::nn::Conv2dOptions& options() const { return options_; }

 private:
  at::Tensor convolve(const at::Tensor& x, const at::Tensor& w) const {
    namespace F = torch::nn::functional;
    const auto& o = options_;
    using std::get_if;
    const auto conv = [&](const at::Tensor& input, const F::Conv2dFuncOptions::padding_t& padding) {
      return F::conv2d(input, w,
                       F::Conv2dFuncOptions().bias(bias_).stride(o.stride()).padding(padding).dilation(o.dilation()).groups(
                           o.groups()));
    };
    if (get_if<torch::enumtype::kZeros>(&o.padding_mode()) != nullptr) {
      const auto* p = get_if<torch::ExpandingArray<2>>(&o.padding());
      if (p != nullptr && o.groups() == 1) return nn::conv2d(x, w, bias_, *o.stride(), **p, *o.dilation());
      return conv(x, o.padding());
    }
    // Other padding modes: pad explicitly, then convolve without padding (as torch::nn::Conv2d).
    std::vector<std::int64_t> pad(4, 0);  // {left, right, top, bottom}
    if (const auto* p = get_if<torch::ExpandingArray<2>>(&o.padding())) {
      pad = {(**p)[1], (**p)[1], (**p)[0], (**p)[0]};
    } else if (get_if<torch::enumtype::kSame>(&o.padding()) != nullptr) {
      for (int d = 0; d < 2; ++d) {
        const std::int64_t total = (*o.dilation())[d] * ((*o.kernel_size())[d] - 1);
        pad[2 * (1 - d)] = total / 2;
        pad[2 * (1 - d) + 1] = total - total / 2;
      }
    }
    F::PadFuncOptions pad_options(pad);
    if (get_if<torch::enumtype::kReflect>(&o.padding_mode()) != nullptr)
      pad_options.mode(torch::kReflect);
    else if (get_if<torch::enumtype::kReplicate>(&o.padding_mode()) != nullptr)
      pad_options.mode(torch::kReplicate);
    else
      pad_options.mode(torch::kCircular);
    return conv(F::pad(x, pad_options), torch::ExpandingArray<2>(0));
  }

  torch::nn::Conv2dOptions options_;
};
TORCH_MODULE(SpectralConv2d);

/// A linear layer y = x (W/σ)ᵀ + b whose weight is spectrally normalised (see the file comment).
/// Takes the same `torch::nn::LinearOptions` as `torch::nn::Linear`.
class SpectralLinearImpl : public spectral_layer<SpectralLinearImpl> {
 public:
  SpectralLinearImpl(std::int64_t in_features, std::int64_t out_features)
      : SpectralLinearImpl(torch::nn::LinearOptions(in_features, out_features)) {}
  explicit SpectralLinearImpl(torch::nn::LinearOptions options, spectral_norm_options sn = {})
      : spectral_layer(std::move(sn)), options_(std::move(options)) {
    reset();
  }

  void reset() override {
    detail::spectral_weight::check(sn_.options, "cebm::nn::SpectralLinear");
    if (options_.in_features() <= 0 || options_.out_features() <= 0)
      throw std::invalid_argument("cebm::nn::SpectralLinear: need positive feature counts, got in_features " +
                                  std::to_string(options_.in_features()) + ", out_features " +
                                  std::to_string(options_.out_features()));
    register_weight({options_.out_features(), options_.in_features()}, options_.bias());
  }

  /// x: [..., in_features] → [..., out_features] with the weight W / σ.
  at::Tensor forward(const at::Tensor& x) {
    cebm::detail::require_last_dim("cebm::nn::SpectralLinear", x, options_.in_features(), "input");
    return nn::linear(x, sn_.normalized(is_training()), bias_);
  }

  void pretty_print(std::ostream& stream) const override {
    stream << "cebm::nn::SpectralLinear(in_features=" << options_.in_features()
           << ", out_features=" << options_.out_features() << ", bias=" << (options_.bias() ? "true" : "false") << ")";
  }

  const torch::nn::LinearOptions& options() const { return options_; }

 private:
  torch::nn::LinearOptions options_;
};
TORCH_MODULE(SpectralLinear);

}  // namespace cebm::nn
