// The CLEL losses, energies and EMA against independent truth: NT-Xent written out with loops and a
// hand log-sum-exp, and against torch's cross-entropy on hand-built logits; the EMA against its
// closed form d^k θ₀ + (1 − d^k) θ; the joint energy against its definition; the vMF posterior
// against the closed-form normalisers of S¹ (2π I₀(κ)) and S² (4π sinh κ / κ); the conditional
// energies against the joint energy; Langevin with a strong condition against an unconditioned run.
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "cebm/sampling/langevin.hpp"
#include "cebm/torch/clel/conditional_energy.hpp"
#include "cebm/torch/losses/clel_ebm_loss.hpp"
#include "cebm/torch/clel/ema.hpp"
#include "cebm/torch/clel/energy.hpp"
#include "cebm/torch/losses/nt_xent.hpp"
#include "cebm/torch/clel/ood_score.hpp"

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
at::Generator make_gen(std::uint64_t seed) { return at::detail::createCPUGenerator(seed); }

using matrix = std::vector<std::vector<double>>;

matrix to_matrix(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kDouble).contiguous();
  matrix m(static_cast<std::size_t>(c.size(0)), std::vector<double>(static_cast<std::size_t>(c.size(1))));
  for (std::size_t i = 0; i < m.size(); ++i)
    for (std::size_t j = 0; j < m[i].size(); ++j) m[i][j] = c[static_cast<std::int64_t>(i)][static_cast<std::int64_t>(j)].item<double>();
  return m;
}
double norm(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}
double cos_of(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t k = 0; k < a.size(); ++k) s += a[k] * b[k];
  return s / (norm(a) * norm(b));
}
double max_abs(const at::Tensor& t) { return t.abs().max().item<double>(); }

// NT-Xent by definition: for each view r, −log [exp(s(r, partner)/τ) / Σ_{c ≠ r} exp(s(r, c)/τ)]
// over the other views and every extra negative, with a hand log-sum-exp; mean over the 2n views.
double nt_xent_by_loops(const matrix& views, const matrix& negatives, double tau) {
  const std::size_t two_n = views.size(), n = two_n / 2;
  double total = 0;
  for (std::size_t r = 0; r < two_n; ++r) {
    std::vector<double> logits;
    double positive = 0;
    for (std::size_t c = 0; c < two_n; ++c) {
      if (c == r) continue;  // the masked diagonal
      const double l = cos_of(views[r], views[c]) / tau;
      logits.push_back(l);
      if (c == (r + n) % two_n) positive = l;
    }
    for (const auto& k : negatives) logits.push_back(cos_of(views[r], k) / tau);
    double top = -std::numeric_limits<double>::infinity();
    for (double l : logits) top = std::max(top, l);
    double sum = 0;
    for (double l : logits) sum += std::exp(l - top);
    total += (top + std::log(sum)) - positive;
  }
  return total / static_cast<double>(two_n);
}

template <class T>
constexpr double tolerance() {
  return std::is_same_v<T, float> ? 2e-5 : 1e-12;
}
template <class T>
at::ScalarType dtype_of() {
  return std::is_same_v<T, float> ? at::kFloat : at::kDouble;
}

// A toy module with a parameter, a child module, a float buffer and an integer buffer.
struct ToyImpl : torch::nn::Cloneable<ToyImpl> {
  ToyImpl() { reset(); }
  void reset() override {
    w = register_parameter("w", torch::zeros({2, 3}));
    inner = register_module("inner", torch::nn::Linear(3, 2));
    u = register_buffer("u", torch::zeros({3}));
    count = register_buffer("count", torch::zeros({}, torch::kLong));
  }
  torch::Tensor forward(const torch::Tensor& x) { return inner->forward(x) + x.matmul(w.t()); }
  torch::Tensor w, u, count;
  torch::nn::Linear inner{nullptr};
};
TORCH_MODULE(Toy);

