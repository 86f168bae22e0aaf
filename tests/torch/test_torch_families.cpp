// The torch backend: ∇B against torch::autograd::grad, Eigen and torch giving the same values, the
// vMF log-normaliser differentiable at θ = 0, learnable mixture parameters, and explicit generators.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "cebm/torch.hpp"
#include "cebm/torch/testing/conformance.hpp"
#include "families/family_cases.hpp"
#include "../../examples/custom_family/exponential_rate.hpp"  // the README's walk-through family

using cebm_test::array;
using cebm_test::family_case;

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

torch::Tensor to_tensor(const array& a) {
  torch::Tensor t = torch::empty({a.rows(), a.cols()}, f64);
  for (Eigen::Index i = 0; i < a.rows(); ++i)
    for (Eigen::Index j = 0; j < a.cols(); ++j) t[i][j] = a(i, j);
  return t;
}
template <std::size_t S>
cebm::param_pack<torch::Tensor, S> to_tensor(const cebm::param_pack<array, S>& p) {
  return cebm::transform(p, [](const array& a) { return to_tensor(a); });
}
double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }
double max_diff(const torch::Tensor& t, const array& a) {
  // Eigen reductions are [B, 1]; torch drops the axis.
  const torch::Tensor e = to_tensor(a).reshape(t.sizes());
  return (t - e).abs().max().item<double>();
}

}  // namespace

TEMPLATE_TEST_CASE("mean_params equals autograd of the log-normaliser (double)", "[torch][autograd]", cebm::gaussian,
                   cebm::bernoulli, cebm::poisson, cebm::gamma, cebm::categorical<4>, cebm::von_mises_fisher) {
  using F = TestType;
  auto lambda = to_tensor(family_case<F>::lambda(8, 17));
  std::vector<torch::Tensor> leaves;
  for (auto& l : lambda.stats) leaves.push_back(l.requires_grad_());
  const torch::Tensor total = F::log_normalizer(lambda).sum();
  const auto grads = torch::autograd::grad({total}, leaves);
  const auto mean = F::mean_params(lambda);
  for (std::size_t s = 0; s < F::num_stats; ++s) {
    INFO(cebm::family_name<F>() << " statistic " << s);
    CHECK(max_abs(grads[s] - mean[s]) < 1e-10);
  }
}

TEMPLATE_TEST_CASE("Eigen and torch give the same values", "[torch][eigen]", cebm::gaussian, cebm::bernoulli,
                   cebm::poisson, cebm::gamma, cebm::categorical<4>, cebm::von_mises_fisher) {
  using F = TestType;
  const auto l1 = family_case<F>::lambda(6, 3), l2 = family_case<F>::lambda(6, 4);
  const auto t1 = to_tensor(l1), t2 = to_tensor(l2);
  CHECK(max_diff(F::log_normalizer(t1), F::log_normalizer(l1)) < 1e-12);
  const auto me = F::mean_params(l1);
  const auto mt = F::mean_params(t1);
  for (std::size_t s = 0; s < F::num_stats; ++s) CHECK(max_diff(mt[s], me[s]) < 1e-12);
  CHECK(max_diff(cebm::kl<F>(t1, t2), cebm::kl<F>(l1, l2)) < 1e-10);
  CHECK(max_diff(cebm::bregman_divergence<F>(t1, t2), cebm::bregman_divergence<F>(l1, l2)) < 1e-10);
  std::mt19937_64 gen(5);
  const array z = F::sample(l1, gen);
  CHECK(max_diff(cebm::log_density<F>(t1, to_tensor(z)), cebm::log_density<F>(l1, z)) < 1e-10);
  if constexpr (cebm::detail::has_natural_from_mean<F, array>::value)
    CHECK(max_diff(cebm::conjugate_dual<F>(mt), cebm::conjugate_dual<F>(me)) < 1e-10);
}

TEST_CASE("conjugate energies: torch and Eigen agree, and tensors broadcast the bias", "[torch][models]") {
  const array t1 = cebm_test::uniform(5, 6, -2, 2, 1), r = cebm_test::uniform(5, 6, -1, 1, 2);
  const auto te = cebm::gaussian_statistics(t1, r);
  const auto tt = cebm::gaussian_statistics(to_tensor(t1), to_tensor(r));
  const auto bias_e = cebm::make_pack(array(array::Zero(1, 6)), array(array::Constant(1, 6, -0.5)));
  const auto bias_t = cebm::make_pack(torch::zeros({6}, f64), torch::full({6}, -0.5, f64));  // [K] broadcasts
  const torch::Tensor energy = cebm::marginal_energy<cebm::gaussian>(bias_t, tt);
  CHECK(energy.sizes() == torch::IntArrayRef{5});
  CHECK(max_diff(energy, cebm::marginal_energy<cebm::gaussian>(bias_e, te)) < 1e-12);
  const array z = cebm_test::uniform(5, 6, -2, 2, 3);
  CHECK(max_diff(cebm::joint_energy<cebm::gaussian>(bias_t, tt, to_tensor(z)),
                 cebm::joint_energy<cebm::gaussian>(bias_e, te, z)) < 1e-12);
}

