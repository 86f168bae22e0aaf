#pragma once
/// @file
/// Exponential-family harmonium (Welling et al., 2004; the RBM when both families are Bernoulli)
/// as the special case of a conjugate EBM in Wu et al. (ICML 2021), appendix A, eq. (30)–(33):
///
///   E(x, z) = −⟨t_x(x)ᵀ W, t_z(z)⟩ − ⟨θ_x, t_x(x)⟩ − ⟨θ_z, t_z(z)⟩ − log h_x(x) − log h_z(z)
///
/// with visible family Fx per input coordinate (x: [B, D]), hidden family Fz per latent coordinate
/// (z: [B, K]), and W: [D, K] coupling the *first* statistic of each side (the statistics after the
/// first keep their bias, fixed: a buffer, e.g. the Gaussian's λ₂ = −½ for unit variance). Then
///
///   p(z | x) = Fz(θ_z + (Wᵀ t_x(x)₁, 0, …))    the CEBM posterior: bias λ = θ_z, t(x) = (Wᵀ t_x(x)₁, 0, …)
///   p(x | z) = Fx(θ_x + (W t_z(z)₁, 0, …))
///   E(x)     = Σ_k [B(θ_z) − B(θ_z + t_k(x))] − ⟨θ_x, t_x(x)⟩ − log h_x(x)      (+ const)
///
/// computed by the library's `posterior_params`, `marginal_energy` and families, so a harmonium is
/// trainable by the Langevin trainer (`energy`, continuous visible families) and, both conditionals
/// being tractable, by block Gibbs sampling (`gibbs`). Inputs of any shape [B, ...] are flattened
/// to [B, D].
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/nn/pimpl.h>

#include "cebm/core/arg.hpp"
#include "cebm/models/conjugate_energy.hpp"
#include "cebm/torch/models/energy_model.hpp"
#include "cebm/torch/precision/precision_policy.hpp"
#include "cebm/torch/ops.hpp"

namespace cebm::models {

struct harmonium_options {
  CEBM_ARG(std::int64_t, visible) = 784;  ///< D
  CEBM_ARG(std::int64_t, hidden) = 128;   ///< K
  CEBM_ARG(double, init_std) = 0.01;      ///< W ~ N(0, init_std²); first-statistic biases start at 0
};

template <class Fx, class Fz>
class HarmoniumImpl : public EnergyModelImpl {
 public:
  std::string kind() const override { return "harmonium"; }
  using visible_pack = param_pack<at::Tensor, Fx::num_stats>;
  using hidden_pack = param_pack<at::Tensor, Fz::num_stats>;

  /// `visible_bias` / `hidden_bias`: one value per statistic, each coordinate starting there (the
  /// first statistic's is trained, the others stay fixed); e.g. {0, -0.5} for unit-variance
  /// Gaussian visible units.
  explicit HarmoniumImpl(harmonium_options o = {}, std::vector<double> visible_bias = {},
                         std::vector<double> hidden_bias = {})
      : o_(std::move(o)), visible_init_(pad(std::move(visible_bias), Fx::num_stats, "visible")),
        hidden_init_(pad(std::move(hidden_bias), Fz::num_stats, "hidden")) {
    reset();
  }

  /// (Re)draws W and sets the biases to their initial values.
  void reset() {
    W = this->register_parameter("W", at::randn({o_.visible(), o_.hidden()}) * o_.init_std());
    for (std::size_t s = 0; s < Fx::num_stats; ++s) {
      const at::Tensor v = at::full({o_.visible()}, visible_init_[s]);
      theta_x[s] = s == 0 ? this->register_parameter("theta_x", v) : this->register_buffer("theta_x" + std::to_string(s + 1), v);
    }
    for (std::size_t s = 0; s < Fz::num_stats; ++s) {
      const at::Tensor v = at::full({o_.hidden()}, hidden_init_[s]);
      theta_z[s] = s == 0 ? this->register_parameter("theta_z", v) : this->register_buffer("theta_z" + std::to_string(s + 1), v);
    }
  }

