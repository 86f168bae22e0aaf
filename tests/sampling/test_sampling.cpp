// Langevin dynamics, MALA, replay buffers and the contrastive-divergence loss, against
// distributions with known answers.
#include <cmath>
#include <sstream>

#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "cebm/torch.hpp"

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
at::Generator make_gen(std::uint64_t seed) { return at::detail::createCPUGenerator(seed); }
double phi(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI); }
double Phi(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// 1-D Gaussian energy (x − m)² / (2σ²) on chains [B, 1].
auto gaussian_energy(double m, double sd) {
  return [=](const torch::Tensor& x) { return (x - m).pow(2).sum(1) / (2 * sd * sd); };
}

}  // namespace

TEST_CASE("Langevin on a 2-D correlated Gaussian: mean and covariance of the discretised chain", "[sampling][langevin]") {
  // E(x) = ½ (x − m)ᵀ P (x − m), P = Σ⁻¹. With x' = x − aP(x − m) + √(2a) ε the chain's stationary
  // covariance is exactly Σ_a = Σ (I − aP/2)⁻¹ (→ Σ as a → 0), its mean exactly m.
  const auto m = torch::tensor({1.0, -2.0}, f64);
  const auto sigma = torch::tensor({{1.0, 0.8}, {0.8, 1.0}}, f64);
  const auto prec = torch::inverse(sigma);
  const double a = 0.01;
  const auto sigma_a = torch::matmul(sigma, torch::inverse(torch::eye(2, f64) - 0.5 * a * prec));
  auto energy = [&](const torch::Tensor& x) {
    const auto d = x - m;
    return 0.5 * (torch::matmul(d, prec) * d).sum(1);
  };
  const int n = 4000;
  auto gen = make_gen(1);
  const auto run = cebm::langevin(energy, torch::zeros({n, 2}, f64),
                                  cebm::langevin_options{}.steps(2000).step_size(a).noise_std(std::sqrt(2 * a)), gen);
  const auto x = run.samples;
  const auto mean = x.mean(0);
  const auto d = x - mean;
  const auto cov = torch::matmul(d.t(), d) / (n - 1);
  for (int i = 0; i < 2; ++i) {
    const double se = std::sqrt(sigma_a[i][i].item<double>() / n);
    CHECK(std::abs(mean[i].item<double>() - m[i].item<double>()) < 4 * se);
    for (int j = 0; j < 2; ++j) {
      const double cij = sigma_a[i][j].item<double>();
      const double se_c = std::sqrt((sigma_a[i][i].item<double>() * sigma_a[j][j].item<double>() + cij * cij) / n);
      INFO("cov(" << i << "," << j << ") = " << cov[i][j].item<double>() << ", expected " << cij << " +- " << se_c);
      CHECK(std::abs(cov[i][j].item<double>() - cij) < 4 * se_c);
    }
  }
  // and Σ_a is within 3% of the target Σ at this step size
  CHECK((sigma_a - sigma).abs().max().item<double>() < 0.03);
}

TEST_CASE("MALA on a two-mode Gaussian mixture recovers the mode weights", "[sampling][mala]") {
  // p(x) = 0.3 N(−1.5, 0.6²) + 0.7 N(1.5, 0.6²); P(x > 0) = 0.3 Φ(−2.5) + 0.7 Φ(2.5).
  const double sd = 0.6;
  auto energy = [&](const torch::Tensor& x) {
    const auto z = x.squeeze(1);
    const auto l1 = std::log(0.3) - (z + 1.5).pow(2) / (2 * sd * sd);
    const auto l2 = std::log(0.7) - (z - 1.5).pow(2) / (2 * sd * sd);
    return -torch::logaddexp(l1, l2);
  };
  const int n = 4000;
  auto gen = make_gen(2);
  const auto x0 = torch::rand({n, 1}, f64) * 6 - 3;
  const auto run = cebm::langevin(energy, x0, cebm::langevin_options{}.steps(3000).step_size(0.05).noise_std(std::sqrt(0.1)).metropolis(true), gen);
  const double right = (run.samples > 0).to(torch::kFloat64).mean().item<double>();
  const double expected = 0.3 * Phi(-2.5) + 0.7 * Phi(2.5);
  INFO("fraction in the right mode " << right << ", expected " << expected << ", acceptance "
                                     << run.diagnostics.acceptance_rate.item<double>());
  CHECK(std::abs(right - expected) < 4 * std::sqrt(expected * (1 - expected) / n));
  CHECK(run.diagnostics.acceptance_rate.item<double>() > 0.5);
}

