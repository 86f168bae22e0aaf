#pragma once
// Small labelled 28×28×1 images for the trainer tests: each class a bright block at its own place,
// plus noise, from a fixed generator.
#include <cstdint>

#include <torch/torch.h>

#include "cebm/torch/data/image_dataset.hpp"

namespace cebm_test {

inline cebm::data::image_dataset toy_images(std::int64_t n) {
  auto gen = at::detail::createCPUGenerator(77);
  const auto labels = torch::arange(n, torch::kLong) % 10;
  auto img = torch::rand({n, 1, 28, 28}, gen) * 60;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t c = labels[i].item<std::int64_t>();
    img[i][0].narrow(0, 2 + 2 * c, 6).narrow(1, 4 + c, 8) += 180;
  }
  return {img.clamp(0, 255).to(torch::kByte), labels, "toy"};
}

}  // namespace cebm_test
