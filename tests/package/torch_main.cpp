// Uses cebm::torch: the same energy on tensors, with its gradient from autograd.
#include <cmath>
#include <cstdio>

#include <torch/torch.h>

#include <cebm/torch.hpp>

int main() {
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  const auto bias = cebm::make_pack(torch::zeros({2}, opts), torch::full({2}, -0.5, opts));
  auto t1 = torch::ones({1, 2}, opts).requires_grad_();
  const auto energy = cebm::marginal_energy<cebm::gaussian>(bias, cebm::gaussian_statistics(t1, torch::zeros({1, 2}, opts)));
  const auto grad = torch::autograd::grad({energy.sum()}, {t1})[0];
  // dE/dt1 = −t1 = −1.
  std::printf("cebm %s torch consumer: E = %.6f, dE/dt1 = %.6f\n", CEBM_VERSION_STRING, energy.item<double>(),
              grad[0][0].item<double>());
  return std::abs(energy.item<double>() + 1.0) < 1e-12 && std::abs(grad[0][0].item<double>() + 1.0) < 1e-12 ? 0 : 1;
}
