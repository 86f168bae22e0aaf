// The VAE's objective and its importance-sampled log-likelihood against the linear-Gaussian model,
// where everything has a closed form:
//   p(z) = N(0, I_K),  p(x | z) = N(W z + b, s² I_D),  p(x) = N(b, W Wᵀ + s² I),
//   p(z | x) = N(Σ Wᵀ (x − b) / s², Σ),  Σ = (I + WᵀW / s²)⁻¹,
// with W's columns orthogonal, so that the exact posterior is diagonal (a `gaussian` member).
#include <catch2/catch.hpp>

#include <cmath>

#include <torch/torch.h>

#include <cebm/torch/variational/elbo.hpp>
#include <cebm/torch/variational/importance_log_likelihood.hpp>
#include <cebm/torch/variational/mixture_prior.hpp>
#include <cebm/torch/variational/standard_normal_prior.hpp>

namespace {

using cebm::param_pack;
namespace var = cebm::variational;

struct linear_gaussian {
  std::int64_t d = 6, k = 3;
  double s = 0.7;
  at::Tensor w, b;  // [D, K], [D]

  linear_gaussian() {
    auto opts = at::TensorOptions().dtype(at::kDouble);
    // Orthogonal columns of different lengths: Q R with Q from a QR decomposition.
    at::manual_seed(3);
    const at::Tensor q = std::get<0>(at::linalg_qr(at::randn({d, k}, opts)));
    w = q * at::tensor({1.5, 0.8, 2.2}, opts);
    b = at::randn({d}, opts) * 0.3;
  }
  /// The likelihood's natural parameters at z [N, K]: (m/s², −1/(2s²)) per coordinate.
  param_pack<at::Tensor, 2> decode(const at::Tensor& z) const {
    const at::Tensor mean = z.matmul(w.t()) + b;
    return {{{mean / (s * s), at::full_like(mean, -0.5 / (s * s))}}};
  }
  at::Tensor posterior_cov_diag() const { return 1.0 / (1.0 + (w * w).sum(0) / (s * s)); }  // [K]
  /// The exact posterior (shift 0, scale 1) or a distorted one.
  param_pack<at::Tensor, 2> encode(const at::Tensor& x, double shift = 0, double scale = 1) const {
    const at::Tensor var = posterior_cov_diag();
    const at::Tensor mean = (x.flatten(1) - b).matmul(w) * var / (s * s) + shift;
    return cebm::gaussian::natural_from_location_scale(mean, 0.5 * (var * scale * scale).log().expand_as(mean));
  }
  at::Tensor log_marginal(const at::Tensor& x) const {
    const at::Tensor c = w.matmul(w.t()) + s * s * at::eye(d, w.options());
    const at::Tensor r = x - b;
    const at::Tensor sol = at::linalg_solve(c, r.t()).t();
    return -0.5 * (d * std::log(2 * M_PI) + std::get<1>(at::linalg_slogdet(c)) + (r * sol).sum(1));
  }
  at::Tensor grad_log_marginal(const at::Tensor& x) const {
    const at::Tensor c = w.matmul(w.t()) + s * s * at::eye(d, w.options());
    return -at::linalg_solve(c, (x - b).t()).t();
  }
  at::Tensor data(std::int64_t n, std::uint64_t seed) const {
    auto g = at::detail::createCPUGenerator(seed);
    const at::Tensor z = at::normal(0.0, 1.0, {n, k}, g, w.options());
    return z.matmul(w.t()) + b + s * at::normal(0.0, 1.0, {n, d}, g, w.options());
  }
};

/// A standard-normal prior seen only through its density: the ELBO must then estimate the KL.
struct density_only_prior {
  var::StandardNormalPriorImpl p{3};
  at::Tensor log_density(const at::Tensor& z) const { return p.log_density(z.to(at::kDouble)); }
};

}  // namespace

