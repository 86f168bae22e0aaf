// Batched augmentations against hand-computed cases: exact pixel copies, cubic-convolution weights,
// HSV arithmetic on pure colours, luma weights, reflect padding; then the random parts (per-sample
// parameters, probabilities within binomial tolerance, determinism under an explicit generator).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "cebm/sampling/replay_buffer.hpp"
#include "cebm/torch/data/augmentations.hpp"

namespace {

namespace cd = cebm::data;
using Catch::Matchers::Contains;

at::Generator make_gen(std::uint64_t seed) { return at::detail::createCPUGenerator(seed); }

template <class T>
at::TensorOptions opts() {
  return at::TensorOptions().dtype(c10::CppTypeToScalarType<T>::value);
}
template <class T>
double tol() {
  return std::is_same<T, float>::value ? 1e-5 : 1e-12;
}

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

/// One-pixel images [N, 3, 1, 1] from rows of colours.
at::Tensor pixels(std::initializer_list<std::array<double, 3>> colours, at::TensorOptions o) {
  std::vector<double> flat;
  for (const auto& c : colours) flat.insert(flat.end(), c.begin(), c.end());
  return at::tensor(flat, at::TensorOptions().dtype(at::kDouble)).reshape({-1, 3, 1, 1}).to(o.dtype());
}

template <class F>
std::string invalid_argument_message(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<no std::invalid_argument thrown>";
}

// Cubic-convolution weights (a = −0.75) at distances 0.5 and 1.5, by hand:
// W(0.5) = (a+2)·0.125 − (a+3)·0.25 + 1 = 0.59375;  W(1.5) = a·(3.375 − 11.25 + 12 − 4) = −0.09375.
constexpr double w_half = 0.59375, w_three_halves = -0.09375;

}  // namespace

TEST_CASE("horizontal_flip reverses the columns of the chosen samples", "[augment][flip]") {
  auto gen = make_gen(1);
  const at::Tensor x = at::rand({6, 3, 4, 5}, gen, at::kFloat);
  const at::Tensor all = cd::horizontal_flip(x, gen, 1.0);
  for (std::int64_t j = 0; j < 5; ++j) CHECK(all.select(3, j).equal(x.select(3, 4 - j)));
  CHECK(cd::horizontal_flip(x, gen, 0.0).equal(x));

  // p = 0.5: each sample flipped independently; count within 4 standard deviations of n/2.
  const std::int64_t n = 400;
  const at::Tensor y = at::rand({n, 1, 3, 4}, gen, at::kFloat);  // almost surely not symmetric
  const at::Tensor out = cd::horizontal_flip(y, gen, 0.5);
  const at::Tensor flipped = (out == y.flip({3})).flatten(1).all(1);
  const at::Tensor kept = (out == y).flatten(1).all(1);
  CHECK((flipped ^ kept).all().item<bool>());  // every sample is one or the other, whole
  const double count = flipped.sum().item<double>();
  CHECK(std::abs(count - 0.5 * n) < 4.0 * std::sqrt(n * 0.25));
}

TEMPLATE_TEST_CASE("resized_crop with integer steps copies the box's pixels (ramp image)", "[augment][crop]", float, double) {
  // x[n, c, i, j] = (1, −1, ½)_c·(100 i + j). Box (x 3, y 2, w 9, h 5) to 5 × 5: steps (9−1)/(5−1) = 2
  // across and (5−1)/(5−1) = 1 down land on pixels, so out[i][j] = x[2 + i][3 + 2j] exactly.
  const at::Tensor ramp = (100 * at::arange(16, opts<TestType>()).reshape({16, 1}) + at::arange(16, opts<TestType>()));
  const at::Tensor x = at::stack({ramp, -ramp, 0.5 * ramp}).unsqueeze(0).repeat({2, 1, 1, 1});
  const at::Tensor boxes = at::tensor({3, 2, 9, 5, 0, 0, 16, 16}, at::kLong).reshape({2, 4});
  for (auto mode : {cd::crop_mode::slice, cd::crop_mode::resample}) {
    INFO("mode " << (mode == cd::crop_mode::slice ? "slice" : "resample"));
    const at::Tensor out = cd::resized_crop(x.narrow(0, 0, 1), boxes.narrow(0, 0, 1), {5, 5}, mode);
    REQUIRE(out.sizes() == at::IntArrayRef({1, 3, 5, 5}));
    CHECK(out.scalar_type() == x.scalar_type());
    double worst = 0;
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 5; ++j) {
        const double expect = 100.0 * (2 + i) + (3 + 2 * j);
        worst = std::max({worst, std::abs(out[0][0][i][j].item<double>() - expect),
                          std::abs(out[0][1][i][j].item<double>() + expect),
                          std::abs(out[0][2][i][j].item<double>() - 0.5 * expect)});
      }
    CHECK(worst < 1e3 * tol<TestType>());
    // Per-sample boxes in one call: sample 1's box is the whole image at its own size, the identity.
    const at::Tensor both = cd::resized_crop(x, boxes, {5, 5}, mode);
    CHECK(max_abs_diff(both.narrow(0, 0, 1), out) < 1e3 * tol<TestType>());
    const at::Tensor whole = cd::resized_crop(x, boxes, {16, 16}, mode);
    CHECK(max_abs_diff(whole[1], x[1]) < 1e3 * tol<TestType>());
  }
}

