// The CEBM encoder of Table 5: sizes, parameter counts, gradients, and its energy.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "cebm/torch.hpp"
#include "cebm/torch/nn/detail/conv_swish_stack.hpp"
#if CEBM_WITH_ONEDNN
#include "cebm/torch/nn/detail/onednn_conv_swish.hpp"  // images_per_chunk
#endif

namespace {
std::int64_t count_parameters(torch::nn::Module& m) {
  std::int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}
}  // namespace

TEST_CASE("conv encoder: Table 5 sizes and parameter counts", "[nn][encoder]") {
  cebm::nn::ConvEncoder mnist(cebm::nn::conv_encoder_options::mnist());
  CHECK(mnist->flat_features() == 288);
  // convs 640 + 65600 + 32800 + 16416; two heads of (288·128 + 128) + (128·128 + 128)
  CHECK(count_parameters(*mnist) == 115456 + 2 * 53504);
  const auto heads = mnist->forward(torch::randn({5, 1, 28, 28}));
  REQUIRE(heads.size() == 2);
  CHECK(heads[0].sizes() == torch::IntArrayRef({5, 128}));
  CHECK(heads[1].sizes() == torch::IntArrayRef({5, 128}));

  cebm::nn::ConvEncoder cifar(cebm::nn::conv_encoder_options::cifar());
  CHECK(cifar->flat_features() == 8192);
  CHECK(cifar->forward(torch::randn({2, 3, 32, 32}))[0].sizes() == torch::IntArrayRef({2, 128}));

  cebm::nn::ConvEncoder shared(cebm::nn::conv_encoder_options::mnist().head(cebm::nn::encoder_head::shared));
  CHECK(count_parameters(*shared) == 115456 + (288 * 128 + 128) + (128 * 256 + 256));
  cebm::nn::ConvEncoder linear(cebm::nn::conv_encoder_options::mnist().head(cebm::nn::encoder_head::linear));
  CHECK(count_parameters(*linear) == 115456 + 2 * (288 * 128 + 128));

  // One head per sufficient statistic: nine for a ten-class categorical, one for a vMF direction.
  cebm::nn::ConvEncoder nine(cebm::nn::conv_encoder_options::mnist().heads(9));
  CHECK(count_parameters(*nine) == 115456 + 9 * 53504);
  const auto outs = nine->forward(torch::randn({3, 1, 28, 28}));
  REQUIRE(outs.size() == 9);
  for (const auto& o : outs) CHECK(o.sizes() == torch::IntArrayRef({3, 128}));
  cebm::nn::ConvEncoder shared3(cebm::nn::conv_encoder_options::mnist().head(cebm::nn::encoder_head::shared).heads(3));
  const auto split3 = shared3->forward(torch::randn({2, 1, 28, 28}));
  REQUIRE(split3.size() == 3);
  CHECK(split3[2].sizes() == torch::IntArrayRef({2, 128}));
  CHECK_THROWS_WITH(cebm::nn::ConvEncoder(cebm::nn::conv_encoder_options::mnist().heads(0)),
                    Catch::Contains("heads must be >= 1"));
}

TEST_CASE("conv encoder: every parameter gets a gradient through the CEBM energy", "[nn][encoder]") {
  torch::manual_seed(0);
  cebm::nn::ConvEncoder enc;
  const auto bias = cebm::make_pack(torch::zeros({128}), torch::full({128}, -0.5));
  const auto heads = enc->forward(torch::rand({4, 1, 28, 28}) * 2 - 1);
  const auto &t1 = heads[0], &r = heads[1];
  const auto energy = cebm::marginal_energy<cebm::gaussian>(bias, cebm::gaussian_statistics(t1, r));
  // −Σ_k [t₁²/(2(1 + 2r²)) − ½ log(1 + 2r²)]
  const auto s = 1 + 2 * r.pow(2);
  CHECK(torch::allclose(energy, -(t1.pow(2) / (2 * s) - 0.5 * s.log()).sum(1), 1e-5, 1e-5));
  energy.sum().backward();
  for (const auto& p : enc->named_parameters()) {
    INFO(p.key());
    REQUIRE(p.value().grad().defined());
    CHECK(p.value().grad().abs().sum().item<double>() > 0);
  }
}

