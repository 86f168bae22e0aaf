// The mixture bias (GMM-CEBM): energy against a hand-written formula, responsibilities, the
// identity E(x, z) = E(x) − log p(z|x), quadrature over z, and sampling frequencies.
#include <cmath>

#include <catch2/catch.hpp>

#include "cebm/core.hpp"
#include "families/family_cases.hpp"
#include "models/quadrature.hpp"

using cebm_test::array;
using gmm = cebm::mixture<cebm::gaussian, array>;

namespace {

gmm make_gmm(int components, int dims, std::uint64_t seed, bool uniform_weights) {
  const array mean = cebm_test::uniform(components, dims, -3, 3, seed);
  const array log_std = cebm_test::uniform(components, dims, -0.5, 0.7, seed + 1);
  auto comps = cebm::gaussian::natural_from_location_scale(mean, log_std);
  if (uniform_weights) return gmm::uniform(comps);
  return gmm(comps, cebm_test::uniform(1, components, -1, 1, seed + 2));
}

// B(λ) of one Gaussian coordinate, written out.
double b(double l1, double l2) { return -l1 * l1 / (4 * l2) - 0.5 * std::log(-2 * l2); }

}  // namespace

TEST_CASE("GMM-CEBM energy: log L - logsumexp_l sum_k [B(l_lk + t_k) - B(l_lk)]", "[models][mixture]") {
  const int L = 5, K = 3;
  const gmm mix = make_gmm(L, K, 3, true);
  const auto t = cebm::gaussian_statistics(cebm_test::uniform(4, K, -2, 2, 8), cebm_test::uniform(4, K, -1, 1, 9));
  const array energy = cebm::marginal_energy(mix, t);
  const array resp = cebm::responsibilities(mix, t);
  for (int i = 0; i < 4; ++i) {
    std::vector<double> a(L);
    for (int l = 0; l < L; ++l) {
      a[l] = 0;
      for (int k = 0; k < K; ++k) {
        const double l1 = mix.components[0](l, k), l2 = mix.components[1](l, k);
        a[l] += b(l1 + t[0](i, k), l2 + t[1](i, k)) - b(l1, l2);
      }
    }
    const double top = *std::max_element(a.begin(), a.end());
    double sum = 0;
    for (double v : a) sum += std::exp(v - top);
    CHECK(energy(i, 0) == Approx(std::log(double(L)) - top - std::log(sum)).epsilon(1e-12));
    for (int l = 0; l < L; ++l) CHECK(resp(i, l) == Approx(std::exp(a[l] - top) / sum).epsilon(1e-12));
  }
  CHECK((resp.rowwise().sum() - 1).abs().maxCoeff() < 1e-12);
}

TEST_CASE("mixture: E(x, z) = E(x) - log p(z | x) pointwise, learnable weights", "[models][mixture][identity]") {
  const gmm mix = make_gmm(4, 3, 5, false);
  const auto t = cebm::gaussian_statistics(cebm_test::uniform(6, 3, -2, 2, 1), cebm_test::uniform(6, 3, -1, 1, 2));
  const array z = cebm_test::uniform(6, 3, -4, 4, 3);
  const array lhs = cebm::joint_energy(mix, t, z);
  const array rhs = cebm::marginal_energy(mix, t) - cebm::posterior_log_density(mix, t, z);
  CHECK((lhs - rhs).abs().maxCoeff() < 1e-10);
}

TEST_CASE("mixture posterior equals exp(-E(x, z)) normalised by quadrature", "[models][mixture][quadrature]") {
  for (int dims : {1, 2}) {
    const gmm mix = make_gmm(3, dims, 40 + dims, dims == 2);
    const cebm_test::grid g = cebm_test::tensor_grid(-14, 14, dims == 1 ? 6000 : 700, dims);
    const auto t_row = cebm::gaussian_statistics(cebm_test::uniform(1, dims, -1, 1, 7), cebm_test::uniform(1, dims, -0.8, 0.8, 8));
    const auto t = cebm::transform(t_row, [&](const array& a) { return array(a.replicate(g.points.rows(), 1)); });
    const array unnorm = (-cebm::joint_energy(mix, t, g.points)).exp();
    const double z_quad = (unnorm.col(0) * g.weights).sum();
    INFO("latent dimension " << dims);
    CHECK(std::log(z_quad) == Approx(-cebm::marginal_energy(mix, t_row)(0, 0)).epsilon(1e-8));
    const array posterior = cebm::posterior_log_density(mix, t, g.points).exp();
    CHECK((posterior - unnorm / z_quad).abs().maxCoeff() < 1e-8);
    // The bias itself is a density: ∫ p(z) dz = 1.
    CHECK((cebm::log_density(mix, g.points).exp().col(0) * g.weights).sum() == Approx(1.0).epsilon(1e-8));
  }
}

TEST_CASE("mixture samples: component frequencies follow the weights", "[models][mixture][sampling]") {
  // Three well-separated 1-D components with weights softmax(log w) = (0.2, 0.5, 0.3).
  const array mean = (array(3, 1) << -20, 0, 20).finished();
  const auto comps = cebm::gaussian::natural_from_location_scale(mean, array(array::Zero(3, 1)));
  const gmm mix(comps, (array(1, 3) << std::log(0.2), std::log(0.5), std::log(0.3)).finished());
  std::mt19937_64 gen(123);
  const int n = 20000;
  const array z = cebm::sample(mix, n, gen);
  const double expected[3] = {0.2, 0.5, 0.3};
  for (int l = 0; l < 3; ++l) {
    const double freq = ((z - mean(l)).abs() < 8).cast<double>().mean();
    const double se = std::sqrt(expected[l] * (1 - expected[l]) / n);
    INFO("component " << l << ": frequency " << freq);
    CHECK(std::abs(freq - expected[l]) < 4 * se);
  }
}

TEST_CASE("mixture rejects weights that do not match the components", "[models][mixture][errors]") {
  const auto comps = cebm::gaussian::natural_from_location_scale(array(array::Zero(3, 2)), array(array::Zero(3, 2)));
  CHECK_THROWS_WITH(gmm(comps, array(array::Zero(1, 4))), Catch::Contains("log_weights") && Catch::Contains("3 weights"));
}