TEMPLATE_TEST_CASE("resized_crop is bicubic: cubic-convolution weights at half-pixel steps", "[augment][crop]", float, double) {
  // A unit spike at (4, 4) of an 8 × 8 image, the whole image resized to 15 × 15: output k samples
  // position k/2. Away from the edges both modes read the same taps.
  at::Tensor x = at::zeros({1, 1, 8, 8}, opts<TestType>());
  x[0][0][4][4] = 1;
  const at::Tensor box = at::tensor({0, 0, 8, 8}, at::kLong).reshape({1, 4});
  for (auto mode : {cd::crop_mode::slice, cd::crop_mode::resample}) {
    INFO("mode " << (mode == cd::crop_mode::slice ? "slice" : "resample"));
    const at::Tensor out = cd::resized_crop(x, box, {15, 15}, mode)[0][0];
    const double t = 10 * tol<TestType>();
    CHECK(out[8][8].item<double>() == Approx(1.0).margin(t));
    CHECK(out[8][7].item<double>() == Approx(w_half).margin(t));               // position 3.5: spike 0.5 away
    CHECK(out[8][9].item<double>() == Approx(w_half).margin(t));
    CHECK(out[8][5].item<double>() == Approx(w_three_halves).margin(t));       // position 2.5: 1.5 away
    CHECK(out[5][8].item<double>() == Approx(w_three_halves).margin(t));
    CHECK(out[7][7].item<double>() == Approx(w_half * w_half).margin(t));      // separable
    CHECK(out[7][5].item<double>() == Approx(w_half * w_three_halves).margin(t));
    CHECK(out[8][6].item<double>() == Approx(0.0).margin(t));                  // position 3, a pixel: exact
    CHECK(out.sum().item<double>() == Approx(4.0).margin(1e3 * t));            // each axis: weights sum to 2 over 15 samples
  }
}

TEST_CASE("resized_crop: slice repeats the box's edge pixel, resample reads the image around it", "[augment][crop]") {
  // x[i][j] = j on 8 × 8; box columns 4…7 (all rows) to 8 × 7: column step 0.5, row step 1.
  const at::Tensor x = at::arange(8, at::kDouble).reshape({1, 8}).expand({8, 8}).reshape({1, 1, 8, 8}).contiguous();
  const at::Tensor box = at::tensor({4, 0, 4, 8}, at::kLong).reshape({1, 4});
  const at::Tensor sl = cd::resized_crop(x, box, {8, 7}, cd::crop_mode::slice)[0][0][3];
  const at::Tensor rs = cd::resized_crop(x, box, {8, 7}, cd::crop_mode::resample)[0][0][3];
  // Pixel-aligned outputs are the pixels in both modes.
  for (int k : {0, 2, 4, 6}) {
    CHECK(sl[k].item<double>() == Approx(4 + k / 2).margin(1e-12));
    CHECK(rs[k].item<double>() == Approx(4 + k / 2).margin(1e-12));
  }
  // Output 1 = box position 0.5, taps at box −1, 0, 1, 2. Slice clamps −1 to 0 (column 4):
  // 4·W(1.5) + 4·W(0.5) + 5·W(0.5) + 6·W(1.5) = 4.40625. Resample reads column 3: 4.5.
  CHECK(sl[1].item<double>() == Approx(4 * w_three_halves + 4 * w_half + 5 * w_half + 6 * w_three_halves).margin(1e-12));
  CHECK(sl[1].item<double>() == Approx(4.40625).margin(1e-12));
  CHECK(rs[1].item<double>() == Approx(4.5).margin(1e-12));
  // Output 5 = position 2.5, taps columns 5, 6, 7 and 8. Slice clamps 8 to 7: 6.59375. Resample:
  // column 8 is outside the image, zero padding: 5·W(1.5) + 6·W(0.5) + 7·W(0.5) = 7.25.
  CHECK(sl[5].item<double>() == Approx(6.59375).margin(1e-12));
  CHECK(rs[5].item<double>() == Approx(7.25).margin(1e-12));
}

