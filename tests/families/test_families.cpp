// Every bundled family through the conformance harness, closed-form spot values of B, and float
// against double.
#include <cmath>

#include <catch2/catch.hpp>

#include "families/check_conformance.hpp"

using cebm_test::array;
using cebm_test::family_case;

TEMPLATE_TEST_CASE("conformance harness", "[families][conformance]", cebm::gaussian, cebm::bernoulli, cebm::poisson,
                   cebm::gamma, cebm::categorical<4>, cebm::von_mises_fisher) {
  const auto report = cebm_test::check_conformance<TestType>();
  REQUIRE(report.checks.size() >= 5);
}

TEST_CASE("log-normaliser spot values from closed forms", "[families]") {
  auto one = [](double v) { return array(array::Constant(1, 1, v)); };
  SECTION("gaussian: B = mu^2/(2 sigma^2) + log sigma") {
    const double mu = 1.5, sigma = 2.0;
    const auto l = cebm::make_pack(one(mu / (sigma * sigma)), one(-0.5 / (sigma * sigma)));
    CHECK(cebm::gaussian::log_normalizer(l)(0, 0) == Approx(mu * mu / (2 * sigma * sigma) + std::log(sigma)).epsilon(1e-14));
    const auto m = cebm::gaussian::mean_params(l);
    CHECK(m[0](0, 0) == Approx(mu));
    CHECK(m[1](0, 0) == Approx(mu * mu + sigma * sigma));
    // B*(mu) = -1/2 - log sigma: the negative differential entropy less E[log h] = -1/2 log 2 pi.
    CHECK(cebm::conjugate_dual<cebm::gaussian>(m)(0, 0) == Approx(-0.5 - std::log(sigma)));
  }
  SECTION("bernoulli: B = log(1 + e^l), stable for large |l|") {
    CHECK(cebm::bernoulli::log_normalizer(cebm::make_pack(one(0)))(0, 0) == Approx(std::log(2.0)));
    CHECK(cebm::bernoulli::log_normalizer(cebm::make_pack(one(800)))(0, 0) == Approx(800));
    CHECK(cebm::bernoulli::log_normalizer(cebm::make_pack(one(-800)))(0, 0) == Approx(0).margin(1e-300));
    CHECK(cebm::conjugate_dual<cebm::bernoulli>(cebm::make_pack(one(0.0)))(0, 0) == 0.0);
    CHECK(cebm::conjugate_dual<cebm::bernoulli>(cebm::make_pack(one(0.5)))(0, 0) == Approx(std::log(0.5)));
  }
  SECTION("poisson: B = rate") {
    CHECK(cebm::poisson::log_normalizer(cebm::make_pack(one(std::log(3.0))))(0, 0) == Approx(3.0));
    // log p(z = 2 | rate 3) = 2 log 3 - 3 - log 2
    CHECK(cebm::log_density<cebm::poisson>(cebm::make_pack(one(std::log(3.0))), one(2))(0, 0) ==
          Approx(2 * std::log(3.0) - 3 - std::log(2.0)));
  }
  SECTION("gamma: B = lgamma(alpha) - alpha log beta, mean alpha/beta") {
    const double alpha = 2.5, beta = 1.5;
    const auto l = cebm::make_pack(one(alpha - 1), one(-beta));
    CHECK(cebm::gamma::log_normalizer(l)(0, 0) == Approx(std::lgamma(alpha) - alpha * std::log(beta)));
    CHECK(cebm::gamma::mean_params(l)[1](0, 0) == Approx(alpha / beta));
  }
  SECTION("categorical: B = log(1 + sum e^l)") {
    const auto l = cebm::make_pack(one(std::log(2.0)), one(std::log(3.0)));
    CHECK(cebm::categorical<3>::log_normalizer(l)(0, 0) == Approx(std::log(6.0)));
    const auto m = cebm::categorical<3>::mean_params(l);
    CHECK(m[0](0, 0) == Approx(2.0 / 6));
    CHECK(m[1](0, 0) == Approx(3.0 / 6));
    // Stable when one logit dominates.
    const auto big = cebm::make_pack(one(1000.0), one(0.0));
    CHECK(cebm::categorical<3>::log_normalizer(big)(0, 0) == Approx(1000.0));
  }
}

