// The aggregate-posterior KL and mutual-information estimators against closed forms: a constant
// encoder (MI = 0 exactly), an encoder equal to the bias (KL = MI = 0 exactly), a linear-Gaussian
// encoder whose aggregate posterior is Gaussian with known KL and MI, and a near-deterministic
// encoder over N separated inputs whose MI is log N, beyond the batch estimator's log B.
#include <catch2/catch.hpp>

#include <cmath>

#include <cebm/families/gaussian.hpp>
#include <cebm/models/log_density.hpp>
#include <cebm/torch/eval/aggregate_posterior.hpp>

namespace {

using pack = cebm::param_pack<at::Tensor, 2>;
const auto f64 = at::TensorOptions().dtype(at::kDouble);

pack standard_normal_bias(std::int64_t k) { return cebm::make_pack(at::zeros({k}, f64), at::full({k}, -0.5, f64)); }

// Statistics t(x) whose posterior under the N(0, 1) bias is N(a·x, s²) per coordinate.
pack linear_gaussian_statistics(const at::Tensor& x, double a, double s) {
  return cebm::make_pack(a * x / (s * s), at::full_like(x, -0.5 / (s * s) + 0.5));
}

cebm::mixture<cebm::gaussian, at::Tensor> three_component_bias() {
  const at::Tensor mean = at::tensor({-2.0, 0.5, 0.0, 1.0, 2.5, -1.0}, f64).view({3, 2});
  const at::Tensor log_std = at::tensor({0.0, -0.5, 0.3, 0.1, -0.2, 0.4}, f64).view({3, 2});
  return cebm::mixture<cebm::gaussian, at::Tensor>(cebm::gaussian::natural_from_location_scale(mean, log_std),
                                                   at::tensor({0.2, -0.3, 0.1}, f64));
}

}  // namespace

TEST_CASE("pairwise log densities equal log_density evaluated pair by pair", "[eval][aggregate]") {
  auto gen = at::detail::createCPUGenerator(3);
  const at::Tensor x = at::randn({5, 3}, gen, f64);
  const pack post = cebm::posterior_params<cebm::gaussian>(standard_normal_bias(3), linear_gaussian_statistics(x, 0.7, 0.4));
  const at::Tensor z = at::randn({4, 3}, gen, f64);
  const at::Tensor all = cebm::eval::pairwise_log_density<cebm::gaussian>(post, z);
  REQUIRE(all.sizes() == at::IntArrayRef({4, 5}));
  for (std::int64_t i = 0; i < 4; ++i)
    for (std::int64_t j = 0; j < 5; ++j) {
      // Independent: the Gaussian density written out from its mean and variance.
      const at::Tensor mu = -post[0][j] / (2 * post[1][j]), var = -0.5 / post[1][j];
      const double expect = (-0.5 * (z[i] - mu).pow(2) / var - 0.5 * at::log(2 * M_PI * var)).sum().item<double>();
      CHECK(all[i][j].item<double>() == Approx(expect).epsilon(1e-12));
    }

  const auto mix = three_component_bias();
  const pack t = linear_gaussian_statistics(x.narrow(1, 0, 2), 0.9, 0.8);
  const at::Tensor zz = at::randn({4, 2}, gen, f64);
  const at::Tensor mixed = cebm::eval::pairwise_log_density(mix, t, zz);
  for (std::int64_t i = 0; i < 4; ++i)
    for (std::int64_t j = 0; j < 5; ++j) {
      const pack tj = cebm::transform(t, [&](const at::Tensor& a) { return at::Tensor(a.narrow(0, j, 1)); });
      const double expect = cebm::posterior_log_density(mix, tj, zz.narrow(0, i, 1)).item<double>();
      CHECK(mixed[i][j].item<double>() == Approx(expect).epsilon(1e-12));
    }
}

