// OOD detection metrics against hand-worked cases, brute-force pair counting, a brute-force
// threshold search and scikit-learn fixtures; the energy and gradient-norm scores against the closed
// forms of E(x) = ½‖x‖² and of a linear energy.
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "cebm/torch/metrics/ood_detection.hpp"

using cebm::eval::auroc;
using cebm::eval::average_precision;
using cebm::eval::fpr_at_tpr;

namespace {

at::Tensor scores(const std::vector<double>& v) { return at::tensor(v, at::kDouble); }

std::vector<double> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kDouble).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

// Mann–Whitney by definition: every (in, out) pair, ties ½.
double auroc_by_pairs(const std::vector<double>& a, const std::vector<double>& b) {
  double u = 0;
  for (double x : a)
    for (double y : b) u += x > y ? 1.0 : x == y ? 0.5 : 0.0;
  return u / (static_cast<double>(a.size()) * static_cast<double>(b.size()));
}

// The documented definition, literally: τ = the largest candidate score t with #{a ≥ t}/m ≥ tpr.
double fpr_by_threshold_search(const std::vector<double>& a, const std::vector<double>& b, double tpr) {
  auto count_at_or_above = [](const std::vector<double>& v, double t) {
    std::int64_t c = 0;
    for (double x : v) c += x >= t;
    return c;
  };
  double tau = -std::numeric_limits<double>::infinity();
  for (const auto* set : {&a, &b})
    for (double t : *set)
      if (static_cast<double>(count_at_or_above(a, t)) / static_cast<double>(a.size()) >= tpr && t > tau) tau = t;
  return static_cast<double>(count_at_or_above(b, tau)) / static_cast<double>(b.size());
}

// The closed-formula data set of the sklearn fixtures: multiples of 1/5, with ties inside and
// across the sets.
std::pair<std::vector<double>, std::vector<double>> formula_scores(int n_in, int n_out) {
  std::vector<double> a, b;
  for (int i = 0; i < n_in; ++i) a.push_back(std::round(5 * std::sin(1.7 * i) + 1) / 5);
  for (int j = 0; j < n_out; ++j) b.push_back(std::round(5 * std::sin(0.9 * j + 0.4)) / 5);
  return {a, b};
}

// Deterministic uint8 images [n, c, h, w] from a formula.
at::Tensor formula_images(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) {
  return ((at::arange(n * c * h * w, at::kLong) * 37 + 11) % 256).to(at::kByte).reshape({n, c, h, w});
}

// The transform's documented minus_one_one map, x/127.5 − 1, in double.
at::Tensor clean_input(const at::Tensor& images) { return images.to(at::kDouble) / 127.5 - 1.0; }

at::Tensor half_square_norm(const at::Tensor& x) { return 0.5 * x.pow(2).flatten(1).sum(1); }

}  // namespace

TEST_CASE("OOD metrics on a hand-worked case with ties", "[eval][ood]") {
  // in = {3, 2, 2, 1}, out = {2, 0, 1}; pairs (in beats out = 1, tie = ½):
  //   3: beats 2, 0, 1                 → 3
  //   2: ties 2, beats 0 and 1 (twice) → 2 × 2.5 = 5
  //   1: loses to 2, beats 0, ties 1   → 1.5
  //   U = 9.5 of 12 pairs → AUROC = 19/24.
  // Average precision, thresholds from the top (tp, fp after each; ΔR·P where in-samples enter):
  //   t = 3: (1, 0) → ¼·1;  t = 2: (3, 1) → ½·¾;  t = 1: (4, 2) → ¼·⅔;  t = 0: (4, 3) adds nothing
  //   AP = ¼ + ⅜ + ⅙ = 19/24 (the same number, by coincidence).
  // FPR@95%TPR: 0.95·4 = 3.8 → all 4 in-samples needed → τ = 1 → OOD {2, 1} ≥ 1 → 2/3.
  // FPR@50%TPR: 2 in-samples needed; at t = 2 three are in → τ = 2 → OOD {2} → 1/3.
  // FPR@25%TPR: τ = 3 → no OOD sample → 0.
  const at::Tensor in = scores({3, 2, 2, 1}), out = scores({2, 0, 1});
  CHECK(auroc(in, out) == Approx(19.0 / 24).epsilon(1e-15));
  CHECK(average_precision(in, out) == Approx(19.0 / 24).epsilon(1e-15));
  CHECK(fpr_at_tpr(in, out) == Approx(2.0 / 3).epsilon(1e-15));
  CHECK(fpr_at_tpr(in, out, 0.5) == Approx(1.0 / 3).epsilon(1e-15));
  CHECK(fpr_at_tpr(in, out, 0.25) == 0.0);
  CHECK(fpr_at_tpr(in, out, 1.0) == Approx(2.0 / 3).epsilon(1e-15));

  const auto m = cebm::eval::detection_metrics_of(in, out);
  CHECK(m.auroc == auroc(in, out));
  CHECK(m.aupr == average_precision(in, out));
  CHECK(m.fpr_at_95_tpr == fpr_at_tpr(in, out, 0.95));
  CHECK(m.n_in == 4);
  CHECK(m.n_out == 3);

  // The dtype and the order of the samples do not matter.
  CHECK(auroc(in.to(at::kFloat), out.to(at::kLong)) == auroc(in, out));
  CHECK(auroc(in.flip(0), out.flip(0)) == auroc(in, out));
  CHECK(average_precision(in.flip(0), out.flip(0)) == average_precision(in, out));
}