TEST_CASE("a Gaussian restricted to a box: MALA exact, clamped Langevin close", "[sampling][clamp]") {
  // N(0.3, 0.5²) truncated to [0, 1]: closed-form mean and variance.
  const double mu = 0.3, sd = 0.5, alpha = (0 - mu) / sd, beta = (1 - mu) / sd;
  const double z = Phi(beta) - Phi(alpha);
  const double mean = mu + sd * (phi(alpha) - phi(beta)) / z;
  const double var = sd * sd * (1 + (alpha * phi(alpha) - beta * phi(beta)) / z - std::pow((phi(alpha) - phi(beta)) / z, 2));
  const int n = 4000;
  auto gen = make_gen(3);
  const auto x0 = torch::rand({n, 1}, f64);
  const auto box = std::make_pair(0.0, 1.0);
  const auto mala = cebm::langevin(gaussian_energy(mu, sd), x0,
                                   cebm::langevin_options{}.steps(1500).step_size(0.02).noise_std(0.2).clamp(box).metropolis(true), gen);
  const double m1 = mala.samples.mean().item<double>(), v1 = mala.samples.var().item<double>();
  INFO("MALA mean " << m1 << " var " << v1 << "; truncated normal mean " << mean << " var " << var);
  CHECK(std::abs(m1 - mean) < 4 * std::sqrt(var / n));
  CHECK(std::abs(v1 - var) < 4 * var * std::sqrt(2.0 / n));
  CHECK(mala.samples.min().item<double>() >= 0.0);
  CHECK(mala.samples.max().item<double>() <= 1.0);

  const auto ula = cebm::langevin(gaussian_energy(mu, sd), x0,
                                  cebm::langevin_options{}.steps(3000).step_size(0.001).noise_std(std::sqrt(0.002)).clamp(box), gen);
  CHECK(ula.samples.min().item<double>() >= 0.0);
  CHECK(ula.samples.max().item<double>() <= 1.0);
  CHECK(std::abs(ula.samples.mean().item<double>() - mean) < 0.02);
}

TEST_CASE("MALA removes the step-size bias of plain Langevin at a large step", "[sampling][mala]") {
  // Standard normal, step a = 0.5, noise √(2a): plain Langevin's stationary variance is exactly
  // 1 / (1 − a/2) = 4/3; MALA's is 1.
  const int n = 4000;
  const double a = 0.5;
  auto gen = make_gen(4);
  const auto x0 = torch::randn({n, 1}, f64);
  const auto opts = cebm::langevin_options{}.steps(400).step_size(a).noise_std(std::sqrt(2 * a));
  const double v_ula = cebm::langevin(gaussian_energy(0, 1), x0, opts, gen).samples.var().item<double>();
  const auto mala = cebm::langevin(gaussian_energy(0, 1), x0, cebm::langevin_options(opts).metropolis(true), gen);
  const double v_mala = mala.samples.var().item<double>();
  WARN("variance of N(0, 1) at step 0.5: plain Langevin " << v_ula << " (theory 4/3), MALA " << v_mala
                                                          << " (acceptance " << mala.diagnostics.acceptance_rate.item<double>() << ")");
  CHECK(std::abs(v_ula - 4.0 / 3) < 4 * (4.0 / 3) * std::sqrt(2.0 / n));
  CHECK(std::abs(v_mala - 1.0) < 4 * std::sqrt(2.0 / n));
}

