// Compiled with -std=c++20: the concept accepts every bundled family and rejects an incomplete one,
// and agrees with the C++17 detection trait.
#include "cebm/core.hpp"

struct incomplete {  // no log_normalizer, mean_params or sample
  static constexpr std::size_t num_stats = 1;
  template <class A>
  static cebm::param_pack<A, 1> sufficient_stats(const A& z) { return {{{z}}}; }
};

using A = Eigen::ArrayXXd;
static_assert(cebm::exponential_family<cebm::gaussian, A>);
static_assert(cebm::exponential_family<cebm::bernoulli, A>);
static_assert(cebm::exponential_family<cebm::categorical<5>, A>);
static_assert(cebm::exponential_family<cebm::poisson, Eigen::ArrayXXf>);
static_assert(cebm::exponential_family<cebm::gamma, A>);
static_assert(cebm::exponential_family<cebm::von_mises_fisher, A>);
static_assert(!cebm::exponential_family<incomplete, A>);
static_assert(!cebm::is_exponential_family_v<incomplete, A>);
static_assert(!cebm::exponential_family<int, A>);

template <cebm::exponential_family<A> F>
constexpr std::size_t stats_of() { return F::num_stats; }
static_assert(stats_of<cebm::gaussian>() == 2);

int main() {}
