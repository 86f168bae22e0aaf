#pragma once
/// @file
/// What a conjugate EBM will do with a family and its statistics map on the torch backend, checked
/// in float32 and in float64 (the Eigen harness, cebm/testing/conformance.hpp, checks the
/// mathematics in double). Over the natural parameters the map can reach,
///
///   λ = λ₀ + Map::statistics(r),  r ∈ [−R, R] per raw output (r = 0, the corners, uniform draws),
///
/// each check counts the entries that fail and passes when none does:
///
///   reach_in_domain    λ finite and inside F's domain (`in_domain`, when F has one)
///   log_normalizer     B(λ) and ∇B(λ) finite
///   energy             E = Σ_k B(λ₀) − B(λ₀ + t_k) finite (`marginal_energy<F>`)
///   sample_in_domain   η(z) finite for z ~ p(z | λ), `draws` draws per λ: what the evaluation's
///                      posterior draws and a model's ancestral samples do with the family
///
/// Each result is named with its dtype ("sample_in_domain (float32)") and, when it fails, says the
/// first λ that failed. Usage:
///
///   auto report = cebm::testing::check_statistics_map<my_family, my_map>();
///   if (!report.passed()) std::puts(report.to_string().c_str());
#include <algorithm>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

#include "cebm/core.hpp"
#include "cebm/models/conjugate_energy.hpp"
#include "cebm/models/statistics_map.hpp"
#include "cebm/testing/conformance.hpp"
#include "cebm/torch/ops.hpp"