TEST_CASE("sample_resized_crop_boxes: inside the image, Kornia's ranges, per sample, fallbacks", "[augment][crop]") {
  auto gen = make_gen(3);
  const std::int64_t n = 2000;
  const at::Tensor b = cd::sample_resized_crop_boxes(n, 32, 32, gen);
  REQUIRE(b.sizes() == at::IntArrayRef({n, 4}));
  REQUIRE(b.scalar_type() == at::kLong);
  const at::Tensor x0 = b.select(1, 0), y0 = b.select(1, 1), w = b.select(1, 2), h = b.select(1, 3);
  CHECK((x0 >= 0).all().item<bool>());
  CHECK((y0 >= 0).all().item<bool>());
  CHECK((x0 + w <= 32).all().item<bool>());
  CHECK((y0 + h <= 32).all().item<bool>());
  CHECK((w >= 1).all().item<bool>());
  CHECK((h >= 1).all().item<bool>());
  // The corner reaches both ends of its range.
  CHECK((x0 == 0).any().item<bool>());
  CHECK((x0 + w == 32).any().item<bool>());
  // Area fraction ≥ 0.08 up to rounding of w and h (±0.5 each on sides ≥ 8).
  const at::Tensor frac = (w * h).to(at::kDouble) / 1024.0;
  CHECK(frac.min().item<double>() > 0.065);
  CHECK(frac.max().item<double>() <= 1.0);
  // Aspect ratio within [3/4, 4/3] up to rounding; log-uniform and symmetric, so E log(w/h) ≈ 0
  // (sd of one draw ≈ 0.17, of the mean over 2000 < 0.005).
  const at::Tensor log_ratio = at::log(w.to(at::kDouble) / h.to(at::kDouble));
  CHECK(log_ratio.min().item<double>() > std::log(0.75) - 0.15);
  CHECK(log_ratio.max().item<double>() < std::log(4.0 / 3.0) + 0.15);
  CHECK(std::abs(log_ratio.mean().item<double>()) < 0.03);
  // Per-sample parameters: most boxes differ.
  const auto rows = std::get<0>(at::unique_dim(b, 0));
  CHECK(rows.size(0) > n / 2);

  // No candidate can qualify (area > image): whole image, as Kornia's fallback for a square image.
  const at::Tensor whole = cd::sample_resized_crop_boxes(50, 32, 32, gen, cd::random_resized_crop_options{}.scale({1.5, 2.0}));
  CHECK(whole.equal(at::tensor({0, 0, 32, 32}, at::kLong).reshape({1, 4}).expand({50, 4})));
  // Ratio range above the image's (1 < 2): full width, height round(32 / 2) = 16, random y.
  const at::Tensor wide = cd::sample_resized_crop_boxes(
      200, 32, 32, gen, cd::random_resized_crop_options{}.scale({1.5, 2.0}).ratio({2.0, 3.0}));
  CHECK((wide.select(1, 0) == 0).all().item<bool>());
  CHECK((wide.select(1, 2) == 32).all().item<bool>());
  CHECK((wide.select(1, 3) == 16).all().item<bool>());
  CHECK(wide.select(1, 1).min().item<std::int64_t>() == 0);
  CHECK(wide.select(1, 1).max().item<std::int64_t>() == 16);
}

TEST_CASE("random_resized_crop: shapes, per-sample boxes, bounded overshoot", "[augment][crop]") {
  auto gen = make_gen(4);
  const at::Tensor one = at::rand({1, 3, 32, 32}, gen, at::kFloat);
  const at::Tensor x = one.expand({16, 3, 32, 32}).contiguous();
  for (auto mode : {cd::crop_mode::slice, cd::crop_mode::resample}) {
    const at::Tensor out = cd::random_resized_crop(x, gen, cd::random_resized_crop_options(24, 20).mode(mode));
    REQUIRE(out.sizes() == at::IntArrayRef({16, 3, 24, 20}));
    CHECK(out.scalar_type() == at::kFloat);
    // Identical inputs, different crops.
    for (std::int64_t i = 1; i < 16; ++i) CHECK_FALSE(out[i].equal(out[0]));
    // Bicubic overshoot for inputs in [0, 1]: at most (Σ|W|)² − 1 over each side, Σ|W| ≤ 1.1875 + 0.1875.
    CHECK(out.min().item<double>() > -0.45);
    CHECK(out.max().item<double>() < 1.45);
  }
  // The same generator state gives the same boxes in both modes, and the modes agree away from the box edges.
  auto g1 = make_gen(9), g2 = make_gen(9);
  const at::Tensor a = cd::random_resized_crop(x, g1, cd::random_resized_crop_options(32).mode(cd::crop_mode::slice));
  const at::Tensor c = cd::random_resized_crop(x, g2, cd::random_resized_crop_options(32).mode(cd::crop_mode::resample));
  CHECK(max_abs_diff(a.narrow(2, 12, 8).narrow(3, 12, 8), c.narrow(2, 12, 8).narrow(3, 12, 8)) < 1e-5);
}

