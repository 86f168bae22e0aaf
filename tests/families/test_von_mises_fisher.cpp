// The von Mises–Fisher log-normaliser against independent values: closed forms (d = 3),
// std::cyl_bessel_i (d = 2, and d = 128 at moderate κ), and numerical quadrature of the integral
// representation of I_ν for d = 128 at tiny and huge κ, where Bessel routines under/overflow; and
// the closed-form Bregman divergence against the generic route through B and ∇B.
#include <cmath>
#include <random>

#include <catch2/catch.hpp>

#include "cebm/core.hpp"

using array = Eigen::ArrayXXd;

namespace {

// θ of norm κ along a fixed direction in ℝ^d.
array theta_of(double kappa, int d) {
  array dir = array::Zero(1, d);
  for (int j = 0; j < d; ++j) dir(0, j) = 1.0 + 0.1 * j;
  return dir * (kappa / std::sqrt(dir.square().sum()));
}

double vmf_b(double kappa, int d) { return cebm::von_mises_fisher::log_normalizer(cebm::make_pack(theta_of(kappa, d)))(0, 0); }

// log I_ν(κ) − ν log κ by quadrature of I_ν(κ) = (κ/2)^ν / (√π Γ(ν+½)) ∫_{−1}^{1} (1−t²)^{ν−½} e^{κt} dt.
// With t = 1 − s and s = e^u the integrand is smooth on a log grid, peaked or not: Simpson in
// long double over u ∈ [log 1e-40, log 2].
double quadrature_scaled_log_bessel(double nu, double kappa) {
  const long double lo = std::log(1e-40L), hi = std::log(2.0L);
  const int n = 200000;  // even
  const long double h = (hi - lo) / n;
  auto log_f = [&](long double u) {
    const long double s = std::exp(u);
    return (nu - 0.5L) * std::log(s * (2 - s)) - kappa * s + u;
  };
  long double peak = -INFINITY;
  for (int i = 0; i <= n; ++i) peak = std::max(peak, log_f(lo + i * h));
  long double sum = 0;
  for (int i = 0; i <= n; ++i) {
    const long double w = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
    sum += w * std::exp(log_f(lo + i * h) - peak);
  }
  const long double log_integral = kappa + peak + std::log(sum * h / 3);
  return static_cast<double>(-nu * std::log(2.0L) - 0.5L * std::log(M_PI) - std::lgamma(nu + 0.5L) + log_integral);
}

}  // namespace

TEST_CASE("vMF d = 3: B = log(4 pi sinh k / k)", "[families][vmf]") {
  for (double k : {1e-6, 0.3, 2.0, 40.0, 600.0}) {
    const double expected = std::log(4 * M_PI) + k + std::log(-std::expm1(-2 * k)) - std::log(2 * k);
    INFO("kappa = " << k);
    CHECK(vmf_b(k, 3) == Approx(expected).epsilon(1e-12));
  }
  CHECK(vmf_b(0.0, 3) == Approx(std::log(4 * M_PI)).epsilon(1e-13));
}

TEST_CASE("vMF d = 2: B = log(2 pi I0(k))", "[families][vmf]") {
  for (double k : {1e-4, 0.5, 3.0, 25.0, 300.0}) {
    INFO("kappa = " << k);
    CHECK(vmf_b(k, 2) == Approx(std::log(2 * M_PI * std::cyl_bessel_i(0.0, k))).epsilon(1e-12));
  }
}

TEST_CASE("vMF d = 128 at tiny, moderate and huge concentration", "[families][vmf]") {
  const int d = 128;
  const double nu = d / 2.0 - 1, offset = 0.5 * d * std::log(2 * M_PI);
  SECTION("kappa = 0 is the log surface area of the sphere") {
    CHECK(vmf_b(0.0, d) == Approx(std::log(2.0) + 0.5 * d * std::log(M_PI) - std::lgamma(0.5 * d)).epsilon(1e-13));
  }
  SECTION("moderate kappa against std::cyl_bessel_i") {
    for (double k : {1.0, 30.0, 128.0, 500.0}) {
      INFO("kappa = " << k);
      CHECK(vmf_b(k, d) == Approx(offset + std::log(std::cyl_bessel_i(nu, k)) - nu * std::log(k)).epsilon(1e-11));
    }
  }
  SECTION("tiny and huge kappa against quadrature") {
    for (double k : {1e-12, 1e-6, 1e-2, 1e3, 1e4, 1e5}) {
      INFO("kappa = " << k);
      const double expected = offset + quadrature_scaled_log_bessel(nu, k);
      CHECK(vmf_b(k, d) == Approx(expected).epsilon(1e-10));
    }
  }
  SECTION("the mean resultant length A_d(k) matches I_{d/2}/I_{d/2-1} and its limits") {
    for (double k : {0.0, 1e-8, 5.0, 200.0, 1e5}) {
      const array theta = theta_of(k, d);
      const array m = cebm::von_mises_fisher::mean_params(cebm::make_pack(theta))[0];
      const double a = std::sqrt(m.square().sum());
      INFO("kappa = " << k);
      if (k == 0 || k < 1e-6) CHECK(a == Approx(k / d).margin(1e-15));
      else if (k < 600) CHECK(a == Approx(std::cyl_bessel_i(nu + 1, k) / std::cyl_bessel_i(nu, k)).epsilon(1e-11));
      else  // A_d = κ exp(g_{ν+1} − g_ν), both by quadrature
        CHECK(a == Approx(k * std::exp(quadrature_scaled_log_bessel(nu + 1, k) - quadrature_scaled_log_bessel(nu, k)))
                       .epsilon(1e-9));
      REQUIRE(std::isfinite(a));
    }
  }
}

