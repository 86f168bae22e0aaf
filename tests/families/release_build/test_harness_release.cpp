// The conformance harness in a release build (NDEBUG, CEBM_ENABLE_CHECKS=0: the library reads no
// values): every bundled family still passes, its invalid parameter found outside the domain by
// the family's own check, and a parameter inside the domain given as invalid still fails.
#include <catch2/catch.hpp>

#include "families/check_conformance.hpp"

static_assert(CEBM_ENABLE_CHECKS == 0, "this test is about builds without the library's value checks");

using cebm_test::family_case;

TEMPLATE_TEST_CASE("release build: conformance harness", "[families][conformance]", cebm::gaussian, cebm::bernoulli,
                   cebm::poisson, cebm::gamma, cebm::categorical<4>, cebm::von_mises_fisher) {
  using F = TestType;
  cebm_test::check_conformance<F>();
  const auto valid_as_invalid = cebm::testing::check_invalid_params<F>(family_case<F>::lambda(1, 5));
  INFO(valid_as_invalid.detail);
  CHECK_FALSE(valid_as_invalid.passed);
}
