// Plots, PCA and the Fréchet distance against truth computed independently of the code under test:
// closed forms of the Fréchet distance (diagonal and commuting covariances), a scipy fixture for a
// non-commuting case, sampling from known Gaussians; PCA on data of known structure checked with
// LAPACK's eigenvalues (at::linalg_eigvalsh) and a power iteration written here; matplotlib's
// published colours and CIE L* for the colormap; hand-drawn glyph bitmaps; hand-computed pixel
// positions for the scatter plot; a TorchScript module built here; a classifier on images any
// classifier separates.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <Eigen/Cholesky>

#include <cebm/torch/eval/frechet.hpp>
#include <cebm/torch/metrics/pca.hpp>
#include <cebm/torch/eval/plot.hpp>

#include "support/temp_dir.hpp"

namespace Catch {
template <>
struct StringMaker<cebm::eval::rgb> {
  static std::string convert(const cebm::eval::rgb& c) {
    return "rgb(" + std::to_string(c.r) + ", " + std::to_string(c.g) + ", " + std::to_string(c.b) + ")";
  }
};
}  // namespace Catch

namespace {

using cebm::eval::rgb;
constexpr auto raster = cebm::eval::plot_backend::raster;

rgb hex(const char* s) {  // "#rrggbb"
  const unsigned long v = std::stoul(s + 1, nullptr, 16);
  return {static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>((v >> 8) & 0xFF), static_cast<std::uint8_t>(v & 0xFF)};
}

rgb pixel(const at::Tensor& image, std::int64_t x, std::int64_t y) {
  return {image[0][y][x].item<std::uint8_t>(), image[1][y][x].item<std::uint8_t>(), image[2][y][x].item<std::uint8_t>()};
}


/// CIE 1976 L* of an sRGB colour (D65 white, Y from the linearised channels).
double lightness(rgb c) {
  auto lin = [](std::uint8_t v) {
    const double u = v / 255.0;
    return u <= 0.04045 ? u / 12.92 : std::pow((u + 0.055) / 1.055, 2.4);
  };
  const double y = 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
  const double f = y > 216.0 / 24389 ? std::cbrt(y) : (24389.0 / 27 * y + 16) / 116;
  return 116 * f - 16;
}

cebm::eval::gaussian_fit make_fit(std::vector<double> mean, const Eigen::MatrixXd& cov) {
  cebm::eval::gaussian_fit g;
  g.mean = Eigen::Map<Eigen::VectorXd>(mean.data(), static_cast<Eigen::Index>(mean.size()));
  g.covariance = cov;
  return g;
}

/// The 3×3 non-commuting fixture (also the source of the sampling test).
const Eigen::Matrix3d fixture_sa = (Eigen::Matrix3d() << 2.0, 0.3, -0.4, 0.3, 1.0, 0.2, -0.4, 0.2, 0.5).finished();
const Eigen::Matrix3d fixture_sb = (Eigen::Matrix3d() << 1.0, -0.5, 0.1, -0.5, 1.5, 0.3, 0.1, 0.3, 0.8).finished();
const std::vector<double> fixture_mu_a{0.1, -0.3, 0.7}, fixture_mu_b{-0.2, 0.4, 0.1};
// Computed once with Debian bookworm's python3-scipy 1.10.1 / numpy 1.24.2:
//   import numpy as np, scipy.linalg
//   mu_a = np.array([0.1, -0.3, 0.7]); mu_b = np.array([-0.2, 0.4, 0.1])
//   sa = np.array([[2.0, 0.3, -0.4], [0.3, 1.0, 0.2], [-0.4, 0.2, 0.5]])
//   sb = np.array([[1.0, -0.5, 0.1], [-0.5, 1.5, 0.3], [0.1, 0.3, 0.8]])
//   covmean = scipy.linalg.sqrtm(sa @ sb)          # real here; max |sa@sb - sb@sa| = 0.49
//   print(repr(np.sum((mu_a - mu_b)**2) + np.trace(sa + sb - 2 * covmean.real)))
constexpr double fixture_fd = 1.631226160098518;

/// `n` samples of N(mu, cov) as float64 [n, D], through the Cholesky factor.
at::Tensor sample_gaussian(const std::vector<double>& mu, const Eigen::MatrixXd& cov, std::int64_t n, at::Generator& gen) {
  const std::int64_t d = static_cast<std::int64_t>(mu.size());
  const Eigen::MatrixXd l = cov.llt().matrixL();
  at::Tensor lt = at::empty({d, d}, at::kDouble);
  for (std::int64_t i = 0; i < d; ++i)
    for (std::int64_t j = 0; j < d; ++j) lt[i][j] = l(j, i);
  return at::randn({n, d}, gen, at::kDouble).matmul(lt) + at::tensor(mu, at::kDouble);
}

/// Leading eigenvector of a symmetric PSD matrix by power iteration (with its eigenvalue).
std::pair<at::Tensor, double> power_iteration(const at::Tensor& c) {
  at::Tensor v = at::ones({c.size(0)}, at::kDouble) / std::sqrt(static_cast<double>(c.size(0)));
  for (int it = 0; it < 2000; ++it) v = c.mv(v), v = v / v.norm();
  return {v, v.dot(c.mv(v)).item<double>()};
}

}  // namespace

// --- Fréchet distance -----------------------------------------------------------------------------

TEST_CASE("Fréchet distance: closed form for diagonal covariances", "[eval][frechet]") {
  // Diagonal Σ: (ΣaΣb)^{1/2} = diag(σa σb), so FD = Σ(μa − μb)² + Σ(σa − σb)².
  const std::vector<double> mu_a{0.0, 1.0, -2.0, 0.5}, mu_b{0.3, -1.0, -2.0, 2.5}, sd_a{1.0, 0.5, 2.0, 3.0},
      sd_b{2.0, 0.5, 0.1, 1.0};
  Eigen::MatrixXd ca = Eigen::MatrixXd::Zero(4, 4), cb = Eigen::MatrixXd::Zero(4, 4);
  double expected = 0;
  for (int i = 0; i < 4; ++i) {
    ca(i, i) = sd_a[i] * sd_a[i], cb(i, i) = sd_b[i] * sd_b[i];
    expected += std::pow(mu_a[i] - mu_b[i], 2) + std::pow(sd_a[i] - sd_b[i], 2);
  }
  const auto a = make_fit(mu_a, ca), b = make_fit(mu_b, cb);
  CHECK(cebm::eval::frechet_distance(a, b) == Approx(expected).epsilon(1e-12));
  CHECK(cebm::eval::frechet_distance(b, a) == Approx(expected).epsilon(1e-12));
  CHECK(cebm::eval::frechet_distance(a, a) == Approx(0.0).margin(1e-12));
}

TEST_CASE("Fréchet distance: commuting non-diagonal covariances", "[eval][frechet]") {
  // Σa = Q diag(α) Qᵀ, Σb = Q diag(β) Qᵀ with one rotation Q: FD = ‖Δμ‖² + Σ(√α − √β)².
  const double t = 0.7, u = -0.4;
  Eigen::Matrix3d rx, rz;
  rx << 1, 0, 0, 0, std::cos(t), -std::sin(t), 0, std::sin(t), std::cos(t);
  rz << std::cos(u), -std::sin(u), 0, std::sin(u), std::cos(u), 0, 0, 0, 1;
  const Eigen::Matrix3d q = rz * rx;
  const Eigen::Vector3d alpha(4.0, 1.0, 0.25), beta(0.5, 2.0, 0.0);  // Σb singular: a zero eigenvalue
  const Eigen::MatrixXd ca = q * alpha.asDiagonal() * q.transpose(), cb = q * beta.asDiagonal() * q.transpose();
  // Neither covariance is diagonal, so the test is not the diagonal case again.
  REQUIRE((ca - Eigen::MatrixXd(ca.diagonal().asDiagonal())).norm() > 0.1);
  REQUIRE((cb - Eigen::MatrixXd(cb.diagonal().asDiagonal())).norm() > 0.1);
  const std::vector<double> mu_a{1, 2, 3}, mu_b{0, 2, 5};
  const double expected = 1 + 0 + 4 + std::pow(2 - std::sqrt(0.5), 2) + std::pow(1 - std::sqrt(2.0), 2) + std::pow(0.5, 2);
  CHECK(cebm::eval::frechet_distance(make_fit(mu_a, ca), make_fit(mu_b, cb)) == Approx(expected).epsilon(1e-10));
  CHECK(cebm::eval::frechet_distance(make_fit(mu_b, cb), make_fit(mu_a, ca)) == Approx(expected).epsilon(1e-10));
}

