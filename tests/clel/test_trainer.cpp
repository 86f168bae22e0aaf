// The CLEL model and its trainer: the model's energies equal their definitions; one step trains
// both θ and φ without touching parameter gradients while sampling; the learning-rate schedules and
// the EMA follow their formulas; checkpoints round-trip, resume is exact, divergence is caught.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "support/op_dtypes.hpp"
#include "support/same_state.hpp"
#include "support/temp_dir.hpp"
#include "support/toy_images.hpp"

#include "cebm/torch/models/clel.hpp"
#include "cebm/torch/train/clel_trainer.hpp"

namespace fs = std::filesystem;

namespace {

using cebm_test::temp_dir;
using cebm_test::toy_images;


cebm::models::clel_options small_gray() {
  return cebm::models::clel_options{}.size(cebm::nn::spherical_ebm_size::small).in_channels(1).image_size(28);
}

// The ci preset at 28×28×1 with batch 4, one SGLD step, nothing written between checkpoints.
cebm::train::clel_trainer_options tiny(const fs::path& out) {
  return cebm_test::quiet_run(cebm::train::clel_trainer_options::preset("ci"), out.string(), 4)
      .model(small_gray())
      .sgld(cebm::langevin_options::clel().steps(1))
      .buffer(cebm::replay_buffer_options::clel().capacity(32))
      .probe_reference(20)
      .probe_query(10)
      .long_run_steps(1)
      .long_run_chains(4);
}

cebm::train::clel_trainer make_trainer(const cebm::train::clel_trainer_options& o, std::uint64_t seed = 11) {
  return cebm::train::clel_trainer(cebm::models::Clel(o.model()), toy_images(40), o, seed);
}

std::map<std::string, torch::Tensor> snapshot(const std::vector<torch::Tensor>& params) {
  std::map<std::string, torch::Tensor> out;
  for (std::size_t i = 0; i < params.size(); ++i) out[std::to_string(i)] = params[i].detach().clone();
  return out;
}

bool any_changed(const std::vector<torch::Tensor>& params, const std::map<std::string, torch::Tensor>& before) {
  for (std::size_t i = 0; i < params.size(); ++i)
    if (!torch::equal(params[i], before.at(std::to_string(i)))) return true;
  return false;
}

// Runs `f` with libtorch on one thread (bitwise-reproducible reductions), restoring the count.
template <class F>
void single_threaded(F&& f) {
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  try {
    f();
  } catch (...) {
    torch::set_num_threads(threads);
    throw;
  }
  torch::set_num_threads(threads);
}

}  // namespace

TEST_CASE("clel model: energy, joint energy, OOD score and representation equal their definitions", "[clel][model]") {
  torch::manual_seed(1);
  cebm::models::Clel m(small_gray());
  m->eval();
  const auto x = torch::rand({3, 1, 28, 28});
  const auto f = m->ebm_f()->forward(x), g = m->ebm_g()->forward(f), h = m->encoder()->forward(x);
  auto cosine = [](const torch::Tensor& a, const torch::Tensor& b) {
    return (a * b).sum(1) / (a.norm(2, 1) * b.norm(2, 1));
  };
  CHECK(m->features(x).sizes() == torch::IntArrayRef({3, 128}));
  CHECK(torch::allclose(m->energy(x), 0.5 * f.pow(2).sum(1), 1e-5, 1e-6));
  const auto z = torch::randn({3, 128});
  CHECK(torch::allclose(m->joint_energy(x, z), 0.5 * f.pow(2).sum(1) - 0.01 * cosine(g, z), 1e-5, 1e-6));
  CHECK(torch::allclose(m->joint_energy(x, z[0]), 0.5 * f.pow(2).sum(1) - 0.01 * cosine(g, z[0].expand({3, 128})), 1e-5, 1e-6));
  CHECK(torch::allclose(m->ood_score(x), 0.5 * f.pow(2).sum(1) - 0.1 * cosine(g, h), 1e-5, 1e-6));
  CHECK(torch::equal(m->representation(x), h));
  CHECK(std::string(cebm::models::ClelImpl::kind) == "clel");
  // Conditional energies: two weighted conditions, one per chain and one shared.
  const auto z2 = torch::randn({128});
  auto conditional = m->conditional_energy({{z, 0.3}, {z2, 2.0}});
  CHECK(torch::allclose(conditional(x), 0.5 * f.pow(2).sum(1) - 0.3 * cosine(g, z) - 2.0 * cosine(g, z2.expand({3, 128})), 1e-5, 1e-6));
  CHECK(torch::allclose(m->conditional_energy({})(x), m->energy(x)));

  // θ and φ partition the parameters.
  const auto theta = m->ebm_parameters(), phi = m->encoder_parameters();
  CHECK(theta.size() + phi.size() == m->parameters().size());
  std::int64_t n_theta = 0, n_f = 0;
  for (const auto& p : theta) n_theta += p.numel();
  for (const auto& p : m->ebm_f()->parameters()) n_f += p.numel();
  for (const auto& p : m->ebm_g()->parameters()) n_f += p.numel();
  CHECK(n_theta == n_f);
  CHECK(m->named_children().contains("ebm_f"));
  CHECK(m->named_children().contains("ebm_g"));
  CHECK(m->named_children().contains("encoder"));
}