TEST_CASE("ELBO of the linear-Gaussian model equals its closed form", "[variational]") {
  const linear_gaussian m;
  const at::Tensor x = m.data(4, 11);
  auto decode = [&](const at::Tensor& z) { return m.decode(z); };
  var::StandardNormalPriorImpl prior(m.k);
  auto gen = at::detail::createCPUGenerator(5);

  SECTION("with the exact posterior, every single-draw bound with an estimated KL is log p(x)") {
    const auto t = var::elbo<cebm::gaussian, cebm::gaussian>(x, m.encode(x), decode, density_only_prior{}, gen);
    CHECK(at::allclose(t.elbo, m.log_marginal(x), 1e-10, 1e-10));
  }
  SECTION("with a distorted posterior: the closed-form KL, and the bound's expectation") {
    const auto q = m.encode(x, 0.4, 1.7);
    const at::Tensor mean = -q[0] / (2 * q[1]), var = -0.5 / q[1];
    // KL(N(μ, v) ‖ N(0, 1)) = ½ Σ (v + μ² − 1 − log v).
    const at::Tensor kl = 0.5 * (var + mean * mean - 1 - var.log()).sum(1);
    // E_q log p(x | z) = −D/2 log 2πs² − (‖x − Wμ − b‖² + Σ_k v_k ‖w_k‖²) / 2s².
    const at::Tensor resid = x - mean.matmul(m.w.t()) - m.b;
    const at::Tensor expected_ll = -0.5 * m.d * std::log(2 * M_PI * m.s * m.s) -
                                   ((resid * resid).sum(1) + (var * (m.w * m.w).sum(0)).sum(1)) / (2 * m.s * m.s);
    const auto one = var::elbo<cebm::gaussian, cebm::gaussian>(x, q, decode, prior, gen);
    CHECK(at::allclose(one.kl, kl, 1e-12, 1e-12));
    // Mean of 40,000 draws per image within 5 standard errors of the expectation.
    const std::int64_t n = 40000;
    const auto rep = cebm::transform(q, [&](const at::Tensor& a) { return a.repeat({n, 1}); });
    const auto many = var::elbo<cebm::gaussian, cebm::gaussian>(x.repeat({n, 1}), rep, decode, prior, gen);
    const at::Tensor per = many.elbo.view({n, x.size(0)});
    const at::Tensor se = per.std(0) / std::sqrt(static_cast<double>(n));
    const at::Tensor err = (per.mean(0) - (expected_ll - kl)).abs();
    INFO("errors " << err << " standard errors " << se);
    CHECK((err < 5 * se).all().item<bool>());
    // ... and below log p(x) (Jensen), by the KL from the exact posterior.
    CHECK((per.mean(0) < m.log_marginal(x)).all().item<bool>());
  }
}