TEST_CASE("Fréchet distance: non-commuting 3x3 case against scipy.linalg.sqrtm", "[eval][frechet]") {
  const auto a = make_fit(fixture_mu_a, fixture_sa), b = make_fit(fixture_mu_b, fixture_sb);
  CHECK(cebm::eval::frechet_distance(a, b) == Approx(fixture_fd).epsilon(1e-12));
  CHECK(cebm::eval::frechet_distance(b, a) == Approx(fixture_fd).epsilon(1e-12));
  // FD(a, a) = 0, also for a singular covariance (rank 2).
  CHECK(cebm::eval::frechet_distance(a, a) == Approx(0.0).margin(1e-12));
  Eigen::MatrixXd singular = Eigen::MatrixXd::Zero(3, 3);
  singular.topLeftCorner(2, 2) << 2.0, 0.6, 0.6, 1.0;
  const auto s = make_fit({1, 2, 3}, singular);
  CHECK(cebm::eval::frechet_distance(s, s) == Approx(0.0).margin(1e-12));
  CHECK(cebm::eval::frechet_distance(s, a) >= 0.0);
}

TEST_CASE("Fréchet distance: fits to samples of the fixture Gaussians approach the closed form", "[eval][frechet]") {
  auto gen = at::detail::createCPUGenerator(20240611);
  const std::int64_t n = 40000;
  const at::Tensor xa = sample_gaussian(fixture_mu_a, fixture_sa, n, gen), xb = sample_gaussian(fixture_mu_b, fixture_sb, n, gen);
  // The fitted moments are the sample moments (checked against at::cov, LAPACK-free torch code).
  const auto fa = cebm::eval::fit_gaussian(xa);
  const at::Tensor cov_a = at::cov(xa.t());
  for (int i = 0; i < 3; ++i) {
    CHECK(fa.mean(i) == Approx(xa.select(1, i).mean().item<double>()).epsilon(1e-12));
    for (int j = 0; j < 3; ++j) CHECK(fa.covariance(i, j) == Approx(cov_a[i][j].item<double>()).epsilon(1e-10).margin(1e-12));
  }
  // Standard errors at n = 40000 are ~0.005 per moment; the estimate's bias is O(D/n). A 2 % band
  // (0.033) is several standard errors wide, and the seed is fixed.
  CHECK(cebm::eval::frechet_distance(xa, xb) == Approx(fixture_fd).epsilon(0.02));
  CHECK(cebm::eval::frechet_distance(xa.to(at::kFloat), xb) == Approx(fixture_fd).epsilon(0.02));
  // Two samples of one Gaussian: FD → 0 (here ~D²/n scale).
  CHECK(cebm::eval::frechet_distance(xa, sample_gaussian(fixture_mu_a, fixture_sa, n, gen)) < 0.01);
}

TEST_CASE("Fréchet distance: errors name the argument", "[eval][frechet]") {
  CHECK_THROWS_WITH(cebm::eval::fit_gaussian(at::zeros({1, 3})), Catch::Contains("N >= 2"));
  CHECK_THROWS_WITH(cebm::eval::fit_gaussian(at::zeros({5})), Catch::Contains("[N, D]"));
  at::Tensor bad = at::zeros({4, 2});
  bad[2][1] = NAN;
  CHECK_THROWS_WITH(cebm::eval::fit_gaussian(bad), Catch::Contains("[2, 1]") && Catch::Contains("finite"));
  CHECK_THROWS_WITH(cebm::eval::frechet_distance(at::randn({5, 2}), at::randn({5, 3})), Catch::Contains("dimensions differ"));
  CHECK_THROWS_AS(cebm::eval::frechet_distance(make_fit({0, 0}, Eigen::MatrixXd::Identity(2, 2)),
                                               make_fit({0, 0, 0}, Eigen::MatrixXd::Identity(3, 3))),
                  std::invalid_argument);
}

// --- PCA ------------------------------------------------------------------------------------------

TEST_CASE("PCA: points on a line recover its direction, variance and the sign convention", "[eval][pca]") {
  auto gen = at::detail::createCPUGenerator(7);
  const at::Tensor dir = at::tensor({2.0, -3.0, 6.0}, at::kDouble) / 7.0;  // unit; largest entry 6/7 > 0
  const at::Tensor offset = at::tensor({10.0, -5.0, 1.0}, at::kDouble);
  const at::Tensor t = 3.0 * at::randn({500}, gen, at::kDouble);
  const at::Tensor x = t.unsqueeze(1) * dir + offset + 1e-4 * at::randn({500, 3}, gen, at::kDouble);
  const auto r = cebm::eval::pca(x.to(at::kFloat), 2);
  REQUIRE(r.components.sizes() == at::IntArrayRef({2, 3}));
  REQUIRE(r.projection.sizes() == at::IntArrayRef({500, 2}));
  CHECK(r.projection.scalar_type() == at::kFloat);
  CHECK(at::allclose(r.mean, x.to(at::kFloat).to(at::kDouble).mean(0), 0, 1e-9));
  // The direction itself, not just up to sign: the convention makes 6/7 positive.
  CHECK(at::allclose(r.components[0], dir, 0, 1e-4));
  CHECK(r.explained_variance[0].item<double>() == Approx(t.var().item<double>()).epsilon(1e-3));
  CHECK(r.explained_variance[1].item<double>() < 1e-6);
  // Each component's largest-magnitude entry is positive.
  for (int j = 0; j < 2; ++j) CHECK(r.components[j][r.components[j].abs().argmax()].item<double>() > 0);
  // Flipping the data's sign flips the projection, not the components.
  const auto flipped = cebm::eval::pca(-x, 1);
  CHECK(at::allclose(flipped.components[0], dir, 0, 1e-4));
}

TEST_CASE("PCA: a plane in 4-D against power iteration and LAPACK eigenvalues", "[eval][pca]") {
  auto gen = at::detail::createCPUGenerator(11);
  // Orthonormal u1, u2 (a scaled Hadamard pair); variances 9 and 1, plus isotropic noise 0.01².
  const at::Tensor u1 = at::tensor({1.0, 1.0, 1.0, 1.0}, at::kDouble) / 2, u2 = at::tensor({1.0, -1.0, 1.0, -1.0}, at::kDouble) / 2;
  const std::int64_t n = 2000;
  const at::Tensor x = 3.0 * at::randn({n, 1}, gen, at::kDouble) * u1 + at::randn({n, 1}, gen, at::kDouble) * u2 +
                       0.01 * at::randn({n, 4}, gen, at::kDouble);
  const auto r = cebm::eval::pca(x, 4);
  const at::Tensor cov = at::cov(x.t());
  // Explained variances = the covariance's eigenvalues (LAPACK), descending.
  const at::Tensor lapack = std::get<0>(at::linalg_eigh(cov)).flip(0);
  CHECK(at::allclose(r.explained_variance, lapack, 1e-9, 1e-12));
  // The top two components against a power iteration with deflation, up to sign.
  const auto [v1, l1] = power_iteration(cov);
  const auto [v2, l2] = power_iteration(cov - l1 * at::outer(v1, v1));
  CHECK(std::abs(r.components[0].dot(v1).item<double>()) == Approx(1.0).epsilon(1e-9));
  CHECK(std::abs(r.components[1].dot(v2).item<double>()) == Approx(1.0).epsilon(1e-9));
  CHECK(l1 == Approx(r.explained_variance[0].item<double>()).epsilon(1e-9));
  CHECK(l2 == Approx(r.explained_variance[1].item<double>()).epsilon(1e-9));
  // ... and they span the plane.
  CHECK(std::abs(r.components[0].dot(u1).item<double>()) == Approx(1.0).epsilon(1e-3));
  CHECK(std::abs(r.components[1].dot(u2).item<double>()) == Approx(1.0).epsilon(1e-3));
  // Orthonormal components; projection = (x − mean)·componentsᵀ; its column variances = λ.
  CHECK(at::allclose(r.components.matmul(r.components.t()), at::eye(4, at::kDouble), 0, 1e-12));
  const at::Tensor expected = (x - x.mean(0)).matmul(r.components.t());
  CHECK(at::allclose(r.projection.to(at::kDouble), expected, 1e-5, 1e-5));
  CHECK(at::allclose(expected.var(0), r.explained_variance, 1e-9, 1e-12));
}