TEST_CASE("vMF d = 128: gradient by central differences, samples on the sphere with the right mean", "[families][vmf]") {
  const int d = 128;
  for (double k : {0.5, 60.0, 4000.0}) {
    const array theta = theta_of(k, d);
    const array grad = cebm::von_mises_fisher::mean_params(cebm::make_pack(theta))[0];
    const double h = 1e-5;
    for (int j : {0, 17, 127}) {
      array up = theta, down = theta;
      up(0, j) += h;
      down(0, j) -= h;
      const double fd =
          (cebm::von_mises_fisher::log_normalizer(cebm::make_pack(up))(0, 0) -
           cebm::von_mises_fisher::log_normalizer(cebm::make_pack(down))(0, 0)) / (2 * h);
      INFO("kappa = " << k << ", coordinate " << j);
      CHECK(grad(0, j) == Approx(fd).margin(1e-7));
    }
    std::mt19937_64 gen(7);
    const int n = 4000;
    const array z = cebm::von_mises_fisher::sample(cebm::make_pack(array(theta.replicate(n, 1))), gen);
    CHECK((z.square().rowwise().sum() - 1).abs().maxCoeff() < 1e-12);
    // Mean resultant along the mean direction, against A_d(κ), within 4 standard errors.
    const array dir = theta / k;
    const array proj = (z.rowwise() * dir.row(0)).rowwise().sum();
    const double mean = proj.mean();
    const double se = std::sqrt((proj - mean).square().sum() / (n - 1) / n);
    INFO("kappa = " << k << ": sample mean resultant " << mean << " +- " << se << ", A_d = " << grad.matrix().norm());
    CHECK(std::abs(mean - grad.matrix().norm()) < 4 * se);
  }
}

TEST_CASE("vMF Bregman divergence: the closed form agrees with B and its gradient", "[families][vmf][divergences]") {
  using vmf = cebm::von_mises_fisher;
  for (int d : {3, 16, 128}) {
    // Rows of increasing concentration, κ from 0 to well past d, in assorted directions.
    std::mt19937_64 gen(11);
    std::normal_distribution<double> normal;
    array t1(6, d), t2(6, d);
    for (Eigen::Index i = 0; i < t1.size(); ++i) t1.data()[i] = normal(gen), t2.data()[i] = normal(gen);
    const double kappas[6] = {0.0, 1e-6, 0.7, 9.0, 150.0, 3000.0};
    for (int i = 0; i < 6; ++i) {
      t1.row(i) *= kappas[i] / std::sqrt(t1.row(i).square().sum());
      t2.row(i) *= kappas[5 - i] / std::sqrt(t2.row(i).square().sum());
    }
    const auto l1 = cebm::make_pack(t1), l2 = cebm::make_pack(t2);
    INFO("d = " << d);
    const array closed = cebm::bregman_divergence<vmf>(l1, l2);
    const array generic = cebm::bregman_divergence_from_gradient<vmf>(l1, l2);
    CHECK((closed - generic).abs().maxCoeff() <= 1e-9 * std::max(1.0, generic.abs().maxCoeff()));
    CHECK((closed >= -1e-9).all());
    CHECK(cebm::bregman_divergence<vmf>(l1, l1).abs().maxCoeff() == 0.0);
    // λ₂ as a single row, broadcast over λ₁'s batch.
    const auto row = cebm::make_pack(array(t2.row(3)));
    const array closed_row = cebm::bregman_divergence<vmf>(l1, row);
    const array generic_row = cebm::bregman_divergence_from_gradient<vmf>(l1, row);
    CHECK(closed_row.rows() == 6);
    CHECK((closed_row - generic_row).abs().maxCoeff() <= 1e-9 * std::max(1.0, generic_row.abs().maxCoeff()));
  }
}