TEST_CASE("Importance-sampled log-likelihood converges to the exact log p(x)", "[variational]") {
  const linear_gaussian m;
  const at::Tensor x = m.data(8, 12);
  auto decode = [&](const at::Tensor& z) { return m.decode(z); };
  var::StandardNormalPriorImpl prior(m.k);
  const at::Tensor exact = m.log_marginal(x);

  SECTION("the exact posterior gives exact weights for any S, value and input gradient") {
    auto gen = at::detail::createCPUGenerator(1);
    auto encode = [&](const at::Tensor& v) { return m.encode(v); };
    const at::Tensor xg = x.clone().requires_grad_(true);
    const at::Tensor est = var::importance_log_likelihood<cebm::gaussian, cebm::gaussian>(
        xg, encode, decode, prior, var::importance_options{}.samples(7).rows(16), gen);
    CHECK(at::allclose(est.detach(), exact, 1e-9, 1e-9));
    const at::Tensor g = torch::autograd::grad({est.sum()}, {xg})[0];
    CHECK(at::allclose(g, m.grad_log_marginal(x), 1e-8, 1e-8));
  }
  SECTION("a distorted posterior: the error shrinks with S, and chunking does not bias it") {
    auto encode = [&](const at::Tensor& v) { return m.encode(v, 0.5, 1.6); };
    auto error = [&](std::int64_t samples, std::int64_t rows) {
      auto gen = at::detail::createCPUGenerator(2);
      const at::Tensor est = var::importance_log_likelihood<cebm::gaussian, cebm::gaussian>(
          x, encode, decode, prior, var::importance_options{}.samples(samples).rows(rows), gen);
      return (est - exact).abs().mean().item<double>();
    };
    const double e1 = error(1, 64), e10 = error(10, 64), e_large = error(20000, 8 * 4000);
    INFO("mean |error|: S=1 " << e1 << ", S=10 " << e10 << ", S=20000 " << e_large);
    CHECK(e10 < e1);
    CHECK(e_large < 0.02);
    CHECK(e_large < e10 / 20);
    CHECK(error(20000, 8 * 7) < 0.02);  // 7 draws per pass: the running logsumexp
  }
  SECTION("its input gradient is the derivative of the estimate for fixed draws") {
    auto encode = [&](const at::Tensor& v) { return m.encode(v, 0.5, 1.6); };
    const auto o = var::importance_options{}.samples(30).rows(8 * 30);  // one pass: the same ε at x ± h
    auto estimate = [&](const at::Tensor& v) {
      auto gen = at::detail::createCPUGenerator(9);
      return var::importance_log_likelihood<cebm::gaussian, cebm::gaussian>(v, encode, decode, prior, o, gen);
    };
    const at::Tensor xg = x.clone().requires_grad_(true);
    const at::Tensor g = torch::autograd::grad({estimate(xg).sum()}, {xg})[0];
    const double h = 1e-6;
    for (std::int64_t j : {0, 3, 5}) {
      at::Tensor e = at::zeros_like(x);
      e.select(1, j).fill_(h);
      const at::Tensor fd = (estimate(x + e) - estimate(x - e)) / (2 * h);
      INFO("coordinate " << j);
      CHECK(at::allclose(g.select(1, j), fd, 1e-6, 1e-6));
    }
  }
  SECTION("bad options are named") {
    auto gen = at::detail::createCPUGenerator(1);
    auto encode = [&](const at::Tensor& v) { return m.encode(v); };
    CHECK_THROWS_WITH((var::importance_log_likelihood<cebm::gaussian, cebm::gaussian>(
                          x, encode, decode, prior, var::importance_options{}.samples(0), gen)),
                      Catch::Contains("samples and rows must be >= 1"));
  }
}

TEST_CASE("The GMM prior's means and log-stds receive the gradient of log p(z)", "[variational]") {
  at::manual_seed(4);
  var::MixturePriorImpl prior(3, 4);
  prior.to(at::kDouble);
  const at::Tensor z = at::randn({5, 3}, at::kDouble);
  const at::Tensor lp = prior.log_density(z);
  const auto params = prior.named_parameters();
  const at::Tensor mean = params["component_mean"], log_std = params["component_log_std"];
  const auto grads = torch::autograd::grad({lp.sum()}, {mean, log_std});
  // Closed form: with responsibilities r_nl, ∂/∂μ_lk Σ_n log p(z_n) = Σ_n r_nl (z_nk − μ_lk)/σ_lk²,
  // ∂/∂log σ_lk = Σ_n r_nl ((z_nk − μ_lk)²/σ_lk² − 1).
  const at::Tensor sd = log_std.detach().exp();
  const at::Tensor diff = z.unsqueeze(1) - mean.detach().unsqueeze(0);  // [N, L, K]
  const at::Tensor comp = (-0.5 * (diff / sd).pow(2) - log_std.detach() - 0.5 * std::log(2 * M_PI)).sum(2);  // [N, L]
  const at::Tensor r = at::softmax(comp, 1).unsqueeze(2);
  CHECK(at::allclose(lp.detach(), at::logsumexp(comp, 1) - std::log(4.0), 1e-12, 1e-12));
  CHECK(at::allclose(grads[0], (r * diff / (sd * sd)).sum(0), 1e-10, 1e-10));
  CHECK(at::allclose(grads[1], (r * ((diff / sd).pow(2) - 1)).sum(0), 1e-10, 1e-10));
  // Ancestral draws: the mixture's mean.
  auto gen = at::detail::createCPUGenerator(8);
  const at::Tensor draws = prior.sample(200000, gen);
  CHECK(at::allclose(draws.mean(0), mean.detach().mean(0), 0, 0.03));
}
