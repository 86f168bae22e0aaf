// Few-label evaluation: the liblinear logistic regression against an independent Newton solver of
// the same objective and against fixtures from sklearn, then the protocol's draws, standardisation,
// row arithmetic, determinism and errors.
#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include <torch/torch.h>

#include <Eigen/Dense>
#include <catch2/catch.hpp>

#include "cebm/torch/eval/few_label.hpp"
#include "cebm/torch/eval/logistic_regression.hpp"

namespace {

using cebm::eval::few_label_options;
using cebm::eval::label_draw;
using cebm::eval::logistic_regression;
using cebm::eval::logistic_regression_options;

struct labelled {
  torch::Tensor x, y;
};

/// x_ij = f(a·i + b·j) + 0.8·[j = c_i mod d], c_i = (i + 1) mod k: deterministic, overlapping
/// classes, first appearances out of sorted order (1, 0 for k = 2; 1, 2, 0 for k = 3).
template <class F>
labelled closed_form(std::int64_t n, std::int64_t d, std::int64_t k, F f, double a, double b) {
  auto x = torch::empty({n, d}, torch::kDouble);
  auto y = torch::empty({n}, torch::kLong);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t c = (i + 1) % k;
    y[i] = c;
    for (std::int64_t j = 0; j < d; ++j) x[i][j] = f(a * i + b * j) + (j == c % d ? 0.8 : 0.0);
  }
  return {x, y};
}
labelled fixture_train(std::int64_t d, std::int64_t k) {
  return closed_form(60, d, k, [](double t) { return std::sin(t); }, 1.3, 0.7);
}
labelled fixture_test(std::int64_t d, std::int64_t k) {
  return closed_form(12, d, k, [](double t) { return std::cos(t); }, 0.9, 1.1);
}

/// argmin_v ½‖v‖² + C Σ log(1 + exp(−y_i v·z_i)), z_i = [x_i; 1] (or x_i without bias), y ∈ {±1},
/// by plain Newton with backtracking, to a gradient norm of 1e-12.
Eigen::VectorXd newton_logistic(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, double c, bool bias) {
  const Eigen::Index n = x.rows(), p = x.cols() + (bias ? 1 : 0);
  Eigen::MatrixXd z(n, p);
  z.leftCols(x.cols()) = x;
  if (bias) z.col(p - 1).setOnes();
  auto objective = [&](const Eigen::VectorXd& v) {
    const Eigen::VectorXd m = (z * v).cwiseProduct(y);
    double f = 0.5 * v.squaredNorm();
    for (Eigen::Index i = 0; i < n; ++i) f += c * (m(i) > 0 ? std::log1p(std::exp(-m(i))) : -m(i) + std::log1p(std::exp(m(i))));
    return f;
  };
  Eigen::VectorXd v = Eigen::VectorXd::Zero(p);
  for (int it = 0; it < 100; ++it) {
    const Eigen::VectorXd m = (z * v).cwiseProduct(y);
    Eigen::VectorXd g = v;
    Eigen::MatrixXd h = Eigen::MatrixXd::Identity(p, p);
    for (Eigen::Index i = 0; i < n; ++i) {
      const double s = 1.0 / (1.0 + std::exp(m(i)));  // σ(−m_i)
      g -= c * s * y(i) * z.row(i).transpose();
      h += c * s * (1 - s) * z.row(i).transpose() * z.row(i);
    }
    if (g.norm() < 1e-12) break;
    const Eigen::VectorXd step = h.ldlt().solve(g);
    double t = 1;
    while (objective(v - t * step) > objective(v) - 1e-4 * t * g.dot(step) && t > 1e-10) t /= 2;
    v -= t * step;
  }
  return v;
}

Eigen::MatrixXd to_eigen(const torch::Tensor& t) {
  const auto c = t.to(torch::kDouble).contiguous();
  Eigen::MatrixXd m(c.size(0), c.size(1));
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) m(i, j) = c[i][j].item<double>();
  return m;
}