TEST_CASE("PCA: more dimensions than points goes through the Gram matrix", "[eval][pca]") {
  auto gen = at::detail::createCPUGenerator(3);
  const at::Tensor x = at::randn({6, 10}, gen, at::kDouble) * at::linspace(0.5, 3.0, 10, at::kDouble);
  const auto r = cebm::eval::pca(x, 3);
  const at::Tensor cov = at::cov(x.t());
  const at::Tensor lapack = std::get<0>(at::linalg_eigh(cov)).flip(0);
  CHECK(at::allclose(r.explained_variance, lapack.narrow(0, 0, 3), 1e-9, 1e-12));
  for (int j = 0; j < 3; ++j) {  // C v = λ v
    CHECK(at::allclose(cov.mv(r.components[j]), r.explained_variance[j] * r.components[j], 1e-8, 1e-10));
    CHECK(r.components[j][r.components[j].abs().argmax()].item<double>() > 0);
  }
  // Rank of 6 centred points is 5: a 6th component is not determined.
  CHECK_THROWS_WITH(cebm::eval::pca(x, 6), Catch::Contains("exceeds the rank"));
}

TEST_CASE("PCA: errors", "[eval][pca]") {
  CHECK_THROWS_WITH(cebm::eval::pca(at::zeros({1, 3})), Catch::Contains("N >= 2"));
  CHECK_THROWS_WITH(cebm::eval::pca(at::zeros({5, 3}), 4), Catch::Contains("k must be in [1, D = 3]"));
  CHECK_THROWS_WITH(cebm::eval::pca(at::zeros({5, 3}), 0), Catch::Contains("k must be"));
  CHECK_THROWS_WITH(cebm::eval::pca(at::zeros({5})), Catch::Contains("[N, D]"));
  at::Tensor bad = at::zeros({5, 3});
  bad[4][0] = INFINITY;
  CHECK_THROWS_WITH(cebm::eval::pca(bad), Catch::Contains("[4, 0]"));
}

// --- plots ----------------------------------------------------------------------------------------

TEST_CASE("colormaps: matplotlib's published colours and monotone lightness", "[eval][plot]") {
  // matplotlib: to_hex(viridis(x)) for x = 0, 0.25, 0.5, 0.75, 1 (table entries 0, 64, 128, 192, 255).
  CHECK(cebm::eval::viridis(0.0) == hex("#440154"));
  CHECK(cebm::eval::viridis(64 / 255.0) == hex("#3b528b"));
  CHECK(cebm::eval::viridis(128 / 255.0) == hex("#21918c"));
  CHECK(cebm::eval::viridis(192 / 255.0) == hex("#5ec962"));  // to_hex(viridis(0.75))
  CHECK(cebm::eval::viridis(1.0) == hex("#fde725"));
  CHECK(cebm::eval::viridis(-3.0) == hex("#440154"));  // clamped
  CHECK(cebm::eval::viridis(7.0) == hex("#fde725"));
  // L* rises ~0.3 per 1/255; rounding to bytes may undo up to ~0.1 of a step, never more, and
  // every 4/255 the rise is clear.
  double previous = -1, previous4 = -1;
  for (int i = 0; i <= 255; ++i) {
    const double l = lightness(cebm::eval::viridis(i / 255.0));
    INFO("t = " << i << "/255, L* = " << l);
    CHECK(l > previous - 0.1);
    if (i % 4 == 0) {
      CHECK(l > previous4 + 0.5);
      previous4 = l;
    }
    previous = l;
  }
  // tab10, cycling after 10.
  CHECK(cebm::eval::tab10(0) == hex("#1f77b4"));
  CHECK(cebm::eval::tab10(1) == hex("#ff7f0e"));
  CHECK(cebm::eval::tab10(9) == hex("#17becf"));
  CHECK(cebm::eval::tab10(12) == hex("#2ca02c"));
  // Text contrast: white on the dark end, black on the light end.
  CHECK(cebm::eval::contrasting_text(cebm::eval::viridis(0)) == cebm::eval::white);
  CHECK(cebm::eval::contrasting_text(cebm::eval::viridis(1)) == cebm::eval::black);
}