TEST_CASE("the mixture posterior sampler has the responsibility-weighted posterior mean", "[eval][aggregate]") {
  const auto mix = three_component_bias();
  const pack t = cebm::make_pack(at::tensor({0.4, -0.2}, f64).view({1, 2}), at::tensor({-0.3, -0.1}, f64).view({1, 2}));
  const std::int64_t n = 200000;
  const pack tn = cebm::transform(t, [&](const at::Tensor& a) { return at::Tensor(a.expand({n, 2}).contiguous()); });
  auto gen = at::detail::createCPUGenerator(11);
  const at::Tensor z = cebm::eval::sample_posterior(mix, tn, gen);
  // Oracle: Σ_l r_l · mean of N(λ_l + t).
  const at::Tensor r = cebm::responsibilities(mix, t);  // [1, 3]
  at::Tensor mean = at::zeros({2}, f64);
  for (std::int64_t l = 0; l < 3; ++l)
    mean += r[0][l] * cebm::posterior_mean<cebm::gaussian>(mix.component(l), t)[0][0];
  const at::Tensor se = z.std(0) / std::sqrt(static_cast<double>(n));
  CHECK(((z.mean(0) - mean).abs() / se).max().item<double>() < 4.0);
}

TEST_CASE("a constant encoder has zero mutual information", "[eval][aggregate]") {
  auto gen = at::detail::createCPUGenerator(5);
  const std::int64_t b = 500, k = 4;
  // Posterior N(0.8, 0.5²) for every input: KL(N(0.8, 0.25) ‖ N(0, 1)) per coordinate in closed form.
  const pack t = linear_gaussian_statistics(at::full({b, k}, 1.0, f64), 0.8, 0.5);
  const auto e = cebm::eval::aggregate_posterior_batch<cebm::gaussian>(standard_normal_bias(k), t, gen);
  CHECK(std::abs(e.mi) < 1e-12);
  const double kl = k * 0.5 * (0.25 + 0.64 - 1 - std::log(0.25));
  CHECK(e.kl == Approx(kl).margin(4 * std::sqrt(k * 1.0 / b)));  // generous: a 500-draw Monte Carlo mean

  const auto mix = three_component_bias();
  const pack tm = cebm::make_pack(at::full({b, 2}, 0.3, f64), at::full({b, 2}, -0.2, f64));
  CHECK(std::abs(cebm::eval::aggregate_posterior_batch(mix, tm, gen).mi) < 1e-12);
}

TEST_CASE("an encoder that ignores its input leaves the aggregate posterior on the bias", "[eval][aggregate]") {
  // t(x) = 0: every posterior is the bias itself, so log q̂ = log q = log p_λ at every draw.
  auto gen = at::detail::createCPUGenerator(6);
  const auto mix = three_component_bias();
  const pack zero = cebm::make_pack(at::zeros({300, 2}, f64), at::zeros({300, 2}, f64));
  const auto e = cebm::eval::aggregate_posterior_batch(mix, zero, gen);
  CHECK(std::abs(e.kl) < 1e-10);
  CHECK(std::abs(e.mi) < 1e-10);
  const auto g = cebm::eval::aggregate_posterior_batch<cebm::gaussian>(standard_normal_bias(2), zero, gen);
  CHECK(std::abs(g.kl) < 1e-10);
}

TEST_CASE("a linear-Gaussian encoder gives the closed-form KL and MI", "[eval][aggregate]") {
  // x ~ N(0, 1), q(z | x) = N(a·x, s²) per coordinate: q̂(z) = N(0, a² + s²), so per coordinate
  //   KL(q̂ ‖ N(0, 1)) = ½ (v − 1 − log v), v = a² + s²;    I(x; z) = ½ log(1 + a²/s²).
  const double a = 1.0, s = 1.0;
  const std::int64_t k = 3, batch = 1000, batches = 30;
  auto gen = at::detail::createCPUGenerator(7);
  const at::Tensor x = at::randn({batch * batches, k}, gen, f64);
  const auto e = cebm::eval::aggregate_posterior<cebm::gaussian>(
      standard_normal_bias(k), [&](const at::Tensor& xb) { return linear_gaussian_statistics(xb, a, s); }, x.size(0),
      [&](std::int64_t start, std::int64_t count) { return x.narrow(0, start, count); }, batch, gen);
  const double v = a * a + s * s;
  CHECK(e.batches == batches);
  CHECK(e.batch_size == batch);
  // Tolerances: ~4 standard errors of the 30-batch mean plus the estimator's O(1/B) bias.
  CHECK(e.kl == Approx(k * 0.5 * (v - 1 - std::log(v))).margin(0.03));
  CHECK(e.mi == Approx(k * 0.5 * std::log(1 + a * a / (s * s))).margin(0.03));
}