namespace cebm::testing {

struct statistics_map_options {
  double raw_range = 10.0;         ///< R: raw encoder outputs r ∈ [−R, R]
  std::int64_t points = 256;       ///< λ rows: r = 0, the 2^S corners (as many as fit), uniform draws
  std::int64_t coordinates = 8;    ///< latent coordinates per row (a vector family's event size)
  std::int64_t draws = 64;         ///< samples per λ row
  std::uint64_t seed = 20210718;
};

namespace detail {

/// Raw outputs r of shape [points, coordinates] per statistic, in double.
template <std::size_t S>
param_pack<at::Tensor, S> raw_outputs(const statistics_map_options& o, at::Generator& gen) {
  if (o.points < 2 || o.coordinates < 1 || o.draws < 1 || !(o.raw_range > 0))
    throw std::invalid_argument("cebm::testing::check_statistics_map: needs points ≥ 2, coordinates, draws ≥ 1 and raw_range > 0");
  const std::int64_t corners = std::min<std::int64_t>(std::int64_t(1) << std::min<std::size_t>(S, 20), o.points - 1);
  param_pack<at::Tensor, S> raw;
  for (std::size_t s = 0; s < S; ++s) {
    raw[s] = (at::rand({o.points, o.coordinates}, gen, at::kDouble) * 2 - 1) * o.raw_range;
    raw[s][0].zero_();
    for (std::int64_t c = 0; c < corners; ++c) raw[s][1 + c].fill_(((c >> s) & 1) ? o.raw_range : -o.raw_range);
  }
  return raw;
}

/// The result of a check over a mask of failed entries; the first failure's λ in the detail.
template <std::size_t S>
check_result count_failures(const std::string& name, const at::Tensor& failed, const param_pack<at::Tensor, S>& lambda,
                            const std::string& what) {
  const at::Tensor flat = failed.reshape({failed.size(0), -1}).any(1);  // per row of λ
  const std::int64_t bad = flat.sum().item<std::int64_t>();
  const double fraction = static_cast<double>(bad) / static_cast<double>(flat.numel());
  if (bad == 0) return make_result(name, 0, 0, what + ": none of " + std::to_string(flat.numel()) + " rows");
  const std::int64_t row = flat.nonzero()[0][0].item<std::int64_t>();
  std::ostringstream os;
  os << what << " in " << bad << " of " << flat.numel() << " rows; the first at λ = (";
  const at::Tensor bad_entries = failed.reshape({failed.size(0), -1})[row];
  const std::int64_t col = lambda[0].dim() > 1 && bad_entries.numel() == lambda[0].size(1)
                               ? bad_entries.nonzero()[0][0].item<std::int64_t>()
                               : 0;
  for (std::size_t s = 0; s < S; ++s)
    os << (s ? ", " : "") << lambda[s].reshape({lambda[s].size(0), -1})[row][col].template item<double>();
  os << ")";
  return {name, false, fraction, 0, os.str()};
}

template <std::size_t S>
at::Tensor any_non_finite(const param_pack<at::Tensor, S>& p) {
  at::Tensor bad = at::zeros_like(p[0], at::kBool);
  for (std::size_t s = 0; s < S; ++s) bad = bad | ~at::isfinite(p[s]);
  return bad;
}

template <class F, class Map>
void check_dtype(conformance_report& report, const param_pack<at::Tensor, F::num_stats>& raw_double, at::ScalarType dtype,
                 const statistics_map_options& o, at::Generator& gen) {
  constexpr std::size_t S = F::num_stats;
  const std::string tag = dtype == at::kFloat ? " (float32)" : dtype == at::kDouble ? " (float64)"
                                                                  : std::string(" (") + c10::toString(dtype) + ")";
  param_pack<at::Tensor, S> raw, bias;
  for (std::size_t s = 0; s < S; ++s) {
    raw[s] = raw_double[s].to(dtype);
    bias[s] = at::full({1, o.coordinates}, Map::bias(s), raw[s].options());
  }
  const param_pack<at::Tensor, S> t = Map::statistics(raw);
  param_pack<at::Tensor, S> lambda;
  for (std::size_t s = 0; s < S; ++s) lambda[s] = bias[s] + t[s];

  at::Tensor outside = any_non_finite(lambda);
  if constexpr (cebm::detail::has_in_domain<F, at::Tensor>::value) {
    at::Tensor inside = F::in_domain(lambda);
    while (inside.dim() < outside.dim()) inside = inside.unsqueeze(-1);  // one flag per event (vector families)
    outside = outside | ~inside.expand_as(outside);
  }
  report.checks.push_back(count_failures("reach_in_domain" + tag, outside, lambda, "λ non-finite or outside the domain"));
  const at::Tensor valid = ~outside.reshape({outside.size(0), -1}).any(1);  // rows the further checks use
  if (!valid.any().item<bool>()) return;
  param_pack<at::Tensor, S> l, tv;
  for (std::size_t s = 0; s < S; ++s) {
    l[s] = lambda[s].index({valid});
    tv[s] = t[s].index({valid});
  }

  const at::Tensor b = F::log_normalizer(l);
  at::Tensor bad = ~at::isfinite(b).reshape({b.size(0), -1}).all(1) |
                   any_non_finite(F::mean_params(l)).reshape({l[0].size(0), -1}).any(1);
  report.checks.push_back(count_failures("log_normalizer" + tag, bad, l, "B(λ) or ∇B(λ) non-finite"));

  try {
    const at::Tensor e = marginal_energy<F>(bias, tv);
    report.checks.push_back(count_failures("energy" + tag, ~at::isfinite(e), l, "E = Σ_k B(λ₀) − B(λ₀ + t_k) non-finite"));
  } catch (const std::exception& err) {
    report.checks.push_back({"energy" + tag, false, 1, 0, std::string("marginal_energy refused the reach: ") + err.what()});
  }

  param_pack<at::Tensor, S> repeated;
  for (std::size_t s = 0; s < S; ++s) repeated[s] = l[s].repeat_interleave(o.draws, 0);
  const at::Tensor z = F::sample(repeated, gen);
  const at::Tensor eta_bad = any_non_finite(F::sufficient_stats(z));
  const at::Tensor per_row = eta_bad.reshape({l[0].size(0), -1}).any(1);
  report.checks.push_back(count_failures("sample_in_domain" + tag, per_row, l,
                                         "η(z) non-finite for a draw z ~ p(z | λ) (" + std::to_string(o.draws) + " per row)"));
}

}  // namespace detail

/// The checks above for family F under statistics map Map, in float32 then float64.
template <class F, class Map>
conformance_report check_statistics_map(const statistics_map_options& o = {}) {
  at::Generator gen = at::detail::createCPUGenerator(o.seed);
  const auto raw = detail::raw_outputs<F::num_stats>(o, gen);
  conformance_report report;
  for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) detail::check_dtype<F, Map>(report, raw, dtype, o, gen);
  return report;
}

}  // namespace cebm::testing