TEST_CASE("font: glyphs have their 5x7 bitmaps, scaled and turned", "[eval][plot]") {
  const char* one[7] = {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."};
  const char* minus[7] = {".....", ".....", ".....", "#####", ".....", ".....", "....."};
  const char* dot[7] = {".....", ".....", ".....", ".....", ".....", ".##..", ".##.."};
  cebm::eval::canvas c(40, 20);
  c.text(1, 2, "1-.", cebm::eval::black, 2);
  const char** glyphs[3] = {one, minus, dot};
  for (int g = 0; g < 3; ++g)
    for (int row = 0; row < 14; ++row)
      for (int col = 0; col < 12; ++col) {  // 5 columns of 2 pixels, then the 2-pixel spacing
        const bool ink = col < 10 && glyphs[g][row / 2][col / 2] == '#';
        INFO("glyph " << g << ", row " << row << ", col " << col);
        CHECK(c.get(1 + 12 * g + col, 2 + row) == (ink ? cebm::eval::black : cebm::eval::white));
      }
  CHECK(cebm::eval::canvas::text_width("1-.", 2) == 34);
  // Turned 90° anticlockwise: glyph row v, column u land at (x + v, y + 4 − u).
  cebm::eval::canvas v(10, 10);
  v.text(0, 0, "1", cebm::eval::black, 1, /*vertical=*/true);
  for (int row = 0; row < 7; ++row)
    for (int col = 0; col < 5; ++col) CHECK(v.get(row, 4 - col) == (one[row][col] == '#' ? cebm::eval::black : cebm::eval::white));
  CHECK_THROWS_WITH(c.text(0, 0, "a~b", cebm::eval::black), Catch::Contains("'~'"));
}

TEST_CASE("heat map (raster): cell colours, sizes, value labels and indices", "[eval][plot]") {
  const at::Tensor m = at::tensor({0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.55}).view({3, 4});
  const auto bare = cebm::eval::heatmap_options{}.cell(10).margin(0).show_indices(false).colorbar(false).show_values(false).backend(raster);
  const at::Tensor img = cebm::eval::heatmap(m, bare);
  REQUIRE(img.sizes() == at::IntArrayRef({3, 30, 40}));
  CHECK(img.scalar_type() == at::kByte);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) {
      const rgb expected = cebm::eval::viridis(m[r][c].item<double>());
      INFO("cell " << r << ", " << c);
      CHECK(pixel(img, 10 * c + 5, 10 * r + 5) == expected);
      CHECK(pixel(img, 10 * c, 10 * r) == expected);
      CHECK(pixel(img, 10 * c + 9, 10 * r + 9) == expected);
    }
  // value_min / value_max rescale: 0.5 in [0.5, 1.5] is the bottom colour.
  const at::Tensor shifted = cebm::eval::heatmap(m, cebm::eval::heatmap_options(bare).value_min(-1.0).value_max(3.0));
  CHECK(pixel(shifted, 5 + 10, 5 + 10) == cebm::eval::viridis((0.5 + 1.0) / 4.0));
  // margin adds white around; decorations only add room.
  const at::Tensor margined = cebm::eval::heatmap(m, cebm::eval::heatmap_options(bare).margin(3));
  CHECK(margined.sizes() == at::IntArrayRef({3, 36, 46}));
  CHECK(pixel(margined, 1, 1) == cebm::eval::white);
  CHECK(pixel(margined, 3, 3) == cebm::eval::viridis(0.0));
  const auto full = cebm::eval::heatmap_options{}.cell(40).row_title("true").column_title("predicted").backend(raster);
  const at::Tensor w4 = cebm::eval::heatmap(at::full({3, 4}, 0.5), full), w5 = cebm::eval::heatmap(at::full({3, 5}, 0.5), full);
  CHECK(w5.size(2) - w4.size(2) == 40);
  CHECK(w5.size(1) == w4.size(1));
  CHECK(w4.size(2) > 6 + 4 * 40 + 6);

  // Values written in the cell: "0.00" in white on the dark cell, its first '0' where centring puts it.
  const at::Tensor two = at::tensor({0.0, 1.0, 0.5, 0.25}).view({2, 2});
  const at::Tensor labelled =
      cebm::eval::heatmap(two, cebm::eval::heatmap_options{}.cell(40).margin(0).show_indices(false).colorbar(false).backend(raster));
  const char* zero[7] = {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."};
  const int x0 = (40 - 23) / 2, y0 = (40 - 7) / 2;  // "0.00" is 4·6 − 1 = 23 pixels wide
  for (int row = 0; row < 7; ++row)
    for (int col = 0; col < 5; ++col)
      CHECK(pixel(labelled, x0 + col, y0 + row) == (zero[row][col] == '#' ? cebm::eval::white : cebm::eval::viridis(0.0)));
  // Black text on the light cell (value 1): some pixel of its first glyph is black.
  bool black_ink = false;
  for (int row = 0; row < 7; ++row)
    for (int col = 0; col < 5; ++col) black_ink |= pixel(labelled, 40 + x0 + col, y0 + row) == cebm::eval::black;
  CHECK(black_ink);
  // Cells too small for "0.00" get no text at all.
  const auto small_options = cebm::eval::heatmap_options{}.cell(20).margin(0).show_indices(false).colorbar(false).backend(raster);
  const at::Tensor small = cebm::eval::heatmap(two, small_options);
  CHECK(at::equal(small, cebm::eval::heatmap(two, cebm::eval::heatmap_options(small_options).show_values(false))));
  // Indices: row index "1" left of row 1, in black.
  const at::Tensor indexed =
      cebm::eval::heatmap(two, cebm::eval::heatmap_options{}.cell(40).margin(0).colorbar(false).show_values(false).backend(raster));
  // The grid starts after "1" (5 px) and a 3 px gap; row 1's label is centred on y = 40 + 16.
  CHECK(indexed.size(2) == 8 + 80);
  for (int row = 0; row < 7; ++row)
    for (int col = 0; col < 5; ++col)
      CHECK(pixel(indexed, col, 40 + 16 + row) == (("..#..|.##..|..#..|..#..|..#..|..#..|.###."[row * 6 + col]) == '#'
                                                       ? cebm::eval::black
                                                       : cebm::eval::white));
}

TEST_CASE("heat map: errors", "[eval][plot]") {
  CHECK_THROWS_WITH(cebm::eval::heatmap(at::zeros({4})), Catch::Contains("[R, C]"));
  CHECK_THROWS_WITH(cebm::eval::heatmap(at::zeros({0, 3})), Catch::Contains("non-empty"));
  at::Tensor bad = at::zeros({2, 2});
  bad[1][0] = NAN;
  CHECK_THROWS_WITH(cebm::eval::heatmap(bad), Catch::Contains("finite"));
  CHECK_THROWS_WITH(cebm::eval::heatmap(at::zeros({2, 2}), cebm::eval::heatmap_options{}.value_min(1).value_max(1)),
                    Catch::Contains("value_min < value_max"));
  CHECK_THROWS_WITH(cebm::eval::heatmap(at::zeros({2, 2}), cebm::eval::heatmap_options{}.cell(0)), Catch::Contains("cell"));
  // Class names name every row and column.
  CHECK_THROWS_WITH(cebm::eval::heatmap(at::zeros({3, 3}), cebm::eval::heatmap_options{}.class_names({"a", "b"})),
                    Catch::Contains("class_names has 2 names for a 3 x 3 matrix"));
  CHECK_THROWS_WITH(cebm::eval::heatmap(at::zeros({2, 3}), cebm::eval::heatmap_options{}.class_names({"a", "b"})),
                    Catch::Contains("the matrix is 2 x 3"));
  for (const auto backend : {cebm::eval::plot_backend::raster, cebm::eval::plot_backend::automatic})
    CHECK_THROWS_WITH(cebm::eval::heatmap(bad, cebm::eval::heatmap_options{}.backend(backend)), Catch::Contains("element 2"));
}

TEST_CASE("scatter (raster): points land where their coordinates map, coloured by label", "[eval][plot]") {
  // Frame columns 10…189, rows 10…89; r = 1, so data map to columns 13 + round(u·173) and rows
  // 86 − round(v·73), with u, v the coordinates relative to the data range (margin 0).
  const at::Tensor pts = at::tensor({0.0, 0.0, 4.0, 2.0, 1.0, 1.5, 4.0, 0.0}).view({4, 2});
  const at::Tensor lab = at::tensor({0, 1, 2, 3}, at::kLong);
  const auto o = cebm::eval::scatter_options{}.width(200).height(100).padding(10).marker_radius(1).margin(0).legend(false).show_limits(false).backend(raster);
  const at::Tensor img = cebm::eval::scatter(pts, lab, o);
  REQUIRE(img.sizes() == at::IntArrayRef({3, 100, 200}));
  auto column = [](double x) { return 13 + std::lround(x / 4.0 * 173); };
  auto row = [](double y) { return 86 - std::lround(y / 2.0 * 73); };
  for (int i = 0; i < 4; ++i) {
    const double x = pts[i][0].item<double>(), y = pts[i][1].item<double>();
    INFO("point " << i << " at pixel " << column(x) << ", " << row(y));
    CHECK(pixel(img, column(x), row(y)) == cebm::eval::tab10(i));
    CHECK(pixel(img, column(x) + 1, row(y)) == cebm::eval::tab10(i));  // r = 1 disc: a plus
    CHECK(pixel(img, column(x) + 1, row(y) + 1) == cebm::eval::white);
  }
  CHECK(pixel(img, 10, 10) == cebm::eval::black);  // frame corners
  CHECK(pixel(img, 189, 89) == cebm::eval::black);
  CHECK(pixel(img, 9, 9) == cebm::eval::white);
  CHECK(pixel(img, 11, 50) == cebm::eval::white);  // inside, left of every marker

  // Squares of radius 2 fill their corners; discs of radius 2 do not.
  const at::Tensor one = at::tensor({0.5, 0.5}).view({1, 2});
  const auto o2 = cebm::eval::scatter_options(o).marker_radius(2);
  // One point: each range [0.5, 0.5] becomes [0, 1], so it sits at the centre.
  const std::int64_t cx = 10 + 2 + 2 + std::lround(0.5 * (179 - 8)), cy = 89 - 2 - 2 - std::lround(0.5 * (79 - 8));
  const at::Tensor disc = cebm::eval::scatter(one, at::tensor({5}, at::kLong), o2);
  CHECK(pixel(disc, cx, cy) == cebm::eval::tab10(5));
  CHECK(pixel(disc, cx + 2, cy + 1) == cebm::eval::tab10(5));
  CHECK(pixel(disc, cx + 2, cy + 2) == cebm::eval::white);
  const at::Tensor square = cebm::eval::scatter(one, at::tensor({5}, at::kLong), cebm::eval::scatter_options(o2).marker(cebm::eval::marker_shape::square));
  CHECK(pixel(square, cx + 2, cy + 2) == cebm::eval::tab10(5));
  CHECK(pixel(square, cx + 3, cy) == cebm::eval::white);
  // Labels past 10 cycle the palette.
  CHECK(pixel(cebm::eval::scatter(one, at::tensor({12}, at::kLong), o2), cx, cy) == cebm::eval::tab10(2));
}

TEST_CASE("scatter (raster): the legend shows every class, the limits are written", "[eval][plot]") {
  const at::Tensor pts = at::tensor({0.0, 0.0, 1.0, 1.0}).view({2, 2});
  const at::Tensor img =
      cebm::eval::scatter(pts, at::tensor({0, 1}, at::kLong), cebm::eval::scatter_options{}.classes(6).marker_radius(0).backend(raster));
  CHECK(img.sizes() == at::IntArrayRef({3, 480, 640}));
  auto count = [&](rgb c) {
    return ((img[0] == c.r) & (img[1] == c.g) & (img[2] == c.b)).sum().item<std::int64_t>();
  };
  // A swatch is 7×7 (font scale 1); markers of radius 0 add one pixel each for classes 0 and 1.
  CHECK(count(cebm::eval::tab10(0)) == 49 + 1);
  CHECK(count(cebm::eval::tab10(1)) == 49 + 1);
  for (int k = 2; k < 6; ++k) CHECK(count(cebm::eval::tab10(k)) == 49);
  CHECK(count(cebm::eval::tab10(6)) == 0);
  // Without the legend and limit labels, only the frame and markers are not white.
  const at::Tensor plain = cebm::eval::scatter(pts, at::tensor({0, 1}, at::kLong),
                                               cebm::eval::scatter_options{}.marker_radius(0).legend(false).show_limits(false).backend(raster));
  const std::int64_t frame = 2 * (640 - 16) + 2 * (480 - 16) - 4;
  CHECK(((plain != 255).sum(0) > 0).sum().item<std::int64_t>() == frame + 2);
  // The limit labels add black ink.
  CHECK((img == 0).all(0).sum().item<std::int64_t>() > frame);
}

TEST_CASE("scatter: errors", "[eval][plot]") {
  const at::Tensor lab = at::tensor({0, 1}, at::kLong);
  CHECK_THROWS_WITH(cebm::eval::scatter(at::zeros({2, 3}), lab), Catch::Contains("[N, 2]"));
  CHECK_THROWS_WITH(cebm::eval::scatter(at::zeros({0, 2}), at::zeros({0}, at::kLong)), Catch::Contains("non-empty"));
  CHECK_THROWS_WITH(cebm::eval::scatter(at::zeros({2, 2}, at::kLong), lab), Catch::Contains("floating"));
  CHECK_THROWS_WITH(cebm::eval::scatter(at::zeros({2, 2}), lab.to(at::kInt)), Catch::Contains("int64"));
  CHECK_THROWS_WITH(cebm::eval::scatter(at::zeros({2, 2}), at::tensor({0, -1}, at::kLong)), Catch::Contains("label 1 is -1"));
  CHECK_THROWS_WITH(cebm::eval::scatter(at::zeros({2, 2}), at::tensor({0, 3}, at::kLong), cebm::eval::scatter_options{}.classes(3)),
                    Catch::Contains("outside [0, 3)"));
  at::Tensor bad = at::zeros({2, 2});
  bad[0][1] = NAN;
  CHECK_THROWS_WITH(cebm::eval::scatter(bad, lab), Catch::Contains("finite"));
  CHECK_THROWS_WITH(cebm::eval::scatter(at::zeros({2, 2}), at::tensor({0, 99}, at::kLong), cebm::eval::scatter_options{}.height(100)),
                    Catch::Contains("legend of 100 classes"));
  CHECK_THROWS_WITH(cebm::eval::scatter(at::zeros({2, 2}), lab, cebm::eval::scatter_options{}.width(20).height(20).legend(false)),
                    Catch::Contains("no room"));
  // Class names: as many as the classes set, and every label among the named ones.
  CHECK_THROWS_WITH(cebm::eval::scatter(at::zeros({2, 2}), lab, cebm::eval::scatter_options{}.classes(3).class_names({"a", "b"})),
                    Catch::Contains("class_names has 2 names for classes(3)"));
  CHECK_THROWS_WITH(cebm::eval::scatter(at::zeros({2, 2}), at::tensor({0, 2}, at::kLong), cebm::eval::scatter_options{}.class_names({"a", "b"})),
                    Catch::Contains("label 1 is 2, outside [0, 2) (the classes that class_names names)"));
  CHECK_THROWS_WITH(cebm::eval::scatter(at::zeros({2, 2}), lab, cebm::eval::scatter_options{}.marker_opacity(0)),
                    Catch::Contains("marker_opacity"));
}

TEST_CASE("line chart (raster): points land where x and y map, joined by lines, over grid lines", "[eval][plot]") {
  // Labels "0" and "1" (5 pixels wide): frame columns 4 + 5 + 3 = 12 … 195, rows 4 + 3 = 7 … 119 − 4 − 10 = 105;
  // r = 1, so m = 3: x in [0, 10] maps to columns 15 + round(x/10 · 177), y in [0, 1] to rows 102 − round(y · 92).
  const cebm::eval::line_series a{"a", {0, 10}, {0, 1}, 1}, b{"b", {5}, {0.5}, 2};
  const auto o =
      cebm::eval::line_chart_options{}.width(200).height(120).padding(4).y_ticks(2).marker_radius(1).thickness(1).legend(false).backend(raster);
  const at::Tensor img = cebm::eval::line_chart({a, b}, o);
  REQUIRE(img.sizes() == at::IntArrayRef({3, 120, 200}));
  CHECK(pixel(img, 12, 7) == cebm::eval::black);  // frame corners
  CHECK(pixel(img, 195, 105) == cebm::eval::black);
  CHECK(pixel(img, 15, 102) == cebm::eval::tab10(1));  // a's ends and their markers
  CHECK(pixel(img, 16, 102) == cebm::eval::tab10(1));
  CHECK(pixel(img, 192, 10) == cebm::eval::tab10(1));
  CHECK(pixel(img, 192, 11) == cebm::eval::tab10(1));
  CHECK(pixel(img, 104, 56) == cebm::eval::tab10(2));  // b's marker, drawn after a: on top
  CHECK(pixel(img, 104, 55) == cebm::eval::tab10(2));
  // The line: one pixel per column (|dx| > |dy|), within half a pixel of the exact segment.
  for (const std::int64_t column : {40, 60, 150}) {
    const double exact = 102 - (column - 15) * 92.0 / 177.0;
    std::int64_t hits = 0, at = -1;
    for (std::int64_t row = 8; row < 105; ++row)
      if (pixel(img, column, row) == cebm::eval::tab10(1)) ++hits, at = row;
    INFO("column " << column << ": exact row " << exact << ", drawn at " << at);
    CHECK(hits == 1);
    CHECK(std::abs(static_cast<double>(at) - exact) <= 0.5 + 1e-9);
  }
  CHECK(pixel(img, 150, 10) == cebm::eval::rgb{220, 220, 220});  // the grid line of y = 1
  CHECK(pixel(img, 150, 30) == cebm::eval::white);
  CHECK((img.narrow(1, 106, 14) == 0).all(0).sum().item<std::int64_t>() > 0);  // the x limits under the frame
  // The legend: one 7×7 swatch per series; b's marker (r = 1: a plus) adds 5 pixels of its colour.
  const at::Tensor legend = cebm::eval::line_chart({a, b}, cebm::eval::line_chart_options(o).legend(true));
  const cebm::eval::rgb c = cebm::eval::tab10(2);
  CHECK(((legend[0] == c.r) & (legend[1] == c.g) & (legend[2] == c.b)).sum().item<std::int64_t>() == 49 + 5);
}

TEST_CASE("line chart: errors name the series and the point", "[eval][plot]") {
  using cebm::eval::line_chart;
  using cebm::eval::line_series;
  CHECK_THROWS_WITH(line_chart({line_series{"acc", {0, 1}, {0.5, 2.0}, 0}}), Catch::Contains("series 'acc' point 1 has y = 2, outside [0, 1]"));
  CHECK_THROWS_WITH(line_chart({line_series{"acc", {0, 1}, {0.5}, 0}}), Catch::Contains("2 x values and 1 y values"));
  CHECK_THROWS_WITH(line_chart({line_series{"acc", {0, NAN}, {0.5, 0.5}, 0}}), Catch::Contains("point 1 is not finite"));
  CHECK_THROWS_WITH(line_chart({line_series{"acc", {}, {}, 0}}), Catch::Contains("no points"));
  CHECK_THROWS_WITH(line_chart({line_series{"acc", {0}, {0}, 0}}, cebm::eval::line_chart_options{}.y_min(1).y_max(1)),
                    Catch::Contains("y_min < y_max"));
  CHECK_THROWS_WITH(line_chart({line_series{"acc", {0}, {0}, 0}}, cebm::eval::line_chart_options{}.width(30).height(30)),
                    Catch::Contains("no room"));
}

TEST_CASE("histogram: errors", "[eval][plot]") {
  using cebm::eval::histogram;
  using cebm::eval::histogram_series;
  const at::Tensor ok = at::tensor({0.0, 1.0, 2.0});
  CHECK_THROWS_WITH(histogram({}), Catch::Contains("no series"));
  CHECK_THROWS_WITH(histogram({histogram_series{"in", at::zeros({0}), 0}}), Catch::Contains("series 'in' must be a non-empty 1-D"));
  CHECK_THROWS_WITH(histogram({histogram_series{"in", at::zeros({2, 2}), 0}}), Catch::Contains("non-empty 1-D"));
  CHECK_THROWS_WITH(histogram({histogram_series{"in", at::zeros({2}, at::kBool), 0}}), Catch::Contains("real numbers"));
  at::Tensor bad = at::zeros({4});
  bad[3] = INFINITY;
  for (const auto backend : {cebm::eval::plot_backend::raster, cebm::eval::plot_backend::automatic})
    CHECK_THROWS_WITH(histogram({histogram_series{"in", ok, 0}, histogram_series{"out", bad, 1}},
                                cebm::eval::histogram_options{}.backend(backend)),
                      Catch::Contains("the values of series 'out' must be finite, element 3"));
  CHECK_THROWS_WITH(histogram({histogram_series{"in", ok, -1}}), Catch::Contains("negative colour"));
  CHECK_THROWS_WITH(histogram({histogram_series{"in", ok, 0}}, cebm::eval::histogram_options{}.bins(0)), Catch::Contains("bins"));
  CHECK_THROWS_WITH(histogram({histogram_series{"in", ok, 0}}, cebm::eval::histogram_options{}.tail(0.5)), Catch::Contains("tail"));
  CHECK_THROWS_WITH(histogram({histogram_series{"in", ok, 0}}, cebm::eval::histogram_options{}.value_min(2).value_max(1)),
                    Catch::Contains("value_min < value_max"));
  CHECK_THROWS_WITH(histogram({histogram_series{"in", ok, 0}}, cebm::eval::histogram_options{}.width(40).height(30)),
                    Catch::Contains("no room"));
}

TEST_CASE("histogram (raster): each series' outline over shared bins, the legend's swatches", "[eval][plot]") {
  // Bins of width 1 over [0, 4]; "a" has all its values in bin 1, "b" spreads over bins 0 and 3.
  const at::Tensor a = at::tensor({1.5, 1.5, 1.2, 1.9}), b = at::tensor({0.0, 4.0});
  const auto o = cebm::eval::histogram_options{}.width(220).height(140).bins(4).value_min(0).value_max(4).legend(false).backend(raster);
  const at::Tensor img = cebm::eval::histogram({{"a", a, 0}, {"b", b, 1}}, o);
  REQUIRE(img.sizes() == at::IntArrayRef({3, 140, 220}));
  CHECK(img.scalar_type() == at::kByte);
  // Densities: a's bin 1 holds 4/(4·1) = 1, the highest bar; b's end bins 1/(2·1) = 0.5. The top of
  // the y axis is 1.05: a's bar top is the row 1/1.05 of the way up, b's halfway as high.
  auto colour_rows = [&](rgb c, std::int64_t column) {
    std::vector<std::int64_t> rows;
    for (std::int64_t y = 0; y < img.size(1); ++y)
      if (pixel(img, column, y) == c) rows.push_back(y);
    return rows;
  };
  // The frame: left column 8 + width("1.05") + 3 = 34, right 211; rows 8 … 139 − 8 − 10 = 121.
  const std::int64_t fx0 = 8 + 23 + 3, fx1 = 211, fy0 = 8, fy1 = 121;
  auto column = [&](double x) { return fx0 + 1 + std::lround(x / 4 * (fx1 - fx0 - 2)); };
  auto row = [&](double y) { return fy1 - 1 - std::lround(y / 1.05 * (fy1 - fy0 - 2)); };
  const auto top_a = colour_rows(cebm::eval::tab10(0), (column(1) + column(2)) / 2);
  REQUIRE(top_a.size() == 1);
  CHECK(top_a[0] == row(1.0));
  const auto top_b = colour_rows(cebm::eval::tab10(1), (column(0) + column(1)) / 2);
  REQUIRE_FALSE(top_b.empty());
  CHECK(top_b.front() == row(0.5));
  // b has nothing in bin 1: only its outline along the bottom.
  CHECK(colour_rows(cebm::eval::tab10(1), (column(1) + column(2)) / 2) == std::vector<std::int64_t>{row(0)});
  // Counts instead of densities: a's bar is 4 high, the axis 4.2.
  const at::Tensor counts = cebm::eval::histogram({{"a", a, 0}, {"b", b, 1}}, cebm::eval::histogram_options(o).density(false));
  CHECK(at::equal(counts, img) == false);
  // The legend: one 7×7 swatch per series.
  const at::Tensor legend = cebm::eval::histogram({{"a", a, 0}, {"b", b, 1}}, cebm::eval::histogram_options(o).legend(true));
  const rgb c = cebm::eval::tab10(1);
  const std::int64_t with = ((legend[0] == c.r) & (legend[1] == c.g) & (legend[2] == c.b)).sum().item<std::int64_t>();
  const std::int64_t without = ((img[0] == c.r) & (img[1] == c.g) & (img[2] == c.b)).sum().item<std::int64_t>();
  CHECK(with > 49);
  CHECK(without > 0);
  // A single value: the range is widened to ±0.5.
  CHECK(cebm::eval::histogram({{"one", at::tensor({3.0}), 2}}, cebm::eval::histogram_options{}.backend(raster)).size(2) == 640);
}

TEST_CASE("raster: titles and class names", "[eval][plot]") {
  const at::Tensor pts = at::tensor({0.0, 0.0, 1.0, 1.0}).view({2, 2});
  const at::Tensor lab = at::tensor({0, 1}, at::kLong);
  const auto o = cebm::eval::scatter_options{}.width(200).height(120).legend(false).show_limits(false).backend(raster);
  // A title pushes the frame down by a line (7 + 3 pixels) and leaves ink above it.
  const at::Tensor plain = cebm::eval::scatter(pts, lab, o), titled = cebm::eval::scatter(pts, lab, cebm::eval::scatter_options(o).title("PCA"));
  CHECK(pixel(plain, 8, 8) == cebm::eval::black);
  CHECK(pixel(titled, 8, 8) == cebm::eval::white);
  CHECK(pixel(titled, 8, 18) == cebm::eval::black);
  CHECK((titled.narrow(1, 0, 16) == 0).all(0).sum().item<std::int64_t>() > 0);
  // Class names in the legend instead of indices: the legend widens, the frame narrows.
  const auto legend = cebm::eval::scatter_options(o).legend(true);
  const at::Tensor numbered = cebm::eval::scatter(pts, lab, legend);
  const at::Tensor named = cebm::eval::scatter(pts, lab, cebm::eval::scatter_options(legend).class_names({"Trouser", "Bag"}));
  auto frame_right = [](const at::Tensor& img) {
    std::int64_t x = img.size(2) - 1;
    while (pixel(img, x, 60) != cebm::eval::black) --x;
    return x;
  };
  CHECK(frame_right(named) == frame_right(numbered) - 6 * 6);  // "Trouser" is 6 glyphs wider than "1"
  // Heat map: class names replace the row indices, widening the left margin.
  const auto h = cebm::eval::heatmap_options{}.cell(40).colorbar(false).show_values(false).backend(raster);
  const at::Tensor indexed = cebm::eval::heatmap(at::eye(2), h);
  const at::Tensor named_rows = cebm::eval::heatmap(at::eye(2), cebm::eval::heatmap_options(h).class_names({"Coat", "Bag"}));
  CHECK(named_rows.size(2) - indexed.size(2) == 24 - 6);  // "Coat" (23 px) instead of "1" (5 px)
  const at::Tensor titled_map = cebm::eval::heatmap(at::eye(2), cebm::eval::heatmap_options(h).title("confusion"));
  CHECK(titled_map.size(1) - indexed.size(1) == 10);
}

// --- PLplot ---------------------------------------------------------------------------------------

namespace {

/// Pixels of exactly colour c.
std::int64_t count_colour(const at::Tensor& img, rgb c) {
  return ((img[0] == c.r) & (img[1] == c.g) & (img[2] == c.b)).sum().item<std::int64_t>();
}

/// Pixels with dark ink (text, frame): every channel below 100.
std::int64_t ink(const at::Tensor& img) { return (img < 100).all(0).sum().item<std::int64_t>(); }

bool plplot_or_warn() {
  if (cebm::eval::plplot_available()) return true;
  WARN("PLplot is not available here (CEBM_HAS_PLPLOT off or no memcairo driver): the PLplot backend is not tested");
  return false;
}

}  // namespace

TEST_CASE("PLplot: the heat map's cells, class names, values and title", "[eval][plot][plplot]") {
  if (!plplot_or_warn()) return;
  const at::Tensor m = at::tensor({0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.55}).view({3, 4});
  // Bare: the raster's geometry, cells filled with their colours (pixels at the cells' edges to
  // within 1/255).
  const auto bare = cebm::eval::heatmap_options{}.cell(10).margin(2).show_indices(false).colorbar(false).show_values(false);
  const at::Tensor img = cebm::eval::heatmap(m, bare);
  REQUIRE(img.sizes() == at::IntArrayRef({3, 34, 44}));
  CHECK(img.scalar_type() == at::kByte);
  CHECK(at::equal(img, cebm::eval::heatmap(m, cebm::eval::heatmap_options(bare).backend(cebm::eval::plot_backend::plplot))));
  const at::Tensor exact = cebm::eval::heatmap(m, cebm::eval::heatmap_options(bare).backend(raster));
  CHECK((img.to(at::kInt) - exact.to(at::kInt)).abs().max().item<int>() <= 1);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) CHECK(pixel(img, 2 + 10 * c + 5, 2 + 10 * r + 5) == cebm::eval::viridis(m[r][c].item<double>()));

  // Everything on, with names.
  const std::vector<std::string> names{"T-shirt/top", "Trouser", "Pullover"};
  const at::Tensor square = at::eye(3, at::kDouble) * 0.8 + 0.05;
  const auto full = cebm::eval::heatmap_options{}.class_names(names).row_title("true class").column_title("predicted class");
  const at::Tensor titled = cebm::eval::heatmap(square, cebm::eval::heatmap_options(full).title("1-NN confusion"));
  const at::Tensor untitled = cebm::eval::heatmap(square, full);
  // The title: a band on top with its letters, where the untitled map's margin is blank.
  CHECK(titled.size(1) > untitled.size(1));
  CHECK(titled.size(2) == untitled.size(2));
  CHECK(ink(titled.narrow(1, 0, 20)) > 50);
  CHECK(ink(untitled.narrow(1, 0, 6)) == 0);
  // Names wider than a cell: the row labels widen the left margin, and the column labels turn
  // upwards below the grid, where indices take one line.
  const at::Tensor indexed = cebm::eval::heatmap(square, cebm::eval::heatmap_options(full).class_names({}));
  CHECK(untitled.size(2) > indexed.size(2) + 40);
  CHECK(untitled.size(1) > indexed.size(1) + 40);
  // Values written in the cells: black on the light diagonal, white on the dark cells.
  const at::Tensor plain_cells = cebm::eval::heatmap(square, cebm::eval::heatmap_options(full).show_values(false));
  REQUIRE(plain_cells.sizes() == untitled.sizes());
  const at::Tensor changed = (untitled != plain_cells).any(0);
  CHECK(changed.sum().item<std::int64_t>() > 100);
}