  /// t(x) of the CEBM view: (Wᵀ t_x(x)₁, 0, …), [B, K] per statistic.
  hidden_pack statistics(const at::Tensor& x) {
    hidden_pack t;
    t[0] = full_precision(at::matmul(Fx::sufficient_stats(flat(x))[0], W));  // the family's maths in fp32
    for (std::size_t s = 1; s < Fz::num_stats; ++s) t[s] = at::zeros_like(t[0]);
    return t;
  }
  /// Natural parameters of p(z | x): the CEBM posterior θ_z + t(x).
  hidden_pack posterior(const at::Tensor& x) { return posterior_params<Fz>(theta_z, statistics(x)); }
  /// Natural parameters of p(x | z): θ_x + (W t_z(z)₁, 0, …), [B, D] per statistic.
  visible_pack likelihood(const at::Tensor& z) {
    check_hidden(z);
    visible_pack l;
    const at::Tensor coupling = full_precision(at::matmul(Fz::sufficient_stats(z)[0], W.t()));
    for (std::size_t s = 0; s < Fx::num_stats; ++s) l[s] = s == 0 ? theta_x[s] + coupling : theta_x[s].expand_as(coupling);
    return l;
  }

  /// E(x) = −log Σ_z exp(−E(x, z)) up to a constant, [B].
  at::Tensor energy(const at::Tensor& x) override { return marginal_energy<Fz>(theta_z, statistics(x)) - visible_term(x); }
  /// E(x, z), [B] (the same constant as `energy`: E(x, z) = E(x) − log p(z | x)).
  at::Tensor joint_energy(const at::Tensor& x, const at::Tensor& z) {
    return cebm::joint_energy<Fz>(theta_z, statistics(x), z) - visible_term(x);
  }
  /// The posterior mean E[t_z(z)₁ | x]: the representation, [B, K].
  at::Tensor representation(const at::Tensor& x) override { return Fz::mean_params(posterior(x))[0]; }

  /// One block Gibbs sweep from visible `x`: z ~ p(z | x), then x' ~ p(x' | z).
  struct gibbs_state {
    at::Tensor x, z;
  };
  gibbs_state gibbs(const at::Tensor& x, std::int64_t sweeps, at::Generator& gen) {
    c10::NoGradGuard no_grad;
    gibbs_state s{flat(x), {}};
    for (std::int64_t i = 0; i < sweeps; ++i) {
      s.z = Fz::sample(posterior(s.x), gen);
      s.x = Fx::sample(likelihood(s.z), gen);
    }
    s.x = s.x.view(x.sizes());
    return s;
  }

  const harmonium_options& options() const { return o_; }

  at::Tensor W;
  visible_pack theta_x;
  hidden_pack theta_z;

 private:
  /// ⟨θ_x, t_x(x)⟩ + log h_x(x), [B]: the part of the energy that involves x alone.
  at::Tensor visible_term(const at::Tensor& x) const {
    const at::Tensor v = flat(x);
    const visible_pack tx = Fx::sufficient_stats(v);
    at::Tensor term = cebm::detail::sum_log_base_measure<Fx>(v);
    for (std::size_t s = 0; s < Fx::num_stats; ++s) term = term + (tx[s] * theta_x[s]).sum(-1);
    return term;
  }
  at::Tensor flat(const at::Tensor& x) const {
    if (x.dim() < 2 || x[0].numel() != o_.visible())
      throw std::invalid_argument("cebm::models::Harmonium: expected inputs [B, ...] with " + std::to_string(o_.visible()) +
                                  " values per row, got " + ops::shape_string(x));
    return x.reshape({x.size(0), o_.visible()});
  }
  void check_hidden(const at::Tensor& z) const {
    if (z.dim() != 2 || z.size(1) != o_.hidden())
      throw std::invalid_argument("cebm::models::Harmonium: expected latents [B, " + std::to_string(o_.hidden()) + "], got " +
                                  ops::shape_string(z));
  }
  static std::vector<double> pad(std::vector<double> v, std::size_t n, const char* side) {
    if (v.size() > n)
      throw std::invalid_argument(std::string("cebm::models::Harmonium: ") + std::to_string(v.size()) + " " + side +
                                  " bias values for a family with " + std::to_string(n) + " statistics");
    v.resize(n, 0.0);
    return v;
  }

  harmonium_options o_;
  std::vector<double> visible_init_, hidden_init_;
};

/// `Harmonium<Fx, Fz>`: the module holder (as TORCH_MODULE makes for non-templates).
template <class Fx, class Fz>
class Harmonium : public torch::nn::ModuleHolder<HarmoniumImpl<Fx, Fz>> {
 public:
  using torch::nn::ModuleHolder<HarmoniumImpl<Fx, Fz>>::ModuleHolder;
  using Impl = HarmoniumImpl<Fx, Fz>;
};

}  // namespace cebm::models
