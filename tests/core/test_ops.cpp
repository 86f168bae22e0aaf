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

TEST_CASE("broadcasts and last-axis sums agree with plain loops", "[ops]") {
  const array x = (array(3, 5) << 1, 2, 3, 4, 5, -1, 0.5, 7, 2, 9, 4, 4, -3, 0.25, 1).finished();
  const array row = (array(1, 5) << 10, 20, 30, 40, 50).finished();
  const array col = (array(3, 1) << 2, -1, 0.5).finished();
  const array one = array::Constant(1, 1, 3.0);
  array row_plus(3, 5), col_times(3, 5), sums = array::Zero(3, 1);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 5; ++j) {
      row_plus(i, j) = row(0, j) + x(i, j);
      col_times(i, j) = col(i, 0) * x(i, j);
      sums(i, 0) += x(i, j) * x(i, j);
    }
  CHECK((ops::expand_as(row, x, "here") + x == row_plus).all());
  CHECK((ops::repeat_rows(row, 3) + x == row_plus).all());
  CHECK((ops::add_expanded(row, x, "here") == row_plus).all());
  CHECK((ops::add_expanded(one, x, "here") == x + 3.0).all());
  CHECK((ops::add_expanded(x, x, "here") == 2 * x).all());
  CHECK_THROWS_WITH(ops::add_expanded(array(array::Ones(2, 5)), x, "my_function"),
                    Catch::Contains("my_function") && Catch::Contains("[2, 5]") && Catch::Contains("[3, 5]"));
  CHECK((ops::broadcast_last(col, x) * x == col_times).all());
  CHECK((ops::mul_broadcast_last(col, x) == col_times).all());
  CHECK_THROWS_WITH(ops::mul_broadcast_last(row, x), Catch::Contains("broadcast_last") && Catch::Contains("[1, 5]"));
  // Sums of an expression, over 0 to 9 columns (the loop takes columns four at a time).
  CHECK((ops::sum_last(x * x) - sums).abs().maxCoeff() < 1e-12);
  for (int cols = 0; cols <= 9; ++cols) {
    const array wide = array::Constant(2, cols, 0.5);
    const array s = ops::sum_last_keep(wide);
    REQUIRE(s.rows() == 2);
    REQUIRE(s.cols() == 1);
    CHECK((s == 0.5 * cols).all());
  }
}