namespace {

/// The frame's edges: the first and last rows and columns with at least `run` pixels of ink.
std::int64_t frame_top(const at::Tensor& img, std::int64_t run = 200) {
  const at::Tensor rows = (img < 100).all(0).sum(1);
  for (std::int64_t y = 0; y < rows.size(0); ++y)
    if (rows[y].item<std::int64_t>() >= run) return y;
  return -1;
}
std::int64_t frame_bottom(const at::Tensor& img, std::int64_t run = 200) {
  const at::Tensor rows = (img < 100).all(0).sum(1);
  for (std::int64_t y = rows.size(0) - 1; y >= 0; --y)
    if (rows[y].item<std::int64_t>() >= run) return y;
  return -1;
}
std::int64_t frame_left(const at::Tensor& img, std::int64_t run = 150) {
  const at::Tensor columns = (img < 100).all(0).sum(0);
  for (std::int64_t x = 0; x < columns.size(0); ++x)
    if (columns[x].item<std::int64_t>() >= run) return x;
  return -1;
}
std::int64_t frame_right(const at::Tensor& img, std::int64_t run = 150) {
  const at::Tensor columns = (img < 100).all(0).sum(0);
  for (std::int64_t x = columns.size(0) - 1; x >= 0; --x)
    if (columns[x].item<std::int64_t>() >= run) return x;
  return -1;
}
/// Pixels of exactly colour c right of the frame (where a legend goes).
std::int64_t legend_colour(const at::Tensor& img, rgb c) {
  const std::int64_t x = frame_right(img) + 1;
  return count_colour(img.narrow(2, x, img.size(2) - x), c);
}

}  // namespace