TEST_CASE("average precision: ties enter at one threshold, no interpolation", "[eval][ood]") {
  // in = {1, 1}, out = {1, 0}: one threshold t = 1 takes both in-samples with one OOD sample:
  // P = 2/3, ΔR = 1 → AP = 2/3 (not ½·1 + ½·⅔ as some order of the tie would give).
  CHECK(average_precision(scores({1, 1}), scores({1, 0})) == Approx(2.0 / 3).epsilon(1e-15));
  // in = {3, 1}, out = {2}: t = 3 → P = 1, ΔR = ½; t = 2 adds no recall; t = 1 → P = 2/3, ΔR = ½.
  // AP = ½ + ⅓ = 5/6 (the trapezoid under the PR curve would differ).
  CHECK(average_precision(scores({3, 1}), scores({2})) == Approx(5.0 / 6).epsilon(1e-15));
  // All scores equal: one threshold, AP = the in-distribution fraction; AUROC = ½.
  const at::Tensor in = at::full({6}, 0.25, at::kDouble), out = at::full({4}, 0.25, at::kDouble);
  CHECK(average_precision(in, out) == Approx(0.6).epsilon(1e-15));
  CHECK(auroc(in, out) == 0.5);
  CHECK(fpr_at_tpr(in, out) == 1.0);
}

TEST_CASE("AUROC equals brute-force pair counting on tied random scores", "[eval][ood]") {
  at::Generator gen = at::detail::createCPUGenerator(20210718);
  const std::vector<std::pair<std::int64_t, std::int64_t>> sizes{{1, 1}, {1, 7}, {9, 1}, {17, 23}, {200, 150}, {531, 64}};
  for (const auto& [m, n] : sizes) {
    for (std::int64_t levels : {2, 5, 40}) {
      // Integer-rounded scores: many ties inside and across the sets; the in-set shifted up a little.
      const at::Tensor a = at::randint(0, levels, {m}, gen, at::kLong).to(at::kDouble) +
                           at::randint(0, 2, {m}, gen, at::kLong).to(at::kDouble);
      const at::Tensor b = at::randint(0, levels, {n}, gen, at::kLong).to(at::kDouble);
      const auto va = to_vector(a), vb = to_vector(b);
      INFO("sizes " << m << ", " << n << "; " << levels << " levels");
      CHECK(auroc(a, b) == Approx(auroc_by_pairs(va, vb)).epsilon(1e-14));
      CHECK(auroc(b, a) == Approx(1.0 - auroc(a, b)).margin(1e-14));  // swapping the roles
      for (double tpr : {0.95, 0.5, 0.8, 0.1, 1.0, 0.33})
        CHECK(fpr_at_tpr(a, b, tpr) == fpr_by_threshold_search(va, vb, tpr));
    }
  }
}

