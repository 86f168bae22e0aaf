// A user family that forgot `log_normalizer`. Compiling it must fail with the library's one
// message naming that member. With CEBM_FAILTEST_CONTROL defined the member exists and it compiles.
#include "cebm/core.hpp"

struct exponential_rate {  // z > 0, η(z) = z, λ = −rate < 0, B(λ) = −log(−λ)
  static constexpr std::size_t num_stats = 1;
  template <class A>
  static cebm::param_pack<A, 1> sufficient_stats(const A& z) { return {{{z}}}; }
#ifdef CEBM_FAILTEST_CONTROL
  template <class A>
  static A log_normalizer(const cebm::param_pack<A, 1>& l) { return -cebm::ops::log(A(-l[0])); }
#endif
  template <class A>
  static cebm::param_pack<A, 1> mean_params(const cebm::param_pack<A, 1>& l) { return {{{A(-1.0 / l[0])}}}; }
  template <class A, class G>
  static A sample(const cebm::param_pack<A, 1>& l, G& gen) {
    return -cebm::ops::log(cebm::ops::uniform_like(l[0], gen)) / (-l[0]);
  }
};

int main() {
  const Eigen::ArrayXXd lambda = Eigen::ArrayXXd::Constant(1, 3, -1.0);
  const Eigen::ArrayXXd t = Eigen::ArrayXXd::Constant(2, 3, -0.5);
  return cebm::marginal_energy<exponential_rate>(cebm::make_pack(lambda), cebm::make_pack(t)).size() == 2 ? 0 : 1;
}