TEST_CASE("sampling leaves parameter gradients alone and returns detached samples", "[sampling][autograd]") {
  torch::nn::Linear lin(4, 3);
  lin->weight.mutable_grad() = torch::ones_like(lin->weight);
  auto energy = [&](const torch::Tensor& x) { return lin(x).pow(2).sum(1); };
  auto gen = make_gen(5);
  const auto x0 = torch::randn({8, 4}).requires_grad_();
  const auto run = cebm::langevin(energy, x0, cebm::langevin_options{}.steps(5).step_size(0.1), gen);
  CHECK(torch::equal(lin->weight.grad(), torch::ones_like(lin->weight)));
  CHECK(!lin->bias.grad().defined());
  CHECK(!run.samples.requires_grad());
  CHECK(!run.samples.grad_fn());
  CHECK(!x0.grad().defined());
  CHECK(run.samples.scalar_type() == torch::kFloat32);
  // It also works under a caller's NoGradGuard (evaluation code).
  torch::NoGradGuard no_grad;
  CHECK(cebm::langevin(energy, x0, cebm::langevin_options{}.steps(2), gen).samples.sizes() == x0.sizes());
}

TEST_CASE("identical seeds give identical chains", "[sampling][determinism]") {
  auto energy = gaussian_energy(0, 1);
  const auto x0 = torch::zeros({16, 1}, f64);
  auto g1 = make_gen(9), g2 = make_gen(9), g3 = make_gen(10);
  const auto o = cebm::langevin_options{}.steps(20).step_size(0.1).noise_std(0.3);
  const auto a = cebm::langevin(energy, x0, o, g1).samples;
  torch::manual_seed(123);  // the global generator plays no part
  const auto b = cebm::langevin(energy, x0, o, g2).samples;
  CHECK(torch::equal(a, b));
  CHECK(!torch::equal(a, cebm::langevin(energy, x0, o, g3).samples));
}

TEST_CASE("non-finite energies stop the run naming the step, or freeze chains when asked", "[sampling][errors]") {
  int calls = 0;
  // Chain 3 gets a NaN energy from the 6th evaluation on (evaluation k is the point after step k).
  auto energy = [&](const torch::Tensor& x) {
    auto e = 0.5 * x.pow(2).sum(1);
    if (calls++ >= 5) e = e + torch::where(torch::arange(x.size(0)) == 3, torch::full({}, NAN, x.options()), torch::zeros({}, x.options()));
    return e;
  };
  auto gen = make_gen(6);
  const auto x0 = torch::ones({6, 2}, f64);
  const auto o = cebm::langevin_options{}.steps(10).step_size(0.1).noise_std(0.01);
  CHECK_THROWS_WITH(cebm::langevin(energy, x0, o, gen), Catch::Contains("not finite at step 5 of 10"));
  calls = 0;
  const auto run = cebm::langevin(energy, x0, cebm::langevin_options(o).skip_nonfinite(true), gen);
  CHECK(run.diagnostics.nonfinite_chains.item<std::int64_t>() == 1);
  CHECK(torch::isfinite(run.samples).all().item<bool>());
  CHECK(torch::isfinite(run.diagnostics.energy_end).item<bool>());
  // chain 3 stopped after 5 steps; the others went on towards 0
  CHECK(run.samples[3].abs().min().item<double>() > run.samples[0].abs().max().item<double>());
}

TEST_CASE("SGLD evaluates the energy once per step and reports the last step's energies", "[sampling][diagnostics]") {
  int calls = 0;
  auto energy = [&](const torch::Tensor& x) {
    ++calls;
    return 0.5 * x.pow(2).sum(1);
  };
  double last_before = NAN;
  auto gen = make_gen(9);
  const auto o = cebm::langevin_options{}.steps(7).step_size(0.1).noise_std(0.01).hook(
      [&](cebm::langevin_step& s) { last_before = s.energy.mean().item<double>(); });
  const auto run = cebm::langevin(energy, torch::full({5, 3}, 2.0, f64), o, gen);
  CHECK(calls == 7);  // E(x₀) … E(x₆): none after the last step
  CHECK(run.diagnostics.energy_end.item<double>() == Approx(last_before).epsilon(1e-14));
  calls = 0;
  cebm::langevin(energy, torch::full({5, 3}, 2.0, f64), cebm::langevin_options(o).steps(0).hook({}), gen);
  CHECK(calls == 1);
}