TEST_CASE("AUROC: perfect separation, reversal and the role swap", "[eval][ood]") {
  const at::Tensor low = at::linspace(-3, 0, 50, at::kDouble), high = at::linspace(0.5, 2, 30, at::kDouble);
  CHECK(auroc(high, low) == 1.0);
  CHECK(auroc(low, high) == 0.0);
  CHECK(average_precision(high, low) == Approx(1.0).epsilon(1e-14));  // a sum of 30 thirtieths
  CHECK(fpr_at_tpr(high, low) == 0.0);
  CHECK(fpr_at_tpr(low, high) == 1.0);
  // Infinite scores are ordinary extremes.
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(auroc(scores({inf, 1}), scores({-inf, 1})) == Approx(7.0 / 8).epsilon(1e-15));
  const at::Tensor a = at::sin(at::arange(40, at::kDouble) * 1.3), b = at::cos(at::arange(25, at::kDouble) * 0.7);
  CHECK(auroc(b, a) == Approx(1.0 - auroc(a, b)).margin(1e-15));
}

TEST_CASE("OOD metrics match scikit-learn on a closed-formula data set", "[eval][ood]") {
  // Fixtures from Debian's python3-sklearn 1.2.1 (/usr/bin/python3):
  //   import math, numpy as np
  //   from sklearn.metrics import roc_auc_score, average_precision_score, roc_curve
  //   def fix(n_in, n_out):
  //       a = np.array([round(5*math.sin(1.7*i) + 1)/5 for i in range(n_in)])
  //       b = np.array([round(5*math.sin(0.9*j + 0.4))/5 for j in range(n_out)])
  //       y = np.r_[np.ones(n_in), np.zeros(n_out)]; s = np.r_[a, b]
  //       fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
  //       f95 = fpr[np.searchsorted(tpr, 0.95, side='left')]
  //       return roc_auc_score(y, s), average_precision_score(y, s), f95
  //   for n_in, n_out in [(40, 30), (100, 57), (7, 13)]:
  //       print(n_in, n_out, ["%.17g" % v for v in fix(n_in, n_out)])
  struct fixture {
    int n_in, n_out;
    double auroc, ap, fpr95;
  };
  const fixture fixtures[] = {
      {40, 30, 0.57416666666666671, 0.66621428700471996, 0.8666666666666667},
      {100, 57, 0.58526315789473682, 0.7259333173217708, 0.85964912280701755},
      {7, 13, 0.59890109890109888, 0.5002965288679575, 0.84615384615384615},
  };
  for (const fixture& f : fixtures) {
    const auto [a, b] = formula_scores(f.n_in, f.n_out);
    INFO("sizes " << f.n_in << ", " << f.n_out);
    const auto m = cebm::eval::detection_metrics_of(scores(a), scores(b));
    CHECK(m.auroc == Approx(f.auroc).epsilon(1e-13));
    CHECK(m.aupr == Approx(f.ap).epsilon(1e-13));
    CHECK(m.fpr_at_95_tpr == Approx(f.fpr95).epsilon(1e-13));
    CHECK(m.fpr_at_95_tpr == fpr_by_threshold_search(a, b, 0.95));
    CHECK(m.auroc == Approx(auroc_by_pairs(a, b)).epsilon(1e-14));
  }
}

TEST_CASE("OOD metrics refuse empty, non-1-D and NaN inputs, naming the set", "[eval][ood]") {
  const at::Tensor ok = scores({1, 2, 3});
  const at::Tensor empty = at::empty({0}, at::kDouble);
  CHECK_THROWS_WITH(auroc(ok, empty), Catch::Contains("the OOD set is empty"));
  CHECK_THROWS_WITH(auroc(empty, ok), Catch::Contains("the in-distribution set is empty"));
  CHECK_THROWS_AS(average_precision(ok, empty), std::invalid_argument);
  CHECK_THROWS_AS(fpr_at_tpr(empty, ok), std::invalid_argument);
  CHECK_THROWS_AS(cebm::eval::detection_metrics_of(ok, empty), std::invalid_argument);
  CHECK_THROWS_WITH(auroc(ok.view({3, 1}), ok), Catch::Contains("1-D in-distribution") && Catch::Contains("[3, 1]"));
  CHECK_THROWS_AS(auroc(ok, at::Tensor()), std::invalid_argument);

  const double nan = std::numeric_limits<double>::quiet_NaN();
  const at::Tensor with_nans = scores({0.5, nan, 1.0, nan});
  CHECK_THROWS_WITH(auroc(ok, with_nans), Catch::Contains("2 of the 4 OOD scores are NaN") && Catch::Contains("index 1"));
  CHECK_THROWS_WITH(average_precision(with_nans.to(at::kFloat), ok),
                    Catch::Contains("2 of the 4 in-distribution scores are NaN"));
  CHECK_THROWS_AS(fpr_at_tpr(ok, with_nans), std::invalid_argument);
  CHECK_THROWS_AS(cebm::eval::detection_metrics_of(with_nans, ok), std::invalid_argument);

  CHECK_THROWS_WITH(fpr_at_tpr(ok, ok, 0.0), Catch::Contains("tpr must be in (0, 1]"));
  CHECK_THROWS_AS(fpr_at_tpr(ok, ok, 1.5), std::invalid_argument);
  CHECK_THROWS_AS(fpr_at_tpr(ok, ok, nan), std::invalid_argument);
}