TEST_CASE("conv encoder: wrong image shape is named", "[nn][encoder][errors]") {
  cebm::nn::ConvEncoder enc;
  CHECK_THROWS_WITH(enc->forward(torch::zeros({2, 3, 32, 32})), Catch::Contains("[B, 1, 28, 28]") && Catch::Contains("[2, 3, 32, 32]"));
}

TEST_CASE("dense: equals torch::nn::Linear in value, input and parameter gradients, on both paths", "[nn][dense]") {
  // batch 4 stays on at::linear; 64 and 128 take the 1x1 convolution on oneDNN.
  for (const std::int64_t batch : {4, 64, 128}) {
    for (const bool with_bias : {true, false}) {
      INFO("batch " << batch << ", bias " << with_bias);
      torch::manual_seed(3);
      torch::nn::Linear reference(torch::nn::LinearOptions(288, 128).bias(with_bias));
      torch::manual_seed(3);
      cebm::nn::Dense dense(torch::nn::LinearOptions(288, 128).bias(with_bias));
      // The same initialisation from the same seed.
      CHECK(torch::equal(dense->weight, reference->weight));
      if (with_bias) CHECK(torch::equal(dense->bias, reference->bias));
      CHECK(dense->bias.defined() == with_bias);

      const auto x = torch::randn({batch, 288}).requires_grad_(true);
      const auto upstream = torch::randn({batch, 128});
      const auto y_ref = reference->forward(x), y = dense->forward(x);
      CHECK(torch::allclose(y, y_ref, 1e-5, 1e-5));
      const auto g_ref = torch::autograd::grad({(y_ref * upstream).sum()}, {x, reference->weight});
      const auto g = torch::autograd::grad({(y * upstream).sum()}, {x, dense->weight});
      CHECK(torch::allclose(g[0], g_ref[0], 1e-4, 1e-5));
      CHECK(torch::allclose(g[1], g_ref[1], 1e-4, 1e-4));
      if (with_bias) {
        const auto b_ref = torch::autograd::grad({(reference->forward(x) * upstream).sum()}, {reference->bias})[0];
        const auto b = torch::autograd::grad({(dense->forward(x) * upstream).sum()}, {dense->bias})[0];
        CHECK(torch::allclose(b, b_ref, 1e-4, 1e-4));
      }
    }
  }
  // Double precision and inputs of other ranks go through at::linear, with the same result.
  cebm::nn::Dense dense(6, 3);
  const auto x = torch::randn({32, 5, 6});
  CHECK(torch::allclose(dense->forward(x), torch::linear(x, dense->weight, dense->bias)));
  dense->to(torch::kFloat64);
  const auto xd = torch::randn({32, 6}, torch::kFloat64);
  CHECK(torch::allclose(dense->forward(xd), torch::linear(xd, dense->weight, dense->bias), 1e-12, 1e-12));
  CHECK_THROWS_WITH(dense->forward(torch::randn({2, 5})), Catch::Contains("cebm::nn::Dense: expected input [..., 6]"));
  CHECK_THROWS_AS(cebm::nn::Dense(0, 3), std::invalid_argument);
  // Checkpoints of the encoder keep the entries of torch::nn::Linear.
  cebm::nn::ConvEncoder encoder(cebm::nn::conv_encoder_options::mnist());
  CHECK(encoder->named_parameters().contains("head1.0.weight"));
  CHECK(encoder->named_parameters().contains("head2.2.bias"));
}