TEMPLATE_TEST_CASE("adjust_brightness is additive and adjust_contrast multiplicative, clamped (constant images)",
                   "[augment][color]", float, double) {
  const at::Tensor half = at::full({5, 3, 2, 2}, 0.5, opts<TestType>());
  const at::Tensor b = at::tensor({1.3, 0.6, 1.0, 2.0, 0.2}, opts<TestType>());
  const at::Tensor bright = cd::adjust_brightness(half, b);
  const std::vector<double> expect_b{0.8, 0.1, 0.5, 1.0, 0.0};  // 0.5 + (b − 1), clamped
  for (int i = 0; i < 5; ++i) CHECK(max_abs_diff(bright[i], at::full({3, 2, 2}, expect_b[i], at::kDouble)) < 10 * tol<TestType>());

  const at::Tensor c = at::tensor({1.4, 0.5, 0.0, 1.0, 3.0}, opts<TestType>());
  const at::Tensor contr = cd::adjust_contrast(half, c);
  const std::vector<double> expect_c{0.7, 0.25, 0.0, 0.5, 1.0};  // 0.5·c, clamped
  for (int i = 0; i < 5; ++i) CHECK(max_abs_diff(contr[i], at::full({3, 2, 2}, expect_c[i], at::kDouble)) < 10 * tol<TestType>());
  // Not torchvision's blend with the mean grey: a two-level image keeps its ratio.
  at::Tensor two = at::full({1, 1, 1, 2}, 0.2, opts<TestType>());
  two[0][0][0][1] = 0.4;
  const at::Tensor two_c = cd::adjust_contrast(two, at::scalar_tensor(2.0, opts<TestType>()));
  CHECK(two_c[0][0][0][0].item<double>() == Approx(0.4).margin(10 * tol<TestType>()));
  CHECK(two_c[0][0][0][1].item<double>() == Approx(0.8).margin(10 * tol<TestType>()));
}

TEMPLATE_TEST_CASE("HSV: known conversions, round trip, hue rotation of pure colours, saturation by hand",
                   "[augment][color]", float, double) {
  const auto o = opts<TestType>();
  const double t = 10 * tol<TestType>();
  // S = δ/(V + 1e-8) (Kornia's ε) moves colours by up to ~1e-8, above double round-off.
  const double t_hsv = std::is_same<TestType, float>::value ? 1e-4 : 5e-8;
  // (0.8, 0.4, 0.2): V = 0.8, δ = 0.6, S = 0.75, H = 2π·((0.4 − 0.2)/0.6)/6 = 2π/18.
  const at::Tensor hsv = cd::rgb_to_hsv(pixels({{0.8, 0.4, 0.2}, {0, 0, 1}, {0.5, 0.5, 0.5}}, o));
  CHECK(hsv[0][0].item<double>() == Approx(2 * M_PI / 18).margin(t));
  CHECK(hsv[0][1].item<double>() == Approx(0.75).margin(t));
  CHECK(hsv[0][2].item<double>() == Approx(0.8).margin(t));
  CHECK(hsv[1][0].item<double>() == Approx(2 * M_PI * 4 / 6).margin(t));  // blue at 240°
  CHECK(hsv[2][1].item<double>() == Approx(0.0).margin(t));               // grey: S = 0, H = 0
  CHECK(hsv[2][0].item<double>() == Approx(0.0).margin(t));
  auto gen = make_gen(5);
  const at::Tensor x = at::rand({4, 3, 6, 6}, gen, o);
  CHECK(max_abs_diff(cd::hsv_to_rgb(cd::rgb_to_hsv(x)), x) < t_hsv);

  // Hue: a third of a turn takes red → green → blue → red; −1/6 takes red to magenta; half a turn takes
  // (0.8, 0.4, 0.2) at 20° to 200°: sextant 3, f = 1/3, p = 0.2, q = 0.8·(1 − 0.25) = 0.6 → (0.2, 0.6, 0.8).
  const at::Tensor colours = pixels({{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 0, 0}, {0.8, 0.4, 0.2}, {0.3, 0.3, 0.3}, {0.8, 0.4, 0.2}}, o);
  const at::Tensor shift = at::tensor({1.0 / 3, 1.0 / 3, 1.0 / 3, -1.0 / 6, 0.5, 0.25, 1.0}, o);
  const at::Tensor rotated = cd::adjust_hue(colours, shift);
  const at::Tensor expect = pixels({{0, 1, 0}, {0, 0, 1}, {1, 0, 0}, {1, 0, 1}, {0.2, 0.6, 0.8}, {0.3, 0.3, 0.3}, {0.8, 0.4, 0.2}}, o);
  CHECK(max_abs_diff(rotated, expect) < t_hsv);

  // Saturation of (0.8, 0.4, 0.2) (S = 0.75, H = 20°): ×0.5 → S = 0.375, p = 0.5, t = 0.8·(1 − (2/3)·0.375) = 0.6;
  // ×0 → grey 0.8; ×2 → S clamped to 1: p = 0, t = 0.8/3.
  const at::Tensor base = pixels({{0.8, 0.4, 0.2}, {0.8, 0.4, 0.2}, {0.8, 0.4, 0.2}}, o);
  const at::Tensor sat = cd::adjust_saturation(base, at::tensor({0.5, 0.0, 2.0}, o));
  CHECK(max_abs_diff(sat, pixels({{0.8, 0.6, 0.5}, {0.8, 0.8, 0.8}, {0.8, 0.8 / 3, 0.0}}, o)) < t_hsv);
  // One-channel images have no hue or saturation.
  const at::Tensor grey = at::rand({2, 1, 3, 3}, gen, o);
  CHECK(cd::adjust_hue(grey, at::scalar_tensor(0.3, o)).equal(grey));
  CHECK(cd::adjust_saturation(grey, at::scalar_tensor(0.3, o)).equal(grey));
}