TEST_CASE("vMF d = 128: finite gradient at theta = 0 and at huge concentration", "[torch][vmf]") {
  for (double scale : {0.0, 1e-6, 1e4}) {
    auto theta = (torch::ones({2, 128}, f64) * scale).requires_grad_();
    const torch::Tensor b = cebm::von_mises_fisher::log_normalizer(cebm::make_pack(theta));
    CHECK(b.sizes() == torch::IntArrayRef({2, 1}));
    const torch::Tensor g = torch::autograd::grad({b.sum()}, {theta})[0];
    INFO("scale " << scale);
    CHECK(torch::isfinite(g).all().item<bool>());
    CHECK((g - cebm::von_mises_fisher::mean_params(cebm::make_pack(theta.detach()))[0]).abs().max().item<double>() < 1e-10);
  }
}

TEST_CASE("float32 tensors stay float32 and agree with float64", "[torch][float]") {
  const auto l = to_tensor(family_case<cebm::gaussian>::lambda(4, 9));
  const auto lf = cebm::transform(l, [](const torch::Tensor& t) { return t.to(torch::kFloat32); });
  const torch::Tensor bf = cebm::gaussian::log_normalizer(lf);
  CHECK(bf.scalar_type() == torch::kFloat32);
  CHECK((bf.to(torch::kFloat64) - cebm::gaussian::log_normalizer(l)).abs().max().item<double>() < 1e-5);
}

TEST_CASE("mixture with learnable weights and components receives gradients", "[torch][mixture]") {
  auto mean = torch::randn({4, 3}, f64).requires_grad_();
  auto log_std = torch::zeros({4, 3}, f64).requires_grad_();
  auto log_w = torch::zeros({4}, f64).requires_grad_();
  const cebm::mixture<cebm::gaussian, torch::Tensor> mix(cebm::gaussian::natural_from_location_scale(mean, log_std), log_w);
  const auto t = cebm::gaussian_statistics(torch::randn({5, 3}, f64), torch::randn({5, 3}, f64));
  const torch::Tensor e = cebm::marginal_energy(mix, t);
  CHECK(e.sizes() == torch::IntArrayRef{5});
  const auto grads = torch::autograd::grad({e.sum()}, {mean, log_std, log_w});
  for (const auto& g : grads) {
    CHECK(torch::isfinite(g).all().item<bool>());
    CHECK(g.abs().sum().item<double>() > 0);
  }
  // Uniform weights: the energy equals log L − logsumexp, i.e. shifting all weights changes nothing.
  const cebm::mixture<cebm::gaussian, torch::Tensor> shifted(mix.components, log_w.detach() + 3.0);
  CHECK((cebm::marginal_energy(shifted, t) - e).abs().max().item<double>() < 1e-12);
  CHECK((cebm::responsibilities(mix, t).sum(-1) - 1).abs().max().item<double>() < 1e-12);
}

TEST_CASE("sampling draws only from the explicit generator", "[torch][sampling]") {
  const auto lambda = to_tensor(family_case<cebm::gaussian>::lambda(20000, 2));
  auto g1 = at::detail::createCPUGenerator(42), g2 = at::detail::createCPUGenerator(42);
  torch::manual_seed(1);
  const torch::Tensor a = cebm::gaussian::sample(lambda, g1);
  torch::manual_seed(999);  // the global generator must not matter
  const torch::Tensor b = cebm::gaussian::sample(lambda, g2);
  CHECK(torch::equal(a, b));
  // Moments: standardised draws have mean 0 and variance 1 within 4 standard errors.
  const auto m = cebm::gaussian::mean_params(lambda);
  const torch::Tensor sd = (m[1] - m[0] * m[0]).sqrt();
  const torch::Tensor u = ((a - m[0]) / sd).reshape({-1});
  const double n = static_cast<double>(u.numel());
  CHECK(std::abs(u.mean().item<double>()) < 4 / std::sqrt(n));
  CHECK(std::abs(u.var().item<double>() - 1) < 4 * std::sqrt(2 / n));
}

TEST_CASE("invalid natural parameters on tensors give the library's error", "[torch][errors]") {
  const auto bias = cebm::make_pack(torch::zeros({3}, f64), torch::full({3}, -0.5, f64));
  auto t = cebm::gaussian_statistics(torch::zeros({2, 3}, f64), torch::zeros({2, 3}, f64));
  t[1][1][2] = 0.75;
  CHECK_THROWS_WITH(cebm::marginal_energy<cebm::gaussian>(bias, t),
                    Catch::Contains("posterior_params") && Catch::Contains("0.25"));
  const auto wide = cebm::make_pack(torch::zeros({4}, f64), torch::full({4}, -0.5, f64));
  CHECK_THROWS_WITH(cebm::marginal_energy<cebm::gaussian>(wide, cebm::gaussian_statistics(torch::zeros({2, 3}, f64), torch::zeros({2, 3}, f64))),
                    Catch::Contains("marginal_energy") && Catch::Contains("does not broadcast"));
}