TEST_CASE("gradient clipping bounds the step; the options refuse contradictions", "[sampling][options]") {
  auto energy = [](const torch::Tensor& x) { return 1000.0 * x.sum(1); };
  auto gen = make_gen(7);
  const auto run = cebm::langevin(energy, torch::zeros({2, 3}, f64),
                                  cebm::langevin_options{}.steps(3).step_size(1.0).noise_std(0.0).grad_clip(100.0), gen);
  CHECK(torch::allclose(run.samples, torch::full({2, 3}, -300.0, f64)));
  CHECK_THROWS_WITH(cebm::langevin(energy, torch::zeros({2, 3}), cebm::langevin_options{}.metropolis(true).grad_clip(1.0), gen),
                    Catch::Contains("MALA"));
  CHECK_THROWS_WITH(cebm::langevin([](const torch::Tensor& x) { return x.sum(); }, torch::zeros({2, 3}), cebm::langevin_options{}, gen),
                    Catch::Contains("one value per chain"));
  const auto clel = cebm::langevin_options::clel();
  CHECK(clel.step_size() == 100.0);
  CHECK(clel.noise_std() == 0.001);
  CHECK(clel.clamp()->second == 1.0);
  CHECK(cebm::langevin_options::cebm().noise_std() == 0.0075);
}

TEST_CASE("diagnostics: energies, gradient norm, range; the hook sees every step", "[sampling][diagnostics]") {
  // No step and no noise: the chains stay put, so every diagnostic is known exactly.
  const auto x0 = torch::tensor({{3.0, 4.0}, {0.0, 1.0}}, f64);
  std::vector<std::int64_t> seen;
  auto gen = make_gen(8);
  const auto run = cebm::langevin(gaussian_energy(0, 1), x0,
                                  cebm::langevin_options{}.steps(4).step_size(0).noise_std(0).hook(
                                      [&](cebm::langevin_step& s) { seen.push_back(s.step); }),
                                  gen);
  const auto d = run.diagnostics.to_map();
  CHECK(d.at("energy_start") == Approx((12.5 + 0.5) / 2));
  CHECK(d.at("energy_end") == Approx((12.5 + 0.5) / 2));
  CHECK(d.at("grad_norm") == Approx((5.0 + 1.0) / 2));
  CHECK(d.at("sample_min") == 0.0);
  CHECK(d.at("sample_max") == 4.0);
  CHECK(d.count("acceptance_rate") == 0);
  CHECK(seen == std::vector<std::int64_t>{0, 1, 2, 3});
}