TEST_CASE("clel trainer: one step changes θ and φ and leaves parameter gradients alone while sampling",
          "[clel][train]") {
  temp_dir d;
  // The sampler's hook sees the parameters' gradients after every SGLD step.
  std::vector<double> seen;
  cebm::models::Clel* watched = nullptr;
  auto grad_total = [&] {
    double s = 0;
    for (const auto& p : (*watched)->parameters())
      if (p.grad().defined()) s += p.grad().abs().sum().item<double>();
    return s;
  };
  auto o = tiny(d.path);
  o.sgld(cebm::langevin_options::clel().steps(2).hook([&](cebm::langevin_step&) { seen.push_back(grad_total()); }));
  auto t = make_trainer(o);
  watched = &t.model();

  const auto theta0 = snapshot(t.model()->ebm_parameters()), phi0 = snapshot(t.model()->encoder_parameters());
  REQUIRE(t.step());
  CHECK(t.iteration() == 1);
  CHECK(any_changed(t.model()->ebm_parameters(), theta0));
  CHECK(any_changed(t.model()->encoder_parameters(), phi0));
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == 0.0);  // no gradient exists before the first backward, and sampling made none
  CHECK(seen[1] == 0.0);

  const double after_first = grad_total();
  CHECK(after_first > 0);
  seen.clear();
  const auto theta1 = snapshot(t.model()->ebm_parameters()), phi1 = snapshot(t.model()->encoder_parameters());
  REQUIRE(t.step());
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == after_first);  // the previous step's gradients, untouched by the chains
  CHECK(seen[1] == after_first);
  CHECK(any_changed(t.model()->ebm_parameters(), theta1));
  CHECK(any_changed(t.model()->encoder_parameters(), phi1));

  const auto row = t.step_values();
  for (const char* key : {"loss", "loss_ebm", "loss_encoder", "energy_pos", "energy_neg", "alignment", "regularizer",
                          "lr_ebm", "lr_encoder", "grad_norm", "reinit_fraction"}) {
    INFO(key);
    REQUIRE(row.count(key));
    CHECK(std::isfinite(row.at(key)));
  }
  CHECK(row.at("loss") == Approx(row.at("loss_ebm") + row.at("loss_encoder")).epsilon(1e-5));
  // The buffer holds the chains in [0, 1] (the sampler clamps).
  CHECK(t.buffer().contents().min().item<double>() >= 0.0);
  CHECK(t.buffer().contents().max().item<double>() <= 1.0);
}

TEST_CASE("clel trainer: the model's beta is the alignment weight of L_EBM", "[clel][train]") {
  // Two trainers from the same seed differ only in the model's β: their first steps see the same
  // data, chains and networks, so L_EBM(β) − L_EBM(0) = −β · mean cos(g⁺, y⁺).
  temp_dir d0, d1;
  std::map<std::string, double> rows[2];
  single_threaded([&] {
    for (int i = 0; i < 2; ++i) {
      auto o = tiny(i == 0 ? d0.path : d1.path);
      o.model(small_gray().beta(i == 0 ? 0.0 : 0.5));
      torch::manual_seed(5);  // the same initial networks
      auto t = make_trainer(o);
      REQUIRE(t.step());
      rows[i] = t.step_values();
    }
  });
  CHECK(rows[1].at("alignment") == Approx(rows[0].at("alignment")).epsilon(1e-6));
  CHECK(std::abs(rows[1].at("alignment")) > 1e-3);  // the term is not trivially zero
  CHECK(rows[1].at("loss_ebm") - rows[0].at("loss_ebm") == Approx(-0.5 * rows[1].at("alignment")).margin(1e-5));
}

