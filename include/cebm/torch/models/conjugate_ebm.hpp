#pragma once
/// @file
/// `ConjugateEbm<F, Map>`: the conjugate EBM of Wu et al. (ICML 2021) for any exponential family F
/// (shipped or the user's, cebm/core/exponential_family.hpp), with the Table 5 conv encoder giving
/// one raw output per sufficient statistic and a statistics map (cebm/models/statistics_map.hpp)
/// taking them into the domain:
///
///   t(x) = Map::statistics(encoder(x))                       [B, K] per statistic, S = F::num_stats
///   fixed bias (components = 0):
///     E(x)  = Σ_k B(λ₀) − B(λ₀ + t_k(x))                     `marginal_energy<F>`
///     rep   = E[η(z) | x] = ∇B(λ₀ + t(x))                    `posterior_mean<F>`
///   learned mixture of L components (components = L, uniform weights; GMM-CEBM for the Gaussian):
///     E(x)  = log L − logsumexp_l Σ_k [B(λ_lk + t_k(x)) − B(λ_lk)]   `marginal_energy(mixture, t)`
///     rep   = the posterior mean under the most responsible component
///
/// The representation is the posterior mean statistic `Map::representation_stat` where the map
/// names one (the Gaussian's E[z | x]) and all S statistics concatenated otherwise.
/// Mixture components: λ_l = λ₀ + Map::statistics(ρ_l) with ρ_l ~ 0.31·N(0, 1), learned; the
/// published Gaussian maps learn (μ_l, log σ_l) instead, μ ~ 0.31·N(0, 1), σ ~ U[1, 6) (reference
/// notes §1.3). Initial draws come from torch's default generator, like every torch::nn module's.
///
/// `Cebm` = ConjugateEbm<gaussian> (the published CEBM, −r²); `GmmCebm` the same with 10 components.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <torch/nn/pimpl.h>

#include "cebm/core/arg.hpp"
#include "cebm/families/mixture.hpp"
#include "cebm/models/conjugate_energy.hpp"
#include "cebm/models/mixture_energy.hpp"
#include "cebm/models/statistics_map.hpp"
#include "cebm/torch/models/energy_model.hpp"
#include "cebm/torch/nn/conv_encoder.hpp"
#include "cebm/torch/ops.hpp"
#include "cebm/torch/precision/precision_policy.hpp"

namespace cebm::models {

struct conjugate_ebm_options {
  /// The encoder's trunk and heads; its `heads` is set to the family's number of statistics.
  CEBM_ARG(nn::conv_encoder_options, encoder) = nn::conv_encoder_options::mnist();
  /// 0: the map's fixed bias λ₀; L ≥ 1: a learned mixture of L components with uniform weights.
  CEBM_ARG(std::int64_t, components) = 0;
};

namespace detail {

template <class Map, class = void>
struct has_representation_stat : std::false_type {};
template <class Map>
struct has_representation_stat<Map, std::void_t<decltype(Map::representation_stat)>> : std::true_type {};

/// How a mixture's components are learned: ρ_l → λ_l = λ₀ + Map::statistics(ρ_l).
template <class F, class Map>
struct component_parameterization {
  static std::string name(std::size_t s) { return "component_" + std::to_string(s + 1); }
  static at::Tensor init(std::size_t, std::int64_t l, std::int64_t k) { return 0.31 * at::randn({l, k}); }
  static param_pack<at::Tensor, F::num_stats> natural(const param_pack<at::Tensor, F::num_stats>& raw) {
    param_pack<at::Tensor, F::num_stats> t = Map::statistics(raw);
    for (std::size_t s = 0; s < F::num_stats; ++s) t[s] = t[s] + Map::bias(s);
    return t;
  }
};
/// The published GMM-CEBM: means and log standard deviations (reference notes §1.3).
template <class Second>
struct component_parameterization<gaussian, gaussian_map<Second>> {
  static std::string name(std::size_t s) { return s == 0 ? "component_mean" : "component_log_std"; }
  static at::Tensor init(std::size_t s, std::int64_t l, std::int64_t k) {
    return s == 0 ? 0.31 * at::randn({l, k}) : (at::rand({l, k}) * 5 + 1).log();
  }
  static param_pack<at::Tensor, 2> natural(const param_pack<at::Tensor, 2>& raw) {
    return gaussian::natural_from_location_scale(raw[0], raw[1]);
  }
};

}  // namespace detail

/// The kind a trainer stores in checkpoints: cebm / gmm_cebm for the published Gaussian map,
/// otherwise cebm_<family> / mixture_cebm_<family> with the map's name when it is not the family's
/// default (e.g. cebm_gaussian_neg_softplus).
template <class F, class Map>
std::string conjugate_ebm_kind(bool mixture) {
  if constexpr (std::is_same_v<F, gaussian> && std::is_same_v<Map, gaussian_map<neg_square>>) {
    return mixture ? "gmm_cebm" : "cebm";
  } else {
    std::string kind = std::string(mixture ? "mixture_cebm_" : "cebm_") + family_name<F>();
    if constexpr (!is_default_statistics_map<F, Map>::value) kind += std::string("_") + Map::name;
    return kind;
  }
}

template <class F, class Map = default_statistics_map_t<F>>
class ConjugateEbmImpl : public EnergyModelImpl {
  // A member F lacks for torch tensors is named by require_family's own message, first.
  static_assert(cebm::detail::require_family<F, at::Tensor>(),
                "cebm::models::ConjugateEbm<F, Map>: F does not satisfy the exponential-family contract for "
                "torch tensors (see cebm/core/exponential_family.hpp)");

