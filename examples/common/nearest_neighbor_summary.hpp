#pragma once
// The training programs' closing check: 1-NN test accuracy of a trainer's representation (the
// first `images` test images against as many training references) beside the same in pixels.
#include <algorithm>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cebm/torch/data/image_dataset.hpp>
#include <cebm/torch/eval/nearest_neighbor.hpp>

namespace cebm_examples {

template <class Trainer>
nlohmann::json nearest_neighbor_summary(Trainer& trainer, const cebm::data::image_dataset& train,
                                        const cebm::data::image_dataset& all_test, std::int64_t images,
                                        const std::string& key = "nn1_representation") {
  const std::int64_t n_ref = std::min(images, train.size());
  const auto ref = train.subset(torch::arange(n_ref));
  const auto test = all_test.subset(torch::arange(std::min(images, all_test.size())));
  const auto fr = trainer.features(ref.images), ft = trainer.features(test.images);
  const auto nn = cebm::eval::nearest_neighbor(fr, ref.labels, ft, test.labels, 10);
  const auto pixels = cebm::eval::nearest_neighbor(ref.images.flatten(1).to(torch::kFloat) / 255, ref.labels,
                                                   test.images.flatten(1).to(torch::kFloat) / 255, test.labels, 10);
  return {{"test_images", test.size()}, {"reference_images", n_ref}, {key, nn.accuracy}, {"nn1_pixels", pixels.accuracy}};
}

}  // namespace cebm_examples
