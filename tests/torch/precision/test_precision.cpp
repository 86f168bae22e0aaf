// The precision policy against independent truth: autocast's dtypes as libtorch defines them, a
// bfloat16 product computed by hand, the loss scaler's exact powers of two, and fp32 mode
// returning the very tensors of code that knows no policy.
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "cebm/torch/nn/conv_encoder.hpp"
#include "cebm/torch/precision/autocast_scope.hpp"
#include "cebm/torch/precision/loss_scaler.hpp"
#include "cebm/torch/precision/precision_mode.hpp"
#include "cebm/torch/precision/precision_policy.hpp"

namespace {

torch::Tensor rand_normal(std::vector<std::int64_t> shape, std::uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return at::normal(0.0, 1.0, shape, gen);
}

// Round to the nearest bfloat16 (ties to even) by hand, on the float32 bits: the oracle for what
// autocast's casts must do.
float round_to_bf16(float v) {
  std::uint32_t bits;
  std::memcpy(&bits, &v, 4);
  const std::uint32_t lsb = (bits >> 16) & 1u;
  bits += 0x7fffu + lsb;
  bits &= 0xffff0000u;
  float r;
  std::memcpy(&r, &bits, 4);
  return r;
}

}  // namespace

TEST_CASE("precision_mode: the words --precision takes, and an unknown word names the choices", "[precision]") {
  for (const char* w : {"fp32", "tf32", "bf16", "fp16"}) CHECK(cebm::to_string(cebm::precision_mode_from_string(w)) == std::string(w));
  try {
    cebm::precision_mode_from_string("fp8");
    FAIL("fp8 was taken");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()) == "precision 'fp8': expected fp32, tf32, bf16 or fp16");
  }
}

TEST_CASE("autocast_scope: a linear layer in bf16 as the hand-rounded product, and the state restored", "[precision]") {
  torch::NoGradGuard no_grad;
  const torch::Tensor x = rand_normal({4, 8}, 1), w = rand_normal({3, 8}, 2);
  REQUIRE_FALSE(cebm::cpu_autocast_enabled());
  torch::Tensor y;
  {
    cebm::autocast_scope scope(cebm::precision_mode::bf16, at::kCPU);
    CHECK(cebm::cpu_autocast_enabled());
    y = at::linear(x, w);
    // Elementwise operations are not autocast: they keep their inputs' dtype.
    CHECK(at::exp(x).scalar_type() == at::kFloat);
  }
  CHECK_FALSE(cebm::cpu_autocast_enabled());
  CHECK(at::linear(x, w).scalar_type() == at::kFloat);
  REQUIRE(y.scalar_type() == at::kBFloat16);
  // The oracle: the inputs rounded to bf16, products and sums in double, the result rounded to bf16.
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) {
      double s = 0;
      for (int k = 0; k < 8; ++k)
        s += double(round_to_bf16(x[i][k].item<float>())) * double(round_to_bf16(w[j][k].item<float>()));
      CHECK(y[i][j].item<float>() == Approx(round_to_bf16(static_cast<float>(s))).epsilon(1.0 / 128));
    }
}

TEST_CASE("autocast_scope: nested scopes restore the outer one; the weight casts do not outlive it", "[precision]") {
  torch::nn::Linear layer(8, 3);
  const torch::Tensor x = rand_normal({2, 8}, 3);
  {
    cebm::autocast_scope outer(cebm::precision_mode::bf16, at::kCPU);
    { cebm::autocast_scope inner(cebm::precision_mode::bf16, at::kCPU); }
    CHECK(cebm::cpu_autocast_enabled());
    CHECK(layer(x).scalar_type() == at::kBFloat16);
  }
  CHECK_FALSE(cebm::cpu_autocast_enabled());
  // A parameter's bf16 copy is cached inside a scope; after the outermost one ends, an update of the
  // parameter (an optimiser step) must show in the next scope.
  torch::Tensor before, after;
  {
    cebm::autocast_scope scope(cebm::precision_mode::bf16, at::kCPU);
    before = layer(x).detach();
  }
  {
    torch::NoGradGuard no_grad;
    layer->weight.add_(1.0);
  }
  {
    cebm::autocast_scope scope(cebm::precision_mode::bf16, at::kCPU);
    after = layer(x).detach();
  }
  const torch::Tensor shift = x.sum(1, true).expand({2, 3});  // (W + 1) x − W x = Σ_k x_k
  CHECK(torch::allclose(after.to(at::kFloat) - before.to(at::kFloat), shift, 0.05, 0.05));
}