TEST_CASE("clel trainer: Adam warm-up and SGD cosine learning rates follow their formulas", "[clel][train][lr]") {
  const double pi = std::acos(-1.0);
  SECTION("the published schedule") {
    const auto p = cebm::train::clel_trainer_options::preset("paper");
    CHECK(p.ebm_lr_at(0) == Approx(1e-4 / 2000));
    CHECK(p.ebm_lr_at(999) == Approx(1e-4 * 1000 / 2000));
    CHECK(p.ebm_lr_at(1999) == Approx(1e-4));
    CHECK(p.ebm_lr_at(50000) == Approx(1e-4));
    CHECK(p.encoder_lr_at(0) == Approx(0.03));
    CHECK(p.encoder_lr_at(25000) == Approx(0.03 * 0.5 * (1 + std::cos(pi / 4))));
    CHECK(p.encoder_lr_at(50000) == Approx(0.015));
    CHECK(p.encoder_lr_at(100000) == Approx(0.0).margin(1e-15));
    CHECK(p.ema().decay() == Approx(std::pow(0.5, 64.0 / 20000.0)));
    CHECK(p.ema().warmup_iterations() == Approx(312.5));
  }
  SECTION("the optimisers use them, iteration by iteration") {
    temp_dir d;
    auto t = make_trainer(tiny(d.path).iterations(5).warmup_iterations(3));
    for (std::int64_t s = 0; s < 4; ++s) {
      REQUIRE(t.step());
      INFO("iteration " << s);
      CHECK(t.ebm_lr() == Approx(1e-4 * std::min(1.0, (s + 1) / 3.0)));
      CHECK(t.encoder_lr() == Approx(0.03 * 0.5 * (1 + std::cos(pi * s / 5.0))));
    }
  }
}

TEST_CASE("clel trainer: the EMA copies during its warm-up, then averages with d = 0.5^(batch/half-life)",
          "[clel][train][ema]") {
  temp_dir d;
  // batch 4, half-life 8 images: copies at iterations 0 and 1, then d = 0.5^(4/8).
  auto o = tiny(d.path).ema_half_life_images(8).iterations(4);
  auto t = make_trainer(o);
  const double decay = std::pow(0.5, 4.0 / 8.0);
  CHECK(t.options().ema().decay() == Approx(decay));
  const auto at_start = snapshot(t.model()->parameters());
  REQUIRE(t.step());  // iteration 0: the EMA is a plain copy of the parameters before the update
  {
    std::size_t i = 0;
    for (const auto& p : t.averaged_model()->parameters()) CHECK(torch::equal(p, at_start.at(std::to_string(i++))));
    CHECK(any_changed(t.model()->parameters(), at_start));
  }
  t.run();  // iterations 1 (a copy), 2 and 3 (averages)
  REQUIRE(t.iteration() == 4);

  const auto live = t.model()->named_parameters(), avg = t.averaged_model()->named_parameters();
  const auto live_before = snapshot(t.model()->parameters());
  std::map<std::string, torch::Tensor> avg_before;
  for (const auto& p : avg) avg_before[p.key()] = p.value().detach().clone();
  REQUIRE(t.step());  // iteration 4: an averaging update, then the live step

  std::size_t i = 0, differing = 0;
  for (const auto& p : live) {
    INFO(p.key());
    const auto expected = decay * avg_before.at(p.key()) + (1 - decay) * live_before.at(std::to_string(i++));
    CHECK(torch::allclose(avg[p.key()], expected, 1e-5, 1e-7));
    if (!torch::allclose(avg[p.key()], p.value(), 1e-6, 1e-8)) ++differing;
    CHECK_FALSE(avg[p.key()].requires_grad());
  }
  CHECK(differing > 0);  // the average lags the live parameters
  // Buffers (spectral-norm vectors, batch-norm statistics) are copied, not averaged: the copy made
  // at the start of the step equals nothing averaged, so check one batch-norm counter.
  const auto live_buffers = t.model()->named_buffers(), avg_buffers = t.averaged_model()->named_buffers();
  for (const auto& b : avg_buffers)
    if (b.key().find("num_batches_tracked") != std::string::npos) {
      INFO(b.key());
      CHECK(b.value().item<std::int64_t>() + 2 == live_buffers[b.key()].item<std::int64_t>());  // y⁺ and views forwards
    }
  CHECK(!t.averaged_model()->is_training());
}

