// A user family that forgot `sample`, given to the conformance harness. Compiling it must fail with
// the library's one message naming that member, in C++17 and C++20 alike. With
// CEBM_FAILTEST_CONTROL defined the member exists and it compiles.
#include "cebm/testing/conformance.hpp"

struct exponential_rate {  // z > 0, η(z) = z, λ = −rate < 0, B(λ) = −log(−λ)
  static constexpr std::size_t num_stats = 1;
  template <class A>
  static cebm::param_pack<A, 1> sufficient_stats(const A& z) { return {{{z}}}; }
  template <class A>
  static A log_normalizer(const cebm::param_pack<A, 1>& l) { return -cebm::ops::log(A(-l[0])); }
  template <class A>
  static cebm::param_pack<A, 1> mean_params(const cebm::param_pack<A, 1>& l) { return {{{A(-1.0 / l[0])}}}; }
#ifdef CEBM_FAILTEST_CONTROL
  template <class A, class G>
  static A sample(const cebm::param_pack<A, 1>& l, G& gen) {
    return -cebm::ops::log(cebm::ops::uniform_like(l[0], gen)) / (-l[0]);
  }
#endif
};

int main() {
  const auto l1 = cebm::make_pack(Eigen::ArrayXXd(Eigen::ArrayXXd::Constant(1, 3, -1.0)));
  const auto l2 = cebm::make_pack(Eigen::ArrayXXd(Eigen::ArrayXXd::Constant(1, 3, -2.0)));
  return cebm::testing::check_family<exponential_rate>(l1, l2).checks.empty() ? 1 : 0;
}
