// The Eigen backend of cebm::ops: numerically stable primitives and broadcasting rules.
#include <cmath>

#include <catch2/catch.hpp>

#include "cebm/core.hpp"

using array = Eigen::ArrayXXd;
namespace ops = cebm::ops;

TEST_CASE("softplus and sigmoid are stable at large magnitudes", "[ops]") {
  const array x = (array(1, 5) << -1000, -30, 0, 30, 1000).finished();
  const array sp = ops::softplus(x);
  CHECK(sp(0, 0) == 0.0);
  CHECK(sp(0, 2) == Approx(std::log(2.0)));
  CHECK(sp(0, 4) == 1000.0);
  const array sg = ops::sigmoid(x);
  CHECK(sg(0, 0) == 0.0);
  CHECK(sg(0, 2) == 0.5);
  CHECK(sg(0, 4) == 1.0);
  CHECK(sg(0, 1) == Approx(1 / (1 + std::exp(30.0))).epsilon(1e-14));
}

TEST_CASE("logsumexp over the last axis handles large and infinite entries", "[ops]") {
  const array x = (array(3, 3) << 1000, 1000, -INFINITY, -INFINITY, -INFINITY, -INFINITY, 0, 0, 0).finished();
  const array l = ops::logsumexp_last(x);
  CHECK(l(0, 0) == Approx(1000 + std::log(2.0)));
  CHECK(l(1, 0) == -INFINITY);
  CHECK(l(2, 0) == Approx(std::log(3.0)));
  const array ls = ops::log_softmax_last(array(x.row(2)));
  CHECK(ls(0, 1) == Approx(-std::log(3.0)));
}

TEST_CASE("expand_as broadcasts a row or a single element, and names bad shapes", "[ops]") {
  const array like = array::Zero(3, 4);
  CHECK(ops::expand_as(array(array::Ones(1, 4)), like, "here").rows() == 3);
  CHECK(ops::expand_as(array(array::Constant(1, 1, 2.0)), like, "here").sum() == 24.0);
  CHECK_THROWS_WITH(ops::expand_as(array(array::Ones(2, 4)), like, "my_function"),
                    Catch::Contains("my_function") && Catch::Contains("[2, 4]") && Catch::Contains("[3, 4]"));
}

TEST_CASE("trigamma, digamma, lgamma match known values", "[ops]") {
  const array x = (array(1, 2) << 1.0, 0.5).finished();
  CHECK(ops::trigamma(x)(0, 0) == Approx(M_PI * M_PI / 6));
  CHECK(ops::digamma(x)(0, 0) == Approx(-0.5772156649015329));
  CHECK(ops::lgamma(x)(0, 1) == Approx(0.5 * std::log(M_PI)));
}

TEST_CASE("first_violation names the index and value", "[ops]") {
  array a = array::Constant(2, 3, -1.0);
  a(1, 2) = 4.5;
  CHECK(ops::first_violation(a < 0, a) == "4.5 at index (1, 2)");
}