TEST_CASE("conv2d: the col2im input gradient equals libtorch's, with weight and bias gradients", "[nn][conv]") {
  struct shape {
    std::int64_t in, out, kernel, stride, padding, dilation, size;
  };
  // The CEBM first layers (1 -> 64, 3x3; 3 -> 64), strided and dilated ones, and no padding.
  for (const shape s : {shape{1, 64, 3, 1, 1, 1, 28}, shape{3, 64, 3, 1, 1, 1, 32}, shape{1, 8, 4, 2, 1, 1, 28},
                        shape{2, 5, 3, 2, 0, 2, 17}, shape{15, 4, 2, 1, 0, 1, 9}}) {
    INFO("in " << s.in << " out " << s.out << " kernel " << s.kernel << " stride " << s.stride << " padding " << s.padding
               << " dilation " << s.dilation);
    torch::manual_seed(5);
    const auto x = torch::randn({6, s.in, s.size, s.size}).requires_grad_(true);
    const auto w = torch::randn({s.out, s.in, s.kernel, s.kernel}).requires_grad_(true);
    const auto b = torch::randn({s.out}).requires_grad_(true);
    const std::vector<std::int64_t> stride(2, s.stride), padding(2, s.padding), dilation(2, s.dilation);
    const auto y_ref = torch::conv2d(x, w, b, stride, padding, dilation);
    const auto y = cebm::nn::conv2d(x, w, b, stride, padding, dilation);
    REQUIRE(y.sizes() == y_ref.sizes());
    CHECK(torch::allclose(y, y_ref, 1e-5, 1e-5));
    const auto upstream = torch::randn_like(y);
    const auto g_ref = torch::autograd::grad({(y_ref * upstream).sum()}, {x, w, b});
    const auto g = torch::autograd::grad({(y * upstream).sum()}, {x, w, b});
    for (int i = 0; i < 3; ++i) {
      INFO("gradient " << i);
      CHECK(torch::allclose(g[i], g_ref[i], 1e-4, 1e-3));
    }
    // Only the input gradient (sampling), only the parameters' (training).
    const auto gx = torch::autograd::grad({(cebm::nn::conv2d(x, w.detach(), b.detach(), stride, padding, dilation) * upstream).sum()}, {x});
    CHECK(torch::allclose(gx[0], g_ref[0], 1e-4, 1e-3));
    const auto gw = torch::autograd::grad({(cebm::nn::conv2d(x.detach(), w, b, stride, padding, dilation) * upstream).sum()}, {w, b});
    CHECK(torch::allclose(gw[0], g_ref[1], 1e-4, 1e-3));
    CHECK(torch::allclose(gw[1], g_ref[2], 1e-4, 1e-3));
  }
  // The module: torch::nn::Conv2d's initialisation and entries; bad options are named.
  torch::manual_seed(2);
  torch::nn::Conv2d reference(torch::nn::Conv2dOptions(1, 64, 3).padding(1));
  torch::manual_seed(2);
  cebm::nn::Conv2d conv(torch::nn::Conv2dOptions(1, 64, 3).padding(1));
  CHECK(torch::equal(conv->weight, reference->weight));
  CHECK(torch::equal(conv->bias, reference->bias));
  CHECK_THROWS_WITH(conv->forward(torch::randn({2, 3, 8, 8})), Catch::Contains("cebm::nn::Conv2d: expected input [B, 1, H, W]"));
  CHECK_THROWS_AS(cebm::nn::Conv2d(torch::nn::Conv2dOptions(4, 4, 3).groups(2)), std::invalid_argument);
  cebm::nn::ConvEncoder encoder(cebm::nn::conv_encoder_options::mnist());
  CHECK(encoder->named_parameters().contains("trunk.convs.0.weight"));
}

