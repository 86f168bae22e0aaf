#pragma once
/// @file
/// Energies and posterior of a conjugate EBM whose bias is a mixture (GMM-CEBM when F = gaussian):
///
///   E(x)        = −log Σ_l π_l exp(Σ_k [B(λ_lk + t_k(x)) − B(λ_lk)])
///   p(y=l | x)  = softmax_l(log π_l + Σ_k [B(λ_lk + t_k(x)) − B(λ_lk)])     (responsibilities)
///   p(z | x)    = Σ_l p(y=l | x) p_F(z | λ_l + t(x))
///   E(x, z)     = −⟨t(x), η(z)⟩ − log p(z)                                   (= E(x) − log p(z | x))
///
/// With uniform π this is the published GMM-CEBM energy, log L − logsumexp_l[…].
#include <vector>

#include "cebm/families/mixture.hpp"
#include "cebm/models/conjugate_energy.hpp"
#include "cebm/models/log_density.hpp"

namespace cebm {

/// log π_l + Σ_k [B(λ_lk + t_k) − B(λ_lk)] for every component: [B, L] (torch) / [B, L] (Eigen).
template <class F, class A, std::size_t S>
A component_log_evidence(const mixture<F, A>& mix, const param_pack<A, S>& t) {
  const A log_pi = mix.log_mixing_weights();
  std::vector<A> cols;
  for (std::int64_t l = 0; l < mix.num_components(); ++l) {
    const A e = marginal_energy<F>(mix.component(l), t);
    cols.push_back(ops::expand_as(ops::column(log_pi, l), e, "cebm::component_log_evidence") - e);
  }
  return ops::stack_last(cols);
}

template <class F, class A, std::size_t S>
A marginal_energy(const mixture<F, A>& mix, const param_pack<A, S>& t) {
  const A energy = -ops::logsumexp_last(component_log_evidence(mix, t));
  detail::check_finite(energy, "cebm::marginal_energy (mixture)", "the energy");
  return energy;
}

/// p(y = l | x), rows summing to one: [B, L].
template <class F, class A, std::size_t S>
A responsibilities(const mixture<F, A>& mix, const param_pack<A, S>& t) {
  return ops::exp(ops::log_softmax_last(component_log_evidence(mix, t)));
}

/// log p(z) = log Σ_l π_l p_F(z | λ_l), one value per batch row of z.
template <class F, class A>
A log_density(const mixture<F, A>& mix, const A& z) {
  const A log_pi = mix.log_mixing_weights();
  std::vector<A> cols;
  for (std::int64_t l = 0; l < mix.num_components(); ++l) {
    const A lp = log_density<F>(mix.component(l), z);
    cols.push_back(ops::expand_as(ops::column(log_pi, l), lp, "cebm::log_density (mixture)") + lp);
  }
  return ops::logsumexp_last(ops::stack_last(cols));
}

template <class F, class A, std::size_t S>
A joint_energy(const mixture<F, A>& mix, const param_pack<A, S>& t, const A& z) {
  const param_pack<A, S> eta = F::sufficient_stats(z);
  if (!ops::same_shape(eta[0], t[0]))
    throw std::invalid_argument("cebm::joint_energy (mixture): z has shape " + ops::shape_string(z) +
                                " but t(x) has statistics of shape " + ops::shape_string(t[0]));
  return -detail::inner_sum(t, eta) - log_density(mix, z);
}

/// log p(z | x) = log Σ_l p(y=l | x) p_F(z | λ_l + t(x)).
template <class F, class A, std::size_t S>
A posterior_log_density(const mixture<F, A>& mix, const param_pack<A, S>& t, const A& z) {
  const A log_r = ops::log_softmax_last(component_log_evidence(mix, t));
  std::vector<A> cols;
  for (std::int64_t l = 0; l < mix.num_components(); ++l)
    cols.push_back(ops::column(log_r, l) + log_density<F>(posterior_params<F>(mix.component(l), t), z));
  return ops::logsumexp_last(ops::stack_last(cols));
}

/// n draws z ~ p(z), each a row of K coordinates.
template <class F, class A, class G>
A sample(const mixture<F, A>& mix, std::int64_t n, G& gen) {
  using T = ops::scalar_t<A>;
  // One uniform per row picks the component whose CDF interval [lower_l, lower_l + π_l) holds it:
  // overwrite with each component's draw while u ≥ lower_l, so the last overwrite is the right one.
  const A pi = ops::exp(mix.log_mixing_weights());
  const A u = ops::uniform_like(ops::repeat_rows(ops::zeros_row(pi, 1), n), gen);
  A lower = ops::zeros_like(u);
  A out;
  for (std::int64_t l = 0; l < mix.num_components(); ++l) {
    const auto comp = transform(mix.component(l), [&](const A& c) { return A(ops::repeat_rows(c, n)); });
    const A draw = F::sample(comp, gen);
    if (l == 0) {
      out = draw;
    } else {
      const A reached = ops::where(u >= lower, ops::full_like(u, 1.0), ops::zeros_like(u));
      out = ops::where(ops::broadcast_last(reached, draw) > T(0.5), draw, out);
    }
    lower = lower + ops::expand_as(ops::column(pi, l), u, "cebm::sample (mixture)");
  }
  return out;
}

}  // namespace cebm
