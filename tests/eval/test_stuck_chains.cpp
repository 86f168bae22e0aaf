// The stuck-chain criterion: roughness against hand-computed values and the known mean absolute
// difference of uniform noise, and fractions on mixtures of noise and real Fashion-MNIST images.
#include <catch2/catch.hpp>

#include <filesystem>

#include <cebm/torch/data/idx.hpp>
#include <cebm/torch/data/transforms.hpp>
#include <cebm/torch/eval/stuck_chains.hpp>

TEST_CASE("roughness is the mean absolute neighbour difference", "[eval][chains]") {
  // One 2x3 image: horizontal differences |1-0|, |3-1|, |0-2|, |2-0| → mean 7/4;
  // vertical differences |2-0|, |0-1|, |2-3| → mean 4/3.
  const at::Tensor x = at::tensor({0.0, 1.0, 3.0, 2.0, 0.0, 2.0}).view({1, 1, 2, 3});
  CHECK(cebm::eval::roughness(x)[0].item<double>() == Approx(0.5 * (7.0 / 4 + 4.0 / 3)));
  CHECK(cebm::eval::roughness(at::ones({2, 3, 5, 5}))[1].item<double>() == 0.0);
  // U[−1, 1] noise: E|u − v| = 2/3.
  auto gen = at::detail::createCPUGenerator(2);
  const at::Tensor noise = at::rand({200, 1, 28, 28}, gen) * 2 - 1;
  CHECK(cebm::eval::roughness(noise).mean().item<double>() == Approx(2.0 / 3).margin(0.005));
  CHECK_THROWS_WITH(cebm::eval::roughness(at::zeros({3, 28})), Catch::Contains("[N, C, H, W]"));
}

TEST_CASE("stuck chains: noise counts as stuck, Fashion-MNIST images do not", "[eval][chains]") {
  const std::string dir = cebm::data::default_fashion_mnist_dir();
  if (!std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz")) {
    WARN("Fashion-MNIST not installed at " << dir << "; skipped");
    return;
  }
  auto gen = at::detail::createCPUGenerator(4);
  const auto test = cebm::data::load_fashion_mnist(dir, "test");
  const at::Tensor data = cebm::data::to_model_input(test.images.narrow(0, 0, 400), {}, gen);
  auto noise = [&](std::int64_t n) { return at::rand({n, 1, 28, 28}, gen) * 2 - 1; };
  const at::Tensor reference_noise = noise(200), reference_data = data.narrow(0, 0, 200);

  const auto all_noise = cebm::eval::stuck_chains(noise(100), reference_noise, reference_data);
  CHECK(all_noise.fraction == 1.0);
  CHECK(all_noise.noise_roughness > 4 * all_noise.data_roughness);
  CHECK(cebm::eval::stuck_chains(data.narrow(0, 200, 200), reference_noise, reference_data).fraction < 0.01);

  // 30 noise chains among 100: the criterion counts them.
  const at::Tensor mixed = at::cat({noise(30), data.narrow(0, 200, 70)});
  const auto r = cebm::eval::stuck_chains(mixed, reference_noise, reference_data);
  CHECK(r.stuck == 30);
  CHECK(r.total == 100);
  CHECK(r.threshold == Approx(0.5 * (r.noise_roughness + r.data_roughness)));

  CHECK_THROWS_WITH(cebm::eval::stuck_chains(mixed, reference_data, reference_noise), Catch::Contains("cannot tell them apart"));
}