TEST_CASE("conv trunk: the oneDNN stack equals conv2d + silu in value and in every gradient", "[nn][conv][onednn]") {
  // The trunk against the stack written out with libtorch's operations: Table 5(a), a 3-channel
  // 32x32 trunk with narrow layers, and batch sizes that come and go (plans are cached per batch);
  // 41 Fashion-MNIST images run in several cache-sized chunks (detail/conv_swish_stack.hpp).
  struct setting {
    cebm::nn::conv_encoder_options options;
    std::int64_t batch;
  };
  const auto narrow = cebm::nn::conv_encoder_options{}.in_channels(3).image_size(32).channels({8, 16, 16, 24});
  for (const setting& s : {setting{cebm::nn::conv_encoder_options::mnist(), 5}, setting{narrow, 3},
                          setting{cebm::nn::conv_encoder_options::mnist(), 2}, setting{narrow, 7},
                          setting{cebm::nn::conv_encoder_options::mnist(), 41}}) {
    INFO("in_channels " << s.options.in_channels() << " batch " << s.batch);
    torch::manual_seed(11);
    cebm::nn::ConvTrunk trunk(s.options);
    const auto params = trunk->named_parameters();
    const auto reference = [&](const at::Tensor& x) {
      at::Tensor h = x;
      const std::int64_t strides[4] = {1, 2, 2, 2};
      for (int i = 0; i < 4; ++i) {
        const std::string n = "convs." + std::to_string(2 * i);
        h = at::silu(at::conv2d(h, params[n + ".weight"], params[n + ".bias"], strides[i], 1));
      }
      return h.flatten(1);
    };
    const std::int64_t c = s.options.in_channels(), size = s.options.image_size();
#if CEBM_WITH_ONEDNN
    if (s.batch == 41)
      REQUIRE(cebm::nn::detail::images_per_chunk(41, 28, {{1, 64, 3, 1, 1}, {64, 64, 4, 2, 1}}) < 41);
#endif
    const auto x = (torch::rand({s.batch, c, size, size}) * 2 - 1).requires_grad_(true);
    const auto y_ref = reference(x);
    {
      torch::NoGradGuard no_grad;
      CHECK(torch::allclose(trunk->forward(x), y_ref, 1e-4, 1e-5));
    }
    const auto y = trunk->forward(x);
    REQUIRE(y.sizes() == y_ref.sizes());
    CHECK(torch::allclose(y, y_ref, 1e-4, 1e-5));
    const auto upstream = torch::randn_like(y_ref);

    // Sampling: the input alone, as the Langevin sampler asks for it.
    const auto gx_ref = torch::autograd::grad({(y_ref * upstream).sum()}, {x}, {}, true)[0];
    const auto gx = torch::autograd::grad({(y * upstream).sum()}, {x})[0];
    CHECK(torch::allclose(gx, gx_ref, 1e-4, 1e-5));
    for (const auto& p : params) CHECK_FALSE(p.value().grad().defined());

    // Training: every parameter, and the input at the same time.
    std::vector<at::Tensor> wrt{x};
    for (const auto& p : params) wrt.push_back(p.value());
    const auto g_ref = torch::autograd::grad({(y_ref * upstream).sum()}, wrt);
    const auto g = torch::autograd::grad({(trunk->forward(x) * upstream).sum()}, wrt);
    for (std::size_t i = 0; i < wrt.size(); ++i) {
      INFO("gradient " << i << (i == 0 ? " (input)" : " (" + params.keys()[i - 1] + ")"));
      CHECK(torch::allclose(g[i], g_ref[i], 1e-4, 1e-4 * g_ref[i].abs().max().item<double>()));
    }
    // Parameters alone (the update's positive phase on data).
    const auto gw = torch::autograd::grad({(trunk->forward(x.detach()) * upstream).sum()}, {params["convs.0.weight"]});
    CHECK(torch::allclose(gw[0], g_ref[1], 1e-4, 1e-4 * g_ref[1].abs().max().item<double>()));
  }
}

namespace cebm_test {
at::Tensor conv_swish_stack_without_onednn(const at::Tensor& x, at::TensorList weights, at::TensorList biases,
                                           const std::vector<std::int64_t>& strides,
                                           const std::vector<std::int64_t>& paddings);
}

TEST_CASE("conv trunk: translation units built with and without oneDNN link side by side", "[nn][conv][onednn]") {
  // conv_swish_without_onednn.cpp includes the stack with CEBM_WITH_ONEDNN 0 and calls
  // without_onednn::conv_swish_stack; this file has the suite's setting. With oneDNN on, the two
  // are different functions that the linker keeps apart; both must compute the same stack.
  torch::manual_seed(5);
  const auto x = torch::rand({6, 1, 28, 28}) * 2 - 1;
  std::vector<at::Tensor> w{torch::randn({8, 1, 3, 3}) * 0.3, torch::randn({8, 8, 4, 4}) * 0.1};
  std::vector<at::Tensor> b{torch::randn({8}) * 0.1, torch::randn({8}) * 0.1};
  const std::vector<std::int64_t> strides{1, 2}, paddings{1, 1};
  const at::Tensor here = cebm::nn::detail::conv_swish_stack(x, w, b, strides, paddings);
  const at::Tensor there = cebm_test::conv_swish_stack_without_onednn(x, w, b, strides, paddings);
  CHECK(torch::allclose(here, there, 1e-4, 1e-5));
}
