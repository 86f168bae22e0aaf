// The conjugate energy and posterior against the published closed form, the identity
// E(x, z) = E(x) − log p(z|x), and numerical quadrature over z.
#include <cmath>

#include <catch2/catch.hpp>

#include "cebm/core.hpp"
#include "families/family_cases.hpp"
#include "models/quadrature.hpp"

using cebm_test::array;

namespace {
cebm::param_pack<array, 2> cebm_bias(int k) { return cebm::make_pack(array(array::Zero(1, k)), array(array::Constant(1, k, -0.5))); }
}  // namespace

TEST_CASE("CEBM energy and posterior equal the published closed form", "[models][cebm]") {
  const array t1 = cebm_test::uniform(5, 8, -3, 3, 1), r = cebm_test::uniform(5, 8, -2, 2, 2);
  const auto t = cebm::gaussian_statistics(t1, r);
  const array s = 1 + 2 * r.square();
  // E(x) = −Σ_k [t1² / (2(1 + 2r²)) − ½ log(1 + 2r²)]  (reference notes §1.2)
  const array expected = -(t1.square() / (2 * s) - 0.5 * s.log()).rowwise().sum();
  CHECK((cebm::marginal_energy<cebm::gaussian>(cebm_bias(8), t) - expected).abs().maxCoeff() < 1e-12);
  const auto post = cebm::posterior_mean<cebm::gaussian>(cebm_bias(8), t);
  CHECK((post[0] - t1 / s).abs().maxCoeff() < 1e-12);                            // μ = t1 / (1 + 2r²)
  CHECK((post[1] - post[0].square() - 1 / s).abs().maxCoeff() < 1e-12);          // σ² = 1 / (1 + 2r²)
  CHECK(cebm::gaussian::log_normalizer(cebm_bias(8)).abs().maxCoeff() < 1e-15);  // B(λ) = 0
}

TEMPLATE_TEST_CASE("E(x, z) = E(x) - log p(z | x) pointwise", "[models][identity]", cebm::gaussian, cebm::poisson,
                   cebm::bernoulli, cebm::gamma) {
  using F = TestType;
  using C = cebm_test::family_case<F>;
  const auto lambda = C::lambda(1, 3);
  // Statistics that keep λ + t in the domain: small perturbations of a valid point.
  auto t = C::lambda(6, 4);
  for (std::size_t s = 0; s < F::num_stats; ++s) t[s] = 0.5 * (t[s] - lambda[s].replicate(6, 1));
  std::mt19937_64 gen(9);
  const array z = F::sample(cebm::posterior_params<F>(lambda, t), gen);
  const array lhs = cebm::joint_energy<F>(lambda, t, z);
  const array rhs = cebm::marginal_energy<F>(lambda, t) - cebm::log_density<F>(cebm::posterior_params<F>(lambda, t), z);
  CHECK((lhs - rhs).abs().maxCoeff() < 1e-10);
}

TEST_CASE("Gaussian posterior equals exp(-E(x, z)) normalised by quadrature", "[models][quadrature]") {
  for (int dims : {1, 2}) {
    const cebm_test::grid g = cebm_test::tensor_grid(-9, 9, dims == 1 ? 4000 : 600, dims);
    const array t1 = cebm_test::uniform(1, dims, -2, 2, 10 + dims), r = cebm_test::uniform(1, dims, -1, 1, 20 + dims);
    const auto t_row = cebm::gaussian_statistics(t1, r);
    const auto t = cebm::transform(t_row, [&](const array& a) { return array(a.replicate(g.points.rows(), 1)); });
    const array joint = cebm::joint_energy<cebm::gaussian>(cebm_bias(dims), t, g.points);
    const array unnorm = (-joint).exp();
    const double z_quad = (unnorm.col(0) * g.weights).sum();
    INFO("latent dimension " << dims);
    // ∫ exp(−E(x, z)) dz = exp(−E(x))
    CHECK(std::log(z_quad) == Approx(-cebm::marginal_energy<cebm::gaussian>(cebm_bias(dims), t_row)(0, 0)).epsilon(1e-9));
    const array posterior = cebm::log_density<cebm::gaussian>(cebm::posterior_params<cebm::gaussian>(cebm_bias(dims), t), g.points).exp();
    CHECK((posterior - unnorm / z_quad).abs().maxCoeff() < 1e-9);
  }
}

TEST_CASE("parameterisations map any raw output into the domain", "[models][parameterization]") {
  const array t1 = cebm_test::uniform(3, 4, -5, 5, 3);
  const array r = cebm_test::uniform(3, 4, -30, 30, 4);
  const auto check = [&](const auto& t) {
    CHECK((t[1] <= 0).all());
    const array e = cebm::marginal_energy<cebm::gaussian>(cebm_bias(4), t);
    CHECK(e.allFinite());
  };
  check(cebm::gaussian_statistics<cebm::neg_square>(t1, r));
  check(cebm::gaussian_statistics<cebm::neg_softplus>(t1, r));
  check(cebm::gaussian_statistics<cebm::neg_exp>(t1, r));
  CHECK((cebm::gaussian_statistics(t1, r)[1] + r.square()).abs().maxCoeff() == 0.0);  // default: −r²
}

TEST_CASE("bad input to the energies gives errors naming the culprit", "[models][errors]") {
  const auto t = cebm::gaussian_statistics(array(array::Zero(2, 3)), array(array::Zero(2, 3)));
  SECTION("bias and statistics of different widths") {
    CHECK_THROWS_WITH(cebm::marginal_energy<cebm::gaussian>(cebm_bias(4), t),
                      Catch::Contains("cebm::marginal_energy") && Catch::Contains("[1, 4]") && Catch::Contains("[2, 3]"));
  }
  SECTION("statistics that leave the domain") {
    auto bad = t;
    bad[1](1, 2) = 0.75;  // λ₂ + t₂ = 0.25 > 0
    CHECK_THROWS_WITH(cebm::marginal_energy<cebm::gaussian>(cebm_bias(3), bad),
                      Catch::Contains("posterior_params") && Catch::Contains("0.25") && Catch::Contains("(1, 2)"));
  }
  SECTION("a NaN statistic") {
    auto bad = t;
    bad[0](0, 1) = std::nan("");
    CHECK_THROWS_WITH(cebm::marginal_energy<cebm::gaussian>(cebm_bias(3), bad), Catch::Contains("not finite"));
  }
  SECTION("z of the wrong shape") {
    CHECK_THROWS_WITH(cebm::joint_energy<cebm::gaussian>(cebm_bias(3), t, array(array::Zero(2, 5))),
                      Catch::Contains("joint_energy") && Catch::Contains("[2, 5]"));
  }
}
