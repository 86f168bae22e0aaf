#pragma once
/// @file
/// The exponential-family conformance harness: checks any family, ours or a user's, against
/// independent truth on Eigen double arrays and returns a report of what was measured.
///
///   gradient          ∇B(λ) against central finite differences of B
///   legendre          B(λ) + B*(∇B(λ)) = ⟨λ, ∇B(λ)⟩            (when B* is available)
///   inverse           (∇B)⁻¹(∇B(λ)) = λ                         (when natural_from_mean exists)
///   bregman           D(λ₁, λ₂) ≥ 0 and D(λ, λ) = 0
///   kl_monte_carlo    KL(p₁ ‖ p₂) against the sample mean of log p₁(z) − log p₂(z), z ~ p₁
///   sample_moments    sample means of η(z) against ∇B(λ), in standard errors
///   invalid_params    an invalid λ is outside the family's domain (non-finite or `in_domain`
///                     false) in any build, and rejected with std::domain_error where the value
///                     checks are compiled in (CEBM_ENABLE_CHECKS; when one is given)
///
/// λ₁ and λ₂ are single rows ([1, K] per statistic); the harness expands them to the sample count.
/// Usage: `auto report = cebm::testing::check_family<my_family>(lambda1, lambda2);`
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cebm/config.hpp"
#include "cebm/core.hpp"

