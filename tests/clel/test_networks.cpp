// The CLEL networks: spectral normalisation against SVD, finite differences and the power-method
// formulas; f_θ, g_θ, h_φ shapes, parameter counts, initialisation and the properties the losses
// rely on (g's homogeneity, h's batch norm, zero-init residual blocks).
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "cebm/torch/nn/clel_networks.hpp"
#include "support/temp_dir.hpp"

namespace {

std::int64_t count_parameters(torch::nn::Module& m) {
  std::int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

std::int64_t count_buffers_named(torch::nn::Module& m, const std::string& suffix) {
  std::int64_t n = 0;
  for (const auto& b : m.named_buffers()) {
    const auto& k = b.key();
    if (k.size() >= suffix.size() && k.compare(k.size() - suffix.size(), suffix.size(), suffix) == 0) ++n;
  }
  return n;
}

/// Largest singular value of W.flatten(1), by LAPACK.
double top_singular_value(const at::Tensor& w) {
  return at::linalg_svdvals(w.detach().flatten(1).to(at::kDouble))[0].item<double>();
}

at::Tensor unit(const at::Tensor& x) { return x / x.norm(); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Spectral normalisation

TEST_CASE("spectral norm: sigma converges to the top singular value (SVD)", "[clel][nn][spectral]") {
  torch::manual_seed(11);
  SECTION("conv 8 -> 16, 3x3: W reshaped to 16 x 72") {
    cebm::nn::SpectralConv2d conv(torch::nn::Conv2dOptions(8, 16, 3).padding(1));
    const double truth = top_singular_value(conv->weight_orig());
    // uᵀWv ≤ σ_max for unit u, v: the estimate approaches from below.
    CHECK(conv->sigma().item<double>() <= truth * (1 + 1e-5));
    conv->train();
    const auto x = torch::randn({2, 8, 6, 6});
    for (int i = 0; i < 200; ++i) conv->forward(x);
    CHECK(conv->sigma().item<double>() == Approx(truth).epsilon(0.01));
    CHECK(top_singular_value(conv->weight()) == Approx(1.0).epsilon(0.01));
  }
  SECTION("linear 20 -> 10") {
    cebm::nn::SpectralLinear linear(20, 10);
    const double truth = top_singular_value(linear->weight_orig());
    linear->train();
    const auto x = torch::randn({3, 20});
    for (int i = 0; i < 200; ++i) linear->forward(x);
    CHECK(linear->sigma().item<double>() == Approx(truth).epsilon(0.01));
    CHECK(top_singular_value(linear->weight()) == Approx(1.0).epsilon(0.01));
    // The layer really uses W/σ: y = x (W/σ)ᵀ + b.
    linear->eval();
    const auto expected = x.matmul(linear->weight_orig().t()) / linear->sigma() + linear->bias();
    CHECK(torch::allclose(linear->forward(x), expected, 1e-5, 1e-6));
  }
}

TEST_CASE("spectral norm: one train-mode step is u = n(W v), then v = n(W^T u)", "[clel][nn][spectral]") {
  // torch.nn.utils.parametrizations.spectral_norm's order (the hook-based predecessor did v first).
  torch::manual_seed(12);
  cebm::nn::SpectralConv2d conv(torch::nn::Conv2dOptions(3, 5, 3));
  conv->to(torch::kDouble);
  const auto w = conv->weight_orig().detach().flatten(1);
  const auto u0 = conv->u().clone(), v0 = conv->v().clone();
  conv->train();
  conv->forward(torch::randn({1, 3, 5, 5}, torch::kDouble));
  const auto u1 = unit(w.mv(v0));
  const auto v1 = unit(w.t().mv(u1));
  CHECK(torch::allclose(conv->u(), u1, 1e-12, 1e-14));
  CHECK(torch::allclose(conv->v(), v1, 1e-12, 1e-14));
  CHECK(conv->u().norm().item<double>() == Approx(1.0).epsilon(1e-12));
  CHECK(conv->v().norm().item<double>() == Approx(1.0).epsilon(1e-12));
}

TEST_CASE("spectral norm: train mode advances u and v, eval mode leaves them", "[clel][nn][spectral]") {
  torch::manual_seed(13);
  cebm::nn::SpectralConv2d conv(torch::nn::Conv2dOptions(4, 6, 3).padding(1));
  const auto x = torch::randn({2, 4, 5, 5});

  conv->train();
  auto u = conv->u().clone(), v = conv->v().clone();
  conv->forward(x);
  CHECK_FALSE(torch::equal(conv->u(), u));
  CHECK_FALSE(torch::equal(conv->v(), v));

  conv->eval();
  u = conv->u().clone(), v = conv->v().clone();
  const auto y1 = conv->forward(x);
  const auto y2 = conv->forward(x);
  CHECK(torch::equal(conv->u(), u));
  CHECK(torch::equal(conv->v(), v));
  CHECK(torch::equal(y1, y2));
}

TEST_CASE("spectral norm: the weight gradient goes through sigma (finite differences, double)", "[clel][nn][spectral]") {
  torch::manual_seed(14);
  // L(W) = Σ r ⊙ layer(x; W/σ(W)) with u, v frozen (eval mode), so σ = uᵀ W̄ v exactly.
  const auto check_layer = [](torch::nn::Module& layer, const at::Tensor& w, const std::function<at::Tensor()>& loss,
                              const std::function<at::Tensor()>& loss_sigma_detached) {
    layer.eval();
    const auto grad = torch::autograd::grad({loss()}, {w})[0];
    const double h = 1e-6;
    auto fd = torch::zeros_like(w);
    {
      torch::NoGradGuard no_grad;
      auto flat = w.view({-1});
      auto fd_flat = fd.view({-1});
      for (std::int64_t i = 0; i < flat.numel(); ++i) {
        const double w0 = flat[i].item<double>();
        flat[i].fill_(w0 + h);
        const double up = loss().item<double>();
        flat[i].fill_(w0 - h);
        const double down = loss().item<double>();
        flat[i].fill_(w0);
        fd_flat[i].fill_((up - down) / (2 * h));
      }
    }
    CHECK(torch::allclose(grad, fd, 1e-6, 1e-8));
    // Not vacuous: treating σ as a constant gives a clearly different gradient.
    const auto grad_const_sigma = torch::autograd::grad({loss_sigma_detached()}, {w})[0];
    CHECK((grad - grad_const_sigma).abs().max().item<double>() > 1e-3 * grad.abs().max().item<double>());
  };

  SECTION("conv 2 -> 3, 2x2") {
    cebm::nn::SpectralConv2d conv(torch::nn::Conv2dOptions(2, 3, 2));
    conv->to(torch::kDouble);
    const auto x = torch::randn({2, 2, 4, 4}, torch::kDouble);
    const auto r = torch::randn({2, 3, 3, 3}, torch::kDouble);
    check_layer(
        *conv, conv->weight_orig(), [&] { return (conv->forward(x) * r).sum(); },
        [&] {
          const auto w = conv->weight_orig() / conv->sigma().detach();
          return (torch::conv2d(x, w, conv->bias()) * r).sum();
        });
  }
  SECTION("linear 4 -> 3") {
    cebm::nn::SpectralLinear linear(4, 3);
    linear->to(torch::kDouble);
    const auto x = torch::randn({5, 4}, torch::kDouble);
    const auto r = torch::randn({5, 3}, torch::kDouble);
    check_layer(
        *linear, linear->weight_orig(), [&] { return (linear->forward(x) * r).sum(); },
        [&] {
          const auto w = linear->weight_orig() / linear->sigma().detach();
          return (torch::linear(x, w, linear->bias()) * r).sum();
        });
  }
}

TEST_CASE("spectral norm: two forwards can share one backward", "[clel][nn][spectral]") {
  // L = E(x⁺) − E(x⁻): the second train-mode forward updates u, v in place after the first saved them.
  torch::manual_seed(15);
  cebm::nn::SpectralConv2d conv(torch::nn::Conv2dOptions(3, 4, 3).padding(1));
  conv->train();
  const auto loss = conv->forward(torch::randn({2, 3, 5, 5})).pow(2).sum() - conv->forward(torch::randn({2, 3, 5, 5})).pow(2).sum();
  REQUIRE_NOTHROW(loss.backward());
  CHECK(conv->weight_orig().grad().defined());
}

TEST_CASE("spectral conv: padding modes agree with torch::nn::Conv2d on W/sigma", "[clel][nn][spectral]") {
  torch::manual_seed(16);
  const auto x = torch::randn({2, 3, 7, 6});
  using O = torch::nn::Conv2dOptions;
  const std::vector<O> cases = {O(3, 4, 3).padding(1),
                                O(3, 4, 3).padding(1).padding_mode(torch::kReflect),
                                O(3, 4, 3).padding(torch::kSame).padding_mode(torch::kReplicate),
                                O(3, 4, 3).padding(torch::kSame).padding_mode(torch::kCircular).dilation(2),
                                O(3, 4, 4).padding(torch::kSame).padding_mode(torch::kReflect),  // asymmetric: 1 before, 2 after
                                O(3, 4, 3).padding(torch::kValid).stride(2),
                                O(3, 4, 3).padding(torch::ExpandingArray<2>({2, 1})).padding_mode(torch::kReflect).stride({2, 1}).bias(false),
                                O(4, 4, 3).padding(1).groups(2)};
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i);
    const auto in = cases[i].in_channels() == 3 ? x : torch::randn({2, 4, 7, 6});
    cebm::nn::SpectralConv2d sn(cases[i]);
    torch::nn::Conv2d plain(cases[i]);
    sn->eval();
    {
      torch::NoGradGuard no_grad;
      plain->weight.copy_(sn->weight());
      if (cases[i].bias()) plain->bias.copy_(sn->bias());
    }
    CHECK(torch::allclose(sn->forward(in), plain->forward(in), 1e-5, 1e-6));
  }
}

TEST_CASE("spectral norm: checkpoints and clones restore u, v and weights", "[clel][nn][spectral]") {
  cebm_test::temp_dir dir;
  const auto x = torch::randn({2, 3, 8, 8});
  SECTION("one layer") {
    torch::manual_seed(17);
    cebm::nn::SpectralConv2d a(torch::nn::Conv2dOptions(3, 4, 3).padding(1));
    a->train();
    for (int i = 0; i < 3; ++i) a->forward(x);
    torch::save(a, dir.file("a.pt"));

    torch::manual_seed(18);
    cebm::nn::SpectralConv2d b(torch::nn::Conv2dOptions(3, 4, 3).padding(1));
    REQUIRE_FALSE(torch::equal(a->u(), b->u()));
    REQUIRE_FALSE(torch::equal(a->weight_orig(), b->weight_orig()));
    torch::load(b, dir.file("a.pt"));
    CHECK(torch::equal(a->weight_orig(), b->weight_orig()));
    CHECK(torch::equal(a->bias(), b->bias()));
    CHECK(torch::equal(a->u(), b->u()));
    CHECK(torch::equal(a->v(), b->v()));
    a->eval(), b->eval();
    CHECK(torch::equal(a->forward(x), b->forward(x)));
    a->train(), b->train();
    CHECK(torch::equal(a->forward(x), b->forward(x)));
    CHECK(torch::equal(a->u(), b->u()));

    // clone() (what an EMA copy starts from) copies the state and is independent afterwards.
    auto c = std::dynamic_pointer_cast<cebm::nn::SpectralConv2dImpl>(a->clone());
    REQUIRE(c);
    CHECK(torch::equal(c->u(), a->u()));
    CHECK(torch::equal(c->v(), a->v()));
    const auto u = a->u().clone();
    c->train();
    c->forward(x);
    CHECK(torch::equal(a->u(), u));
  }
  SECTION("a whole small f") {
    torch::manual_seed(19);
    cebm::nn::SphericalEbm a(cebm::nn::spherical_ebm_options::small());
    const auto img = torch::rand({2, 3, 32, 32});
    a->train();
    a->forward(img);
    torch::save(a, dir.file("f.pt"));
    torch::manual_seed(20);
    cebm::nn::SphericalEbm b(cebm::nn::spherical_ebm_options::small());
    a->eval(), b->eval();
    REQUIRE_FALSE(torch::equal(a->forward(img), b->forward(img)));
    torch::load(b, dir.file("f.pt"));
    CHECK(torch::equal(a->forward(img), b->forward(img)));
    a->train(), b->train();
    CHECK(torch::equal(a->forward(img), b->forward(img)));
    auto c = std::dynamic_pointer_cast<cebm::nn::SphericalEbmImpl>(a->clone());
    REQUIRE(c);
    a->eval(), c->eval();
    CHECK(torch::equal(a->forward(img), c->forward(img)));
  }
}

TEST_CASE("spectral norm: invalid options are named", "[clel][nn][spectral][errors]") {
  CHECK_THROWS_WITH(cebm::nn::SpectralConv2d(torch::nn::Conv2dOptions(3, 4, 3), cebm::nn::spectral_norm_options{}.power_iterations(0)),
                    Catch::Contains("SpectralConv2d") && Catch::Contains("power_iterations"));
  CHECK_THROWS_WITH(cebm::nn::SpectralLinear(torch::nn::LinearOptions(3, 4), cebm::nn::spectral_norm_options{}.eps(0)),
                    Catch::Contains("SpectralLinear") && Catch::Contains("eps"));
  CHECK_THROWS_WITH(cebm::nn::SpectralConv2d(torch::nn::Conv2dOptions(3, 4, 3).padding(torch::kSame).stride(2)),
                    Catch::Contains("same"));
  cebm::nn::SpectralConv2d conv(torch::nn::Conv2dOptions(3, 4, 3));
  CHECK_THROWS_WITH(conv->forward(torch::zeros({2, 5, 8, 8})), Catch::Contains("[B, 3, H, W]") && Catch::Contains("[2, 5, 8, 8]"));
}

// ---------------------------------------------------------------------------------------------
// f_θ, g_θ, h_φ

TEST_CASE("clel networks: output shapes for 32x32x3 and 28x28x1", "[clel][nn][shapes]") {
  torch::manual_seed(21);
  using cebm::nn::spherical_ebm_size;
  for (const auto size : {spherical_ebm_size::small, spherical_ebm_size::base, spherical_ebm_size::large}) {
    INFO("size " << static_cast<int>(size));
    cebm::nn::SphericalEbm f32(cebm::nn::spherical_ebm_options{}.size(size));
    CHECK(f32->forward(torch::rand({2, 3, 32, 32})).sizes() == torch::IntArrayRef({2, 128}));
    cebm::nn::SphericalEbm f28(cebm::nn::spherical_ebm_options{}.size(size).in_channels(1).image_size(28));
    const auto out = f28->forward(torch::rand({2, 1, 28, 28}));
    CHECK(out.sizes() == torch::IntArrayRef({2, 128}));
    CHECK(torch::isfinite(out).all().item<bool>());
  }
  cebm::nn::ProjectionHead g;
  CHECK(g->forward(torch::randn({2, 128})).sizes() == torch::IntArrayRef({2, 128}));
  cebm::nn::LatentEncoder h;
  CHECK(h->forward(torch::rand({2, 3, 32, 32})).sizes() == torch::IntArrayRef({2, 128}));
  CHECK(h->features(torch::rand({2, 3, 32, 32})).sizes() == torch::IntArrayRef({2, 512}));
  cebm::nn::LatentEncoder h1(cebm::nn::latent_encoder_options{}.in_channels(1));
  CHECK(h1->forward(torch::rand({2, 1, 28, 28})).sizes() == torch::IntArrayRef({2, 128}));
}

TEST_CASE("clel networks: parameter counts", "[clel][nn][shapes]") {
  // f small, 3 channels (weights + biases; u, v are buffers):
  //   stem conv 3→64:           64·3·9 + 64                              =     1 792
  //   stage 1, block 64→64:     2 · (64·64·9 + 64)                       =    73 856
  //   stage 2, block 64→64:                                               =    73 856
  //   stage 3, block 64→128:    (128·64·9 + 128) + (128·128·9 + 128) + 128·64 (1×1 shortcut) = 229 632
  //   stage 4, block 128→128:   2 · (128·128·9 + 128)                    =   295 168
  //   head:                     (128·2048 + 2048) + (2048·128 + 128)     =   526 464
  //   total                                                              = 1 200 768
  cebm::nn::SphericalEbm small(cebm::nn::spherical_ebm_options::small());
  CHECK(count_parameters(*small) == 1200768);
  // Every convolution is spectrally normalised: stem + 4·2 block convs + 1 shortcut = 10 (u, v) pairs.
  CHECK(count_buffers_named(*small, "weight_u") == 10);
  CHECK(count_buffers_named(*small, "weight_v") == 10);
  for (const auto& m : small->modules()) CHECK(dynamic_cast<torch::nn::Conv2dImpl*>(m.get()) == nullptr);
  // 1 channel: only the stem changes, 64·1·9 + 64 = 640.
  CHECK(count_parameters(*cebm::nn::SphericalEbm(cebm::nn::spherical_ebm_options::small().in_channels(1).image_size(28))) ==
        1200768 - 1792 + 640);

  // f base: stem 3 584; stages 1, 2: 2·2·(128·128·9 + 128) = 590 336 each; stage 3: 918 016 (128→256 with
  // shortcut 32 768) + 1 180 160; stage 4: 2 360 320; head (256·2048 + 2048) + 262 272 = 788 608.
  cebm::nn::SphericalEbm base(cebm::nn::spherical_ebm_options::base());
  CHECK(count_parameters(*base) == 6431360);
  CHECK(count_buffers_named(*base, "weight_u") == 1 + 16 + 1);

  // h: torchvision resnet18 has 11 689 512 parameters; minus its fc (512·1000 + 1000) and its 7×7
  // conv1 (9 408), plus the 3×3 conv1 (1 728): 11 168 832; plus fc 512·2048 + BN1d 2·2048 + 2048·128 + 128.
  cebm::nn::LatentEncoder h;
  CHECK(count_parameters(*h) == 11168832 + 1048576 + 4096 + 262272);

  // g: 128·2048 + 2048·128, no biases.
  cebm::nn::ProjectionHead g;
  CHECK(count_parameters(*g) == 2 * 128 * 2048);
}

TEST_CASE("clel networks: f initialisation and its spectral state", "[clel][nn][init]") {
  torch::manual_seed(22);
  cebm::nn::SphericalEbm f(cebm::nn::spherical_ebm_options::base());
  for (const auto& p : f->named_parameters()) {
    const auto& k = p.key();
    INFO(k);
    if (k.find("bias") != std::string::npos) {
      CHECK(p.value().abs().max().item<double>() == 0.0);
    } else if (k.rfind("head.", 0) == 0) {
      CHECK(p.value().std().item<double>() == Approx(0.01).epsilon(0.05));
    } else if (p.value().numel() > 100000) {  // conv: N(0, 1/fan_in)
      const double fan_in = static_cast<double>(p.value()[0].numel());
      CHECK(p.value().std().item<double>() == Approx(1 / std::sqrt(fan_in)).epsilon(0.02));
      CHECK(p.value().mean().item<double>() == Approx(0).margin(0.01 / std::sqrt(fan_in)));
    }
  }
  // The spectral vectors belong to the final weights (reset after the init): σ is within a few % of
  // σ_max after the 15 creation iterations (0.968 … 0.9997 here); vectors left over from the default
  // init would give |uᵀWv| ≪ σ_max.
  int checked = 0;
  for (const auto& m : f->modules()) {
    if (auto* conv = dynamic_cast<cebm::nn::SpectralConv2dImpl*>(m.get())) {
      const double truth = top_singular_value(conv->weight_orig());
      CHECK(conv->sigma().item<double>() <= truth * (1 + 1e-5));
      CHECK(conv->sigma().item<double>() >= 0.9 * truth);
      ++checked;
    }
  }
  CHECK(checked == 18);
}

TEST_CASE("clel networks: g is positively homogeneous and bias-free", "[clel][nn][projection]") {
  torch::manual_seed(23);
  cebm::nn::ProjectionHead g;
  for (const auto& p : g->parameters()) CHECK(p.dim() == 2);
  g->to(torch::kDouble);  // so that the only difference left is rounding at 1e-16
  const auto u = torch::randn({4, 128}, torch::kDouble);
  const auto gu = g->forward(u);
  for (const double c : {0.3, 7.0}) {
    INFO("c = " << c);
    CHECK(torch::allclose(g->forward(c * u), c * gu, 1e-12, 1e-15));
  }
  // So the cosine with any z is the same for u and u/‖u‖.
  const auto z = torch::randn({4, 128}, torch::kDouble);
  CHECK(torch::allclose(torch::cosine_similarity(g->forward(u / u.norm(2, 1, true)), z, 1),
                        torch::cosine_similarity(gu, z, 1), 1e-12, 1e-14));
  // Not linear: LeakyReLU is not odd, so g(−u) ≠ −g(u).
  CHECK_FALSE(torch::allclose(g->forward(-u), -gu, 1e-3, 1e-6));
}

TEST_CASE("clel networks: h has batch norm and zero-initialised residual blocks", "[clel][nn][encoder]") {
  torch::manual_seed(24);
  SECTION("train and eval outputs differ") {
    cebm::nn::LatentEncoder h;
    const auto x = torch::rand({4, 3, 32, 32});
    h->train();
    const auto y_train = h->forward(x);
    h->eval();
    const auto y_eval = h->forward(x);
    CHECK_FALSE(torch::allclose(y_train, y_eval, 1e-3, 1e-4));
    // Every block's last BN has γ = 0.
    int zeroed = 0;
    for (const auto& p : h->named_parameters())
      if (p.key().find("bn2.weight") != std::string::npos) {
        CHECK(p.value().abs().max().item<double>() == 0.0);
        ++zeroed;
      }
    CHECK(zeroed == 8);
  }
  SECTION("a BasicBlock at init is relu(shortcut(x))") {
    const auto x = torch::randn({3, 64, 8, 8});
    cebm::nn::BasicBlock down(cebm::nn::basic_block_options(64, 128).stride(2));
    for (const bool train : {true, false}) {
      INFO("train " << train);
      down->train(train);
      const auto y = down->forward(x);
      CHECK(y.sizes() == torch::IntArrayRef({3, 128, 4, 4}));
      CHECK(torch::allclose(y, torch::relu(down->shortcut(x)), 0, 1e-7));
    }
    cebm::nn::BasicBlock same(64, 64);
    CHECK(torch::equal(same->forward(x), torch::relu(x)));
    // Control: without zero_init_residual the residual branch contributes.
    cebm::nn::BasicBlock plain(cebm::nn::basic_block_options(64, 64).zero_init_residual(false));
    CHECK_FALSE(torch::allclose(plain->forward(x), torch::relu(x), 1e-3, 1e-3));
  }
}

TEST_CASE("clel networks: every f parameter and the input get gradients", "[clel][nn][gradients]") {
  torch::manual_seed(25);
  cebm::nn::SphericalEbm f(cebm::nn::spherical_ebm_options::small());
  const auto x = torch::rand({2, 3, 32, 32}).requires_grad_(true);
  const auto e = 0.5 * f->forward(x).pow(2).sum(1);
  e.sum().backward();
  CHECK(x.grad().abs().sum().item<double>() > 0);
  for (const auto& p : f->named_parameters()) {
    INFO(p.key());
    REQUIRE(p.value().grad().defined());
    CHECK(p.value().grad().abs().sum().item<double>() > 0);
  }
}

TEST_CASE("clel networks: wrong inputs and options are named", "[clel][nn][errors]") {
  cebm::nn::SphericalEbm f(cebm::nn::spherical_ebm_options::small());
  CHECK_THROWS_WITH(f->forward(torch::zeros({2, 1, 28, 28})), Catch::Contains("[B, 3, 32, 32]") && Catch::Contains("[2, 1, 28, 28]"));
  CHECK_THROWS_WITH(cebm::nn::SphericalEbm(cebm::nn::spherical_ebm_options::large().image_size(30)), Catch::Contains("multiple of 4"));
  CHECK_THROWS_WITH(cebm::nn::Normalize(1, cebm::nn::normalize_options{}.mean({0.5, 0.5}).stddev({0.5, 0.5})),
                    Catch::Contains("expected 1"));
  cebm::nn::ProjectionHead g;
  CHECK_THROWS_WITH(g->forward(torch::zeros({2, 64})), Catch::Contains("ProjectionHead") && Catch::Contains("[2, 64]"));
  cebm::nn::LatentEncoder h;
  CHECK_THROWS_WITH(h->forward(torch::zeros({2, 1, 32, 32})), Catch::Contains("LatentEncoder") && Catch::Contains("[B, 3, H, W]"));
}

TEST_CASE("clel networks: Normalize holds CIFAR-10 statistics", "[clel][nn]") {
  cebm::nn::Normalize rgb(3);
  const auto x = torch::tensor({0.4914f, 0.4822f, 0.4465f}).view({1, 3, 1, 1}) + torch::tensor({0.2470f, 0.2435f, 0.2616f}).view({1, 3, 1, 1});
  CHECK(torch::allclose(rgb->forward(x), torch::ones({1, 3, 1, 1}), 1e-5, 1e-6));
  cebm::nn::Normalize gray(1);
  const double m = (0.4914 + 0.4822 + 0.4465) / 3, s = (0.2470 + 0.2435 + 0.2616) / 3;
  CHECK(gray->forward(torch::full({1, 1, 1, 1}, m + 2 * s)).item<double>() == Approx(2.0).epsilon(1e-5));
}

// Not run by default: `cebm_clel_tests "[.timing]"`.
TEST_CASE("clel networks: time of f small forward + input gradient, batch 64", "[.timing]") {
  at::set_num_threads(2);
  torch::manual_seed(26);
  cebm::nn::SphericalEbm f(cebm::nn::spherical_ebm_options::small());
  f->train();  // as in SGLD: each forward also advances the power iteration
  const auto x0 = torch::rand({64, 3, 32, 32});
  std::vector<double> ms;
  for (int i = 0; i < 13; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const auto x = x0.clone().requires_grad_(true);
    const auto e = 0.5 * f->forward(x).pow(2).sum();
    const auto g = torch::autograd::grad({e}, {x})[0];
    const auto stop = std::chrono::steady_clock::now();
    if (i >= 3) ms.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
    CHECK(g.sizes() == x.sizes());
  }
  std::sort(ms.begin(), ms.end());
  WARN("f small, [64,3,32,32], forward + d/dx, 2 threads: median " << ms[ms.size() / 2] << " ms, min " << ms.front()
                                                                    << " ms over " << ms.size() << " runs");
}