TEST_CASE("clel trainer: a checkpoint round-trips and an interrupted run resumes exactly", "[clel][train][resume]") {
  single_threaded([] {
    temp_dir a, b, c;
    torch::manual_seed(3);  // the model's initialisation draws from the global generator
    auto straight = make_trainer(tiny(a.path).iterations(4));
    straight.run();
    {  // no config given: the run records what the trainer knows of itself
      std::ifstream config(a.path / "config.json");
      const nlohmann::json recorded = nlohmann::json::parse(config);
      CHECK(recorded.contains("model"));
      CHECK(recorded.contains("seed"));
    }
    CHECK(fs::exists(a.path / "metrics.jsonl"));
    CHECK(fs::exists(a.path / "samples" / "buffer.png"));
    CHECK(fs::exists(a.path / "samples" / "data.png"));
    CHECK(fs::exists(a.path / "samples" / "long_run.png"));
    CHECK(fs::exists(a.path / "checkpoints" / "best.pt"));
    CHECK(straight.long_run_samples().sizes() == torch::IntArrayRef({4, 1, 28, 28}));

    // Round trip: everything the checkpoint holds comes back in a trainer built with another seed.
    auto copy = make_trainer(tiny(c.path), 99);
    copy.resume(straight.checkpoint_path("last"));
    CHECK(copy.iteration() == 4);
    cebm_test::check_same_state(*straight.model(), *copy.model());
    cebm_test::check_same_state(*straight.averaged_model(), *copy.averaged_model(), "ema ");
    CHECK(torch::equal(straight.buffer().contents(), copy.buffer().contents()));
    CHECK(copy.best_probe() == straight.best_probe());
    torch::serialize::InputArchive archive = cebm::train::read_checkpoint(straight.checkpoint_path("last"));
    c10::IValue kind, version;
    REQUIRE(archive.try_read("model_kind", kind));
    CHECK(kind.toStringRef() == "clel");
    CHECK(archive.try_read("cebm_version", version));
    for (const char* key : {"model", "ema", "optimizer_ebm", "optimizer_encoder", "buffer", "loader"}) {
      INFO(key);
      torch::serialize::InputArchive part;
      CHECK(archive.try_read(key, part));
    }

    // 2 iterations (an interrupted run), then a fresh trainer resumes and does 2 more: the same as
    // 4 straight.
    // (The same options: the encoder's cosine schedule depends on the total iterations.)
    torch::manual_seed(3);
    auto first = make_trainer(tiny(b.path).iterations(4));
    first.run(2);
    CHECK(first.iteration() == 2);
    CHECK_FALSE(fs::exists(b.path / "samples" / "long_run.png"));
    torch::manual_seed(12345);  // a different process start: the checkpoint carries everything
    auto second = make_trainer(tiny(b.path).iterations(4));
    second.resume(second.checkpoint_path("last"));
    CHECK(second.iteration() == 2);
    second.run();
    cebm_test::check_same_state(*straight.model(), *second.model());
    cebm_test::check_same_state(*straight.averaged_model(), *second.averaged_model(), "ema ");
    CHECK(torch::equal(straight.buffer().contents(), second.buffer().contents()));
  });
}

TEST_CASE("clel trainer: a non-finite loss writes DIVERGED and keeps last.pt valid", "[clel][train][divergence]") {
  temp_dir d;
  auto ok = make_trainer(tiny(d.path).iterations(2), 5);
  ok.run();
  const auto last = ok.checkpoint_path("last");
  const auto stamp = fs::last_write_time(last);
  const auto size = fs::file_size(last);

  // Poison the chains after the last SGLD step: f(x⁻) and the loss become NaN.
  auto poisoned = tiny(d.path).iterations(4).sgld(
      cebm::langevin_options::clel().steps(1).hook([](cebm::langevin_step& s) { s.x = torch::full_like(s.x, NAN); }));
  SECTION("abort") {
    auto t = make_trainer(poisoned, 5);
    t.resume(last);
    CHECK_THROWS_AS(t.run(), cebm::train::divergence_error);
    CHECK(t.iteration() == 2);
    CHECK(fs::exists(d.path / "DIVERGED"));
    CHECK(fs::last_write_time(last) == stamp);
    CHECK(fs::file_size(last) == size);
    auto reload = make_trainer(tiny(d.path), 5);
    reload.resume(last);
    CHECK(reload.iteration() == 2);
  }
  SECTION("rollback, then stop after the allowed rollbacks") {
    auto t = make_trainer(poisoned.on_divergence(cebm::train::divergence_policy::rollback).max_rollbacks(1), 5);
    t.resume(last);
    CHECK_THROWS_WITH(t.run(), Catch::Contains("diverged at iteration 3"));
    CHECK(t.iteration() == 2);
  }
}

