// The CEBM encoder of Table 5: sizes, parameter counts, gradients, and its energy.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "cebm/torch.hpp"

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
  const auto [t1, r] = mnist->forward(torch::randn({5, 1, 28, 28}));
  CHECK(t1.sizes() == torch::IntArrayRef({5, 128}));
  CHECK(r.sizes() == torch::IntArrayRef({5, 128}));

  cebm::nn::ConvEncoder cifar(cebm::nn::conv_encoder_options::cifar());
  CHECK(cifar->flat_features() == 8192);
  CHECK(std::get<0>(cifar->forward(torch::randn({2, 3, 32, 32}))).sizes() == torch::IntArrayRef({2, 128}));

  cebm::nn::ConvEncoder shared(cebm::nn::conv_encoder_options::mnist().head(cebm::nn::encoder_head::shared));
  CHECK(count_parameters(*shared) == 115456 + (288 * 128 + 128) + (128 * 256 + 256));
  cebm::nn::ConvEncoder linear(cebm::nn::conv_encoder_options::mnist().head(cebm::nn::encoder_head::linear));
  CHECK(count_parameters(*linear) == 115456 + 2 * (288 * 128 + 128));
}

TEST_CASE("conv encoder: every parameter gets a gradient through the CEBM energy", "[nn][encoder]") {
  torch::manual_seed(0);
  cebm::nn::ConvEncoder enc;
  const auto bias = cebm::make_pack(torch::zeros({128}), torch::full({128}, -0.5));
  const auto [t1, r] = enc->forward(torch::rand({4, 1, 28, 28}) * 2 - 1);
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