namespace cebm::testing {

struct check_result {
  std::string name;
  bool passed;
  double measured;   ///< the error measured (absolute, relative or in standard errors, see detail)
  double threshold;  ///< what it had to stay below
  std::string detail;
};

struct conformance_report {
  std::vector<check_result> checks;
  bool passed() const {
    for (const auto& c : checks)
      if (!c.passed) return false;
    return !checks.empty();
  }
  std::string to_string() const {
    std::ostringstream os;
    for (const auto& c : checks)
      os << (c.passed ? "  pass  " : "  FAIL  ") << c.name << ": " << c.measured << " (limit " << c.threshold << ") "
         << c.detail << "\n";
    return os.str();
  }
};

struct conformance_options {
  double fd_step = 1e-5;          ///< central-difference step
  double gradient_tol = 1e-6;     ///< |∇B − FD| / max(1, |∇B|)
  double identity_tol = 1e-9;     ///< Legendre identity, inverse map, D(λ, λ)
  std::int64_t num_samples = 20000;
  double max_standard_errors = 4.0;
  std::uint64_t seed = 20210718;
};

namespace detail {
using array = Eigen::ArrayXXd;

template <std::size_t S>
param_pack<array, S> repeat(const param_pack<array, S>& p, std::int64_t n) {
  return transform(p, [&](const array& a) { return array(a.replicate(n, 1)); });
}
template <class F, std::size_t S>
double total_log_normalizer(const param_pack<array, S>& l) {
  return ops::sum_last(F::log_normalizer(l)).sum();
}
inline check_result make_result(std::string name, double measured, double threshold, std::string detail = "") {
  return {std::move(name), measured <= threshold, measured, threshold, std::move(detail)};
}
}  // namespace detail

template <class F, std::size_t S>
check_result check_gradient(const param_pack<Eigen::ArrayXXd, S>& lambda, const conformance_options& o = {}) {
  const auto mean = F::mean_params(lambda);
  double worst = 0;
  for (std::size_t s = 0; s < S; ++s)
    for (Eigen::Index j = 0; j < lambda[s].cols(); ++j) {
      auto up = lambda, down = lambda;
      up[s](0, j) += o.fd_step;
      down[s](0, j) -= o.fd_step;
      const double fd =
          (detail::total_log_normalizer<F>(up) - detail::total_log_normalizer<F>(down)) / (2 * o.fd_step);
      worst = std::max(worst, std::abs(mean[s](0, j) - fd) / std::max(1.0, std::abs(fd)));
    }
  return detail::make_result("gradient", worst, o.gradient_tol, "max |dB - central difference| / max(1, |dB|)");
}

template <class F, std::size_t S>
std::optional<check_result> check_legendre(const param_pack<Eigen::ArrayXXd, S>& lambda,
                                           const conformance_options& o = {}) {
  using A = Eigen::ArrayXXd;
  if constexpr (cebm::detail::has_conjugate_dual<F, A>::value || cebm::detail::has_natural_from_mean<F, A>::value) {
    const auto mu = F::mean_params(lambda);
    A inner = lambda[0] * mu[0];
    for (std::size_t s = 1; s < S; ++s) inner += lambda[s] * mu[s];
    const A gap = F::log_normalizer(lambda) + conjugate_dual<F>(mu) - inner;
    return detail::make_result("legendre", gap.abs().maxCoeff(), o.identity_tol, "max |B + B*(dB) - <l, dB>|");
  } else {
    return std::nullopt;
  }
}

template <class F, std::size_t S>
std::optional<check_result> check_inverse(const param_pack<Eigen::ArrayXXd, S>& lambda,
                                          const conformance_options& o = {}) {
  if constexpr (cebm::detail::has_natural_from_mean<F, Eigen::ArrayXXd>::value) {
    const auto back = F::natural_from_mean(F::mean_params(lambda));
    double worst = 0;
    for (std::size_t s = 0; s < S; ++s)
      worst = std::max(worst, ((back[s] - lambda[s]).abs() / lambda[s].abs().max(1.0)).maxCoeff());
    return detail::make_result("inverse", worst, 1e3 * o.identity_tol, "max |dB^-1(dB(l)) - l| / max(1, |l|)");
  } else {
    return std::nullopt;
  }
}

template <class F, std::size_t S>
check_result check_bregman(const param_pack<Eigen::ArrayXXd, S>& l1, const param_pack<Eigen::ArrayXXd, S>& l2,
                           const conformance_options& o = {}) {
  const double self = std::max(std::abs(bregman_divergence<F>(l1, l1).maxCoeff()),
                               std::abs(bregman_divergence<F>(l2, l2).maxCoeff()));
  const double d12 = bregman_divergence<F>(l1, l2).minCoeff(), d21 = bregman_divergence<F>(l2, l1).minCoeff();
  const double negativity = std::max(0.0, -std::min(d12, d21));
  std::ostringstream detail;
  detail << "D(l,l) = " << self << ", D(l1,l2) = " << d12 << ", D(l2,l1) = " << d21;
  return detail::make_result("bregman", std::max(self, negativity), o.identity_tol, detail.str());
}

template <class F, std::size_t S>
check_result check_kl_monte_carlo(const param_pack<Eigen::ArrayXXd, S>& l1, const param_pack<Eigen::ArrayXXd, S>& l2,
                                  const conformance_options& o = {}) {
  std::mt19937_64 gen(o.seed);
  const auto p1 = detail::repeat(l1, o.num_samples);
  const Eigen::ArrayXXd z = F::sample(p1, gen);
  const Eigen::ArrayXXd log_ratio = log_density<F>(l1, z) - log_density<F>(l2, z);
  const double mc = log_ratio.mean();
  const double se = std::sqrt((log_ratio - mc).square().sum() / (o.num_samples - 1) / o.num_samples);
  const double exact = kl<F>(l1, l2)(0, 0);
  std::ostringstream detail;
  detail << "KL = " << exact << ", Monte Carlo = " << mc << " +- " << se << " (standard errors)";
  return detail::make_result("kl_monte_carlo", std::abs(exact - mc) / std::max(se, 1e-12), o.max_standard_errors,
                             detail.str());
}

template <class F, std::size_t S>
check_result check_sample_moments(const param_pack<Eigen::ArrayXXd, S>& lambda, const conformance_options& o = {}) {
  std::mt19937_64 gen(o.seed + 1);
  const Eigen::ArrayXXd z = F::sample(detail::repeat(lambda, o.num_samples), gen);
  const auto eta = F::sufficient_stats(z);
  const auto mu = F::mean_params(lambda);
  double worst = 0;
  for (std::size_t s = 0; s < S; ++s) {
    const Eigen::ArrayXXd mean = eta[s].colwise().mean();
    const Eigen::ArrayXXd var = (eta[s].rowwise() - mean.row(0)).square().colwise().sum() / (o.num_samples - 1);
    const Eigen::ArrayXXd se = (var / o.num_samples).sqrt().max(1e-12);
    worst = std::max(worst, ((mean - mu[s]).abs() / se).maxCoeff());
  }
  return detail::make_result("sample_moments", worst, o.max_standard_errors,
                             "max |mean eta(z) - dB| in standard errors");
}

/// `bad` must lie outside F's domain by F's own account (a non-finite entry, or `in_domain`
/// false somewhere), whatever the build type; where the library's value checks are compiled in
/// (CEBM_ENABLE_CHECKS), the conjugate energy must also reject it with std::domain_error.
template <class F, std::size_t S>
check_result check_invalid_params(const param_pack<Eigen::ArrayXXd, S>& bad) {
  bool finite = true;
  for (std::size_t s = 0; s < S; ++s) finite = finite && bad[s].isFinite().all();
  bool outside = !finite;
  if constexpr (cebm::detail::has_in_domain<F, Eigen::ArrayXXd>::value) outside = outside || !F::in_domain(bad).all();
  if (!outside)
    return {"invalid_params", false, 1, 0,
            cebm::detail::has_in_domain<F, Eigen::ArrayXXd>::value
                ? "the family's in_domain accepts the parameter given as invalid"
                : "an invalid natural parameter is finite and the family defines no in_domain to reject it"};
#if CEBM_ENABLE_CHECKS
  try {
    const Eigen::ArrayXXd t = Eigen::ArrayXXd::Zero(1, bad[0].cols());
    param_pack<Eigen::ArrayXXd, S> zero;
    for (std::size_t s = 0; s < S; ++s) zero[s] = t;
    (void)marginal_energy<F>(bad, zero);
  } catch (const std::domain_error& e) {
    return {"invalid_params", true, 0, 0, std::string("outside the domain and rejected: ") + e.what()};
  }
  return {"invalid_params", false, 1, 0, "outside the family's domain, yet the conjugate energy accepted it"};
#else
  return {"invalid_params", true, 0, 0,
          "outside the domain by the family's own check (the library's value checks are off in this build)"};
#endif
}

/// Runs every check that applies to F.
template <class F, std::size_t S>
conformance_report check_family(const param_pack<Eigen::ArrayXXd, S>& l1, const param_pack<Eigen::ArrayXXd, S>& l2,
                                const conformance_options& o = {}) {
  conformance_report r;
  // A family that lacks a required member gets one compile error naming it (exponential_family.hpp).
  if constexpr (cebm::detail::require_family<F, Eigen::ArrayXXd>()) {
    r.checks.push_back(check_gradient<F>(l1, o));
    if (auto c = check_legendre<F>(l1, o)) r.checks.push_back(*c);
    if (auto c = check_inverse<F>(l1, o)) r.checks.push_back(*c);
    r.checks.push_back(check_bregman<F>(l1, l2, o));
    r.checks.push_back(check_kl_monte_carlo<F>(l1, l2, o));
    r.checks.push_back(check_sample_moments<F>(l1, o));
  }
  return r;
}

/// The same, plus: `invalid`, a λ outside the domain, must be rejected.
template <class F, std::size_t S>
conformance_report check_family(const param_pack<Eigen::ArrayXXd, S>& l1, const param_pack<Eigen::ArrayXXd, S>& l2,
                                const param_pack<Eigen::ArrayXXd, S>& invalid, const conformance_options& o = {}) {
  conformance_report r = check_family<F>(l1, l2, o);
  r.checks.push_back(check_invalid_params<F>(invalid));
  return r;
}

}  // namespace cebm::testing