// Every parameter of m set to `value`, every float buffer to `buffer`, the counter to `count`.
void fill(torch::nn::Module& m, double value, double buffer, std::int64_t count) {
  torch::NoGradGuard no_grad;
  for (auto& p : m.parameters()) p.fill_(value);
  for (auto& b : m.named_buffers()) b.value().fill_(b.key() == "count" ? static_cast<double>(count) : buffer);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// NT-Xent

TEMPLATE_TEST_CASE("nt_xent equals the loss written out with loops (3 samples, 6 views, 2 negatives)",
                   "[clel][nt_xent]", float, double) {
  const auto opts = torch::TensorOptions().dtype(dtype_of<TestType>());
  auto gen = make_gen(11);
  // Unnormalised rows of different scales: the loss must normalise them.
  const at::Tensor views = at::randn({6, 4}, gen, f64) * torch::tensor({1.0, 3.0, 0.5, 2.0, 1.0, 7.0}, f64).unsqueeze(1);
  const at::Tensor negatives = at::randn({2, 4}, gen, f64) * 4.0;
  for (double tau : {0.2, 0.5, 1.0}) {
    const double truth = nt_xent_by_loops(to_matrix(views), to_matrix(negatives), tau);
    const double got = cebm::clel::nt_xent(views.to(opts), negatives.to(opts), tau).template item<double>();
    INFO("tau " << tau);
    CHECK(std::abs(got - truth) < tolerance<TestType>() * std::max(1.0, std::abs(truth)));
  }
  // The default temperature is the authors' 0.2.
  CHECK(std::abs(cebm::clel::nt_xent(views.to(opts), negatives.to(opts)).template item<double>() -
                 nt_xent_by_loops(to_matrix(views), to_matrix(negatives), 0.2)) < 10 * tolerance<TestType>());
}

TEST_CASE("nt_xent without extra negatives is plain SimCLR", "[clel][nt_xent]") {
  auto gen = make_gen(12);
  const at::Tensor views = at::randn({8, 5}, gen, f64);
  const double truth = nt_xent_by_loops(to_matrix(views), {}, 0.2);
  CHECK(std::abs(cebm::clel::nt_xent(views, at::empty({0, 5}, f64)).item<double>() - truth) < 1e-12);
  CHECK(std::abs(cebm::clel::nt_xent(views, at::Tensor()).item<double>() - truth) < 1e-12);
}

TEST_CASE("nt_xent equals torch's cross-entropy on hand-built logits", "[clel][nt_xent]") {
  auto gen = make_gen(13);
  const std::int64_t n = 3, m = 2;
  const at::Tensor views = at::randn({2 * n, 4}, gen, f64), negatives = at::randn({m, 4}, gen, f64);
  namespace F = torch::nn::functional;
  const double tau = 0.2;
  const at::Tensor u = F::normalize(views, F::NormalizeFuncOptions().dim(1));
  const at::Tensor k = F::normalize(negatives, F::NormalizeFuncOptions().dim(1));
  at::Tensor logits = torch::cat({u.mm(u.t()), u.mm(k.t())}, 1) / tau;
  for (std::int64_t i = 0; i < 2 * n; ++i) logits[i][i] = -std::numeric_limits<double>::infinity();
  const at::Tensor target = torch::tensor({3, 4, 5, 0, 1, 2}, torch::kLong);
  const double truth = F::cross_entropy(logits, target).item<double>();
  CHECK(std::abs(cebm::clel::nt_xent(views, negatives, tau).item<double>() - truth) < 1e-12);
}

TEST_CASE("nt_xent differentiates through the views and not into the extra negatives", "[clel][nt_xent][autograd]") {
  auto gen = make_gen(14);
  const at::Tensor views = at::randn({6, 4}, gen, f64).requires_grad_(true);
  const at::Tensor negatives = at::randn({2, 4}, gen, f64).requires_grad_(true);
  const at::Tensor loss = cebm::clel::nt_xent(views, negatives, 0.5);
  const auto grads = torch::autograd::grad({loss}, {views, negatives}, {}, /*retain_graph=*/false,
                                           /*create_graph=*/false, /*allow_unused=*/true);
  REQUIRE(grads[0].defined());
  CHECK_FALSE(grads[1].defined());  // detached inside: no path from the loss to the negatives
  // The view gradient against central differences of the loop definition.
  const matrix base = to_matrix(views.detach()), negs = to_matrix(negatives.detach());
  const double h = 1e-6;
  for (std::size_t r : {0u, 4u})
    for (std::size_t c : {1u, 3u}) {
      matrix plus = base, minus = base;
      plus[r][c] += h, minus[r][c] -= h;
      const double fd = (nt_xent_by_loops(plus, negs, 0.5) - nt_xent_by_loops(minus, negs, 0.5)) / (2 * h);
      CHECK(std::abs(grads[0][static_cast<std::int64_t>(r)][static_cast<std::int64_t>(c)].item<double>() - fd) < 1e-7);
    }
}

TEST_CASE("nt_xent rejects odd rows, mismatched dimensions and non-positive temperatures", "[clel][nt_xent][errors]") {
  const at::Tensor views = at::randn({6, 4}, f64);
  CHECK_THROWS_WITH(cebm::clel::nt_xent(at::randn({5, 4}, f64), at::randn({2, 4}, f64)),
                    Catch::Contains("even number of rows"));
  CHECK_THROWS_WITH(cebm::clel::nt_xent(views, at::randn({2, 3}, f64)), Catch::Contains("extra_negatives must be [m, 4]"));
  CHECK_THROWS_WITH(cebm::clel::nt_xent(views, at::randn({2, 4}, f64), 0.0), Catch::Contains("temperature"));
  CHECK_THROWS_WITH(cebm::clel::nt_xent(views, at::randn({2, 4}, f64), -0.2), Catch::Contains("temperature"));
  CHECK_THROWS_AS(cebm::clel::nt_xent(at::randn({6}, f64), at::Tensor()), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// EMA

TEST_CASE("ema decay is 0.5^(64/20000) after a warm-up of 312.5 iterations", "[clel][ema]") {
  const cebm::clel::ema_options o;
  CHECK(o.decay() == Approx(std::pow(0.5, 64.0 / 20000.0)).epsilon(1e-15));
  CHECK(std::abs(o.decay() - 0.997784) < 1e-6);
  Toy live;
  const cebm::clel::ema<Toy> avg(live);
  CHECK(avg.decay_at(0) == 0.0);
  CHECK(avg.decay_at(312) == 0.0);
  CHECK(avg.decay_at(313) == o.decay());
  // The half-life: after half_life / batch updates a past value weighs one half.
  CHECK(std::pow(o.decay(), 20000.0 / 64.0) == Approx(0.5).epsilon(1e-12));
  CHECK(cebm::clel::ema_options{}.batch(128).half_life_images(1000).decay() == Approx(std::pow(0.5, 0.128)));
}

TEST_CASE("ema follows d^k θ₀ + (1 − d^k) θ, copies during the warm-up and copies buffers", "[clel][ema]") {
  Toy live;
  live->to(torch::kFloat64);
  fill(*live, 0.25, 0.0, 0);
  cebm::clel::ema<Toy> avg(live);
  Toy copy = avg.module();
  CHECK(copy.ptr() != live.ptr());
  for (const auto& p : copy->parameters()) CHECK_FALSE(p.requires_grad());

  // Warm-up: every update is a plain copy, whatever came before.
  fill(*live, 3.0, 0.5, 4);
  avg.update(live, 0);
  fill(*live, -1.5, 0.75, 5);  // θ₀ = −1.5
  avg.update(live, 312);
  for (const auto& p : copy->parameters()) CHECK(max_abs(p - (-1.5)) == 0.0);
  CHECK(copy->count.item<std::int64_t>() == 5);

  // Averaging against a live module frozen at θ = 2 (buffers changing every step).
  const double d = avg.options().decay(), theta0 = -1.5, theta = 2.0;
  const int k = 50;
  for (int s = 0; s < k; ++s) {
    fill(*live, theta, 0.01 * s, 100 + s);
    avg.update(live, 313 + s);
  }
  const double closed = std::pow(d, k) * theta0 + (1 - std::pow(d, k)) * theta;
  for (const auto& p : copy->named_parameters()) {
    INFO(p.key());
    CHECK(max_abs(p.value() - closed) < 1e-12);
  }
  // Buffers are the live ones of the last step, not averages.
  CHECK(max_abs(copy->u - 0.01 * (k - 1)) == 0.0);
  CHECK(copy->count.item<std::int64_t>() == 100 + k - 1);

  // The average is a separate copy: changing the live module does not touch it until update.
  fill(*live, 9.0, 9.0, 9);
  CHECK(max_abs(copy->w - closed) < 1e-12);
  // A module update through a reference to torch::nn::Module works the same.
  avg.update(static_cast<const torch::nn::Module&>(*live), 400);
  CHECK(max_abs(copy->w - (d * closed + (1 - d) * 9.0)) < 1e-12);
}

TEST_CASE("ema of a module class, save and load, and mismatched modules", "[clel][ema]") {
  auto live = std::make_shared<ToyImpl>();
  fill(*live, 1.0, 2.0, 3);
  cebm::clel::ema<ToyImpl> avg(live, cebm::clel::ema_options{}.warmup_iterations(0));
  fill(*live, 0.0, 5.0, 6);
  avg.update(live, 0);  // no warm-up: averages at once
  const double d = avg.options().decay();
  CHECK(max_abs(avg.module()->w - d) < 1e-6);
  CHECK(max_abs(avg.module()->u - 5.0) == 0.0);

  std::stringstream stream;
  {
    torch::serialize::OutputArchive out;
    avg.save(out);
    out.save_to(stream);
  }
  auto other = std::make_shared<ToyImpl>();
  cebm::clel::ema<ToyImpl> restored(other);
  {
    torch::serialize::InputArchive in;
    in.load_from(stream);
    restored.load(in);
  }
  CHECK(max_abs(restored.module()->w - avg.module()->w) == 0.0);
  CHECK(max_abs(restored.module()->inner->weight - avg.module()->inner->weight) == 0.0);
  CHECK(max_abs(restored.module()->u - 5.0) == 0.0);
  CHECK(restored.module()->count.item<std::int64_t>() == 6);

  torch::nn::Linear stranger(3, 2);
  CHECK_THROWS_WITH(avg.update(*stranger, 1), Catch::Contains("cebm::clel::ema::update"));
  CHECK_THROWS_AS(avg.update(live, -1), std::invalid_argument);
  CHECK_THROWS_AS(cebm::clel::ema<ToyImpl>(live, cebm::clel::ema_options{}.batch(0)), std::invalid_argument);
  CHECK_THROWS_AS(cebm::clel::ema<ToyImpl>(live, cebm::clel::ema_options{}.half_life_images(-1)), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Energies and the vMF posterior

TEMPLATE_TEST_CASE("marginal and joint energies equal their definitions", "[clel][energy]", float, double) {
  const auto opts = torch::TensorOptions().dtype(dtype_of<TestType>());
  auto gen = make_gen(21);
  const at::Tensor f = at::randn({3, 5}, gen, f64), g = at::randn({3, 4}, gen, f64) * 3.0;
  const at::Tensor z = at::randn({3, 4}, gen, f64), z_one = at::randn({4}, gen, f64);
  const matrix fm = to_matrix(f), gm = to_matrix(g), zm = to_matrix(z), z1 = to_matrix(z_one.unsqueeze(0));
  const double beta = 0.7;
  const at::Tensor e = cebm::clel::marginal_energy(f.to(opts));
  const at::Tensor joint = cebm::clel::joint_energy(f.to(opts), g.to(opts), z.to(opts), beta);
  const at::Tensor joint_one = cebm::clel::joint_energy(f.to(opts), g.to(opts), z_one.to(opts), beta);
  REQUIRE(joint.sizes() == at::IntArrayRef{3});
  REQUIRE(joint_one.sizes() == at::IntArrayRef{3});
  for (std::size_t i = 0; i < 3; ++i) {
    const double half_sq = 0.5 * norm(fm[i]) * norm(fm[i]);
    const auto ii = static_cast<std::int64_t>(i);
    CHECK(std::abs(e[ii].item<double>() - half_sq) < tolerance<TestType>() * 10);
    CHECK(std::abs(joint[ii].item<double>() - (half_sq - beta * cos_of(gm[i], zm[i]))) < tolerance<TestType>() * 10);
    CHECK(std::abs(joint_one[ii].item<double>() - (half_sq - beta * cos_of(gm[i], z1[0]))) < tolerance<TestType>() * 10);
  }
  // The default β is the training value 0.01.
  CHECK(max_abs(cebm::clel::joint_energy(f, g, z) - cebm::clel::joint_energy(f, g, z, 0.01)) == 0.0);
}

TEST_CASE("posterior_params are the vMF natural parameters β g/‖g‖", "[clel][energy][vmf]") {
  auto gen = make_gen(22);
  const at::Tensor g = at::randn({4, 6}, gen, f64) * 5.0;
  const double beta = 1.7;
  const auto theta = cebm::clel::posterior_params(g, beta);
  CHECK(max_abs(theta[0].norm(2, 1) - beta) < 1e-12);
  CHECK(max_abs(theta[0] / beta - g / g.norm(2, 1, true)) < 1e-12);
}

TEST_CASE("E(x, z) − e(x) + log p(z | x) = −B(βĝ), constant in z, with the closed-form normalisers",
          "[clel][energy][vmf]") {
  // On S^{d−1} w.r.t. the surface measure: B = log(2π I₀(κ)) for d = 2, log(4π sinh κ / κ) for d = 3.
  auto closed_form = [](std::int64_t d, double kappa) {
    return d == 2 ? std::log(2 * M_PI * std::cyl_bessel_i(0.0, kappa)) : std::log(4 * M_PI * std::sinh(kappa) / kappa);
  };
  auto gen = make_gen(23);
  for (std::int64_t d : {2, 3, 128}) {
    const at::Tensor f = at::randn({5, 7}, gen, f64), g = at::randn({5, d}, gen, f64);
    for (double beta : {0.01, 2.5, 40.0}) {
      INFO("d " << d << ", beta " << beta);
      at::Tensor first;
      for (int draw = 0; draw < 6; ++draw) {
        const at::Tensor z = cebm::clel::unit_directions(at::randn({5, d}, gen, f64));
        const at::Tensor c = cebm::clel::joint_energy(f, g, z, beta) - cebm::clel::marginal_energy(f) +
                             cebm::clel::log_posterior(g, z, beta);
        if (!first.defined()) first = c;
        CHECK(max_abs(c - first) < 1e-10);  // the same for every z (and every x: B depends on β only)
        CHECK(max_abs(c - c[0]) < 1e-10);
      }
      const double minus_b = -cebm::von_mises_fisher::log_normalizer(cebm::clel::posterior_params(g, beta))[0][0].item<double>();
      CHECK(std::abs(first[0].item<double>() - minus_b) < 1e-10);
      if (d <= 3) CHECK(std::abs(first[0].item<double>() + closed_form(d, beta)) < 1e-9 * std::max(1.0, beta));
    }
  }
}

TEST_CASE("log_posterior integrates to one over S² (quadrature)", "[clel][energy][vmf]") {
  const at::Tensor g = torch::tensor({{0.3, -1.0, 2.0}}, f64);
  const double beta = 3.0;
  // Midpoint rule in (polar angle, azimuth), area element sin ϑ dϑ dφ.
  const int nt = 400, np = 64;
  const at::Tensor t = (at::arange(nt, f64) + 0.5) * (M_PI / nt);
  const at::Tensor p = (at::arange(np, f64) + 0.5) * (2 * M_PI / np);
  const auto grid = at::meshgrid({t, p}, "ij");
  const at::Tensor z = at::stack({grid[0].sin() * grid[1].cos(), grid[0].sin() * grid[1].sin(), grid[0].cos()}, -1)
                           .reshape({-1, 3});
  const at::Tensor density = cebm::clel::log_posterior(g.expand({nt * np, 3}), z, beta).exp();
  const double integral = (density * grid[0].sin().reshape({-1})).sum().item<double>() * (M_PI / nt) * (2 * M_PI / np);
  CHECK(integral == Approx(1.0).epsilon(1e-4));
}

TEST_CASE("energy functions reject wrong shapes and negative beta", "[clel][energy][errors]") {
  const at::Tensor f = at::randn({3, 5}, f64), g = at::randn({3, 4}, f64);
  CHECK_THROWS_WITH(cebm::clel::joint_energy(f, g, at::randn({3, 5}, f64)), Catch::Contains("cebm::clel::joint_energy: z"));
  CHECK_THROWS_WITH(cebm::clel::joint_energy(f, at::randn({2, 4}, f64), at::randn({4}, f64)),
                    Catch::Contains("differ in batch size"));
  CHECK_THROWS_WITH(cebm::clel::joint_energy(f, g, at::randn({4}, f64), -1.0), Catch::Contains("beta"));
  CHECK_THROWS_WITH(cebm::clel::joint_energy(f, g, at::randn({4}, torch::kFloat32)), Catch::Contains("got [4] of Float"));
  CHECK_THROWS_AS(cebm::clel::marginal_energy(at::randn({5}, f64)), std::invalid_argument);
  CHECK_THROWS_AS(cebm::clel::log_posterior(g, at::randn({2, 4}, f64)), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Conditional energies and the OOD score

TEST_CASE("a conditional energy is the joint energy at z̄; a composition sums the conditions", "[clel][conditional]") {
  auto gen = make_gen(31);
  const at::Tensor w = at::randn({5, 3}, gen, f64), v = at::randn({4, 5}, gen, f64);
  auto f_net = [&](const at::Tensor& x) { return x.matmul(w.t()); };
  auto g_net = [&](const at::Tensor& f) { return f.matmul(v.t()); };
  const at::Tensor x = at::randn({6, 3}, gen, f64);
  const at::Tensor f = f_net(x), g = g_net(f);
  const at::Tensor z1 = at::randn({4}, gen, f64), z2 = at::randn({6, 4}, gen, f64);

  auto one = cebm::clel::conditional_energy(f_net, g_net, {{z1, 0.3}});
  CHECK(max_abs(one(x) - cebm::clel::joint_energy(f, g, z1, 0.3)) < 1e-12);
  auto per_chain = cebm::clel::conditional_energy(f_net, g_net, {{z2, 0.3}});
  CHECK(max_abs(per_chain(x) - cebm::clel::joint_energy(f, g, z2, 0.3)) < 1e-12);

  auto both = cebm::clel::conditional_energy(f_net, g_net, {{z1, 0.3}, {z2, 1.1}});
  const at::Tensor e = cebm::clel::marginal_energy(f);
  // Product of experts: E(x | z̄₁, z̄₂) = E(x, z̄₁) + E(x, z̄₂) − e(x).
  CHECK(max_abs(both(x) - (cebm::clel::joint_energy(f, g, z1, 0.3) + cebm::clel::joint_energy(f, g, z2, 1.1) - e)) <
        1e-12);
  // Written out by hand for one row.
  const matrix gm = to_matrix(g), z1m = to_matrix(z1.unsqueeze(0)), z2m = to_matrix(z2);
  CHECK(std::abs(both(x)[2].item<double>() -
                 (e[2].item<double>() - 0.3 * cos_of(gm[2], z1m[0]) - 1.1 * cos_of(gm[2], z2m[2]))) < 1e-12);

  auto none = cebm::clel::conditional_energy(f_net, g_net, {});
  CHECK(max_abs(none(x) - e) < 1e-12);

  CHECK_THROWS_WITH(cebm::clel::conditional_energy(f_net, g_net, {{z1, -0.1}}), Catch::Contains("beta of condition 0"));
  CHECK_THROWS_WITH(cebm::clel::conditional_energy(f_net, g_net, {{z1, 0.1}, {at::Tensor(), 0.1}}),
                    Catch::Contains("direction of condition 1"));
  auto wrong = cebm::clel::conditional_energy(f_net, g_net, {{at::randn({5}, f64), 0.1}});
  CHECK_THROWS_WITH(wrong(x), Catch::Contains("direction of condition 0"));
}

TEST_CASE("unit_directions and mean_direction", "[clel][conditional]") {
  const at::Tensor h = torch::tensor({{3.0, 0.0, 0.0}, {0.0, 0.5, 0.0}, {0.0, 0.0, -2.0}}, f64);
  CHECK(max_abs(cebm::clel::unit_directions(h) - torch::tensor({{1.0, 0.0, 0.0}, {0.0, 1.0, 0.0}, {0.0, 0.0, -1.0}}, f64)) <
        1e-15);
  // Σ ẑ_i = (1, 1, −1): the scales of h do not matter, only the directions.
  CHECK(max_abs(cebm::clel::mean_direction(h) - torch::tensor({1.0, 1.0, -1.0}, f64) / std::sqrt(3.0)) < 1e-15);
}

TEST_CASE("Langevin with a strong condition moves g(f(x)) toward z̄; without it nothing moves", "[clel][conditional]") {
  // A fixed linear f and a bias-free linear g on 3-D chains. g is a permutation, so u = g(f(x)) has
  // ‖u‖ = ‖f(x)‖ and, up to a constant Jacobian, density ∝ exp(−½‖u‖² + β cos(u, z̄)): its direction
  // is exactly vMF(z̄, κ = β) on S², with mean cos = coth β − 1/β (0.95 for β = 20). With β = 0 the
  // direction is uniform and the mean cos is 0. Starting from N(0, I), the mean cos is ≈ 0.
  const at::Tensor w = torch::tensor({{1.0, 0.2, 0.0}, {0.0, 0.8, 0.3}, {0.1, 0.0, 1.2}}, f64);
  const at::Tensor v = torch::tensor({{0.0, 1.0, 0.0}, {0.0, 0.0, 1.0}, {1.0, 0.0, 0.0}}, f64);
  auto f_net = [&](const at::Tensor& x) { return x.matmul(w.t()); };
  auto g_net = [&](const at::Tensor& f) { return f.matmul(v.t()); };
  const at::Tensor z_bar = torch::tensor({1.0, -1.0, 1.0}, f64);
  auto mean_cos = [&](const at::Tensor& x) {
    const at::Tensor g = g_net(f_net(x));
    return torch::cosine_similarity(g, z_bar.expand_as(g), 1).mean().item<double>();
  };

  auto gen = make_gen(32);
  const at::Tensor x0 = at::randn({512, 3}, gen, f64);
  const auto o = cebm::langevin_options{}.steps(300).step_size(0.01).noise_std(std::sqrt(0.02));
  const double start = mean_cos(x0);
  const auto conditioned = cebm::langevin(cebm::clel::conditional_energy(f_net, g_net, {{z_bar, 20.0}}), x0, o, gen);
  const auto unconditioned = cebm::langevin(cebm::clel::conditional_energy(f_net, g_net, {{z_bar, 0.0}}), x0, o, gen);
  const double end = mean_cos(conditioned.samples), control = mean_cos(unconditioned.samples);
  INFO("mean cos: start " << start << ", conditioned " << end << ", control " << control);
  CHECK(std::abs(start) < 0.1);
  CHECK(end - start > 0.75);
  CHECK(end == Approx(1 / std::tanh(20.0) - 1 / 20.0).margin(0.02));  // SGLD bias and 512 chains
  CHECK(std::abs(control) < 0.1);
}

TEST_CASE("ood_score is the joint energy at h with the test-time β = 0.1", "[clel][ood]") {
  auto gen = make_gen(33);
  const at::Tensor f = at::randn({4, 5}, gen, f64), g = at::randn({4, 3}, gen, f64), h = at::randn({4, 3}, gen, f64) * 7;
  CHECK(max_abs(cebm::clel::ood_score(f, g, h) - cebm::clel::joint_energy(f, g, h, 0.1)) == 0.0);
  CHECK(max_abs(cebm::clel::ood_score(f, g, h, 0.3) - cebm::clel::joint_energy(f, g, h, 0.3)) == 0.0);
  // Same ‖f‖: a latent aligned with g scores lower (more likely) than an anti-aligned one.
  const at::Tensor aligned = cebm::clel::ood_score(f, g, g * 2.0), opposed = cebm::clel::ood_score(f, g, -g);
  CHECK(max_abs(opposed - aligned - 0.2) < 1e-12);
  CHECK_THROWS_WITH(cebm::clel::ood_score(f, g, at::randn({4, 4}, f64)), Catch::Contains("cebm::clel::ood_score: h"));
}

// ---------------------------------------------------------------------------------------------
// The EBM loss

TEST_CASE("ebm_loss equals its formula and sends no gradient into y⁺", "[clel][ebm_loss]") {
  auto gen = make_gen(41);
  const at::Tensor f_pos = at::randn({4, 5}, gen, f64).requires_grad_(true);
  const at::Tensor f_neg = (at::randn({4, 5}, gen, f64) * 1.5).requires_grad_(true);
  const at::Tensor g_pos = at::randn({4, 3}, gen, f64).requires_grad_(true);
  const at::Tensor y_pos = at::randn({4, 3}, gen, f64).requires_grad_(true);

  // By hand, for the defaults α = 1, β = 0.01 and for α = 0.3, β = 0.5.
  const matrix fp = to_matrix(f_pos.detach()), fn = to_matrix(f_neg.detach()), gp = to_matrix(g_pos.detach()),
               yp = to_matrix(y_pos.detach());
  auto by_hand = [&](double alpha, double beta) {
    double ep = 0, en = 0, reg = 0, cos = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      const double a = 0.5 * norm(fp[i]) * norm(fp[i]), b = 0.5 * norm(fn[i]) * norm(fn[i]);
      ep += a / 4, en += b / 4, reg += (a * a + b * b) / 4, cos += cos_of(gp[i], yp[i]) / 4;
    }
    return std::vector<double>{ep - en + alpha * reg - beta * cos, ep, en, reg, cos};
  };
  for (auto [alpha, beta] : std::vector<std::pair<double, double>>{{1.0, 0.01}, {0.3, 0.5}}) {
    INFO("alpha " << alpha << ", beta " << beta);
    const auto o = cebm::clel::ebm_loss_options{}.l2(alpha);
    const auto terms = alpha == 1.0 ? cebm::clel::ebm_loss(f_pos, f_neg, g_pos, y_pos, beta)
                                    : cebm::clel::ebm_loss(f_pos, f_neg, g_pos, y_pos, beta, o);
    const auto truth = by_hand(alpha, beta);
    CHECK(std::abs(terms.loss.item<double>() - truth[0]) < 1e-12);
    CHECK(std::abs(terms.energy_pos.item<double>() - truth[1]) < 1e-12);
    CHECK(std::abs(terms.energy_neg.item<double>() - truth[2]) < 1e-12);
    CHECK(std::abs(terms.regularizer.item<double>() - truth[3]) < 1e-12);
    CHECK(std::abs(terms.alignment.item<double>() - truth[4]) < 1e-12);
    CHECK(terms.loss.dim() == 0);
    CHECK_FALSE(terms.alignment.requires_grad());

    const auto grads = torch::autograd::grad({terms.loss}, {f_pos, f_neg, g_pos, y_pos}, {}, false, false,
                                             /*allow_unused=*/true);
    CHECK(grads[0].defined());
    CHECK(grads[1].defined());
    CHECK(grads[2].defined());
    CHECK_FALSE(grads[3].defined());  // y⁺ is a constant
    // ∂L/∂f⁻ = (−1/B + 2α e⁻/B) f⁻, row by row.
    const at::Tensor e_neg = 0.5 * f_neg.detach().pow(2).sum(1, true);
    CHECK(max_abs(grads[1] - (-0.25 + 2 * alpha * e_neg / 4) * f_neg.detach()) < 1e-12);
  }
  // The mean joint energy identity: mean e⁺ − β mean cos = mean E(x⁺, y⁺).
  const auto terms = cebm::clel::ebm_loss(f_pos, f_neg, g_pos, y_pos, 0.2, cebm::clel::ebm_loss_options{}.l2(0));
  const at::Tensor joint = cebm::clel::joint_energy(f_pos, g_pos, y_pos, 0.2).mean();
  CHECK(std::abs(terms.loss.item<double>() - (joint - terms.energy_neg).item<double>()) < 1e-12);

  CHECK_THROWS_WITH(cebm::clel::ebm_loss(f_pos, f_neg, g_pos, at::randn({4, 2}, f64), 0.01), Catch::Contains("y_pos"));
  CHECK_THROWS_WITH(cebm::clel::ebm_loss(f_pos, at::randn({4, 6}, f64), g_pos, y_pos, 0.01), Catch::Contains("feature dimension"));
  CHECK_THROWS_AS(cebm::clel::ebm_loss(f_pos, f_neg, g_pos, y_pos, 0.01, cebm::clel::ebm_loss_options{}.l2(-1)),
                  std::invalid_argument);
  CHECK_THROWS_AS(cebm::clel::ebm_loss(f_pos, f_neg, g_pos, y_pos, NAN), std::invalid_argument);
}