 public:
  static constexpr std::size_t num_stats = F::num_stats;
  using bias_family = F;  ///< the family of the bias and of the posterior
  using statistics_map = Map;
  using pack = param_pack<at::Tensor, F::num_stats>;

  explicit ConjugateEbmImpl(conjugate_ebm_options o = {}) : o_(std::move(o)) {
    o_.encoder(nn::conv_encoder_options(o_.encoder()).heads(static_cast<std::int64_t>(num_stats)));
    reset();
  }

  /// (Re)builds the encoder, the bias and the mixture's components from the options.
  void reset() {
    if (o_.components() < 0)
      throw std::invalid_argument("cebm::models::ConjugateEbm: components must be >= 0 (0: fixed bias), got " +
                                  std::to_string(o_.components()));
    encoder_ = this->register_module("encoder", nn::ConvEncoder(o_.encoder()));
    const std::int64_t k = o_.encoder().latent_dim(), l = o_.components();
    using P = detail::component_parameterization<F, Map>;
    for (std::size_t s = 0; s < num_stats; ++s) {
      bias_[s] = this->register_buffer("bias_" + std::to_string(s + 1), at::full({k}, Map::bias(s)));
      if (l > 0) components_[s] = this->register_parameter(P::name(s), P::init(s, l, k));
    }
    if (l > 0) log_weights_ = this->register_buffer("log_weights", at::zeros({l}));
  }

  std::string kind() const override { return conjugate_ebm_kind<F, Map>(is_mixture()); }
  bool is_mixture() const { return o_.components() > 0; }

  /// The fixed bias λ₀, [K] per statistic (the mixture's components are `mixture_bias()`).
  pack bias() const { return bias_; }
  /// The learned mixture bias; throws for a fixed-bias model.
  mixture<F, at::Tensor> mixture_bias() const {
    if (!is_mixture()) throw std::logic_error("cebm::models::ConjugateEbm: " + kind() + " has a fixed bias, no mixture");
    return mixture<F, at::Tensor>(detail::component_parameterization<F, Map>::natural(components_), log_weights_);
  }

  /// t(x): S arrays [B, K].
  pack statistics(const at::Tensor& x) {
    const std::vector<at::Tensor> raw = encoder_->forward(x);
    pack r;
    for (std::size_t s = 0; s < num_stats; ++s) r[s] = full_precision(raw[s]);  // the family's maths in fp32
    return Map::statistics(r);
  }

  /// E(x), [B].
  at::Tensor energy(const at::Tensor& x) override {
    return is_mixture() ? marginal_energy(mixture_bias(), statistics(x)) : marginal_energy<F>(bias_, statistics(x));
  }

  /// p(y = l | x), [B, L] (mixture models only).
  at::Tensor responsibilities(const at::Tensor& x) { return cebm::responsibilities(mixture_bias(), statistics(x)); }

  /// The posterior mean (of the most responsible component for a mixture), [B, D].
  at::Tensor representation(const at::Tensor& x) override {
    const pack t = statistics(x);
    if (!is_mixture()) return representation_of(posterior_mean<F>(bias_, t));
    const auto mix = mixture_bias();
    const at::Tensor best = cebm::responsibilities(mix, t).argmax(1);
    std::vector<at::Tensor> means;
    for (std::int64_t l = 0; l < mix.num_components(); ++l)
      means.push_back(representation_of(posterior_mean<F>(mix.component(l), t)));
    const at::Tensor all = at::stack(means, 1);  // [B, L, D]
    return all.gather(1, best.view({-1, 1, 1}).expand({all.size(0), 1, all.size(2)})).squeeze(1);
  }

  const conjugate_ebm_options& options() const { return o_; }

 private:
  static at::Tensor representation_of(const pack& mean) {
    if constexpr (detail::has_representation_stat<Map>::value) {
      return mean[Map::representation_stat];
    } else {
      return at::cat(std::vector<at::Tensor>(mean.stats.begin(), mean.stats.end()), -1);
    }
  }

  conjugate_ebm_options o_;
  nn::ConvEncoder encoder_{nullptr};
  pack bias_, components_;
  at::Tensor log_weights_;
};

template <class F, class Map = default_statistics_map_t<F>>
class ConjugateEbm : public torch::nn::ModuleHolder<ConjugateEbmImpl<F, Map>> {
 public:
  using torch::nn::ModuleHolder<ConjugateEbmImpl<F, Map>>::ModuleHolder;
  using Impl = ConjugateEbmImpl<F, Map>;
};

}  // namespace cebm::models