TEST_CASE("color_jitter: order of operations, one order per call, per-sample factors, probability", "[augment][color]") {
  // Constant 0.5, b = 1.3, c = 0.5: brightness first gives (0.5 + 0.3)·0.5 = 0.4, contrast first 0.25 + 0.3 = 0.55.
  const at::Tensor x = at::full({2, 3, 2, 2}, 0.5, at::kFloat);
  cd::color_jitter_params prm;
  prm.brightness = at::full({2}, 1.3, at::kFloat);
  prm.contrast = at::full({2}, 0.5, at::kFloat);
  prm.saturation = at::ones({2}, at::kFloat);
  prm.hue = at::zeros({2}, at::kFloat);
  prm.apply = at::tensor({1, 0}, at::kLong).to(at::kBool);
  prm.order = {0, 1, 2, 3};
  at::Tensor out = cd::apply_color_jitter(x, prm);
  CHECK(max_abs_diff(out[0], at::full({3, 2, 2}, 0.4, at::kDouble)) < 1e-6);
  CHECK(out[1].equal(x[1]));  // not selected
  prm.order = {3, 1, 2, 0};
  out = cd::apply_color_jitter(x, prm);
  CHECK(max_abs_diff(out[0], at::full({3, 2, 2}, 0.55, at::kDouble)) < 1e-6);

  // color_jitter = apply_color_jitter ∘ sample_color_jitter_params with the same generator state.
  auto g1 = make_gen(11), g2 = make_gen(11);
  const at::Tensor img = at::rand({8, 3, 5, 5}, g1, at::kFloat);
  (void)at::rand({8, 3, 5, 5}, g2, at::kFloat);
  const auto drawn = cd::sample_color_jitter_params(8, g2, {}, img);
  CHECK(cd::color_jitter(img, g1).equal(cd::apply_color_jitter(img, drawn)));

  // Factor ranges (CLEL: 0.4, 0.4, 0.4, 0.1) and a random order per call.
  std::set<std::array<int, 4>> orders;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    auto g = make_gen(seed);
    const auto p = cd::sample_color_jitter_params(256, g, {}, img);
    for (const auto& [f, lo, hi] : {std::make_tuple(p.brightness, 0.6, 1.4), std::make_tuple(p.contrast, 0.6, 1.4),
                                    std::make_tuple(p.saturation, 0.6, 1.4), std::make_tuple(p.hue, -0.1, 0.1)}) {
      CHECK(f.min().item<double>() >= lo);
      CHECK(f.max().item<double>() <= hi);
      CHECK(f.max().item<double>() - f.min().item<double>() > 0.8 * (hi - lo));  // per sample, spread over the range
    }
    std::array<int, 4> sorted = p.order;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == std::array<int, 4>{0, 1, 2, 3});
    orders.insert(p.order);
  }
  CHECK(orders.size() >= 10);  // 40 draws from 24 permutations

  // Brightness alone on a constant image: each sample becomes the constant 0.5 + (b − 1), b ~ U[0.6, 1.4].
  auto gen = make_gen(12);
  const std::int64_t n = 500;
  const at::Tensor flat = at::full({n, 3, 4, 4}, 0.5, at::kFloat);
  const auto only_b = cd::color_jitter_options{}.contrast(0).saturation(0).hue(0).p(1.0);
  const at::Tensor jb = cd::color_jitter(flat, gen, only_b);
  const at::Tensor per = jb.flatten(1);
  CHECK(max_abs_diff(per, per.select(1, 0).unsqueeze(1).expand_as(per)) < 1e-6);  // constant within each sample
  CHECK(per.min().item<double>() >= 0.1 - 1e-6);
  CHECK(per.max().item<double>() <= 0.9 + 1e-6);
  CHECK(per.min().item<double>() < 0.15);
  CHECK(per.max().item<double>() > 0.85);
  CHECK(std::abs(per.mean().item<double>() - 0.5) < 4 * 0.2309 / std::sqrt(static_cast<double>(n)));
  // p = 0.5: about half the samples change (b = 1 exactly has probability 0).
  const at::Tensor half = cd::color_jitter(flat, gen, cd::color_jitter_options(only_b).p(0.5));
  const double changed = (half != flat).flatten(1).any(1).sum().item<double>();
  CHECK(std::abs(changed - 0.5 * n) < 4 * std::sqrt(n * 0.25));
  // Jittered images stay in [0, 1]; one-channel images get brightness and contrast only.
  const at::Tensor rnd = at::rand({64, 3, 8, 8}, gen, at::kFloat);
  const at::Tensor full = cd::color_jitter(rnd, gen, cd::color_jitter_options{}.brightness(0.9).contrast(0.9).p(1.0));
  CHECK(full.min().item<double>() >= 0.0);
  CHECK(full.max().item<double>() <= 1.0);
  CHECK(cd::color_jitter(rnd.narrow(1, 0, 1), gen).sizes() == at::IntArrayRef({64, 1, 8, 8}));
}