TEST_CASE("a sharp encoder over N inputs has MI log N: the stratified estimator reaches it, the batch one stops at log B",
          "[eval][aggregate]") {
  // N inputs with posteriors N(μ_n, σ²), μ_n = n − N/2, σ = 0.01: the components of q̂ do not
  // overlap (100 σ apart), so q̂(z) = q(z | x_n) / N near μ_n and, in closed form,
  //   I(x; z) = log N,   KL(q̂ ‖ N(0, s²)) = −log N + mean_n [log(s/σ) + (σ² + μ_n²)/(2 s²) − ½].
  const std::int64_t n = 2000, batch = 100;
  const double sigma = 0.01, s = 500;
  const at::Tensor mu = at::arange(n, f64).view({n, 1}) - n / 2.0;
  const pack bias = cebm::make_pack(at::zeros({1}, f64), at::full({1}, -0.5 / (s * s), f64));
  auto stats = [&](const at::Tensor& m) {  // t = λ̃ − λ with λ̃ the natural parameters of N(m, σ²)
    return cebm::make_pack(m / (sigma * sigma), at::full_like(m, -0.5 / (sigma * sigma) + 0.5 / (s * s)));
  };
  auto rows = [&](std::int64_t start, std::int64_t count) { return mu.narrow(0, start, count); };
  auto gen = at::detail::createCPUGenerator(9);
  const auto strat = cebm::eval::aggregate_posterior<cebm::gaussian>(bias, stats, n, rows, batch, gen);
  const auto plain = cebm::eval::aggregate_posterior<cebm::gaussian>(bias, stats, n, rows, batch, gen,
                                                                     cebm::eval::aggregate_estimator::batch);
  CHECK(strat.dataset_size == n);
  CHECK(plain.dataset_size == batch);
  CHECK(strat.mi == Approx(std::log(static_cast<double>(n))).margin(1e-9));
  CHECK(plain.mi == Approx(std::log(static_cast<double>(batch))).margin(1e-9));  // the cap
  const double kl = -std::log(static_cast<double>(n)) +
                    (std::log(s / sigma) + (sigma * sigma + mu.pow(2)) / (2 * s * s) - 0.5).mean().item<double>();
  // Monte Carlo: each draw's log-density ratio has variance ≈ ½, so the mean of 2000 has std 0.016.
  CHECK(strat.kl == Approx(kl).margin(0.08));
  CHECK(plain.kl > strat.kl + 2.5);  // the cap moves the lost log(N / B) = 3.0 nats of MI into the KL

  // With N = B the two estimators are the same.
  const at::Tensor lq = at::randn({6, 6}, gen, f64), lp = at::randn({6}, gen, f64);
  const auto a = cebm::eval::average_encoding_estimate(lq, lp), b = cebm::eval::average_encoding_estimate(lq, lp, 6);
  CHECK(a.mi == Approx(b.mi).epsilon(1e-14));
  CHECK(a.kl == Approx(b.kl).epsilon(1e-14));
  CHECK_THROWS_WITH(cebm::eval::average_encoding_estimate(lq, lp, 5), Catch::Contains("at least the batch size 6"));
}

TEST_CASE("aggregate posterior inputs are checked", "[eval][aggregate]") {
  auto gen = at::detail::createCPUGenerator(1);
  const at::Tensor x = at::randn({10, 2}, gen, f64);
  auto stats = [&](const at::Tensor& xb) { return linear_gaussian_statistics(xb, 1, 1); };
  auto rows = [&](std::int64_t start, std::int64_t count) { return x.narrow(0, start, count); };
  CHECK_THROWS_WITH(cebm::eval::aggregate_posterior<cebm::gaussian>(standard_normal_bias(2), stats, 10, rows, 1000, gen),
                    Catch::Contains("at least one full batch of 1000"));
  CHECK_THROWS_WITH(cebm::eval::average_encoding_estimate(at::zeros({3, 4}), at::zeros({3})), Catch::Contains("[B, B]"));
  CHECK_THROWS_WITH(cebm::eval::average_encoding_estimate(at::full({2, 2}, NAN), at::zeros({2})), Catch::Contains("non-finite"));
  // A posterior outside the family's domain (λ₂ ≥ 0) is named, not turned into NaN.
  const pack bad = cebm::make_pack(at::zeros({4, 2}, f64), at::full({4, 2}, 1.0, f64));
  CHECK_THROWS(cebm::eval::aggregate_posterior_batch<cebm::gaussian>(standard_normal_bias(2), bad, gen));
}