TEST_CASE("replay buffer: draws with and without replacement, restarts, write-back", "[sampling][buffer]") {
  auto gen = make_gen(11);
  SECTION("with replacement repeats indices; distinct never does") {
    cebm::replay_buffer small(cebm::replay_buffer_options{}.capacity(10), {2}, f64, gen);
    const auto b = small.draw(1000, gen);
    CHECK(std::get<0>(torch::_unique(b.indices)).numel() <= 10);
    CHECK(b.indices.min().item<std::int64_t>() >= 0);
    CHECK(b.indices.max().item<std::int64_t>() < 10);
    cebm::replay_buffer clel(cebm::replay_buffer_options::clel().capacity(100), {2}, f64, gen);
    CHECK(std::get<0>(torch::_unique(clel.draw(64, gen).indices)).numel() == 64);
    CHECK_THROWS_WITH(clel.draw(101, gen), Catch::Contains("distinct"));
  }
  SECTION("restart rate is binomial and restarted chains come from the init distribution") {
    cebm::replay_buffer buf(cebm::replay_buffer_options::cebm(), {3}, f64, gen);
    const auto all = torch::arange(5000);
    buf.write_back(all, torch::full({5000, 3}, 5.0, f64));  // mark every stored chain
    const int n = 20000;
    const auto b = buf.draw(n, gen);
    const double frac = b.reinit_fraction.item<double>();
    CHECK(std::abs(frac - 0.05) < 4 * std::sqrt(0.05 * 0.95 / n));
    const auto fresh_rows = b.samples.index({b.reinit});
    const auto kept_rows = b.samples.index({b.reinit.logical_not()});
    CHECK(fresh_rows.abs().max().item<double>() <= 1.0);  // U[−1, 1]
    CHECK(torch::all(kept_rows == 5.0).item<bool>());
  }
  SECTION("write-back lands at the drawn indices") {
    cebm::replay_buffer buf(cebm::replay_buffer_options{}.capacity(50).reinit_prob(0), {2}, f64, gen);
    const auto b = buf.draw(20, gen);
    const auto moved = b.samples + 100;
    buf.write_back(b.indices, moved);
    const auto stored = buf.contents().index_select(0, b.indices);
    // With duplicate indices the last write wins: compare each index with its last occurrence.
    for (int i = 0; i < 20; ++i) {
      int last = i;
      for (int j = i + 1; j < 20; ++j)
        if (b.indices[j].item<std::int64_t>() == b.indices[i].item<std::int64_t>()) last = j;
      CHECK(torch::equal(stored[i], moved[last]));
    }
    CHECK_THROWS_WITH(buf.write_back(b.indices, torch::zeros({20, 3}, f64)), Catch::Contains("[n, 2]"));
  }
  SECTION("init from data and Gaussian; augmentation applied to every draw") {
    const auto data = torch::arange(12, f64).reshape({4, 3});
    cebm::replay_buffer buf(cebm::replay_buffer_options{}.capacity(30).init(cebm::buffer_init::from_data(data)), {3}, f64, gen);
    const auto c = buf.contents();
    for (int i = 0; i < 30; ++i) CHECK(torch::fmod(c[i][0], 3.0).item<double>() == 0.0);
    buf.set_augmentation([](const at::Tensor& x, at::Generator&) { return x * 0 + 7; });
    CHECK(torch::all(buf.draw(5, gen).samples == 7).item<bool>());
    cebm::replay_buffer g(cebm::replay_buffer_options{}.capacity(20000).init(cebm::buffer_init::gaussian(2.0, 0.5)), {1}, f64, gen);
    CHECK(std::abs(g.contents().mean().item<double>() - 2.0) < 4 * 0.5 / std::sqrt(20000.0));
    CHECK_THROWS_WITH(cebm::replay_buffer(cebm::replay_buffer_options{}.init(cebm::buffer_init::from_data(torch::zeros({4, 2}))), {3}, f64, gen),
                      Catch::Contains("init data"));
  }
}

TEST_CASE("replay buffer: uint8 storage and save/load round trip", "[sampling][buffer][checkpoint]") {
  auto gen = make_gen(12);
  cebm::replay_buffer buf(cebm::replay_buffer_options{}.capacity(64).store_uint8(true), {1, 4, 4}, f64, gen);
  const auto x = torch::rand({64, 1, 4, 4}, f64) * 2 - 1;
  buf.write_back(torch::arange(64), x);
  CHECK((buf.contents() - x).abs().max().item<double>() <= 1.0 / 255 + 1e-12);  // half a level of 2/255

  std::stringstream stream;
  {
    torch::serialize::OutputArchive out;
    buf.save(out);
    out.save_to(stream);
  }
  cebm::replay_buffer other(cebm::replay_buffer_options{}.capacity(64).store_uint8(true), {1, 4, 4}, f64, gen);
  torch::serialize::InputArchive in;
  in.load_from(stream);
  other.load(in);
  CHECK(torch::equal(other.contents(), buf.contents()));

  std::stringstream again;
  {
    torch::serialize::OutputArchive out;
    buf.save(out);
    out.save_to(again);
  }
  cebm::replay_buffer wrong(cebm::replay_buffer_options{}.capacity(32), {1, 4, 4}, f64, gen);
  torch::serialize::InputArchive in2;
  in2.load_from(again);
  CHECK_THROWS_WITH(wrong.load(in2), Catch::Contains("[64, 1, 4, 4]") && Catch::Contains("[32, 1, 4, 4]"));
}