void check_close(const torch::Tensor& got, const std::vector<double>& want, double rel, double abs = 1e-6) {
  const auto g = got.to(torch::kDouble).contiguous().view({-1});
  REQUIRE(g.size(0) == static_cast<std::int64_t>(want.size()));
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("entry " << i);
    CHECK(g[static_cast<std::int64_t>(i)].item<double>() == Approx(want[i]).epsilon(rel).margin(abs));
  }
}

std::vector<double> as_vector(const Eigen::VectorXd& v) { return {v.data(), v.data() + v.size()}; }

}  // namespace

TEST_CASE("logistic regression: the wrapper is a move-only owner", "[eval][logreg]") {
  STATIC_REQUIRE(!std::is_copy_constructible_v<logistic_regression>);
  STATIC_REQUIRE(!std::is_copy_assignable_v<logistic_regression>);
  STATIC_REQUIRE(std::is_nothrow_move_constructible_v<logistic_regression>);
  const auto d = fixture_train(3, 2);
  auto a = logistic_regression::fit(d.x, d.y);
  const auto coef = a.coefficients();
  const logistic_regression b = std::move(a);
  CHECK(torch::equal(b.coefficients(), coef));
  CHECK_THROWS_WITH(a.predict(d.x), Catch::Contains("moved from"));  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("logistic regression: a linearly separable problem is classified perfectly", "[eval][logreg]") {
  // Four classes at the corners of a square of side 8, jittered by at most 1.
  auto x = torch::empty({80, 2}, torch::kDouble);
  auto y = torch::empty({80}, torch::kLong);
  for (std::int64_t i = 0; i < 80; ++i) {
    const std::int64_t c = i % 4;
    y[i] = 10 * c;
    x[i][0] = (c % 2 ? 4.0 : -4.0) + std::sin(2.1 * i);
    x[i][1] = (c / 2 ? 4.0 : -4.0) + std::cos(1.7 * i);
  }
  const auto clf = logistic_regression::fit(x, y);
  CHECK(clf.accuracy(x, y) == 1.0);
  CHECK(torch::equal(clf.classes(), torch::tensor({0, 10, 20, 30}, torch::kLong)));
  CHECK(torch::equal(clf.predict(torch::tensor({{-4.0, -4.0}, {4.0, 4.0}, {-4.0, 4.0}})),
                     torch::tensor({0, 30, 20}, torch::kLong)));
}

TEST_CASE("logistic regression: binary optimum matches an independent Newton solver", "[eval][logreg]") {
  const auto d = fixture_train(3, 2);
  // Class 1 appears first, so liblinear's internal score is for class 1; the sklearn-layout row
  // must score the larger label, as the ±1 targets here do.
  const Eigen::VectorXd y = (to_eigen(d.y.view({-1, 1})).col(0).array() * 2 - 1).matrix();
  for (const bool bias : {true, false}) {
    DYNAMIC_SECTION("bias " << bias) {
      const Eigen::VectorXd v = newton_logistic(to_eigen(d.x), y, 2.0, bias);
      const auto tight = logistic_regression::fit(d.x, d.y, logistic_regression_options{}.C(2.0).tolerance(1e-10).fit_bias(bias));
      check_close(tight.coefficients(), as_vector(v.head(3)), 1e-7);
      check_close(tight.intercepts(), {bias ? v(3) : 0.0}, 1e-7);
      const auto loose = logistic_regression::fit(d.x, d.y, logistic_regression_options{}.C(2.0).fit_bias(bias));
      check_close(loose.coefficients(), as_vector(v.head(3)), 1e-3, 1e-3 * v.cwiseAbs().maxCoeff());
      // Scores: w·x + b in column 1 and its negation in column 0.
      const Eigen::VectorXd f = to_eigen(d.x) * v.head(3) + Eigen::VectorXd::Constant(60, bias ? v(3) : 0.0);
      const auto dec = tight.decision_function(d.x);
      REQUIRE(dec.sizes() == torch::IntArrayRef({60, 2}));
      check_close(dec.select(1, 1), as_vector(f), 1e-7);
      check_close(dec.select(1, 0), as_vector(-f), 1e-7);
    }
  }
}

TEST_CASE("logistic regression: three classes are one-vs-rest Newton optima", "[eval][logreg]") {
  const auto d = fixture_train(4, 3);
  const auto clf = logistic_regression::fit(d.x, d.y, logistic_regression_options{}.tolerance(1e-10));
  const auto loose = logistic_regression::fit(d.x, d.y);
  const auto coef = clf.coefficients(), bias = clf.intercepts();
  REQUIRE(coef.sizes() == torch::IntArrayRef({3, 4}));
  REQUIRE(bias.sizes() == torch::IntArrayRef({3}));
  const Eigen::MatrixXd x = to_eigen(d.x);
  for (std::int64_t k = 0; k < 3; ++k) {
    INFO("class " << k);
    Eigen::VectorXd y(60);
    for (Eigen::Index i = 0; i < 60; ++i) y(i) = d.y[i].item<std::int64_t>() == k ? 1.0 : -1.0;
    const Eigen::VectorXd v = newton_logistic(x, y, 1.0, true);
    check_close(coef[k], as_vector(v.head(4)), 1e-7);
    check_close(bias[k], {v(4)}, 1e-7);
    // Stopped at liblinear's default tolerance: within 1e-3 of the largest weight.
    const double margin = 1e-3 * v.cwiseAbs().maxCoeff();
    check_close(loose.coefficients()[k], as_vector(v.head(4)), 1e-3, margin);
    check_close(loose.intercepts()[k], {v(4)}, 1e-3, margin);
  }
  const auto dec = clf.decision_function(d.x);
  const auto scores = (d.x.matmul(coef.t()) + bias).contiguous();
  check_close(dec, std::vector<double>(scores.data_ptr<double>(), scores.data_ptr<double>() + scores.numel()), 1e-9, 1e-9);
  CHECK(torch::equal(clf.predict(d.x), dec.argmax(1)));
}

// Fixtures from Debian's python3-sklearn 1.2.1 (its bundled liblinear), produced by:
//
//   import numpy as np
//   from sklearn.linear_model import LogisticRegression
//   def data(n, d, k, f, a, b):  # x_ij = f(a*i + b*j) + 0.8 [j == c_i mod d], c_i = (i + 1) mod k
//       c = np.array([(i + 1) % k for i in range(n)])
//       x = np.array([[f(a * i + b * j) for j in range(d)] for i in range(n)])
//       x[np.arange(n), c % d] += 0.8
//       return x, c
//   cpp = lambda v: "{" + ", ".join("%.17g" % t for t in np.ravel(v)) + "}"
//   for k, d in ((2, 3), (3, 4)):
//       x, y = data(60, d, k, np.sin, 1.3, 0.7)
//       xt, yt = data(12, d, k, np.cos, 0.9, 1.1)
//       m = LogisticRegression(solver="liblinear", C=1.0, tol=1e-4, max_iter=10000, random_state=0).fit(x, y)
//       print(k, "coef", cpp(m.coef_), "\nintercept", cpp(m.intercept_), "\ndecision", cpp(m.decision_function(xt)),
//             "\npredict", cpp(m.predict(xt)), "\ntrain acc", m.score(x, y), "test acc", m.score(xt, yt))
TEST_CASE("logistic regression: matches sklearn's LogisticRegression(solver='liblinear')", "[eval][logreg][sklearn]") {
  SECTION("two classes") {
    const auto d = fixture_train(3, 2), t = fixture_test(3, 2);
    const auto clf = logistic_regression::fit(d.x, d.y);
    check_close(clf.coefficients(), {-2.2021126352281009, 2.7392058253525016, -1.2983696632337902}, 1e-3);
    check_close(clf.intercepts(), {-0.18964325233171733}, 1e-3);
    const std::vector<double> decision{1.8061939083119576, -3.1628535961133553, 0.69106279716849039, -2.3692500398385299,
                                       2.7928176711829202, -0.54991003501570712, 2.95290256251142, -2.1702293113998863,
                                       0.77840444321988911, -3.2532894488905635, 1.6064206071098173, -1.1408231086734562};
    check_close(clf.decision_function(t.x).select(1, 1), decision, 1e-3);
    CHECK(torch::equal(clf.predict(t.x), torch::tensor({1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0}, torch::kLong)));
    CHECK(clf.accuracy(d.x, d.y) == 1.0);
    CHECK(clf.accuracy(t.x, t.y) == 1.0);
  }
  SECTION("three classes") {
    const auto d = fixture_train(4, 3), t = fixture_test(4, 3);
    const std::vector<double> coef{2.6234774722132839, -1.5494947610959684, -1.1046119061006749, 1.870007278059324,
                                   -1.8211569340758926, 2.7464049380854902, -1.7881995204220018, 0.038628048218909097,
                                   -0.8276073580749449, -1.3254845299060878, 2.8287553396786396, -1.8710978271455598};
    const std::vector<double> intercept{-0.85095444352396377, -0.68000488269239912, -1.0122035823225395};
    const std::vector<double> decision{
        -1.366446609781957,   1.9559337609563157,  -3.3184876321135905,  0.72781840167435763, -2.6178063519896915,
        -0.62103503401154736, 3.5851062030927352,  -3.2063583073810906,  -2.7554965322171383, -1.6472611841173859,
        0.69482686282414663,  -1.544933659606742,  -3.5208168299098803,  -2.0634266844606879, 2.9880021345051788,
        -1.416067245569248,   -1.2560355541637089, -0.042223545105325333, -3.6161844900108768, 2.5651273247851663,
        -1.7807757572670195,  -0.96744808865554632, -1.6885546160456748, -0.018474450293615607, 3.7272549847930696,
        -2.6602875870186971,  -3.5440930764115977, 0.22472750557743537,  0.44446113319614022, -3.1278931889548205,
        -1.335671951601731,   -2.9207570713233335, 1.8086318330760256,   -0.57144025832020451, -2.0715200536860365,
        0.07451931294127867};
    const auto predicted = torch::tensor({1, 0, 0, 1, 2, 2, 1, 2, 0, 1, 2, 2}, torch::kLong);
    const auto clf = logistic_regression::fit(d.x, d.y);
    check_close(clf.coefficients(), coef, 1e-3);
    check_close(clf.intercepts(), intercept, 1e-3);
    check_close(clf.decision_function(t.x), decision, 1e-3, 1e-4);
    CHECK(torch::equal(clf.predict(t.x), predicted));
    CHECK(clf.accuracy(t.x, t.y) == Approx(0.75));

    // Arbitrary label values keep the sorted-class layout; float features give the same fit.
    const auto relabel = torch::tensor({-5, 7, 30}, torch::kLong);
    const auto shifted = logistic_regression::fit(d.x.to(torch::kFloat), relabel.index_select(0, d.y).to(torch::kInt));
    CHECK(torch::equal(shifted.classes(), relabel));
    check_close(shifted.coefficients(), coef, 1e-3);
    CHECK(torch::equal(shifted.predict(t.x.to(torch::kFloat)), relabel.index_select(0, predicted)));
    CHECK(shifted.accuracy(t.x, relabel.index_select(0, t.y)) == Approx(0.75));
  }
}

TEST_CASE("logistic regression: bad inputs are named", "[eval][logreg][errors]") {
  const auto d = fixture_train(3, 2);
  CHECK_THROWS_WITH(logistic_regression::fit(d.x.view({-1}), d.y), Catch::Contains("features must be [N, D]"));
  CHECK_THROWS_WITH(logistic_regression::fit(d.x, d.y.narrow(0, 0, 59)), Catch::Contains("60 feature rows but 59 labels"));
  CHECK_THROWS_WITH(logistic_regression::fit(d.x.narrow(0, 0, 0), d.y.narrow(0, 0, 0)), Catch::Contains("empty"));
  CHECK_THROWS_WITH(logistic_regression::fit(d.x, d.y.to(torch::kDouble)), Catch::Contains("integer vector"));
  CHECK_THROWS_WITH(logistic_regression::fit(d.x.to(torch::kLong), d.y), Catch::Contains("floating point"));
  CHECK_THROWS_WITH(logistic_regression::fit(d.x, torch::full({60}, 3, torch::kLong)),
                    Catch::Contains("at least two classes") && Catch::Contains("3"));
  CHECK_THROWS_WITH(logistic_regression::fit(d.x, d.y, logistic_regression_options{}.C(0)), Catch::Contains("C must be"));
  CHECK_THROWS_WITH(logistic_regression::fit(d.x, d.y, logistic_regression_options{}.tolerance(-1)),
                    Catch::Contains("tolerance must be"));
  auto bad = d.x.clone();
  bad[7][2] = NAN;
  CHECK_THROWS_WITH(logistic_regression::fit(bad, d.y), Catch::Contains("finite") && Catch::Contains("[7, 2]"));
  bad[7][2] = INFINITY;
  CHECK_THROWS_WITH(logistic_regression::fit(bad, d.y), Catch::Contains("finite") && Catch::Contains("inf"));
  const auto clf = logistic_regression::fit(d.x, d.y);
  CHECK_THROWS_WITH(clf.predict(torch::zeros({5, 4})), Catch::Contains("fitted on 3 features"));
  CHECK_THROWS_WITH(clf.decision_function(bad), Catch::Contains("finite"));
  CHECK_THROWS_WITH(clf.accuracy(d.x, d.y.narrow(0, 0, 10)), Catch::Contains("60 feature rows but 10 labels"));
  CHECK(clf.predict(torch::zeros({0, 3})).size(0) == 0);
}

TEST_CASE("few-label: drawing labelled subsets", "[eval][fewlabel]") {
  // Classes 4, 1, 9 with 5, 3 and 1 members.
  const auto labels = torch::tensor({4, 1, 4, 9, 1, 4, 4, 1, 4}, torch::kLong);
  const auto classes = torch::tensor({1, 4, 9}, torch::kLong);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  using cebm::eval::detail::draw_labelled;

  SECTION("exactly n per class, in class order, from that class") {
    for (const auto draw : {label_draw::with_replacement, label_draw::without_replacement}) {
      const auto idx = draw_labelled(labels, 1, classes, draw, gen);
      REQUIRE(idx.sizes() == torch::IntArrayRef({3}));
      CHECK(torch::equal(labels.index_select(0, idx), classes));
    }
    const auto idx = draw_labelled(labels, 3, classes.narrow(0, 0, 2), label_draw::without_replacement, gen);
    CHECK(torch::equal(labels.index_select(0, idx), torch::tensor({1, 1, 1, 4, 4, 4}, torch::kLong)));
  }
  SECTION("without replacement never repeats; all members when n is the class size") {
    for (int rep = 0; rep < 20; ++rep) {
      const auto idx = draw_labelled(labels, 3, classes.narrow(0, 0, 2), label_draw::without_replacement, gen);
      const std::set<std::int64_t> ones{idx[0].item<std::int64_t>(), idx[1].item<std::int64_t>(), idx[2].item<std::int64_t>()};
      CHECK(ones == std::set<std::int64_t>{1, 4, 7});
      const std::set<std::int64_t> fours{idx[3].item<std::int64_t>(), idx[4].item<std::int64_t>(), idx[5].item<std::int64_t>()};
      CHECK(fours.size() == 3);
    }
  }
  SECTION("with replacement repeats, uniformly over the class") {
    // Class 9 has one member: 4 draws must all be it (np.random.choice(1, 4) = [0, 0, 0, 0]).
    CHECK(torch::equal(draw_labelled(labels, 4, classes.narrow(0, 2, 1), label_draw::with_replacement, gen),
                       torch::full({4}, 3, torch::kLong)));
    // 6000 draws from class 4's five members: each count ~ Binomial(6000, 1/5), sd 31.
    const auto idx = draw_labelled(labels, 6000, torch::tensor({4}, torch::kLong), label_draw::with_replacement, gen);
    const auto counts = torch::bincount(idx, {}, 9);
    for (const std::int64_t m : {0, 2, 5, 6, 8}) CHECK(std::abs(counts[m].item<std::int64_t>() - 1200) < 5 * 31);
    CHECK(counts.sum().item<std::int64_t>() == 6000);
  }
  SECTION("errors") {
    CHECK_THROWS_WITH(draw_labelled(labels, 2, classes, label_draw::without_replacement, gen),
                      Catch::Contains("class 9 has 1 training examples, fewer than the 2"));
    CHECK_THROWS_WITH(draw_labelled(labels, 1, torch::tensor({1, 5}, torch::kLong), label_draw::with_replacement, gen),
                      Catch::Contains("class 5 has no training examples"));
  }
}

TEST_CASE("few-label: standardisation uses the training pool's mean and population std", "[eval][fewlabel]") {
  // Columns: mean 4, var (9+1+1+9)/4 = 5; constant 5; mean 2, var (4+4+4+36)/4 = 12.
  const auto train = torch::tensor({{1.0, 5.0, 0.0}, {3.0, 5.0, 0.0}, {5.0, 5.0, 0.0}, {7.0, 5.0, 8.0}});
  const auto s = cebm::eval::detail::standardization::of(train);
  check_close(s.mean, {4.0, 5.0, 2.0}, 1e-12);
  check_close(s.scale, {std::sqrt(5.0), 1.0, std::sqrt(12.0)}, 1e-12);
  check_close(s.apply(torch::tensor({{4.0, 7.0, 5.0}}, torch::kDouble)), {0.0, 2.0, std::sqrt(3.0) / 2}, 1e-12);
  const auto z = s.apply(train.to(torch::kFloat));
  CHECK(z.scalar_type() == torch::kFloat);
  check_close(z.select(1, 0), {-3 / std::sqrt(5.0), -1 / std::sqrt(5.0), 1 / std::sqrt(5.0), 3 / std::sqrt(5.0)}, 1e-6);

  // The protocol with standardize(true) is the protocol on hand-standardised features.
  auto d = fixture_train(4, 3), t = fixture_test(4, 3);
  const auto scale = torch::tensor({100.0, 0.01, 1.0, 3.0}), shift = torch::tensor({5.0, -2.0, 0.0, 1.0});
  const auto xs = d.x * scale + shift, ts = t.x * scale + shift;
  const auto hand = cebm::eval::detail::standardization::of(xs);
  const auto o = few_label_options{}.labels_per_class({2}).draws(3);
  const auto a = cebm::eval::few_label_classification(xs, d.y, ts, t.y, few_label_options(o).standardize(true));
  const auto b = cebm::eval::few_label_classification(hand.apply(xs), d.y, hand.apply(ts), t.y, o);
  CHECK(a.standardized);
  CHECK(!b.standardized);
  REQUIRE(a.rows.size() == b.rows.size());
  for (std::size_t r = 0; r < a.rows.size(); ++r) CHECK(a.rows[r].accuracies == b.rows[r].accuracies);
}

TEST_CASE("few-label: rows, their arithmetic, and determinism by seed", "[eval][fewlabel]") {
  const auto d = closed_form(300, 4, 3, [](double t) { return 1.5 * std::sin(t); }, 1.3, 0.7);
  const auto t = closed_form(90, 4, 3, [](double t) { return 1.5 * std::cos(t); }, 0.9, 1.1);
  std::vector<std::string> fits;
  const auto o = few_label_options{}.labels_per_class({1, 5}).draws(4).seed(11);
  const auto r = cebm::eval::few_label_classification(d.x, d.y, t.x, t.y, o, [&](const std::string& s) { fits.push_back(s); });
  CHECK(fits.size() == 9);
  CHECK_THAT(fits.front(), Catch::Contains("1 labels per class") && Catch::Contains("1/4"));
  CHECK_THAT(fits.back(), Catch::Contains("full"));
  REQUIRE(r.rows.size() == 3);
  CHECK(r.rows[0].setting == "1");
  CHECK(r.rows[1].setting == "5");
  CHECK(r.rows[2].setting == "full");
  CHECK(r.rows[0].labels_per_class == 1);
  CHECK(r.rows[1].labels_per_class == 5);
  CHECK(r.rows[2].labels_per_class == 0);
  for (const auto& row : r.rows) {
    INFO(row.setting);
    REQUIRE(row.accuracies.size() == (row.setting == "full" ? 1u : 4u));
    double m = 0, v = 0;
    for (const double a : row.accuracies) {
      CHECK(a >= 0.0);
      CHECK(a <= 1.0);
      CHECK(std::abs(a * 90 - std::round(a * 90)) < 1e-9);  // a count out of 90
      m += a / row.accuracies.size();
    }
    for (const double a : row.accuracies) v += (a - m) * (a - m) / row.accuracies.size();
    CHECK(row.mean == Approx(m));
    CHECK(row.std == Approx(std::sqrt(v)).margin(1e-12));
  }
  CHECK(r.rows[2].std == 0.0);
  CHECK(r.rows[2].accuracies[0] == logistic_regression::fit(d.x, d.y).accuracy(t.x, t.y));

  // Each draw is the fit on draw_labelled's subset, the generator consumed in protocol order.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
  const auto classes = torch::tensor({0, 1, 2}, torch::kLong);
  for (const std::int64_t n : {1, 5})
    for (std::size_t k = 0; k < 4; ++k) {
      const auto idx = cebm::eval::detail::draw_labelled(d.y, n, classes, label_draw::with_replacement, gen);
      CHECK(logistic_regression::fit(d.x.index_select(0, idx), d.y.index_select(0, idx)).accuracy(t.x, t.y) ==
            r.rows[n == 1 ? 0 : 1].accuracies[k]);
    }

  const auto again = cebm::eval::few_label_classification(d.x, d.y, t.x, t.y, o);
  const auto other = cebm::eval::few_label_classification(d.x, d.y, t.x, t.y, few_label_options(o).seed(12));
  CHECK(again.rows[0].accuracies == r.rows[0].accuracies);
  CHECK(again.rows[1].accuracies == r.rows[1].accuracies);
  CHECK(other.rows[0].accuracies != r.rows[0].accuracies);
  const auto without = cebm::eval::few_label_classification(
      d.x, d.y, t.x, t.y, few_label_options(o).draw(label_draw::without_replacement).full(false));
  CHECK(without.rows.size() == 2);
}

TEST_CASE("few-label: bad inputs are named", "[eval][fewlabel][errors]") {
  const auto d = fixture_train(4, 3), t = fixture_test(4, 3);
  using cebm::eval::few_label_classification;
  const auto o = few_label_options{}.labels_per_class({2}).draws(2).full(false);
  CHECK_THROWS_WITH(few_label_classification(d.x, d.y, t.x, t.y, few_label_options(o).labels_per_class({21}).draw(label_draw::without_replacement)),
                    Catch::Contains("has 20 training examples, fewer than the 21"));
  CHECK_THROWS_WITH(few_label_classification(d.x, d.y, t.x, t.y + 1, o), Catch::Contains("test label 3 is missing"));
  CHECK_THROWS_WITH(few_label_classification(d.x, d.y, t.x.narrow(1, 0, 3), t.y, o), Catch::Contains("differ in dimension"));
  CHECK_THROWS_WITH(few_label_classification(d.x, d.y.narrow(0, 0, 50), t.x, t.y, o),
                    Catch::Contains("60 train feature rows but 50 train labels"));
  CHECK_THROWS_WITH(few_label_classification(d.x, d.y, t.x, t.y.narrow(0, 0, 5), o),
                    Catch::Contains("12 test feature rows but 5 test labels"));
  CHECK_THROWS_WITH(few_label_classification(d.x.narrow(0, 0, 0), d.y.narrow(0, 0, 0), t.x, t.y, o),
                    Catch::Contains("empty features"));
  CHECK_THROWS_WITH(few_label_classification(d.x, torch::zeros({60}, torch::kLong), t.x, torch::zeros({12}, torch::kLong), o),
                    Catch::Contains("at least two classes"));
  CHECK_THROWS_WITH(few_label_classification(d.x, d.y, t.x, t.y, few_label_options(o).draws(0)), Catch::Contains("draws must be"));
  CHECK_THROWS_WITH(few_label_classification(d.x, d.y, t.x, t.y, few_label_options(o).labels_per_class({0})),
                    Catch::Contains("labels per class must be >= 1"));
  auto bad = t.x.clone();
  bad[3][1] = NAN;
  CHECK_THROWS_WITH(few_label_classification(d.x, d.y, bad, t.y, o), Catch::Contains("test features must be finite"));
}
