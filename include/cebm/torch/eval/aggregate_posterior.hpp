#pragma once
/// @file
/// How far the aggregate posterior q̂(z) = (1/N) Σ_n p(z | x_n) of N training images sits from the
/// bias p_λ(z), and how much the latent code says about the input (CEBM paper Table 3), with the
/// minibatch estimators of Esmaeili et al. (2019), over batches of B images (B = 1000 by default):
///
///   z_i ~ q(z | x_i)                                  one draw per image of the batch
///   stratified (default):
///     q̂(z_i) = (1/N) q(z_i | x_i) + (N − 1)/(N (B − 1)) Σ_{j≠i} q(z_i | x_j)
///   batch (the plain average encoding):
///     q̂(z_i) = (1/B) Σ_j q(z_i | x_j)
///   KL(q̂ ‖ p_λ) ≈ mean_i [log q̂(z_i) − log p_λ(z_i)]
///   I(x; z)     ≈ mean_i [log q(z_i | x_i) − log q̂(z_i)]
///
/// and both are averaged over batches. The stratified estimator weights the image's own encoding as
/// one of N and the other B − 1 as standing for the remaining N − 1, so MI can reach log N (9.2
/// nats for N = 10,000); the batch estimator caps it at log B (6.9 nats at B = 1000) and so
/// underestimates a sharp encoder. With N = B the two agree. The published code for Table 3 is not
/// public; these are the estimators the paper cites, so the numbers are a reimplementation. The KL
/// of a batch can be slightly negative through Monte Carlo error; a constant encoder gives MI = 0
/// exactly.
///
/// The posterior of a conjugate EBM is p_F(z | λ + t(x)) for a single-family bias and the
/// responsibility-weighted mixture of those for a mixture bias (GMM-CEBM). All pairwise densities
/// log q(z_i | x_j) of a batch come from one matrix product per statistic, using that the log
/// density is linear in the sufficient statistics:
///   log q(z_i | λ̃_j) = Σ_s ⟨η_s(z_i), λ̃_s,j⟩ − Σ_k B(λ̃_j)_k + Σ_k log h(z_ik).
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "cebm/config.hpp"
#include "cebm/families/mixture.hpp"
#include "cebm/models/mixture_energy.hpp"
#include "cebm/models/posterior.hpp"
#include "cebm/torch/ops.hpp"

