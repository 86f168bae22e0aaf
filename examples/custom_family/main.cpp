// A conjugate EBM with a latent family cebm does not ship: the exponential distribution.
//
//   z > 0,  η(z) = z,  λ = −rate < 0,  B(λ) = −log(−λ),  ∇B(λ) = −1/λ = E z,  (∇B)⁻¹(μ) = −1/μ
//
// Writing the five members in exponential_rate.hpp is all it takes: the harness checks the family against finite
// differences, the Legendre identity, Monte Carlo KL and sample moments, and the generic energy,
// posterior and divergences accept it. Exit status 0 when every check passes.
#include <cstdio>
#include <random>

#include <cebm/core.hpp>
#include <cebm/testing/conformance.hpp>

#include "exponential_rate.hpp"

int main() {
  using A = Eigen::ArrayXXd;
  using F = exponential_rate;

  // 1. Conformance: the family against independent truth.
  const auto l1 = cebm::make_pack(A((A(1, 3) << -0.5, -1.0, -4.0).finished()));
  const auto l2 = cebm::make_pack(A((A(1, 3) << -2.0, -0.7, -1.5).finished()));
  const auto bad = cebm::make_pack(A((A(1, 3) << -1.0, 0.5, -1.0).finished()));
  const auto report = cebm::testing::check_family<F>(l1, l2, bad);
  std::printf("conformance of %s:\n%s", F::name, report.to_string().c_str());

  // 2. A conjugate EBM over it: bias rate 1 on 3 latent coordinates, and statistics t(x) ≤ 0 from
  //    raw encoder outputs through −softplus, for four inputs.
  const auto bias = cebm::make_pack(A(A::Constant(1, 3, -1.0)));
  const A raw = (A(4, 3) << -2, 0, 1, 0.5, 0.5, 0.5, 3, -1, 0, -4, -4, -4).finished();
  const auto t = cebm::make_pack(A(-cebm::ops::softplus(raw)));
  const A energy = cebm::marginal_energy<F>(bias, t);
  const auto post = cebm::posterior_mean<F>(bias, t);
  std::printf("\nconjugate EBM, bias rate 1:\n");
  for (int i = 0; i < 4; ++i)
    std::printf("  x%d: E(x) = %8.4f   E[z | x] = (%.4f, %.4f, %.4f)\n", i, energy(i, 0), post[0](i, 0), post[0](i, 1),
                post[0](i, 2));

  // E(x) = Σ_k log(1 + softplus(raw_k)) for this bias, in closed form.
  const A closed = (1 + cebm::ops::softplus(raw)).log().rowwise().sum();
  const double err = (energy - closed).abs().maxCoeff();
  std::printf("  |E - closed form| = %.3g\n", err);

  // 3. Its prior: KL between two members, and posterior samples.
  std::mt19937_64 gen(2021);
  const A z = F::sample(cebm::posterior_params<F>(bias, t), gen);
  std::printf("  KL(p_l1 || p_l2) = %.6f, one posterior draw for x0: (%.4f, %.4f, %.4f)\n",
              cebm::kl<F>(l1, l2)(0, 0), z(0, 0), z(0, 1), z(0, 2));

  return report.passed() && err < 1e-12 ? 0 : 1;
}
