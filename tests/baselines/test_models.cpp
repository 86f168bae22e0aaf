// The baselines' networks, models and trainers: Table 7–8 geometries, the transposed convolution
// against libtorch's own, the models' uses, BIGAN's schedule and gradient routing, and exact resume.
#include <catch2/catch.hpp>

#include <filesystem>

#include <torch/torch.h>

#include <cebm/torch/models/bigan.hpp>
#include <cebm/torch/models/vae.hpp>
#include <cebm/torch/nn/conv_transpose.hpp>
#include <cebm/torch/train/bigan_trainer.hpp>
#include <cebm/torch/train/vae_trainer.hpp>

#include "support/op_dtypes.hpp"
#include "support/same_state.hpp"
#include "support/temp_dir.hpp"
#include "support/toy_images.hpp"

namespace fs = std::filesystem;

namespace {

using cebm_test::temp_dir;
using cebm_test::toy_images;


template <class O>
O small(O o, const fs::path& out) {
  return cebm_test::quiet_run(o, out.string()).sample_every(2);
}

}  // namespace

TEST_CASE("conv_transpose2d equals libtorch's transposed convolution, values and gradients", "[baselines][nn]") {
  struct layer { std::int64_t in, out, k, s, p, side; };
  for (const layer l : {layer{32, 64, 4, 2, 1, 6}, layer{64, 64, 4, 2, 0, 12}, layer{64, 1, 3, 1, 0, 26}, layer{128, 64, 4, 1, 1, 1},
                        layer{64, 32, 3, 2, 1, 4}}) {
    const at::Tensor x = at::randn({3, l.in, l.side, l.side}, at::kDouble).requires_grad_(true);
    const at::Tensor w = at::randn({l.in, l.out, l.k, l.k}, at::kDouble).requires_grad_(true);
    const at::Tensor b = at::randn({l.out}, at::kDouble).requires_grad_(true);
    const at::Tensor ours = cebm::nn::conv_transpose2d(x, w, b, l.s, l.p);
    const at::Tensor ref = at::conv_transpose2d(x, w, b, l.s, l.p);
    REQUIRE(ours.sizes() == ref.sizes());
    CHECK(at::allclose(ours, ref, 1e-10, 1e-10));
    const at::Tensor up = at::randn_like(ref);
    const auto g1 = torch::autograd::grad({ours}, {x, w, b}, {up});
    const auto g2 = torch::autograd::grad({ref}, {x, w, b}, {up});
    for (int i = 0; i < 3; ++i) CHECK(at::allclose(g1[i], g2[i], 1e-9, 1e-9));
  }
  CHECK_THROWS_WITH(cebm::nn::conv_transpose2d(at::zeros({1, 2, 3, 3}), at::zeros({3, 1, 3, 3}), {}, 1, 0),
                    Catch::Contains("cebm::nn::conv_transpose2d"));
}