TEST_CASE("PLplot: the scatter plot's title, axis titles and legend of class names", "[eval][plot][plplot]") {
  if (!plplot_or_warn()) return;
  auto gen = at::detail::createCPUGenerator(11);
  const at::Tensor labels = at::arange(4, at::kLong).repeat_interleave(10);
  const at::Tensor pts = at::randn({40, 2}, gen, at::kDouble) * 0.3 + labels.to(at::kDouble).unsqueeze(1);
  const std::vector<std::string> names{"airplane", "automobile", "bird", "cat"};
  const auto o = cebm::eval::scatter_options{}.class_names(names).x_title("PC 1").y_title("PC 2");
  const at::Tensor img = cebm::eval::scatter(pts, labels, o);
  REQUIRE(img.sizes() == at::IntArrayRef({3, 480, 640}));
  CHECK(img.scalar_type() == at::kByte);
  // The title: the frame moves down, the title's letters above it, nothing there without it.
  const at::Tensor titled = cebm::eval::scatter(pts, labels, cebm::eval::scatter_options(o).title("PCA of the representations"));
  REQUIRE(titled.sizes() == img.sizes());
  CHECK(frame_top(titled) > frame_top(img) + 12);
  CHECK(ink(titled.narrow(1, 0, frame_top(titled) - 3)) > 100);
  CHECK(ink(img.narrow(1, 0, frame_top(img) - 3)) == 0);
  // The legend right of the frame: a square swatch of exactly each class's colour (the markers,
  // inside the frame, are translucent), none without the legend.
  const at::Tensor bare = cebm::eval::scatter(pts, labels, cebm::eval::scatter_options(o).legend(false));
  for (std::int64_t k = 0; k < 4; ++k) {
    INFO("class " << k);
    CHECK(legend_colour(img, cebm::eval::tab10(k)) >= 60);
    CHECK(legend_colour(bare, cebm::eval::tab10(k)) == 0);
  }
  CHECK(legend_colour(img, cebm::eval::tab10(4)) == 0);
  // The names take more room than the indices: the frame is narrower.
  const at::Tensor numbered = cebm::eval::scatter(pts, labels, cebm::eval::scatter_options(o).class_names({}));
  CHECK(frame_right(img) < frame_right(numbered) - 40);
  // Axis titles: the frame makes room for them, and "PC 2" is written left of where the tick
  // labels now start.
  const at::Tensor no_axis_titles = cebm::eval::scatter(pts, labels, cebm::eval::scatter_options(o).x_title("").y_title(""));
  CHECK(frame_left(img) > frame_left(no_axis_titles) + 10);
  CHECK(frame_bottom(img) < frame_bottom(no_axis_titles) - 10);
  CHECK(ink(img.narrow(2, 8, 12)) > 20);
}