TEST_CASE("chains and their generator on different devices are refused by name", "[sampling][device]") {
  // The meta device stands in for a GPU here: a CPU generator cannot draw the noise of chains that
  // live elsewhere, and the sampler says so before any work instead of failing inside ATen.
  auto cpu = make_gen(1);
  const auto meta = torch::zeros({4, 2}, f64.device(torch::kMeta));
  const auto o = cebm::langevin_options{}.steps(2).step_size(0.1).noise_std(0.1);
  CHECK_THROWS_WITH(cebm::langevin(gaussian_energy(0, 1), meta, o, cpu),
                    Catch::Contains("cebm::langevin") && Catch::Contains("generator draws on cpu") &&
                        Catch::Contains("tensors are on meta") && Catch::Contains("make_generator"));
  // make_generator gives a generator of the device asked for, seeded: the same seed, the same draws.
  auto a = cebm::make_generator(torch::kCPU, 5), b = cebm::make_generator(torch::kCPU, 5);
  CHECK(a.device() == torch::Device(torch::kCPU));
  CHECK(torch::equal(at::normal(0.0, 1.0, {8}, a), at::normal(0.0, 1.0, {8}, b)));
}

TEST_CASE("persistent Langevin: draw, sample, write back, with restart diagnostics", "[sampling][buffer]") {
  auto gen = make_gen(13);
  cebm::replay_buffer buf(cebm::replay_buffer_options{}.capacity(100).reinit_prob(0.5), {2}, f64, gen);
  const auto before = buf.contents().clone();
  const auto run = cebm::persistent_langevin(buf, gaussian_energy(0, 1), 40, cebm::langevin_options{}.steps(3).step_size(0.1), gen);
  CHECK(run.samples.sizes() == torch::IntArrayRef({40, 2}));
  CHECK(run.diagnostics.reinit_fraction.defined());
  CHECK(!torch::equal(before, buf.contents()));
}

TEST_CASE("contrastive divergence: mean of squares, both or data-only, gradients", "[train][cd]") {
  const auto pos = torch::tensor({1.0, 3.0}, f64).requires_grad_();
  const auto neg = torch::tensor({-2.0, 0.0}, f64).requires_grad_();
  const auto both = cebm::contrastive_divergence(pos, neg, cebm::cd_options{}.l2(0.1));
  // gap 2 − (−1) = 3; R = mean(1, 9) + mean(4, 0) = 7 (the square of the means would give 5)
  CHECK(both.loss.item<double>() == Approx(3.0 + 0.1 * 7));
  CHECK(both.gap.item<double>() == Approx(3.0));
  CHECK(both.regularizer.item<double>() == Approx(7.0));
  const auto data_only = cebm::contrastive_divergence(pos, neg, cebm::cd_options{}.l2(0.1).regularize(cebm::cd_regularizer::data_only));
  CHECK(data_only.loss.item<double>() == Approx(3.0 + 0.1 * 5));
  const auto g = torch::autograd::grad({both.loss}, {pos, neg});
  // ∂L/∂E⁺ᵢ = 1/n + 2c E⁺ᵢ/n, ∂L/∂E⁻ᵢ = −1/n + 2c E⁻ᵢ/n
  CHECK(torch::allclose(g[0], torch::tensor({0.5 + 0.1, 0.5 + 0.3}, f64)));
  CHECK(torch::allclose(g[1], torch::tensor({-0.5 - 0.2, -0.5}, f64)));
  CHECK_THROWS_WITH(cebm::contrastive_divergence(torch::tensor({std::nan(""), 1.0}), torch::zeros({2})), Catch::Contains("data E(x+)"));
  CHECK_THROWS_WITH(cebm::contrastive_divergence(torch::zeros({2, 2}), torch::zeros({2})), Catch::Contains("[B]"));
}