TEST_CASE("precision_policy: fp32 is the call itself; bf16 computes in bf16 and returns float32", "[precision]") {
  torch::nn::Linear layer(16, 4);
  const torch::Tensor x = rand_normal({5, 16}, 4);
  const cebm::precision_policy fp32, bf16(cebm::precision_mode::bf16);
  torch::Tensor direct = layer(x);
  const torch::Tensor same = fp32.forward([&] { return layer(x); });
  CHECK(torch::equal(same, direct));
  CHECK(same.scalar_type() == at::kFloat);
  const torch::Tensor low = bf16.forward([&] { return layer(x); });
  CHECK(low.scalar_type() == at::kFloat);
  CHECK_FALSE(torch::equal(low, direct));  // it was computed in bf16 ...
  CHECK(torch::allclose(low, direct, 0.03, 0.03));  // ... to bf16's accuracy (8 bits)
  CHECK(bf16.compute_dtype() == at::kBFloat16);
  CHECK_FALSE(bf16.scales_loss());
  CHECK_FALSE(cebm::cpu_autocast_enabled());
  // Vectors of tensors come back in float32 too.
  const auto both = bf16.forward([&] { return std::vector<torch::Tensor>{layer(x), layer(x + 1)}; });
  CHECK(both[0].scalar_type() == at::kFloat);
  CHECK(both[1].scalar_type() == at::kFloat);
}

TEST_CASE("full_precision: float32 and float64 tensors pass untouched, bf16 and fp16 become float32", "[precision]") {
  const torch::Tensor f = torch::ones({2}), d = torch::ones({2}, at::kDouble);
  CHECK(cebm::full_precision(f).unsafeGetTensorImpl() == f.unsafeGetTensorImpl());
  CHECK(cebm::full_precision(d).unsafeGetTensorImpl() == d.unsafeGetTensorImpl());
  CHECK(cebm::full_precision(f.to(at::kBFloat16)).scalar_type() == at::kFloat);
  CHECK(cebm::full_precision(f.to(at::kHalf)).scalar_type() == at::kFloat);
  CHECK_FALSE(cebm::full_precision(torch::Tensor()).defined());
}

TEST_CASE("precision_policy: the Langevin gradient with respect to x comes back in float32", "[precision]") {
  cebm::nn::ConvTrunk trunk(cebm::nn::conv_encoder_options::mnist());
  const cebm::precision_policy bf16(cebm::precision_mode::bf16);
  const torch::Tensor x = torch::rand({3, 1, 28, 28}).requires_grad_(true);
  const torch::Tensor energy = bf16.forward([&] { return trunk(x).pow(2).sum(1); });
  CHECK(energy.scalar_type() == at::kFloat);
  const torch::Tensor grad = torch::autograd::grad({energy.sum()}, {x})[0];
  CHECK(grad.scalar_type() == at::kFloat);
  // The trunk's direct oneDNN path computes float32 only: under bf16 it must hand over to the
  // ATen operations autocast casts, so the energy differs from fp32's by bf16's rounding.
  const torch::Tensor exact = trunk(x).pow(2).sum(1);
  CHECK_FALSE(torch::equal(energy, exact));
  CHECK(torch::allclose(energy, exact, 0.05, 1e-3));
}