TEST_CASE("PLplot: line chart and histogram legends, titles, and their errors", "[eval][plot][plplot]") {
  if (!plplot_or_warn()) return;
  const std::vector<cebm::eval::line_series> series{{"probe", {0, 100, 200}, {0.2, 0.5, 0.6}, 0},
                                                    {"few-label", {0, 100, 200}, {0.1, 0.3, 0.4}, 1}};
  const auto lo = cebm::eval::line_chart_options{}.x_title("iteration").y_title("accuracy");
  const at::Tensor chart = cebm::eval::line_chart(series, lo);
  REQUIRE(chart.sizes() == at::IntArrayRef({3, 400, 720}));
  CHECK(chart.scalar_type() == at::kByte);
  // The legend's line samples, three pixels thick: whole pixels of each series' colour.
  for (const std::int64_t k : {0, 1}) CHECK(legend_colour(chart, cebm::eval::tab10(k)) >= 20);
  CHECK(legend_colour(cebm::eval::line_chart(series, cebm::eval::line_chart_options(lo).legend(false)), cebm::eval::tab10(1)) == 0);
  const at::Tensor titled = cebm::eval::line_chart(series, cebm::eval::line_chart_options(lo).title("Learning curve"));
  CHECK(frame_top(titled) > frame_top(chart) + 12);
  CHECK(ink(titled.narrow(1, 0, frame_top(titled) - 3)) > 50);
  CHECK(ink(chart.narrow(1, 0, frame_top(chart) - 3)) == 0);
  // Names too long for the right: the legend goes under the frame.
  const std::vector<cebm::eval::line_series> long_names{{"10 labels per class: standardised features", {0, 1}, {0.2, 0.3}, 2}};
  const at::Tensor below = cebm::eval::line_chart(long_names, lo);
  const std::int64_t under = frame_bottom(below) + 1;
  CHECK(count_colour(below.narrow(1, under, below.size(1) - under), cebm::eval::tab10(2)) >= 20);

  auto gen = at::detail::createCPUGenerator(5);
  const std::vector<cebm::eval::histogram_series> sets{{"in-distribution", at::randn({300}, gen, at::kDouble), 0},
                                                       {"OOD", at::randn({200}, gen, at::kDouble) + 3, 3}};
  const auto ho = cebm::eval::histogram_options{}.x_title("-E(x)").y_title("density");
  const at::Tensor hist = cebm::eval::histogram(sets, ho);
  REQUIRE(hist.sizes() == at::IntArrayRef({3, 400, 640}));
  CHECK(hist.scalar_type() == at::kByte);
  for (const std::int64_t k : {0, 3}) CHECK(legend_colour(hist, cebm::eval::tab10(k)) >= 60);
  CHECK(legend_colour(hist, cebm::eval::tab10(1)) == 0);
  // Fills under the outlines: translucent colour that the outlines alone do not have.
  const at::Tensor outlines = cebm::eval::histogram(sets, cebm::eval::histogram_options(ho).opacity(0));
  CHECK(((outlines != hist).any(0)).sum().item<std::int64_t>() > 1000);
  const at::Tensor hist_titled = cebm::eval::histogram(sets, cebm::eval::histogram_options(ho).title("OOD scores"));
  CHECK(ink(hist_titled.narrow(1, 0, frame_top(hist_titled) - 3)) > 50);
  CHECK(ink(hist.narrow(1, 0, frame_top(hist) - 3)) == 0);
  // The layout's errors.
  CHECK_THROWS_WITH(cebm::eval::line_chart(series, cebm::eval::line_chart_options(lo).height(60)), Catch::Contains("no room"));
  CHECK_THROWS_WITH(cebm::eval::histogram(sets, cebm::eval::histogram_options(ho).width(60)), Catch::Contains("no room"));
}