TEST_CASE("Tables 7 and 8: encoder, decoder, generator and discriminator shapes", "[baselines][nn]") {
  using namespace cebm::nn;
  const at::Tensor mnist = at::rand({2, 1, 28, 28}), cifar = at::rand({2, 3, 32, 32}), z = at::randn({2, 128});
  for (const auto& o : {gaussian_encoder_options::vae_mnist(), gaussian_encoder_options::bigan_mnist()}) {
    const auto [mean, log_std] = GaussianEncoder(o)->forward(mnist);
    CHECK(mean.sizes() == at::IntArrayRef{2, 128});
    CHECK(log_std.sizes() == at::IntArrayRef{2, 128});
  }
  CHECK(std::get<0>(GaussianEncoder(gaussian_encoder_options::vae_cifar())->forward(cifar)).sizes() == at::IntArrayRef{2, 128});
  CHECK(ConvDecoder(conv_decoder_options::vae_mnist())->forward(z).sizes() == at::IntArrayRef{2, 1, 28, 28});
  CHECK(ConvDecoder(conv_decoder_options::vae_cifar())->forward(z).sizes() == at::IntArrayRef{2, 3, 32, 32});
  CHECK(ConvDecoder(conv_decoder_options::bigan_mnist())->forward(z).sizes() == at::IntArrayRef{2, 1, 28, 28});
  CHECK(ConvDecoder(conv_decoder_options::bigan_cifar())->forward(z).sizes() == at::IntArrayRef{2, 3, 32, 32});
  CHECK(JointDiscriminator(joint_discriminator_options::mnist())->forward(mnist, z).sizes() == at::IntArrayRef{2});
  CHECK(JointDiscriminator(joint_discriminator_options::cifar())->forward(cifar, z).sizes() == at::IntArrayRef{2});
  CHECK_THROWS_WITH(GaussianEncoder()->forward(cifar), Catch::Contains("expected images [B, 1, 28, 28], got [2, 3, 32, 32]"));
  CHECK_THROWS_WITH(ConvDecoder()->forward(at::zeros({2, 50})), Catch::Contains("expected z [B, 128], got [2, 50]"));
  CHECK_THROWS_WITH(JointDiscriminator()->forward(mnist, at::zeros({3, 128})), Catch::Contains("JointDiscriminator"));
  CHECK_THROWS_WITH(cebm::models::Vae(cebm::models::vae_options{}.decoder(conv_decoder_options{}.latent_dim(50))),
                    Catch::Contains("the encoder has 128 latent dimensions, the decoder 50"));
}

TEST_CASE("VAE and GMM-VAE: bound, log-likelihood, representation and samples", "[baselines][vae]") {
  torch::manual_seed(1);
  const at::Tensor x = at::rand({4, 1, 28, 28});
  auto gen = at::detail::createCPUGenerator(2);
  const auto small_is = cebm::variational::importance_options{}.samples(40).rows(64);
  cebm::models::Vae vae(cebm::models::vae_options::mnist(16).importance(small_is));
  cebm::models::GmmVae gmm(cebm::models::vae_options::mnist(16).components(5).importance(small_is));
  for (auto* name : {"vae", "gmm_vae"}) {
    INFO(name);
    const bool is_vae = std::string(name) == "vae";
    const auto t = is_vae ? vae->elbo(x, gen) : gmm->elbo(x, gen);
    CHECK(t.elbo.sizes() == at::IntArrayRef{4});
    CHECK(at::allclose(t.elbo, t.log_likelihood - t.kl));
    // Bernoulli log-likelihood on [0, 1] pixels: Σ x·η − softplus(η) (minus the binary cross-entropy).
    const at::Tensor e = is_vae ? vae->energy(x) : gmm->energy(x);
    CHECK(e.sizes() == at::IntArrayRef{4});
    CHECK(at::isfinite(e).all().item<bool>());
    // log p̂(x) ≥ ELBO on average (a tighter bound): compare the means over the 4 images.
    const at::Tensor many_elbo = (is_vae ? vae->elbo(x.repeat({50, 1, 1, 1}), gen) : gmm->elbo(x.repeat({50, 1, 1, 1}), gen)).elbo;
    CHECK((-e).mean().item<double>() > many_elbo.mean().item<double>());
    CHECK((is_vae ? vae->representation(x) : gmm->representation(x)).sizes() == at::IntArrayRef{4, 16});
    const at::Tensor s = is_vae ? vae->sample(6, gen) : gmm->sample(6, gen);
    CHECK(s.sizes() == at::IntArrayRef{6, 1, 28, 28});
    CHECK((s.min().item<double>() >= 0 && s.max().item<double>() <= 1));
  }
  // The GMM prior is trained through the bound.
  const auto t = gmm->elbo(x, gen);
  (-t.elbo.mean()).backward();
  const at::Tensor g = gmm->prior()->named_parameters()["component_mean"].grad();
  REQUIRE(g.defined());
  CHECK(g.abs().sum().item<double>() > 0);
  // The input gradient of the OOD energy is finite and per image.
  const at::Tensor xg = x.clone().requires_grad_(true);
  const at::Tensor grad = torch::autograd::grad({vae->energy(xg).sum()}, {xg})[0];
  CHECK(at::isfinite(grad).all().item<bool>());
}

