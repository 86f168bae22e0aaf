// Uses cebm::core with Eigen alone: the CEBM marginal energy of one statistic vector.
#include <cmath>
#include <cstdio>

#include <cebm/core.hpp>

int main() {
  using A = Eigen::ArrayXXd;
  const auto bias = cebm::make_pack(A(A::Zero(1, 2)), A(A::Constant(1, 2, -0.5)));
  const auto t = cebm::gaussian_statistics(A(A::Constant(1, 2, 1.0)), A(A::Zero(1, 2)));
  // With r = 0 the posterior is N(t1, 1): E = −Σ t1²/2 = −1.
  const double energy = cebm::marginal_energy<cebm::gaussian>(bias, t)(0, 0);
  std::printf("cebm %s core consumer: E = %.6f\n", CEBM_VERSION_STRING, energy);
  return std::abs(energy + 1.0) < 1e-12 ? 0 : 1;
}