TEST_CASE("PLplot: concurrent plots draw what one thread draws, and nothing is printed", "[eval][plot][plplot]") {
  if (!plplot_or_warn()) return;
  const at::Tensor m = at::tensor({0.9, 0.1, 0.2, 0.8}).view({2, 2});
  const auto o = cebm::eval::heatmap_options{}.class_names({"cat", "dog"}).title("confusion");
  const at::Tensor expected = cebm::eval::heatmap(m, o);
  // Standard output and error into a file while the plots draw.
  cebm_test::temp_dir dir;
  std::fflush(stdout), std::fflush(stderr);
  const int out = ::dup(1), err = ::dup(2);
  {
    std::FILE* f = std::fopen(dir.file("printed.txt").c_str(), "w");
    REQUIRE(f);
    ::dup2(::fileno(f), 1), ::dup2(::fileno(f), 2);
    std::fclose(f);
  }
  std::vector<std::thread> threads;
  std::vector<at::Tensor> images(8);
  for (std::size_t i = 0; i < images.size(); ++i) threads.emplace_back([&, i] { images[i] = cebm::eval::heatmap(m, o); });
  for (auto& t : threads) t.join();
  const at::Tensor scatter = cebm::eval::scatter(at::tensor({0.0, 1.0, 1.0, 0.0}).view({2, 2}), at::tensor({0, 1}, at::kLong));
  std::fputs("after\n", stderr);  // the streams are the file again once a plot is done
  std::fflush(stdout), std::fflush(stderr);
  ::dup2(out, 1), ::dup2(err, 2), ::close(out), ::close(err);
  for (const auto& img : images) CHECK(at::equal(img, expected));
  CHECK(scatter.size(0) == 3);
  std::ifstream printed(dir.file("printed.txt"));
  const std::string text((std::istreambuf_iterator<char>(printed)), std::istreambuf_iterator<char>());
  CHECK(text == "after\n");
}

// --- feature extractors ---------------------------------------------------------------------------

TEST_CASE("TorchScript extractor: a module built here, flattened features, errors", "[eval][frechet]") {
  cebm_test::temp_dir dir;
  {
    torch::jit::Module m("m");
    m.define("def forward(self, x):\n    return x * 2.0\n");
    m.save(dir.file("double.pt"));
  }
  cebm::eval::torchscript_extractor ex(dir.file("double.pt"));
  CHECK(ex.name() == "TorchScript module " + dir.file("double.pt"));
  const at::Tensor x = at::randn({5, 1, 2, 3});
  const at::Tensor f = ex.features(x);
  CHECK(f.sizes() == at::IntArrayRef({5, 6}));
  CHECK(at::equal(f, x.flatten(1) * 2.0));
  // extract_features batches and concatenates.
  CHECK(at::equal(cebm::eval::extract_features(ex, x, /*batch=*/2), f));
  // FD through features: FD(x, x) = 0.
  CHECK(cebm::eval::frechet_distance(f, f) == Approx(0.0).margin(1e-12));

  CHECK_THROWS_WITH(cebm::eval::torchscript_extractor(dir.file("missing.pt")), Catch::Contains("no such file"));
  { std::ofstream(dir.file("text.pt")) << "not a zip archive"; }
  CHECK_THROWS_WITH(cebm::eval::torchscript_extractor(dir.file("text.pt")), Catch::Contains("not a loadable TorchScript"));
  {
    torch::jit::Module m("m");
    m.define("def forward(self, x):\n    return x.sum()\n");
    m.save(dir.file("scalar.pt"));
    torch::jit::Module t("t");
    t.define("def forward(self, x):\n    return (x, x)\n");
    t.save(dir.file("tuple.pt"));
  }
  cebm::eval::torchscript_extractor scalar(dir.file("scalar.pt")), tuple(dir.file("tuple.pt"));
  CHECK_THROWS_WITH(scalar.features(x), Catch::Contains("expected real [B, ...]"));
  CHECK_THROWS_WITH(tuple.features(x), Catch::Contains("Tuple"));
  CHECK_THROWS_WITH(ex.features(at::zeros({2, 3})), Catch::Contains("[B, C, H, W]"));
  CHECK_THROWS_WITH(cebm::eval::extract_features(ex, x, 0), Catch::Contains("batch must be >= 1"));
}

TEST_CASE("classifier extractor: learns trivially separable images, 128-d features, save/load", "[eval][frechet]") {
  // Class 0: bright top half; class 1: bright bottom half; plus uniform noise in 0…40.
  auto gen = at::detail::createCPUGenerator(5);
  const std::int64_t n = 600;
  const at::Tensor labels = at::randint(0, 2, {n}, gen, at::kLong);
  at::Tensor images = at::randint(0, 40, {n, 1, 28, 28}, gen, at::kLong);
  const at::Tensor top = (labels == 0).view({n, 1, 1, 1});
  images.narrow(2, 0, 14).add_(top * 180);
  images.narrow(2, 14, 14).add_(top.logical_not() * 180);
  images = images.to(at::kByte);

  std::int64_t steps = 0, total = 0;
  std::vector<double> losses;
  const auto trained = cebm::eval::train_feature_classifier(
      images, labels, cebm::data::image_transform_options{},
      cebm::eval::classifier_training_options{}.batch_size(32).seed(1).dataset_name("synthetic halves"),
      [&](const cebm::eval::classifier_training_step& s) {
        ++steps, total = s.steps;
        losses.push_back(s.loss);
      });
  CHECK(trained.held_out_size == 60);
  CHECK(steps == (540 + 31) / 32);
  CHECK(total == steps);
  INFO("held-out accuracy " << trained.held_out_accuracy);
  CHECK(trained.held_out_accuracy > 0.95);
  CHECK(losses.back() < losses.front());

  cebm::eval::classifier_extractor ex(trained);
  CHECK(ex.name() == "features of a classifier trained by cebm on synthetic halves");
  CHECK(ex.name().find("FID") == std::string::npos);
  auto xgen = at::detail::createCPUGenerator(9);
  const at::Tensor x = cebm::data::to_model_input(images, trained.input, xgen);
  const at::Tensor f = cebm::eval::extract_features(ex, x, 128);
  CHECK(f.sizes() == at::IntArrayRef({n, 128}));
  CHECK(f.scalar_type() == at::kFloat);
  // The features tell the classes apart: FD between the classes far exceeds FD within one.
  const at::Tensor f0 = f.index_select(0, (labels == 0).nonzero().flatten()), f1 = f.index_select(0, (labels == 1).nonzero().flatten());
  const std::int64_t h = f0.size(0) / 2;
  CHECK(cebm::eval::frechet_distance(f0, f1) > 10 * cebm::eval::frechet_distance(f0.narrow(0, 0, h), f0.narrow(0, h, h)));

  // Same seed, same classifier.
  const auto again = cebm::eval::train_feature_classifier(images, labels, {},
                                                          cebm::eval::classifier_training_options{}.batch_size(32).seed(1));
  CHECK(again.held_out_accuracy == trained.held_out_accuracy);
  const auto p1 = trained.model->parameters(), p2 = again.model->parameters();
  REQUIRE(p1.size() == p2.size());
  for (std::size_t i = 0; i < p1.size(); ++i) CHECK(at::equal(p1[i], p2[i]));

  cebm_test::temp_dir dir;
  cebm::eval::save_feature_classifier(trained, dir.file("classifier.pt"));
  cebm::eval::classifier_extractor loaded(dir.file("classifier.pt"));
  CHECK(loaded.name() == ex.name());
  CHECK(loaded.classifier().held_out_accuracy == trained.held_out_accuracy);
  CHECK(loaded.classifier().input.scale() == trained.input.scale());
  CHECK(at::equal(cebm::eval::extract_features(loaded, x, 128), f));
  CHECK_THROWS_WITH(cebm::eval::classifier_extractor(dir.file("missing.pt")), Catch::Contains("no such checkpoint"));
  CHECK_THROWS_WITH(cebm::eval::train_feature_classifier(images, labels.neg(), {}), Catch::Contains("[0, classes)"));
  CHECK_THROWS_WITH(cebm::eval::train_feature_classifier(images.to(at::kFloat), labels, {}), Catch::Contains("uint8"));
}