TEST_CASE("energy_scores: −E and −‖∇E‖ of E(x) = ½‖x‖² match the closed forms", "[eval][ood]") {
  const at::Tensor images = formula_images(11, 3, 4, 5);
  const auto in = cebm::data::image_transform_options{};  // x/127.5 − 1
  const auto s = cebm::eval::energy_scores(half_square_norm, images, in,
                                           cebm::eval::ood_score_options{}.noise_std(0).batch_size(4));
  // E = ½‖x‖² → −E; ∇E = x → −‖x‖, with x from the transform's documented formula.
  const at::Tensor x = clean_input(images).flatten(1);
  const at::Tensor expected_energy = -0.5 * x.pow(2).sum(1), expected_grad = -x.norm(2, 1);
  REQUIRE(s.neg_energy.sizes() == at::IntArrayRef{11});
  REQUIRE(s.neg_grad_norm.sizes() == at::IntArrayRef{11});
  CHECK(s.neg_energy.scalar_type() == at::kDouble);
  CHECK(s.neg_energy.device().is_cpu());
  CHECK(at::allclose(s.neg_energy, expected_energy, /*rtol=*/1e-6, /*atol=*/1e-6));
  CHECK(at::allclose(s.neg_grad_norm, expected_grad, 1e-6, 1e-6));

  // Also under a caller's NoGradGuard (the gradient score needs autograd).
  at::NoGradGuard no_grad;
  const auto s2 = cebm::eval::energy_scores(half_square_norm, images, in, cebm::eval::ood_score_options{}.noise_std(0));
  CHECK(at::allclose(s2.neg_grad_norm, expected_grad, 1e-6, 1e-6));
}

TEST_CASE("energy_scores: the input noise has the requested std and follows the seed", "[eval][ood]") {
  const at::Tensor images = formula_images(64, 1, 16, 16);
  std::vector<at::Tensor> seen;
  auto recording = [&seen](const at::Tensor& x) {
    seen.push_back(x.detach().clone());
    return half_square_norm(x);
  };
  const auto o = cebm::eval::ood_score_options{}.batch_size(25).seed(7);  // default noise 0.01
  REQUIRE(o.noise_std() == 0.01);
  const auto s = cebm::eval::energy_scores(recording, images, cebm::data::image_transform_options{}, o);
  REQUIRE(seen.size() == 3);  // 25 + 25 + 14
  const at::Tensor noise = at::cat(seen).to(at::kDouble) - clean_input(images);
  // 16384 draws of N(0, 0.01²): the std's standard error is 0.01/√(2·16384) ≈ 5.5e-5, the mean's 7.8e-5.
  CHECK(noise.std().item<double>() == Approx(0.01).margin(5e-4));
  CHECK(std::abs(noise.mean().item<double>()) < 4e-4);

  const auto same = cebm::eval::energy_scores(half_square_norm, images, cebm::data::image_transform_options{}, o);
  CHECK(at::equal(same.neg_energy, s.neg_energy));
  const auto other = cebm::eval::energy_scores(half_square_norm, images, cebm::data::image_transform_options{},
                                               cebm::eval::ood_score_options(o).seed(8));
  CHECK_FALSE(at::equal(other.neg_energy, s.neg_energy));
}