namespace cebm::eval {

/// Which minibatch estimate of log q̂(z) (file comment).
enum class aggregate_estimator {
  stratified,  ///< the image's own encoding weighted 1/N: MI up to log N
  batch        ///< the batch average alone: MI up to log B
};

CEBM_INLINE const char* to_string(aggregate_estimator e);

/// One batch's (or an average's) estimates, in nats.
struct kl_mi_estimate {
  double kl = 0, mi = 0;
  double kl_std = 0, mi_std = 0;  ///< across batches (0 for one batch)
  std::int64_t batches = 0, batch_size = 0;
  std::int64_t dataset_size = 0;  ///< N of the stratified weights (= batch_size for the batch estimator)
};

/// log q(z_i | λ̃_j) for every pair: [B_z, B_λ], from posterior natural parameters λ̃ [B_λ, K].
template <class F, std::size_t S>
at::Tensor pairwise_log_density(const param_pack<at::Tensor, S>& lambda, const at::Tensor& z) {
  cebm::detail::require_num_stats<F, S>();
  cebm::detail::check_natural_params<F>(lambda, "cebm::eval::pairwise_log_density");
  const param_pack<at::Tensor, S> eta = F::sufficient_stats(z);
  at::Tensor out = at::matmul(eta[0], lambda[0].t());
  for (std::size_t s = 1; s < S; ++s) out = out + at::matmul(eta[s], lambda[s].t());
  return out - ops::sum_last(F::log_normalizer(lambda)).unsqueeze(0) +
         cebm::detail::sum_log_base_measure<F>(z).unsqueeze(1);
}

/// The same for a mixture bias: log Σ_l p(y=l | x_j) p_F(z_i | λ_l + t(x_j)).
template <class F, std::size_t S>
at::Tensor pairwise_log_density(const mixture<F, at::Tensor>& bias, const param_pack<at::Tensor, S>& t, const at::Tensor& z) {
  const at::Tensor log_r = at::log_softmax(component_log_evidence(bias, t), 1);  // [B_λ, L]
  std::vector<at::Tensor> per_component;
  for (std::int64_t l = 0; l < bias.num_components(); ++l)
    per_component.push_back(pairwise_log_density<F>(posterior_params<F>(bias.component(l), t), z) +
                            log_r.select(1, l).unsqueeze(0));
  return at::logsumexp(at::stack(per_component, 2), 2);
}

/// One z per row of t from the mixture posterior: a component by responsibility, then a draw.
template <class F, std::size_t S>
at::Tensor sample_posterior(const mixture<F, at::Tensor>& bias, const param_pack<at::Tensor, S>& t, at::Generator& gen) {
  const at::Tensor pick = at::multinomial(responsibilities(bias, t), 1, /*replacement=*/true, gen);  // [B, 1]
  std::vector<at::Tensor> draws;
  for (std::int64_t l = 0; l < bias.num_components(); ++l)
    draws.push_back(F::sample(posterior_params<F>(bias.component(l), t), gen));
  const at::Tensor all = at::stack(draws, 1);  // [B, L, K]
  return all.gather(1, pick.view({-1, 1, 1}).expand({all.size(0), 1, all.size(2)})).squeeze(1);
}

/// The estimator on one batch: log_q [B, B] with log_q[i][j] = log q(z_i | x_j), z_i ~ q(z | x_i),
/// and log_prior [B] = log p_λ(z_i). `dataset_size` N ≥ B gives the stratified weights; 0 (or B)
/// the batch average.
CEBM_INLINE kl_mi_estimate average_encoding_estimate(const at::Tensor& log_q, const at::Tensor& log_prior,
                                                std::int64_t dataset_size = 0);

/// Averages per-batch estimates (std across batches, population form).
CEBM_INLINE kl_mi_estimate average_batches(const std::vector<kl_mi_estimate>& per_batch);

/// One batch of encoder statistics t(x) [B, K] with a single-family bias λ (one row per statistic).
template <class F, std::size_t S>
kl_mi_estimate aggregate_posterior_batch(const param_pack<at::Tensor, S>& bias, const param_pack<at::Tensor, S>& t,
                                         at::Generator& gen, std::int64_t dataset_size = 0) {
  const auto td = transform(t, [](const at::Tensor& a) { return a.detach().to(at::kDouble); });
  const auto ld = transform(bias, [](const at::Tensor& a) { return a.detach().to(at::kDouble); });
  const auto post = posterior_params<F>(ld, td);
  const at::Tensor z = F::sample(post, gen);
  return average_encoding_estimate(pairwise_log_density<F>(post, z), log_density<F>(ld, z), dataset_size);
}

/// The same with a mixture bias.
template <class F, std::size_t S>
kl_mi_estimate aggregate_posterior_batch(const mixture<F, at::Tensor>& bias, const param_pack<at::Tensor, S>& t,
                                         at::Generator& gen, std::int64_t dataset_size = 0) {
  const auto td = transform(t, [](const at::Tensor& a) { return a.detach().to(at::kDouble); });
  const mixture<F, at::Tensor> md(transform(bias.components, [](const at::Tensor& a) { return a.detach().to(at::kDouble); }),
                                  bias.log_weights.detach().to(at::kDouble));
  const at::Tensor z = sample_posterior(md, td, gen);
  return average_encoding_estimate(pairwise_log_density(md, td, z), log_density(md, z), dataset_size);
}

/// The estimate over consecutive batches of `batch_size` rows of `inputs` (model-scale tensors or
/// anything `statistics` takes), dropping a last partial batch as the fixed-B estimator requires.
/// `statistics(batch)` returns t(x); `bias` is a single-family pack (with F given) or a mixture.
/// The stratified estimator takes N = rows, the images q̂ averages over.
template <class F, class Bias, class Statistics>
kl_mi_estimate aggregate_posterior(const Bias& bias, Statistics&& statistics, std::int64_t rows,
                                   const std::function<at::Tensor(std::int64_t start, std::int64_t count)>& batch_of,
                                   std::int64_t batch_size, at::Generator& gen,
                                   aggregate_estimator estimator = aggregate_estimator::stratified) {
  if (batch_size < 2 || rows < batch_size)
    throw std::invalid_argument("cebm::eval::aggregate_posterior: need at least one full batch of " +
                                std::to_string(batch_size) + " inputs (batch >= 2), got " + std::to_string(rows));
  const std::int64_t n = estimator == aggregate_estimator::stratified ? rows : batch_size;
  std::vector<kl_mi_estimate> per_batch;
  for (std::int64_t s = 0; s + batch_size <= rows; s += batch_size) {
    const auto t = statistics(batch_of(s, batch_size));
    if constexpr (std::is_same_v<Bias, mixture<F, at::Tensor>>)
      per_batch.push_back(aggregate_posterior_batch(bias, t, gen, n));
    else
      per_batch.push_back(aggregate_posterior_batch<F>(bias, t, gen, n));
  }
  return average_batches(per_batch);
}

namespace detail {

/// A model with a single-family conjugate bias: `bias_family`, `bias()`, `statistics(x)`.
template <class M, class = void>
struct has_single_family_bias : std::false_type {};
template <class M>
struct has_single_family_bias<M, std::void_t<typename M::bias_family>> : std::true_type {};

/// A model whose bias may be a learned mixture (`ConjugateEbm` with components): `is_mixture()`
/// says which, `mixture_bias()` gives it.
template <class M, class = void>
struct has_mixture_bias : std::false_type {};
template <class M>
struct has_mixture_bias<M, std::void_t<decltype(std::declval<M&>().mixture_bias()), decltype(std::declval<M&>().is_mixture())>>
    : std::true_type {};

template <std::size_t S>
param_pack<at::Tensor, S> detached(const param_pack<at::Tensor, S>& p) {
  return transform(p, [](const at::Tensor& a) { return a.detach().cpu(); });
}
template <class F>
mixture<F, at::Tensor> detached(const mixture<F, at::Tensor>& m) {
  return {detached(m.components), m.log_weights.detach().cpu()};
}

}  // namespace detail

/// Model inputs of `count` training images from `start`, on the model's device.
using input_batches = std::function<at::Tensor(std::int64_t start, std::int64_t count)>;

/// The aggregate posterior of a model over `rows` training images, as a function of the inputs
/// alone: what a caller that knows the model's bias family gives an evaluation that does not.
using aggregate_posterior_function = std::function<kl_mi_estimate(
    const input_batches& batch_of, std::int64_t rows, std::int64_t batch_size, at::Generator& gen, aggregate_estimator)>;

/// `aggregate_posterior` of a model with a conjugate bias (`bias_family`, `bias()`,
/// `statistics(x)`; a learned mixture through `is_mixture()` and `mixture_bias()`), its bias and
/// statistics detached and on the CPU.
template <class M>
kl_mi_estimate model_aggregate_posterior(M& model, const input_batches& batch_of, std::int64_t rows, std::int64_t batch_size,
                                         at::Generator& gen, aggregate_estimator estimator) {
  static_assert(detail::has_single_family_bias<M>::value,
                "cebm::eval::model_aggregate_posterior: the model needs bias_family, bias() and statistics(x)");
  using F = typename M::bias_family;
  c10::NoGradGuard no_grad;
  auto stats = [&](const at::Tensor& x) {
    return transform(model.statistics(x), [](const at::Tensor& a) { return a.detach().cpu(); });
  };
  if constexpr (detail::has_mixture_bias<M>::value) {
    if (model.is_mixture())
      return aggregate_posterior<F>(detail::detached(model.mixture_bias()), stats, rows, batch_of, batch_size, gen, estimator);
  }
  return aggregate_posterior<F>(detail::detached(model.bias()), stats, rows, batch_of, batch_size, gen, estimator);
}

/// `model_aggregate_posterior` of the module `m` as an `aggregate_posterior_function` (sharing the
/// module); empty for a model without a conjugate bias.
template <class M>
aggregate_posterior_function aggregate_posterior_of(std::shared_ptr<M> m) {
  if constexpr (detail::has_single_family_bias<M>::value) {
    return [m](const input_batches& batch_of, std::int64_t rows, std::int64_t batch_size, at::Generator& gen,
               aggregate_estimator estimator) {
      return model_aggregate_posterior(*m, batch_of, rows, batch_size, gen, estimator);
    };
  } else {
    return {};
  }
}

}  // namespace cebm::eval

#if !defined(CEBM_COMPILED)  // header-only: the definitions here (config.hpp)
#include "cebm/torch/eval/aggregate_posterior_impl.hpp"
#endif