TEMPLATE_TEST_CASE("float arrays agree with double", "[families][float]", cebm::gaussian, cebm::bernoulli,
                   cebm::poisson, cebm::gamma, cebm::categorical<4>, cebm::von_mises_fisher) {
  using F = TestType;
  const auto ld = family_case<F>::lambda(6, 5);
  const auto lf = cebm::transform(ld, [](const array& a) { return Eigen::ArrayXXf(a.cast<float>()); });
  const array bd = F::log_normalizer(ld);
  const Eigen::ArrayXXf bf = F::log_normalizer(lf);
  CHECK((bf.cast<double>() - bd).abs().maxCoeff() <= 2e-5 * std::max(1.0, bd.abs().maxCoeff()));
  const auto md = F::mean_params(ld);
  const auto mf = F::mean_params(lf);
  for (std::size_t s = 0; s < F::num_stats; ++s)
    CHECK((mf[s].template cast<double>() - md[s]).abs().maxCoeff() <= 2e-5 * std::max(1.0, md[s].abs().maxCoeff()));
}

TEST_CASE("conjugate dual: closed form and the generic inverse route agree", "[families][divergences]") {
  const auto lg = family_case<cebm::gaussian>::lambda(5, 3);
  const auto mg = cebm::gaussian::mean_params(lg);
  CHECK((cebm::gaussian::conjugate_dual(mg) - cebm::conjugate_dual_from_inverse<cebm::gaussian>(mg)).abs().maxCoeff() < 1e-12);
  const auto lc = family_case<cebm::categorical<4>>::lambda(5, 3);
  const auto mc = cebm::categorical<4>::mean_params(lc);
  CHECK((cebm::categorical<4>::conjugate_dual(mc) - cebm::conjugate_dual_from_inverse<cebm::categorical<4>>(mc)).abs().maxCoeff() < 1e-12);
}

TEST_CASE("KL is the Bregman divergence with its arguments swapped, and matches the Gaussian closed form", "[divergences]") {
  const double m1 = 0.3, s1 = 0.7, m2 = -1.1, s2 = 1.9;
  auto nat = [](double m, double s) {
    return cebm::gaussian::natural_from_location_scale(array(array::Constant(1, 1, m)), array(array::Constant(1, 1, std::log(s))));
  };
  const double closed = std::log(s2 / s1) + (s1 * s1 + (m1 - m2) * (m1 - m2)) / (2 * s2 * s2) - 0.5;
  CHECK(cebm::kl<cebm::gaussian>(nat(m1, s1), nat(m2, s2))(0, 0) == Approx(closed).epsilon(1e-12));
  CHECK(cebm::bregman_divergence<cebm::gaussian>(nat(m2, s2), nat(m1, s1))(0, 0) == Approx(closed).epsilon(1e-12));
}

TEST_CASE("invalid natural parameters give an error naming the function and family", "[families][errors]") {
  const auto bad = *family_case<cebm::gaussian>::invalid();
  const auto good = family_case<cebm::gaussian>::lambda(1, 2);
  CHECK_THROWS_WITH(cebm::kl<cebm::gaussian>(bad, good),
                    Catch::Contains("cebm::bregman_divergence") && Catch::Contains("domain of the gaussian family") &&
                        Catch::Contains("0.25"));
  const auto gbad = *family_case<cebm::gamma>::invalid();
  CHECK_THROWS_AS(cebm::log_density<cebm::gamma>(gbad, array(array::Ones(1, 4))), std::domain_error);
}

TEST_CASE("statistics of different shapes are rejected", "[families][errors]") {
  const auto lambda = cebm::make_pack(array(array::Zero(1, 3)), array(array::Constant(1, 4, -0.5)));
  const auto t = cebm::make_pack(array(array::Zero(2, 3)), array(array::Zero(2, 3)));
  CHECK_THROWS_WITH(cebm::marginal_energy<cebm::gaussian>(lambda, t), Catch::Contains("[1, 3]") && Catch::Contains("[1, 4]"));
}