TEST_CASE("VAE presets: the paper's text and the authors' run commands", "[baselines][train]") {
  using opts = cebm::train::vae_trainer_options;
  const auto paper = opts::preset("paper", "vae"), commands = opts::preset("commands", "gmm_vae");
  CHECK(paper.lr() == 1e-4);
  CHECK(opts::preset_latent_dim("paper") == 128);
  CHECK(commands.lr() == 1e-3);  // reference notes §4: latent 50, lr 1e-3
  CHECK(opts::preset_latent_dim("commands") == 50);
  CHECK(commands.iterations() == paper.iterations());
  CHECK(commands.batch_size() == paper.batch_size());
  CHECK(opts::preset_latent_dim("demo") == 128);
  CHECK_THROWS_WITH(opts::preset("fast", "vae"), Catch::Contains("paper, commands, demo or ci"));
}

TEST_CASE("VAE trainer: an interrupted and resumed run ends with the same parameters", "[baselines][train]") {
  temp_dir a, b;
  const auto data = toy_images(120);
  const auto opts = cebm::models::vae_options::mnist(8).components(3);
  auto tiny = [&](const fs::path& out) { return small(cebm::train::vae_trainer_options::preset("ci", "gmm_vae"), out); };
  torch::manual_seed(3);
  cebm::train::vae_trainer<cebm::models::GmmVae> straight(cebm::models::GmmVae(opts), data, tiny(a.path).iterations(6), 11);
  straight.run();
  torch::manual_seed(3);
  cebm::train::vae_trainer<cebm::models::GmmVae> first(cebm::models::GmmVae(opts), data, tiny(b.path).iterations(3), 11);
  first.run();
  torch::manual_seed(99);
  cebm::train::vae_trainer<cebm::models::GmmVae> second(cebm::models::GmmVae(opts), data, tiny(b.path).iterations(6), 11);
  second.resume(second.checkpoint_path("last"));
  CHECK(second.iteration() == 3);
  second.run();
  cebm_test::check_same_state(*straight.model(), *second.model());
  CHECK(straight.last_metrics().count("kl") == 1);
  CHECK(fs::exists(a.path / "samples" / "samples.png"));
  CHECK(fs::exists(a.path / "checkpoints" / "best.pt"));
  // A VAE checkpoint is refused by the GMM-VAE trainer by name.
  cebm::train::vae_trainer<cebm::models::Vae> other(cebm::models::Vae(cebm::models::vae_options::mnist(8)), data, tiny(b.path), 1);
  CHECK_THROWS_WITH(other.resume(second.checkpoint_path("last")), Catch::Contains("holds a gmm_vae checkpoint, this trainer trains vae"));
}

TEST_CASE("BIGAN trainer: annealed instance noise, each loss to its own players, exact resume", "[baselines][train]") {
  temp_dir a, b;
  const auto data = toy_images(80);  // batch 8: 10 iterations per epoch
  auto tiny = [&](const fs::path& out) { return small(cebm::train::bigan_trainer_options::preset("ci"), out).iterations(30); };
  const auto model_opts = cebm::models::bigan_options::mnist(8);

  SECTION("σ_t = 0.1·(T − epoch)/T over T = 3 epochs") {
    torch::manual_seed(3);
    cebm::train::bigan_trainer t(cebm::models::Bigan(model_opts), data, tiny(a.path), 5);
    CHECK(t.instance_noise_std() == Approx(0.1));
    for (int i = 0; i < 10; ++i) REQUIRE(t.step());
    CHECK(t.instance_noise_std() == Approx(0.1 * 2 / 3));
    for (int i = 0; i < 10; ++i) REQUIRE(t.step());
    CHECK(t.instance_noise_std() == Approx(0.1 / 3));
  }
  SECTION("D's gradient is L_D's alone; G and E get L_GE's") {
    torch::manual_seed(3);
    cebm::train::bigan_trainer t(cebm::models::Bigan(model_opts), data, tiny(a.path), 5);
    REQUIRE(t.step());
    const auto v = t.step_values();
    // D's output bias b: ∂L_D/∂b = mean σ(D(data)) − 1 + mean σ(D(gen)); with L_GE added it would be twice that.
    const auto params = t.model()->named_parameters();
    const at::Tensor bias_grad = params["discriminator.joint.2.bias"].grad();
    REQUIRE(bias_grad.defined());
    CHECK(bias_grad.item<double>() == Approx(v.at("d_real") + v.at("d_fake") - 1).margin(1e-6));
    for (const char* name : {"generator.up0.weight", "encoder.head.weight"}) {
      INFO(name);
      const at::Tensor g = params[name].grad();
      REQUIRE(g.defined());
      CHECK(g.abs().sum().item<double>() > 0);
    }
  }
  SECTION("resume") {
    torch::manual_seed(3);
    cebm::train::bigan_trainer straight(cebm::models::Bigan(model_opts), data, tiny(a.path).iterations(6), 5);
    straight.run();
    torch::manual_seed(3);
    cebm::train::bigan_trainer first(cebm::models::Bigan(model_opts), data, tiny(b.path).iterations(3), 5);
    first.run();
    torch::manual_seed(99);
    cebm::train::bigan_trainer second(cebm::models::Bigan(model_opts), data, tiny(b.path).iterations(6), 5);
    second.resume(second.checkpoint_path("last"));
    second.run();
    cebm_test::check_same_state(*straight.model(), *second.model());
  }
}