TEST_CASE("random_grayscale uses the BT.601 luma weights", "[augment][color]") {
  const at::Tensor rgb = pixels({{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0.2, 0.4, 0.6}}, at::TensorOptions().dtype(at::kDouble));
  const at::Tensor y = cd::rgb_to_grayscale(rgb).flatten();
  CHECK(y[0].item<double>() == Approx(0.299).margin(1e-12));
  CHECK(y[1].item<double>() == Approx(0.587).margin(1e-12));
  CHECK(y[2].item<double>() == Approx(0.114).margin(1e-12));
  CHECK(y[3].item<double>() == Approx(0.299 * 0.2 + 0.587 * 0.4 + 0.114 * 0.6).margin(1e-12));

  auto gen = make_gen(6);
  const at::Tensor all = cd::random_grayscale(rgb, gen, 1.0);
  REQUIRE(all.sizes() == rgb.sizes());
  for (int c = 0; c < 3; ++c) CHECK(max_abs_diff(all.select(1, c).flatten(), y) < 1e-12);
  CHECK(cd::random_grayscale(rgb, gen, 0.0).equal(rgb));

  const std::int64_t n = 1000;
  const at::Tensor x = at::rand({n, 3, 2, 2}, gen, at::kFloat);
  const at::Tensor out = cd::random_grayscale(x, gen, 0.2);
  const double grey = (out.select(1, 0) == out.select(1, 1)).flatten(1).all(1).sum().item<double>();
  CHECK(std::abs(grey - 0.2 * n) < 4 * std::sqrt(n * 0.2 * 0.8));
  const at::Tensor one = at::rand({3, 1, 2, 2}, gen, at::kFloat);
  CHECK(cd::random_grayscale(one, gen, 1.0).equal(one));
}