namespace {

// A family cebm does not ship, written as a user would for tensors: Beta latents with
// t(z) = (log z, log(1 − z)), λ = (α − 1, β − 1), drawn as z = x / (x + y), x ~ Γ(α), y ~ Γ(β).
struct beta_latents {
  static constexpr std::size_t num_stats = 2;
  static constexpr const char* name = "beta";
  template <class A>
  static cebm::param_pack<A, 2> sufficient_stats(const A& z) { return {{{z.log(), (1 - z).log()}}}; }
  template <class A>
  static A log_normalizer(const cebm::param_pack<A, 2>& l) {
    return at::lgamma(l[0] + 1) + at::lgamma(l[1] + 1) - at::lgamma(l[0] + l[1] + 2);
  }
  template <class A>
  static cebm::param_pack<A, 2> mean_params(const cebm::param_pack<A, 2>& l) {
    const A both = at::digamma(l[0] + l[1] + 2);
    return {{{at::digamma(l[0] + 1) - both, at::digamma(l[1] + 1) - both}}};
  }
  template <class A, class G>
  static A sample(const cebm::param_pack<A, 2>& l, G& gen) {
    const A x = at::_standard_gamma(l[0] + 1, gen), y = at::_standard_gamma(l[1] + 1, gen);
    return x / (x + y);
  }
  template <class A>
  static A in_domain(const cebm::param_pack<A, 2>& l) { return (l[0] > -1) & (l[1] > -1); }
};
// Bias α = β = 1, t = softplus(r) − log 2 per statistic: α, β reach down to 1 − log 2 ≈ 0.31.
struct beta_shifted_softplus {
  static constexpr const char* name = "shifted_softplus";
  static double bias(std::size_t) { return 0.0; }
  template <class A, std::size_t S>
  static cebm::param_pack<A, S> statistics(const cebm::param_pack<A, S>& raw) {
    return cebm::transform(raw, [](const A& r) { return A(at::softplus(r) - 0.693147180559945309); });
  }
};

// The same bias with t = softplus(r) ≥ 0: α, β ≥ 1.
struct beta_softplus : beta_shifted_softplus {
  template <class A, std::size_t S>
  static cebm::param_pack<A, S> statistics(const cebm::param_pack<A, S>& raw) {
    return cebm::transform(raw, [](const A& r) { return A(at::softplus(r)); });
  }
};

void require_pass(const cebm::testing::conformance_report& report) {
  INFO(report.to_string());
  CHECK(report.passed());
  CHECK(report.checks.size() == 8);  // four checks, float32 and float64
}

}  // namespace

TEST_CASE("statistics-map harness: every shipped family under its default map, and the example's family, float32 and float64", "[torch][harness]") {
  using cebm::default_statistics_map_t;
  require_pass(cebm::testing::check_statistics_map<cebm::gaussian, default_statistics_map_t<cebm::gaussian>>());
  require_pass(cebm::testing::check_statistics_map<cebm::bernoulli, default_statistics_map_t<cebm::bernoulli>>());
  require_pass(cebm::testing::check_statistics_map<cebm::categorical<10>, default_statistics_map_t<cebm::categorical<10>>>());
  require_pass(cebm::testing::check_statistics_map<cebm::poisson, default_statistics_map_t<cebm::poisson>>());
  require_pass(cebm::testing::check_statistics_map<cebm::gamma, default_statistics_map_t<cebm::gamma>>());
  require_pass(cebm::testing::check_statistics_map<cebm::von_mises_fisher, default_statistics_map_t<cebm::von_mises_fisher>>());
  require_pass(cebm::testing::check_statistics_map<exponential_rate, exponential_map>());  // examples/custom_family
}

TEST_CASE("statistics-map harness: Beta draws as x/(x+y) leave the domain in float32 where the map reaches α = β ≈ 0.31",
          "[torch][harness]") {
  const auto report = cebm::testing::check_statistics_map<beta_latents, beta_shifted_softplus>();
  INFO(report.to_string());
  REQUIRE(report.checks.size() == 8);
  int float32_samples = 0;
  for (const auto& c : report.checks) {
    if (c.name == "sample_in_domain (float32)") {
      ++float32_samples;
      CHECK_FALSE(c.passed);
      CHECK(c.measured > 0);
      CHECK_THAT(c.detail, Catch::Contains("η(z) non-finite") && Catch::Contains("the first at λ = ("));
    } else if (c.name.rfind("sample_in_domain", 0) != 0) {
      CHECK(c.passed);  // the reach itself, B, ∇B and the energy are fine in both dtypes
    }
  }
  CHECK(float32_samples == 1);
  CHECK_FALSE(report.passed());
  // A map that keeps α, β ≥ 1 leaves nothing to fail.
  require_pass(cebm::testing::check_statistics_map<beta_latents, beta_softplus>());
}