TEST_CASE("energy_scores: batching gives the one-batch result and parameter grads stay untouched", "[eval][ood]") {
  torch::manual_seed(3);  // the module's initial weights only
  torch::nn::Linear linear(2 * 5 * 6, 1);
  // E(x) = w·x + b → −E = −(w·x + b) and ∇ₓE = w for every image.
  auto energy = [&linear](const at::Tensor& x) { return linear->forward(x.flatten(1)).squeeze(1); };
  const at::Tensor images = formula_images(23, 2, 5, 6);
  const auto in = cebm::data::image_transform_options{};
  std::vector<std::pair<std::int64_t, std::int64_t>> progress;
  const auto batched = cebm::eval::energy_scores(energy, images, in, cebm::eval::ood_score_options{}.noise_std(0).batch_size(5),
                                                 [&](std::int64_t done, std::int64_t total) { progress.emplace_back(done, total); });
  const auto whole = cebm::eval::energy_scores(energy, images, in, cebm::eval::ood_score_options{}.noise_std(0).batch_size(100));
  // Bit-identical here; the tolerance only leaves room for a BLAS whose GEMM rounds by batch size.
  CHECK(at::allclose(batched.neg_energy, whole.neg_energy, 1e-6, 1e-7));
  CHECK(at::allclose(batched.neg_grad_norm, whole.neg_grad_norm, 1e-6, 1e-7));
  CHECK(progress == std::vector<std::pair<std::int64_t, std::int64_t>>{{5, 23}, {10, 23}, {15, 23}, {20, 23}, {23, 23}});

  const at::Tensor w = linear->weight.detach().to(at::kDouble).view(-1), b = linear->bias.detach().to(at::kDouble);
  const at::Tensor x = clean_input(images).flatten(1);
  CHECK(at::allclose(whole.neg_energy, -(x.matmul(w) + b), 1e-5, 1e-5));
  CHECK(at::allclose(whole.neg_grad_norm, at::full({23}, -w.norm().item<double>(), at::kDouble), 1e-6, 1e-6));
  CHECK_FALSE(linear->weight.grad().defined());
  CHECK_FALSE(linear->bias.grad().defined());
}

TEST_CASE("energy_scores refuses non-finite energies and gradients and malformed inputs", "[eval][ood]") {
  const at::Tensor images = formula_images(10, 1, 3, 3);
  const auto in = cebm::data::image_transform_options{};
  const auto o = cebm::eval::ood_score_options{}.noise_std(0).batch_size(4);

  int calls = 0;
  auto nan_in_second_batch = [&calls](const at::Tensor& x) {
    at::Tensor e = half_square_norm(x);
    if (calls++ == 1) e = e + at::where(at::arange(x.size(0), at::kLong) == 1, std::nan(""), 0.0).to(e.dtype());
    return e;
  };
  CHECK_THROWS_WITH(cebm::eval::energy_scores(nan_in_second_batch, images, in, o),
                    Catch::Contains("batch 1") && Catch::Contains("1 of 4 energies") && Catch::Contains("image 5"));
  calls = 0;
  CHECK_THROWS_AS(cebm::eval::energy_scores(nan_in_second_batch, images, in, o), std::domain_error);

  // √|x| has an infinite slope at x = 0, which black pixels give on the unit scale.
  auto sqrt_abs = [](const at::Tensor& x) { return x.abs().sqrt().flatten(1).sum(1); };
  const at::Tensor with_black = at::cat({formula_images(3, 1, 3, 3), at::zeros({1, 1, 3, 3}, at::kByte)});
  CHECK_THROWS_WITH(cebm::eval::energy_scores(sqrt_abs, with_black, cebm::data::image_transform_options{}.scale(cebm::data::pixel_scale::unit), o),
                    Catch::Contains("gradients are not finite") && Catch::Contains("image 3"));

  CHECK_THROWS_WITH(cebm::eval::energy_scores(half_square_norm, images.narrow(0, 0, 0), in, o),
                    Catch::Contains("the image set is empty"));
  CHECK_THROWS_AS(cebm::eval::energy_scores(half_square_norm, images.to(at::kFloat), in, o), std::invalid_argument);
  CHECK_THROWS_AS(cebm::eval::energy_scores(half_square_norm, images, in, cebm::eval::ood_score_options{}.batch_size(0)),
                  std::invalid_argument);
  auto wrong_shape = [](const at::Tensor& x) { return x.flatten(1).sum(1, /*keepdim=*/true); };
  CHECK_THROWS_WITH(cebm::eval::energy_scores(wrong_shape, images, in, o), Catch::Contains("one value per image"));
}