TEST_CASE("pad_and_crop cuts windows of the reflect-padded image", "[augment][crop]") {
  // x[i][j] = 10 i + j on 3 × 4, padding 2, window at (0, 0): rows −2, −1, 0 → 2, 1, 0; columns
  // −2, −1, 0, 1 → 2, 1, 0, 1 (reflection without repeating the edge).
  const at::Tensor x = (10 * at::arange(3, at::kFloat).reshape({3, 1}) + at::arange(4, at::kFloat)).reshape({1, 1, 3, 4});
  const at::Tensor win = cd::pad_and_crop_at(x, at::tensor({0, 0}, at::kLong).reshape({1, 2}), 2);
  const at::Tensor expect = at::tensor({22, 21, 20, 21, 12, 11, 10, 11, 2, 1, 0, 1}, at::kFloat).reshape({1, 1, 3, 4});
  CHECK(win.equal(expect));

  // Against torch's reflection padding for several offsets in one batch.
  auto gen = make_gen(7);
  const at::Tensor img = at::rand({3, 3, 7, 9}, gen, at::kFloat);
  const at::Tensor offsets = at::tensor({0, 0, 6, 6, 2, 5}, at::kLong).reshape({3, 2});
  const at::Tensor padded = at::reflection_pad2d(img, {3, 3, 3, 3});
  const at::Tensor out = cd::pad_and_crop_at(img, offsets, 3);
  for (std::int64_t n = 0; n < 3; ++n) {
    const std::int64_t dx = offsets[n][0].item<std::int64_t>(), dy = offsets[n][1].item<std::int64_t>();
    CHECK(out[n].equal(padded[n].narrow(1, dy, 7).narrow(2, dx, 9)));
  }

  // Random offsets: every output is one of the (2k + 1)² windows, and they vary across samples.
  const at::Tensor same = at::rand({1, 3, 32, 32}, gen, at::kFloat).expand({64, 3, 32, 32}).contiguous();
  const at::Tensor r = cd::pad_and_crop(same, gen, 4);
  REQUIRE(r.sizes() == same.sizes());
  const at::Tensor pad32 = at::reflection_pad2d(same.narrow(0, 0, 1), {4, 4, 4, 4})[0];
  std::set<int> seen;
  for (std::int64_t n = 0; n < 64; ++n) {
    int match = -1;
    for (int dy = 0; dy <= 8 && match < 0; ++dy)
      for (int dx = 0; dx <= 8 && match < 0; ++dx)
        if (r[n].equal(pad32.narrow(1, dy, 32).narrow(2, dx, 32))) match = 9 * dy + dx;
    CHECK(match >= 0);
    seen.insert(match);
  }
  CHECK(seen.size() > 20);  // 64 draws from 81 windows
}

TEST_CASE("augmentation_policy: strong, weak and none; shapes, dtypes, determinism, replay-buffer hook",
          "[augment][policy]") {
  auto gen = make_gen(8);
  const at::Tensor x = at::rand({16, 3, 32, 32}, gen, at::kFloat);
  const auto strong = cd::augmentation_policy::strong(32);
  const at::Tensor s = strong(x, gen);
  REQUIRE(s.sizes() == x.sizes());
  CHECK(s.scalar_type() == at::kFloat);
  CHECK(s.min().item<double>() > -0.45);
  CHECK(s.max().item<double>() < 1.45);
  const at::Tensor sd = strong(x.to(at::kDouble), gen);
  CHECK(sd.scalar_type() == at::kDouble);
  CHECK(cd::augmentation_policy::strong(24)(x, gen).sizes() == at::IntArrayRef({16, 3, 24, 24}));
  CHECK(strong(x.narrow(1, 0, 1), gen).sizes() == at::IntArrayRef({16, 1, 32, 32}));

  // Per-sample parameters: a batch of one image repeated comes out as different images.
  const at::Tensor rep = x.narrow(0, 0, 1).expand({16, 3, 32, 32}).contiguous();
  const at::Tensor views = strong(rep, gen);
  for (std::int64_t i = 1; i < 16; ++i) CHECK_FALSE(views[i].equal(views[0]));

  // Determinism: the generator alone decides; the global seed plays no part.
  auto g1 = make_gen(42), g2 = make_gen(42), g3 = make_gen(43);
  torch::manual_seed(1);
  const at::Tensor a = strong(x, g1);
  torch::manual_seed(2);
  const at::Tensor b = strong(x, g2);
  CHECK(a.equal(b));
  CHECK_FALSE(strong(x, g3).equal(a));

  // Weak: pixels copied from the input (reflections included), same shape; none: identity.
  const auto weak = cd::augmentation_policy::from_name("weak");
  CHECK(weak.type() == cd::augmentation_policy::kind::weak);
  const at::Tensor w = weak(x, gen);
  REQUIRE(w.sizes() == x.sizes());
  CHECK(w.min().item<double>() >= x.min().item<double>());
  CHECK(w.max().item<double>() <= x.max().item<double>());
  CHECK(cd::augmentation_policy::from_name("none")(x, gen).equal(x));
  CHECK(cd::augmentation_policy::from_name("strong", 28)(x, gen).sizes() == at::IntArrayRef({16, 3, 28, 28}));

  // The replay buffer's hook.
  cebm::replay_buffer buffer(cebm::replay_buffer_options::clel().capacity(64), {3, 32, 32}, at::kFloat, gen);
  cebm::replay_buffer::augmentation hook = strong;
  buffer.set_augmentation(hook);
  const auto batch = buffer.draw(8, gen);
  CHECK(batch.samples.sizes() == at::IntArrayRef({8, 3, 32, 32}));
  CHECK_FALSE(batch.samples.equal(buffer.contents().index_select(0, batch.indices)));
}