TEST_CASE("The VAE's conjugate view reproduces its posterior; the GMM-VAE has none", "[baselines][vae]") {
  torch::manual_seed(2);
  cebm::models::Vae vae(cebm::models::vae_options::mnist(8));
  const at::Tensor x = at::rand({3, 1, 28, 28});
  const auto q = vae->posterior(x);
  const auto view = cebm::posterior_params<cebm::gaussian>(vae->bias(), vae->statistics(x));
  CHECK(at::allclose(view[0], q[0]));
  CHECK(at::allclose(view[1], q[1]));
  CHECK(at::allclose(vae->bias()[1], at::full({8}, -0.5)));
  static_assert(std::is_same_v<cebm::models::VaeImpl<cebm::variational::StandardNormalPriorImpl>::bias_family, cebm::gaussian>);
}

TEST_CASE("precision: VAE and BIGAN steps compute their networks in the policy's dtype, the losses in fp32",
          "[baselines][train][precision]") {
  const auto data = toy_images(40);
  for (const cebm::precision_mode mode : {cebm::precision_mode::fp32, cebm::precision_mode::bf16}) {
    INFO(cebm::to_string(mode));
    temp_dir a, b;
    {
      auto o = small(cebm::train::vae_trainer_options::preset("ci", "gmm_vae"), a.path).precision(mode);
      cebm::train::vae_trainer<cebm::models::GmmVae> t(cebm::models::GmmVae(cebm::models::vae_options::mnist(8).components(3)),
                                                       data, o, 11);
      cebm_test::op_dtypes ops;
      REQUIRE(t.step());
      CHECK(cebm_test::precision_violations(ops, t.precision().compute_dtype()) == "");
      // The ELBO's Bernoulli log-normaliser B(λ) = softplus(λ) takes the decoder's logits in float32.
      CHECK(ops.of("aten::softplus") == std::set<at::ScalarType>{at::kFloat});
      for (const auto& [key, value] : t.step_values()) {
        INFO(key);
        CHECK(std::isfinite(value));
      }
    }
    {
      auto o = small(cebm::train::bigan_trainer_options::preset("ci"), b.path).precision(mode);
      cebm::train::bigan_trainer t(cebm::models::Bigan(cebm::models::bigan_options::mnist(8)), data, o, 5);
      cebm_test::op_dtypes ops;
      REQUIRE(t.step());
      CHECK(cebm_test::precision_violations(ops, t.precision().compute_dtype()) == "");
      CHECK(ops.of("aten::binary_cross_entropy_with_logits") == std::set<at::ScalarType>{at::kFloat});
      for (const auto& p : t.model()->parameters()) CHECK(p.scalar_type() == at::kFloat);
    }
  }
}
