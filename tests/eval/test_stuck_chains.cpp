// The stuck-chain criterion: neighbour correlation against hand-computed values and the zero
// correlation of independent noise, and fractions on mixtures of noise and real Fashion-MNIST images.
#include <catch2/catch.hpp>

#include <filesystem>

#include <cebm/torch/data/idx.hpp>
#include <cebm/torch/data/transforms.hpp>
#include <cebm/torch/eval/stuck_chains.hpp>

TEST_CASE("neighbour correlation: hand values, noise, scale invariance", "[eval][chains]") {
  // One 2x2 image [[0, 2], [2, 4]], mean 2, centred [[-2, 0], [0, 2]]:
  // right pairs (-2)(0) + (0)(2) = 0; down pairs (-2)(0) + (0)(2) = 0 -> r = 0.
  CHECK(cebm::eval::neighbour_correlation(at::tensor({0.0, 2.0, 2.0, 4.0}).view({1, 1, 2, 2}))[0].item<double>() == 0.0);
  // A 2x3 ramp along rows [[0, 1, 2], [0, 1, 2]], centred [[-1, 0, 1], [-1, 0, 1]]:
  // right pairs: 2 * ((-1)(0) + (0)(1)) = 0; down pairs: (-1)(-1) + 0 + (1)(1) = 2;
  // variance term: ½ (right-left members 2 + right-right members 2 + top 2 + bottom 2) = 4 -> r = 0.5.
  CHECK(cebm::eval::neighbour_correlation(at::tensor({0.0, 1.0, 2.0, 0.0, 1.0, 2.0}).view({1, 1, 2, 3}))[0].item<double>() ==
        Approx(0.5));
  CHECK(cebm::eval::neighbour_correlation(at::ones({2, 3, 5, 5}))[1].item<double>() == 1.0);  // constant
  auto gen = at::detail::createCPUGenerator(2);
  const at::Tensor noise = at::rand({200, 1, 28, 28}, gen) * 2 - 1;
  CHECK(std::abs(cebm::eval::neighbour_correlation(noise).mean().item<double>()) < 0.01);  // independent pixels
  // Scale and offset do not change it (chains that drift outside the data range keep their shapes).
  const at::Tensor r1 = cebm::eval::neighbour_correlation(noise.narrow(0, 0, 5));
  CHECK(at::allclose(cebm::eval::neighbour_correlation(noise.narrow(0, 0, 5) * 7.5 + 3), r1, 1e-4, 1e-5));  // float input
  CHECK_THROWS_WITH(cebm::eval::neighbour_correlation(at::zeros({3, 28})), Catch::Contains("[N, C, H, W]"));
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
  CHECK(all_noise.data_correlation > 0.5);
  CHECK(all_noise.noise_correlation < 0.05);
  CHECK(cebm::eval::stuck_chains(data.narrow(0, 200, 200), reference_noise, reference_data).fraction < 0.01);

  // 30 noise chains among 100: the criterion counts them.
  const at::Tensor mixed = at::cat({noise(30), data.narrow(0, 200, 70)});
  const auto r = cebm::eval::stuck_chains(mixed, reference_noise, reference_data);
  CHECK(r.stuck == 30);
  CHECK(r.total == 100);
  CHECK(r.threshold == Approx(0.5 * (r.noise_correlation + r.data_correlation)));
  // Images scaled far outside the data range are still images, not noise.
  CHECK(cebm::eval::stuck_chains(data.narrow(0, 200, 50) * 4, reference_noise, reference_data).fraction < 0.05);

  CHECK_THROWS_WITH(cebm::eval::stuck_chains(mixed, reference_data, reference_noise), Catch::Contains("cannot tell them apart"));
}