TEST_CASE("augmentations reject bad arguments, naming the function, the argument, expected and got",
          "[augment][errors]") {
  auto gen = make_gen(10);
  const at::Tensor x = at::rand({2, 3, 8, 8}, gen, at::kFloat);
  CHECK_THAT(invalid_argument_message([&] { cd::horizontal_flip(at::rand({3, 8, 8}, gen, at::kFloat), gen); }),
             Contains("cebm::data::horizontal_flip") && Contains("[N, C, H, W]") && Contains("rank 3"));
  CHECK_THAT(invalid_argument_message([&] { cd::random_grayscale(at::rand({2, 2, 8, 8}, gen, at::kFloat), gen); }),
             Contains("random_grayscale") && Contains("C = 1 or 3") && Contains("2 channels"));
  CHECK_THAT(invalid_argument_message([&] { cd::color_jitter(at::ones({2, 3, 8, 8}, at::kLong), gen); }),
             Contains("color_jitter") && Contains("floating-point") && Contains("Long"));
  CHECK_THAT(invalid_argument_message([&] { cd::horizontal_flip(x, gen, 1.5); }),
             Contains("horizontal_flip") && Contains("p must be a probability in [0, 1]") && Contains("1.5"));
  CHECK_THAT(invalid_argument_message([&] { cd::random_grayscale(x, gen, -0.1); }),
             Contains("random_grayscale") && Contains("p must be"));
  CHECK_THAT(invalid_argument_message([&] { cd::color_jitter(x, gen, cd::color_jitter_options{}.hue(0.7)); }),
             Contains("color_jitter") && Contains("hue must be in [0, 0.5]") && Contains("0.7"));
  CHECK_THAT(invalid_argument_message([&] { cd::color_jitter(x, gen, cd::color_jitter_options{}.brightness(-1)); }),
             Contains("brightness must be finite and >= 0"));
  CHECK_THAT(invalid_argument_message([&] {
               cd::random_resized_crop(x, gen, cd::random_resized_crop_options{}.scale({0.9, 0.1}));
             }),
             Contains("random_resized_crop") && Contains("scale must satisfy 0 < s0 <= s1"));
  CHECK_THAT(invalid_argument_message([&] {
               cd::random_resized_crop(x, gen, cd::random_resized_crop_options{}.ratio({-1.0, 2.0}));
             }),
             Contains("ratio must satisfy"));
  CHECK_THAT(invalid_argument_message([&] { cd::random_resized_crop(x, gen, cd::random_resized_crop_options(0)); }),
             Contains("size must be positive"));
  CHECK_THAT(invalid_argument_message([&] {
               cd::resized_crop(x, at::tensor({5, 0, 4, 4, 0, 0, 8, 8}, at::kLong).reshape({2, 4}), {4, 4});
             }),
             Contains("resized_crop") && Contains("box 0") && Contains("x 5"));
  CHECK_THAT(invalid_argument_message([&] { cd::resized_crop(x, at::zeros({2, 3}, at::kLong), {4, 4}); }),
             Contains("boxes must be an integer tensor [2, 4]"));
  CHECK_THAT(invalid_argument_message([&] { cd::pad_and_crop(x, gen, 8); }),
             Contains("pad_and_crop") && Contains("padding must be in [0, min(H, W)") && Contains("got 8"));
  CHECK_THAT(invalid_argument_message([&] { cd::adjust_brightness(x, at::ones({3})); }),
             Contains("adjust_brightness") && Contains("b must be a 0-dim tensor or a vector [2]"));
  CHECK_THAT(invalid_argument_message([&] { cd::augmentation_policy::from_name("medium"); }),
             Contains("from_name") && Contains("\"medium\""));
  CHECK_THAT(invalid_argument_message([&] { cd::augmentation_policy::weak(4, 2.0); }),
             Contains("augmentation_policy::weak") && Contains("flip_p"));
  CHECK_THAT(invalid_argument_message([&] { cd::augmentation_policy::strong(32)(at::rand({2, 4, 8, 8}, gen, at::kFloat), gen); }),
             Contains("augmentation_policy") && Contains("4 channels"));
  at::Generator none;
  CHECK_THAT(invalid_argument_message([&] { cd::horizontal_flip(x, none); }), Contains("undefined generator"));
}