TEST_CASE("clel trainer: wrong geometry, small batches and other checkpoints are refused by name", "[clel][train][errors]") {
  temp_dir d;
  const auto data = toy_images(40);
  CHECK_THROWS_WITH(cebm::train::clel_trainer(cebm::models::Clel(cebm::models::clel_options{}.size(cebm::nn::spherical_ebm_size::small)),
                                              data, tiny(d.path), 1),
                    Catch::Contains("3x32x32") && Catch::Contains("1x28x28"));
  CHECK_THROWS_WITH(make_trainer(tiny(d.path).batch_size(1)), Catch::Contains("batch_size"));
  CHECK_THROWS_WITH(cebm::train::clel_trainer_options::preset("huge"), Catch::Contains("unknown preset"));

  // A checkpoint of another kind.
  torch::serialize::OutputArchive other;
  other.write("model_kind", c10::IValue(std::string("cebm")));
  cebm::train::write_checkpoint(other, d.file("cebm.pt"));
  auto t = make_trainer(tiny(d.path));
  CHECK_THROWS_WITH(t.resume(d.file("cebm.pt")), Catch::Contains("cebm checkpoint") && Catch::Contains("clel"));
}


TEST_CASE("clel trainer: time of the parts of one iteration at 28x28x1", "[.timing]") {
  torch::manual_seed(0);
  cebm::models::Clel m(small_gray());
  m->train();
  auto time = [](const char* what, int reps, auto&& f) {
    f();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) f();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
    std::printf("%-48s %.3f s\n", what, s);
  };
  const char* env = std::getenv("CEBM_TIMING_THREADS");
  if (env) torch::set_num_threads(std::atoi(env));
  for (std::int64_t b : {16, 32}) {
    const auto x = torch::rand({b, 1, 28, 28});
    std::printf("batch %lld, %d threads\n", (long long)b, torch::get_num_threads());
    time("f forward + input gradient (one SGLD step)", 3, [&] {
      auto xr = x.clone().requires_grad_(true);
      torch::autograd::grad({m->energy(xr).sum()}, {xr});
    });
    time("h forward, no grad (y+)", 3, [&] {
      torch::NoGradGuard g;
      m->representation(x);
    });
    time("h forward + backward on 2b views", 2, [&] { m->representation(torch::cat({x, x})).pow(2).mean().backward(); });
    time("strong augmentation of 2b views", 3, [&] {
      auto gen = at::detail::createCPUGenerator(1);
      cebm::data::augmentation_policy::strong(28)(torch::cat({x, x}), gen);
    });
  }
}

TEST_CASE("precision: a CLEL step computes f, g and h in the policy's dtype and keeps the fp32 islands",
          "[clel][train][precision]") {
  for (const cebm::precision_mode mode : {cebm::precision_mode::fp32, cebm::precision_mode::bf16}) {
    INFO(cebm::to_string(mode));
    temp_dir d;
    std::vector<at::ScalarType> chains;  // the Langevin state after every step
    auto o = tiny(d.path).precision(mode);
    o.sgld(cebm::langevin_options(o.sgld()).hook([&](cebm::langevin_step& s) { chains.push_back(s.x.scalar_type()); }));
    auto t = make_trainer(o);
    cebm_test::op_dtypes ops;
    REQUIRE(t.step());
    CHECK(cebm_test::precision_violations(ops, t.precision().compute_dtype()) == "");
    // NT-Xent's softmax over the similarities, and the losses' reductions, in float32.
    CHECK(ops.of("aten::_log_softmax") == std::set<at::ScalarType>{at::kFloat});
    REQUIRE(chains.size() == 1);
    CHECK(chains[0] == at::kFloat);
    CHECK(t.buffer().contents().scalar_type() == at::kFloat);
    for (const auto& p : t.model()->parameters()) CHECK(p.scalar_type() == at::kFloat);
    for (const auto& p : t.averaged_model()->parameters()) CHECK(p.scalar_type() == at::kFloat);
    for (const auto& [key, value] : t.step_values()) {
      INFO(key);
      CHECK(std::isfinite(value));
    }
  }
}