TEST_CASE("precision_policy: what this build cannot run is refused by name", "[precision]") {
  CHECK_THROWS_WITH(cebm::precision_policy(cebm::precision_mode::bf16, at::Device("meta")),
                    "precision bf16 runs on the CPU or CUDA, not on meta");
  CHECK_NOTHROW(cebm::precision_policy(cebm::precision_mode::tf32));
  CHECK(cebm::precision_policy(cebm::precision_mode::tf32).note().find("CUDA mode") != std::string::npos);
#if CEBM_AUTOCAST_BY_DEVICE_TYPE
  const cebm::precision_policy fp16(cebm::precision_mode::fp16);
  torch::nn::Linear layer(8, 2);
  const torch::Tensor x = rand_normal({3, 8}, 5);
  {
    cebm::autocast_scope scope(cebm::precision_mode::fp16, at::kCPU);
    CHECK(layer(x).scalar_type() == at::kHalf);
  }
  CHECK(torch::allclose(fp16.forward([&] { return layer(x); }), layer(x), 0.01, 0.01));
#else
  CHECK_THROWS_WITH(cebm::precision_policy(cebm::precision_mode::fp16),
                    Catch::Contains("precision fp16 on the CPU needs libtorch 2.4 or later"));
#endif
}

TEST_CASE("loss_scaler: backward of S·L then unscaling gives L's gradients exactly", "[precision]") {
  torch::nn::Linear layer(6, 1);
  const torch::Tensor x = rand_normal({4, 6}, 6);
  auto loss = [&] { return layer(x).pow(2).mean(); };
  loss().backward();
  std::vector<torch::Tensor> plain;
  for (const auto& p : layer->parameters()) plain.push_back(p.grad().clone());
  for (auto& p : layer->parameters()) p.mutable_grad().zero_();

  cebm::loss_scaler scaler(true);
  CHECK(scaler.scale() == 65536.0);
  CHECK(torch::equal(scaler.scaled(torch::tensor(3.0f)), torch::tensor(196608.0f)));
  scaler.scaled(loss()).backward();
  CHECK(scaler.unscale(layer->parameters()));
  // S is a power of two: scaling and unscaling are exact in binary floating point.
  for (std::size_t i = 0; i < plain.size(); ++i) CHECK(torch::equal(layer->parameters()[i].grad(), plain[i]));

  const cebm::loss_scaler off;
  CHECK(off.scale() == 1.0);
  const torch::Tensor l = torch::tensor(2.5f);
  CHECK(off.scaled(l).unsafeGetTensorImpl() == l.unsafeGetTensorImpl());
}

TEST_CASE("loss_scaler: a non-finite gradient skips the step and halves S; growth_interval finite steps double it",
          "[precision]") {
  cebm::loss_scaler scaler(true, cebm::loss_scaler_options{}.initial_scale(1024).growth_interval(3));
  torch::Tensor p = torch::zeros({3}).requires_grad_(true);
  p.mutable_grad() = torch::tensor({1.0f, std::numeric_limits<float>::infinity(), 2.0f});
  const bool finite = scaler.unscale({p});
  CHECK_FALSE(finite);
  scaler.update(finite);
  CHECK(scaler.scale() == 512);
  CHECK(scaler.skipped_steps() == 1);
  p.mutable_grad() = torch::tensor({512.0f, 1024.0f, 0.0f});
  for (int i = 0; i < 3; ++i) {
    CHECK(scaler.unscale({p}));
    scaler.update(true);
  }
  CHECK(scaler.scale() == 1024);
  // A NaN counts as non-finite too.
  p.mutable_grad() = torch::tensor({std::nanf(""), 0.0f, 0.0f});
  CHECK_FALSE(scaler.unscale({p}));

  torch::serialize::OutputArchive out;
  scaler.save(out);
  std::stringstream bytes;
  out.save_to(bytes);
  torch::serialize::InputArchive in;
  in.load_from(bytes);
  cebm::loss_scaler restored(true);
  restored.load(in);
  CHECK(restored.scale() == 1024);
  CHECK(restored.skipped_steps() == 1);

  CHECK_THROWS_WITH(cebm::loss_scaler(true, cebm::loss_scaler_options{}.backoff(1.5)),
                    "cebm::loss_scaler: backoff must be in (0, 1), got 1.500000");
}
